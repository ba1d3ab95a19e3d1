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
    assert main(["score", str(path), "-o", str(out), "--label-column", "label"]) == 0
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
