"""The confnb command line, end to end on the embedded model, and every bad input."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import confnb
from confnb.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "confnb.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    df = confnb.load_sentiment("train").groupby("category").head(3).reset_index(drop=True)  # 24 rows
    df = df.head(20)
    path = tmp_path_factory.mktemp("cli") / "rows.csv"
    df.to_csv(path, index=False)
    return df, path


def test_score_end_to_end_keeps_every_row_and_column(rows, tmp_path, lm):
    df, path = rows
    out = tmp_path / "scores.csv"
    assert main(["score", str(path), "-o", str(out), "--label-column", "label", "--dtype", "float32"]) == 0  # as `lm`
    scored = pd.read_csv(out)
    assert len(scored) == len(df) == 20
    assert list(scored.columns[: len(df.columns)]) == list(df.columns)
    assert (scored["id"] == df["id"]).all() and (scored["text"] == df["text"]).all()
    assert set(scored["prediction"]) <= {"positive", "negative"}
    assert (scored["correct"] == (scored["prediction"] == scored["label"])).all()
    # the same numbers as the Python API
    api = confnb.classify(lm, df["text"])
    assert (api["prediction"] == scored["prediction"]).all()
    assert (api["total_probability"] - scored["total_probability"]).abs().max() < 1e-9


@pytest.mark.model  # main() loads the default model
def test_jsonl_input_limit_and_calibrated_confidence(rows, tmp_path):
    df, _ = rows
    jsonl = tmp_path / "rows.jsonl"
    df.rename(columns={"text": "review"}).to_json(jsonl, orient="records", lines=True)
    scores = tmp_path / "scores.csv"
    assert main(["score", str(jsonl), "-o", str(scores), "--text-column", "review", "--label-column", "label"]) == 0
    cal = tmp_path / "cal.json"
    assert main(["calibrate", str(scores), "--method", "platt", "-o", str(cal), "--n-splits", "3", "--text-column", "review"]) == 0
    assert json.loads(cal.read_text())
    out = tmp_path / "calibrated.csv"
    # these 5 rows are among the 20 the calibrator was fit on: scored, with a warning that counts them
    with pytest.warns(UserWarning, match="5 of the rows scored were used to fit the calibrator"):
        assert main(["score", str(jsonl), "-o", str(out), "--text-column", "review", "--limit", "5",
                     "--calibrator", str(cal)]) == 0
    scored = pd.read_csv(out)
    assert len(scored) == 5 and scored["confidence"].between(0, 1).all()
    assert (scored["calibrated_prediction"] == scored["prediction"]).all()  # confidence target
    report = tmp_path / "report"
    # the same rows it was fit on: refused, unless asked for and labelled
    assert main(["report", str(scores), "--calibrator", str(cal), "-o", str(report), "--text-column", "review"]) == 2
    assert main(["report", str(scores), "--calibrator", str(cal), "-o", str(report), "--text-column", "review",
                 "--allow-in-sample"]) == 0
    assert (report / "metrics.json").exists() and "in-sample (optimistic)" in (report / "summary.md").read_text()
    assert list(report.glob("*.png"))


@pytest.mark.model  # main() loads the default model
def test_tokens_and_predict_print_tables(capsys):
    assert main(["tokens", "Knock knock.", "-k", "5"]) == 0
    out = capsys.readouterr().out
    assert "probability" in out and len(out.splitlines()) >= 6
    assert main(["predict", "I love this movie!", "Not bad"]) == 0
    out = capsys.readouterr().out
    assert "total_probability" in out and "Not bad" in out


def test_missing_column_lists_the_columns(rows, tmp_path, capsys):
    _, path = rows
    assert main(["score", str(path), "-o", str(tmp_path / "o.csv"), "--text-column", "review"]) == 2
    err = capsys.readouterr().err
    assert "column 'review' not found" in err and "'text'" in err and "--text-column" in err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.model  # main() loads the default model
def test_empty_text_is_named_or_skipped(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("id,text\n1,Great stuff\n2,   \n3,Awful\n")
    assert main(["score", str(path), "-o", str(tmp_path / "o.csv")]) == 2
    assert "row 2" in capsys.readouterr().err
    assert main(["score", str(path), "-o", str(tmp_path / "o.csv"), "--skip-empty"]) == 0
    out = pd.read_csv(tmp_path / "o.csv")
    assert len(out) == 3 and out["prediction"].isna().tolist() == [False, True, False]


@pytest.mark.model  # main() loads the default model
def test_undecodable_file_names_the_problem(tmp_path, capsys):
    path = tmp_path / "latin.csv"
    path.write_bytes("text\ncaf\xe9 was lovely\n".encode("latin-1"))
    assert main(["score", str(path), "-o", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "not valid utf-8" in err and "--encoding" in err
    assert main(["score", str(path), "-o", str(tmp_path / "o.csv"), "--encoding", "latin-1"]) == 0


@pytest.mark.model  # main() loads the default model
def test_bad_labels_and_missing_files(tmp_path, capsys):
    path = tmp_path / "labels.csv"
    path.write_text("text,label\nGreat,maybe\n")
    assert main(["score", str(path), "-o", str(tmp_path / "o.csv"), "--label-column", "label"]) == 2
    assert "'maybe'" in capsys.readouterr().err
    assert main(["score", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["calibrate", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "c.json")]) == 2


@pytest.mark.model  # the CLI subprocess loads the default model
def test_too_long_text_is_truncated_with_a_counted_warning(tmp_path):
    path = tmp_path / "long.csv"
    pd.DataFrame({"text": ["word " * 9000, "short and sweet"]}).to_csv(path, index=False)
    # run with a short context so the test stays quick: the model folder is the cached copy
    from confnb.models import embedded_model_path  # noqa: F401  (the embedded model must be installed)

    result = run("score", str(path), "-o", str(tmp_path / "o.csv"), "--max-length", "400")
    assert result.returncode == 0, result.stderr
    assert "1 text(s) were longer" in result.stderr
    assert len(pd.read_csv(tmp_path / "o.csv")) == 2


def test_console_script_exit_code_on_usage_error():
    result = run("score")
    assert result.returncode == 2


# ------------------------------------------------------------- calibrate and report, without a model


def _scores_csv(path, seed=0, n=200, *, labels=("positive", "negative"), no_class_token=()):
    """A `confnb score --label-column label` CSV, written by hand."""
    gen = np.random.default_rng(seed)
    truth = gen.uniform(0.02, 0.98, n)
    is_pos = gen.uniform(size=n) < truth
    p = 1 / (1 + np.exp(-(np.log(truth / (1 - truth)) + 1.0)))
    prediction = np.where(p >= 0.5, "positive", "negative")
    df = pd.DataFrame({"id": np.arange(n), "text": [f"text {seed} {i}" for i in range(n)],
                       "sentiment": np.where(is_pos, *labels), "prediction": prediction,
                       "total_probability": np.maximum(p, 1 - p), "p_positive": p,
                       "correct": prediction == np.where(is_pos, "positive", "negative"), "no_class_token": False})
    rows = list(no_class_token)
    df.loc[rows, ["total_probability", "p_positive"]] = np.nan
    df.loc[rows, "prediction"] = None
    df.loc[rows, "no_class_token"] = True
    df.to_csv(path, index=False)
    return path


def test_calibrate_and_report_read_1_0_labels_from_any_column(tmp_path, capsys):
    scores = _scores_csv(tmp_path / "scores.csv", labels=(1, 0), no_class_token=[4, 9, 13])
    cal = tmp_path / "cal.json"
    args = ["--target", "class", "--label-column", "sentiment"]
    assert main(["calibrate", str(scores), "-o", str(cal), *args]) == 0
    out = capsys.readouterr().out
    assert "skipped 3 rows with no class token among the server's top-k" in out and "fit on 197 rows" in out
    assert json.loads(cal.read_text())["fit_rows"]["n"] == 197
    test = _scores_csv(tmp_path / "test.csv", seed=1, labels=(1, 0))
    assert main(["report", str(test), "--calibrator", str(cal), "-o", str(tmp_path / "r"), "--label-column", "sentiment"]) == 0
    out = capsys.readouterr().out
    assert "checked: none of these 200 rows" in out
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["target"] == "class"
    # without --label-column the column is not found, and the message says how to name it
    assert main(["calibrate", str(scores), "-o", str(cal), "--target", "class"]) == 2
    assert "--label-column" in capsys.readouterr().err


def test_report_refuses_a_calibrator_on_its_own_fit_rows(tmp_path, capsys):
    scores = _scores_csv(tmp_path / "scores.csv")
    cal = tmp_path / "cal.json"
    assert main(["calibrate", str(scores), "-o", str(cal)]) == 0
    capsys.readouterr()
    assert main(["report", str(scores), "--calibrator", str(cal), "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "fit on all 200 of these rows" in err and "--allow-in-sample" in err
    assert not (tmp_path / "r").exists()
    assert main(["report", str(scores), "--calibrator", str(cal), "-o", str(tmp_path / "r"), "--allow-in-sample"]) == 0
    assert "in-sample (optimistic)" in capsys.readouterr().out
    assert main(["report", str(scores), "--calibrator", str(tmp_path / "nope.json"), "-o", str(tmp_path / "r")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_user_errors_exit_2_and_bugs_keep_their_traceback(tmp_path, capsys, monkeypatch):
    scores = _scores_csv(tmp_path / "scores.csv", n=10, no_class_token=range(10))
    assert main(["calibrate", str(scores), "-o", str(tmp_path / "cal.json")]) == 2
    assert "none of the 10 rows has scores" in capsys.readouterr().err
    from confnb import report

    def broken(*args, **kwargs):
        return {}["a bug"]

    monkeypatch.setattr(report, "calibrate_scores", broken)
    with pytest.raises(KeyError, match="a bug"):
        main(["calibrate", str(_scores_csv(tmp_path / "ok.csv")), "-o", str(tmp_path / "cal.json")])
    # ValueError from inside a library (not a confnb input check) is a bug too
    monkeypatch.setattr(report, "calibrate_scores", lambda *a, **k: np.ones(2).reshape(3))
    with pytest.raises(ValueError, match="reshape"):
        main(["calibrate", str(tmp_path / "ok.csv"), "-o", str(tmp_path / "cal.json")])


# ------------------------------------------------------------------- task files: --task and `task check`

NEWS_TOML = """\
name = "news-topic"
instruction = "What is the topic of this news headline?"
template = "Headline: {text}\\nTopic:"
[classes]
business = ["business", "economy"]
sport = ["sport", "sports"]
tech = ["technology", "science and technology", "computers phones and the internet of things"]
[[demonstrations]]
text = "Shares fall after profit warning"
label = "business"
"""


class _WordTokenizer:
    """A stand-in tokenizer: one token per word, a leading space kept with its word."""

    chat_template = None

    def __init__(self):
        self.vocab: dict[str, int] = {}

    def encode(self, text, add_special_tokens=False):
        import re

        return [self.vocab.setdefault(tok, 1000 + len(self.vocab)) for tok in re.findall(r" ?[^ ]+", text)]

    def decode(self, ids):
        words = {i: tok for tok, i in self.vocab.items()}
        return "".join(words[i] for i in ids)


class _Captured(Exception):
    """Raised by a stand-in to stop a command once it has what the test checks."""


@pytest.fixture
def no_model(monkeypatch):
    """Make loading any model fail the test: for commands that must stop before they load one."""
    import confnb.models

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(confnb.models, "load_model", refuse)


@pytest.fixture
def word_model(monkeypatch):
    """load_model returns an object carrying the word tokenizer: `task check` runs without weights."""
    import types

    import confnb.models

    fake = types.SimpleNamespace(name="word-model", tokenizer=_WordTokenizer())
    monkeypatch.setattr(confnb.models, "load_model", lambda *a, **k: fake)
    return fake


def _needs_verbalizer_ids():
    if not hasattr(confnb.ClassificationTask, "verbalizer_ids"):
        pytest.skip("needs ClassificationTask.verbalizer_ids")


def test_task_check_prints_the_prompt_tokens_and_warnings(tmp_path, capsys, word_model):
    _needs_verbalizer_ids()
    path = tmp_path / "news.toml"
    path.write_text(NEWS_TOML, encoding="utf-8")
    assert main(["task", "check", str(path), "--text", "Local team wins the cup"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "task 'news-topic': 3 classes, tokens of word-model"
    rule = "-" * 60
    prompt = lines[lines.index(rule) + 1 : lines.index(rule, lines.index(rule) + 1)]
    assert prompt == ["What is the topic of this news headline?", "", "Headline: Shares fall after profit warning",
                      "Topic: business", "", "Headline: Local team wins the cup", "Topic:"]
    assert "class 'business' (positive class): 4 verbalizers" in lines and "class 'tech': 6 verbalizers" in lines
    (science,) = [line for line in lines if line.startswith("  ' science and technology'")]
    assert " 3 tokens [" in science and science.endswith("]  '␣science' '␣and' '␣technology'")
    assert "warning: class 'tech': 'computers phones and the internet of things' is 7 tokens long (over 6)" in out
    assert out.count("tokens long") == 2  # the plain and the leading-space form


def test_task_check_names_the_dropped_verbalizer_and_refuses_a_clash_between_classes(tmp_path, capsys, word_model):
    _needs_verbalizer_ids()
    path = tmp_path / "cards.toml"
    path.write_text('instruction = "Which?"\n[classes]\ncard = ["card", "card arrival"]\nbalance = ["balance"]\n')
    assert main(["task", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "warning: class 'card': 'card arrival' dropped: starts with the tokens of 'card'" in out
    assert "class 'card' (positive class): 2 verbalizers" in out  # 'card' and ' card'
    path.write_text('instruction = "Which?"\n[classes]\ncard = ["card"]\narrival = ["card arrival"]\n')
    assert main(["task", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing printed before the error
    assert "'card' of class 'card'" in captured.err and "'card arrival' of class 'arrival'" in captured.err


def test_task_check_of_a_bad_file_stops_before_loading_a_model(tmp_path, capsys, no_model):
    path = tmp_path / "bad.toml"
    path.write_text('instruction = "Which?"\n[classes]\na = ["x"]\nb = []\n')
    assert main(["task", "check", str(path)]) == 2
    assert "bad.toml, line 4: classes.b: expected a non-empty list" in capsys.readouterr().err
    assert main(["task", "check", "no-such-task"]) == 2
    err = capsys.readouterr().err
    assert "'no-such-task' does not exist" in err and "sentiment-zero-shot" in err
    if hasattr(confnb.ClassificationTask, "verbalizer_ids"):
        assert main(["task", "check", "sentiment", "--model", "openai:gpt-x"]) == 2
        assert "needs a local model's tokenizer" in capsys.readouterr().err


def test_bad_task_option_exits_2_before_any_model_or_output(rows, tmp_path, capsys, no_model):
    _, data = rows
    bad = tmp_path / "bad.toml"
    bad.write_text('instruction = "x"\nclases = 1\n')
    out = tmp_path / "o.csv"
    for argv in (["predict", "Great", "--task", str(bad)], ["score", str(data), "-o", str(out), "--task", str(bad)]):
        assert main(argv) == 2
        assert "bad.toml, line 2: clases: unknown key" in capsys.readouterr().err
    assert main(["score", str(data), "-o", str(out), "--task", "nope.toml"]) == 2
    assert "'nope.toml' does not exist" in capsys.readouterr().err
    assert main(["predict", "Great", "--task", "sentiment", "--prompt", "chat"]) == 2
    assert "--task and --prompt" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob("o.csv*"))


def test_task_option_reaches_predict_and_score(rows, tmp_path, monkeypatch):
    import confnb.files
    import confnb.models
    import confnb.scoring

    _, data = rows
    path = tmp_path / "news.toml"
    path.write_text(NEWS_TOML, encoding="utf-8")
    seen = []

    def capture(*args, task=None, **kwargs):
        seen.append(task if task is not None else args[2])
        raise _Captured

    monkeypatch.setattr(confnb.models, "load_model", lambda *a, **k: "a model")
    monkeypatch.setattr(confnb.scoring, "classify", capture)
    monkeypatch.setattr(confnb.files, "score_file", capture)
    with pytest.raises(_Captured):
        main(["predict", "Local team wins the cup", "--task", str(path)])
    with pytest.raises(_Captured):
        main(["score", str(data), "-o", str(tmp_path / "o.csv"), "--task", str(path)])
    with pytest.raises(_Captured):
        main(["score", str(data), "-o", str(tmp_path / "o.csv"), "--task", "sentiment-zero-shot"])
    assert [t.name for t in seen] == ["news-topic", "news-topic", "sentiment-zero-shot"]
    assert seen[0].class_names == ["business", "sport", "tech"]


def test_task_check_on_the_embedded_tokenizer(capsys, monkeypatch, lm):
    _needs_verbalizer_ids()
    import confnb.models

    monkeypatch.setattr(confnb.models, "load_model", lambda *a, **k: lm)
    assert main(["task", "check", "sentiment", "--text", "Great phone."]) == 0
    out = capsys.readouterr().out
    assert out.startswith("task 'sentiment': 2 classes, tokens of SmolLM2-135M-Instruct\n")
    assert "Text: Great phone.\nPositive:\n" in out
    assert " '␣Yes'\n" in out and " '␣No'\n" in out
    assert "warning: class 'positive': 'YES' dropped: starts with the tokens of 'Y'" in out


@pytest.mark.model  # main() loads the default model
def test_predict_with_a_three_class_task_file(tmp_path, capsys):
    path = tmp_path / "news.toml"
    path.write_text(NEWS_TOML, encoding="utf-8")
    assert main(["predict", "Shares tumble on rate fears", "--task", str(path)]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert {"mass_business", "mass_sport", "mass_tech", "prediction"} <= set(header) and "p_positive" not in header
