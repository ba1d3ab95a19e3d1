"""Three or more classes on the command line: calibrate, conformal, score --calibrator --conformal.

Unit tests run on synthetic K-class scored CSVs (the columns `confnb score` writes) and a stand-in
model whose `classify` returns those scores; one model-tier test runs the whole chain on the
embedded model with a TOML task of multi-token labels.
"""

import json
import types

import numpy as np
import pandas as pd
import pytest

from confnb.class_calibration import read_calibrator
from confnb.cli import main
from confnb.conformal import load_conformal
from confnb.scaling import TemperatureScaler, TopLabelCalibrator, VectorScaler, load_scaler

CLASSES = ["card arrival", "card linking", "balance"]

TASK_TOML = """\
name = "bank-topic"
instruction = "Which topic is this bank customer's message about: card arrival, card linking or balance?"
template = "Message: {text}\\nTopic:"
[classes]
"card arrival" = ["card arrival", "card delivery"]
"card linking" = ["card linking", "linking a card"]
balance = ["balance", "account balance"]
[[demonstrations]]
text = "My new card still has not come in the post."
label = "card arrival"
[[demonstrations]]
text = "How do I add my card to the app?"
label = "card linking"
[[demonstrations]]
text = "How much money do I have left?"
label = "balance"
"""


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _class_scores(seed=0, n=400, *, classes=CLASSES, sharpen=2.5, tilt=0.0):
    """A labelled K-class scored table as `confnb score --label-column label` writes it.

    Labels are drawn from softmax(logits); the model reports softmax(sharpen * logits) (overconfident
    for sharpen > 1), with class 0 tilted up by `tilt`, and puts 5-50% of its mass outside the classes.
    """
    gen = np.random.default_rng(seed)
    logits = gen.normal(0.0, 1.5, (n, len(classes)))
    y = (_softmax(logits).cumsum(axis=1) > gen.uniform(size=(n, 1))).argmax(axis=1)
    observed = sharpen * logits
    observed[:, 0] += tilt
    shares = _softmax(observed)
    mass = shares * (1 - gen.uniform(0.05, 0.5, n))[:, None]
    prediction = np.array(classes, dtype=object)[shares.argmax(axis=1)]
    label = np.array(classes, dtype=object)[y]
    return pd.DataFrame({
        "text": [f"message {seed}-{i}" for i in range(n)], "label": label, "prediction": prediction,
        "total_probability": mass.max(axis=1), **{f"p_{c}": shares[:, k] for k, c in enumerate(classes)},
        **{f"mass_{c}": mass[:, k] for k, c in enumerate(classes)}, "other_mass": 1 - mass.sum(axis=1),
        "no_class_token": False, "top_token": " card", "correct": prediction == label,
    })


@pytest.fixture
def files(tmp_path):
    """Three disjoint scored CSVs: `fit` (calibrator), `sets` (conformal), `new` (applied to)."""
    paths = {}
    for seed, name, n in ((0, "fit", 400), (1, "sets", 400), (2, "new", 600)):
        paths[name] = tmp_path / f"{name}.csv"
        _class_scores(seed, n).to_csv(paths[name], index=False)
    return types.SimpleNamespace(**paths, tmp=tmp_path)


@pytest.fixture
def fake_model(monkeypatch, files):
    """`confnb score` on a stand-in model: `classify` returns the synthetic scores of each text."""
    import confnb.models
    import confnb.scoring

    table = pd.concat([pd.read_csv(getattr(files, n)) for n in ("fit", "sets", "new")]).set_index("text")
    score_columns = [c for c in table.columns if c not in ("label", "correct")]

    def classify(model, texts, task, **kwargs):
        rows = table.loc[list(texts), score_columns].reset_index()
        return rows.astype({"no_class_token": bool})

    model = types.SimpleNamespace(name="stand-in", identity=lambda: {"weights": "stand-in"})
    monkeypatch.setattr(confnb.models, "load_model", lambda *a, **k: model)
    monkeypatch.setattr(confnb.scoring, "classify", classify)
    task = files.tmp / "bank.toml"
    task.write_text(TASK_TOML, encoding="utf-8")
    inputs = files.tmp / "input.csv"
    pd.read_csv(files.new)[["text", "label"]].to_csv(inputs, index=False)
    return types.SimpleNamespace(task=task, inputs=inputs)


def _calibrate(path, out, method, *extra):
    return main(["calibrate", str(path), "--label-column", "label", "--method", method, "-o", str(out), *extra])


def _coverage(frame) -> float:
    sets = frame["prediction_set"].fillna("").astype(str).str.split("|")
    return float(np.mean([label in s for label, s in zip(frame["label"], sets)]))


# ---------------------------------------------------------------------------------------- calibrate


@pytest.mark.parametrize("method, kind", [("temperature", TemperatureScaler), ("vector", VectorScaler),
                                          ("platt", TopLabelCalibrator), ("isotonic", TopLabelCalibrator)])
def test_calibrate_fits_each_method_and_prints_held_out_metrics(files, capsys, method, kind):
    out = files.tmp / "cal.json"
    assert _calibrate(files.fit, out, method) == 0
    printed = capsys.readouterr().out
    assert f"{method} " in printed and "3 classes ['card arrival', 'card linking', 'balance'], fit on 400 rows" in printed
    assert "held-out metrics (5-fold cross-fitting" in printed
    table = {line.split()[0]: line.split() for line in printed.splitlines() if line.split()[:1] and
             line.split()[0] in ("accuracy", "top_label_ece", "classwise_ece", "brier", "log_loss")}
    assert set(table) == {"accuracy", "top_label_ece", "classwise_ece", "brier", "log_loss"}
    before, after = float(table["top_label_ece"][1]), float(table["top_label_ece"][4])
    assert after < before  # overconfident by construction: calibration helps on held-out rows
    if kind is TopLabelCalibrator:
        assert table["log_loss"][4] == "n/a" and "changes only the confidence" in printed
    else:
        assert float(table["log_loss"][4]) < float(table["log_loss"][1])
    calibrator = read_calibrator(out)
    assert isinstance(calibrator, kind) and calibrator.fit_rows_["n"] == 400
    data = json.loads(out.read_text())
    if kind is TopLabelCalibrator:
        assert data["format"] == "confnb.top_label_calibrator" and data["classes"] == CLASSES
    else:  # the scaler's own format, readable by confnb.scaling
        assert data["format"] == "confnb.scaler" and load_scaler(out).classes_ == CLASSES


def test_held_out_metrics_are_out_of_fold_not_in_sample(files):
    from confnb.class_calibration import calibrate_classes, cross_fit_classes
    from confnb.class_scores import class_labels, class_log_masses, class_probs
    from confnb.multiclass import multiclass_log_loss

    frame = pd.read_csv(files.fit)
    calibrator, metrics = calibrate_classes(frame, method="vector", n_boot=20, rng=0)
    y = class_labels(frame, "label", CLASSES)
    z, p = class_log_masses(frame, CLASSES), class_probs(frame, CLASSES)
    seed_cv = int(np.random.default_rng(0).integers(0, 2**31 - 1, size=2)[0])
    oof = cross_fit_classes(z, p, y, method="vector", classes=CLASSES, rng=seed_cv)
    assert metrics["after"]["log_loss"]["estimate"] == pytest.approx(multiclass_log_loss(y, oof))
    in_sample = multiclass_log_loss(y, calibrator.predict_proba(z))
    assert metrics["after"]["log_loss"]["estimate"] != pytest.approx(in_sample)


def test_calibrate_bad_inputs_exit_2_without_a_file(files, capsys):
    out = files.tmp / "cal.json"
    frame = pd.read_csv(files.fit)
    cases = {
        "labels.csv": (frame.assign(label=frame["label"].replace({"balance": "savings"})), [],
                       "values that are not classes of these scores: 'savings'"),
        "nolabel.csv": (frame.drop(columns="label"), [], "no 'label' column"),
        "nocol.csv": (frame.drop(columns="p_balance"), [], "no column(s) ['p_balance']"),
        "few.csv": (frame.head(12), ["--n-splits", "5"], "fewer labelled rows than n_splits=5"),
        "target.csv": (frame, ["--target", "class"], "--target class is for two-class scores"),
    }
    for name, (data, extra, message) in cases.items():
        data.to_csv(files.tmp / name, index=False)
        assert _calibrate(files.tmp / name, out, "temperature", *extra) == 2, name
        assert message in capsys.readouterr().err, name
        assert not out.exists(), name


def test_binary_scores_keep_their_path_and_refuse_vector(tmp_path, capsys):
    gen = np.random.default_rng(0)
    p = gen.uniform(0.02, 0.98, 200)
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(200)], "p_positive": p,
                          "prediction": np.where(p >= 0.5, "positive", "negative"), "total_probability": np.maximum(p, 1 - p),
                          "label": np.where(gen.uniform(size=200) < p, "positive", "negative")})
    frame["correct"] = frame["prediction"] == frame["label"]
    frame.to_csv(tmp_path / "binary.csv", index=False)
    assert _calibrate(tmp_path / "binary.csv", tmp_path / "cal.json", "vector") == 2
    assert "--method vector needs three or more classes" in capsys.readouterr().err
    assert _calibrate(tmp_path / "binary.csv", tmp_path / "cal.json", "temperature") == 0
    assert "temperature calibrator (confidence target) fit on 200 rows" in capsys.readouterr().out
    assert json.loads((tmp_path / "cal.json").read_text())["format"] == "confnb.calibrator"
    # two-class prediction sets, from p_positive
    assert main(["conformal", str(tmp_path / "binary.csv"), "-o", str(tmp_path / "sets.json")]) == 0
    out = capsys.readouterr().out
    assert "2 classes ['positive', 'negative'], from the p_positive columns" in out and "n 200, alpha 0.1" in out
    # ... or from a class calibrator's P(positive), on rows it was not fit on; a confidence calibrator has none
    frame.assign(text=[f"other {i}" for i in range(200)]).to_csv(tmp_path / "other.csv", index=False)
    assert _calibrate(tmp_path / "other.csv", tmp_path / "class.json", "platt", "--target", "class") == 0
    assert main(["conformal", str(tmp_path / "binary.csv"), "--calibrator", str(tmp_path / "class.json"),
                 "-o", str(tmp_path / "sets.json")]) == 0
    assert json.loads((tmp_path / "sets.json").read_text())["probabilities"]["source"] == "calibrated"
    assert main(["conformal", str(tmp_path / "binary.csv"), "--calibrator", str(tmp_path / "cal.json"),
                 "-o", str(tmp_path / "sets2.json")]) == 2
    assert "prediction sets need class probabilities" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------- conformal


@pytest.mark.parametrize("method", ["lac", "aps"])
def test_conformal_sets_cover_held_out_rows(files, capsys, method):
    from confnb.conformal_scores import add_prediction_sets, read_conformal

    out = files.tmp / "sets.json"
    assert main(["conformal", str(files.sets), "--label-column", "label", "--alpha", "0.1", "--method", method,
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "n 400, alpha 0.1, qhat " in printed and "at least 0.900" in printed
    conformal = load_conformal(out)  # the library reads the file too
    assert conformal.classes_ == CLASSES and conformal.method == method
    new = add_prediction_sets(pd.read_csv(files.new), read_conformal(out))
    assert _coverage(new) >= 0.9 - 0.05  # 600 held-out rows: 0.05 is about four standard errors
    assert new["set_size"].mean() < 3  # informative sets, not every class


def test_conformal_on_calibrated_probabilities_records_and_checks_its_calibrator(files, capsys):
    cal, sets = files.tmp / "cal.json", files.tmp / "sets.json"
    assert _calibrate(files.fit, cal, "temperature") == 0
    assert main(["conformal", str(files.sets), "--calibrator", str(cal), "-o", str(sets)]) == 0
    printed = capsys.readouterr().out
    assert "calibrator fit on other rows (checked: none of these 400)" in printed and "from calibrated" in printed
    record = json.loads(sets.read_text())["probabilities"]
    assert record["source"] == "calibrated" and record["calibrator"]["kind"] == "temperature"
    # the calibrator's own fit rows: refused, unless asked for and recorded
    assert main(["conformal", str(files.fit), "--calibrator", str(cal), "-o", str(files.tmp / "in.json")]) == 2
    assert "fit on all 400 of these rows" in capsys.readouterr().err and not (files.tmp / "in.json").exists()
    assert main(["conformal", str(files.fit), "--calibrator", str(cal), "-o", str(files.tmp / "in.json"),
                 "--allow-in-sample"]) == 0
    assert json.loads((files.tmp / "in.json").read_text())["probabilities"]["calibrator_rows"] == "in-sample (optimistic)"
    # a top-label calibrator has no class probabilities to build sets from
    assert _calibrate(files.fit, files.tmp / "platt.json", "platt") == 0
    assert main(["conformal", str(files.sets), "--calibrator", str(files.tmp / "platt.json"), "-o", str(sets)]) == 2
    assert "top-label (platt/isotonic) calibrator gives only the confidence" in capsys.readouterr().err


def test_conformal_bad_inputs_exit_2_without_a_file(files, capsys):
    out = files.tmp / "sets.json"
    frame = pd.read_csv(files.sets)
    frame.assign(label="savings").to_csv(files.tmp / "labels.csv", index=False)
    frame.head(5).to_csv(files.tmp / "few.csv", index=False)
    cases = [
        ([str(files.sets), "--alpha", "0"], "alpha must be strictly between 0 and 1"),
        ([str(files.sets), "--alpha", "1.5"], "alpha must be strictly between 0 and 1"),
        ([str(files.tmp / "labels.csv")], "values that are not classes of these scores: 'savings'"),
        ([str(files.sets), "--label-column", "intent"], "no 'intent' column"),
        ([str(files.tmp / "few.csv")], "5 calibration rows are too few for alpha=0.1"),
        ([str(files.sets), "--allow-in-sample"], "--allow-in-sample applies to rows a --calibrator was fit on"),
        ([str(files.sets), "--calibrator", str(files.tmp / "nope.json")], "does not exist"),
    ]
    for argv, message in cases:
        assert main(["conformal", *argv, "-o", str(out)]) == 2, argv
        assert message in capsys.readouterr().err, argv
        assert not out.exists(), argv


# --------------------------------------------------------------------------------------- score time


def test_score_adds_calibrated_columns_and_prediction_sets(files, fake_model, capsys):
    cal, sets, out = files.tmp / "cal.json", files.tmp / "sets.json", files.tmp / "scored.csv"
    assert _calibrate(files.fit, cal, "vector") == 0
    assert main(["conformal", str(files.sets), "--calibrator", str(cal), "-o", str(sets)]) == 0
    assert main(["score", str(fake_model.inputs), "-o", str(out), "--task", str(fake_model.task), "--label-column",
                 "label", "--calibrator", str(cal), "--conformal", str(sets)]) == 0
    scored = pd.read_csv(out)
    calibrated = scored[[f"calibrated_p_{c}" for c in CLASSES]].to_numpy()
    np.testing.assert_allclose(calibrated.sum(axis=1), 1.0)
    assert (scored["calibrated_prediction"] == np.array(CLASSES)[calibrated.argmax(axis=1)]).all()
    np.testing.assert_allclose(scored["confidence"], calibrated.max(axis=1))
    assert (scored["prediction"] == pd.read_csv(files.new)["prediction"]).all()  # the model's own, kept
    members = scored["prediction_set"].fillna("").str.split("|")
    assert all(set(m) <= set(CLASSES) for m in members if m != [""])
    assert (scored["set_size"] == [0 if m == [""] else len(m) for m in members]).all()
    assert _coverage(scored) >= 0.85
    # a top-label calibrator: a calibrated confidence of the argmax, no class probabilities
    assert _calibrate(files.fit, files.tmp / "platt.json", "platt") == 0
    assert main(["score", str(fake_model.inputs), "-o", str(out), "--task", str(fake_model.task),
                 "--calibrator", str(files.tmp / "platt.json")]) == 0
    scored = pd.read_csv(out)
    assert scored["confidence"].between(0, 1).all() and not any(c.startswith("calibrated_p_") for c in scored)


def test_score_refuses_calibrators_and_sets_of_other_classes_before_scoring(files, fake_model, tmp_path, capsys):
    out = files.tmp / "scored.csv"
    other = _class_scores(3, 200, classes=["card arrival", "card linking", "refund"])
    other.to_csv(tmp_path / "other.csv", index=False)
    assert _calibrate(tmp_path / "other.csv", tmp_path / "other_cal.json", "temperature") == 0
    assert main(["conformal", str(tmp_path / "other.csv"), "-o", str(tmp_path / "other_sets.json")]) == 0
    binary = tmp_path / "binary_cal.json"
    from confnb.calibration import PlattCalibrator

    PlattCalibrator(target="confidence").fit([0.6, 0.9, 0.7, 0.95], [0, 1, 1, 1]).save(binary)
    cal, sets = files.tmp / "cal.json", files.tmp / "sets.json"
    assert _calibrate(files.fit, cal, "temperature") == 0
    assert main(["conformal", str(files.sets), "--calibrator", str(cal), "-o", str(sets)]) == 0
    assert _calibrate(files.sets, files.tmp / "cal2.json", "temperature") == 0
    capsys.readouterr()
    score = ["score", str(fake_model.inputs), "-o", str(out), "--task", str(fake_model.task)]
    cases = [
        (["--calibrator", str(tmp_path / "other_cal.json")],
         "was fit on classes ['card arrival', 'card linking', 'refund'], but the task has classes "
         "['card arrival', 'card linking', 'balance']"),
        (["--calibrator", str(binary)], "is a two-class calibrator"),
        (["--conformal", str(tmp_path / "other_sets.json")], "were fit on classes ['card arrival', 'card linking', 'refund']"),
        (["--conformal", str(sets)], "pass that calibrator with --calibrator"),
        (["--conformal", str(sets), "--calibrator", str(files.tmp / "cal2.json")], "of another calibrator"),
        (["--conformal", str(tmp_path / "nope.json")], "does not exist"),
    ]
    for extra, message in cases:
        assert main([*score, *extra]) == 2, extra
        assert message in capsys.readouterr().err, extra
        assert not out.exists() and not list(files.tmp.glob("scored.csv*")), extra
    # a K-class calibrator on a two-class task, and in `confnb report`
    assert main(["score", str(fake_model.inputs), "-o", str(out), "--calibrator", str(cal)]) == 2
    assert "is a K-class calibrator" in capsys.readouterr().err
    assert main(["report", str(files.new), "--calibrator", str(cal), "-o", str(tmp_path / "r")]) == 2
    assert "evaluates two-class calibrators only" in capsys.readouterr().err


# ------------------------------------------------------------------------------ end to end on the model

_ARRIVAL = ["My card has not arrived yet.", "When will my new card be delivered?", "The card you sent never came.",
            "Still waiting for the card in the mail.", "Has my replacement card been posted?",
            "It has been two weeks and no card.", "Where is the card I ordered?", "How long does card delivery take?",
            "The courier did not bring my card.", "I ordered a card last month and nothing came.",
            "Can you track the card you mailed me?", "My debit card is lost in the post.",
            "Is my card on its way?", "The new card has not shown up.", "Card still not delivered to my address."]
_LINKING = ["How do I link my card to the app?", "I can't add my card to my account.", "Linking my card keeps failing.",
            "Connect my new card to online banking, please.", "The app will not accept my card number.",
            "How can I attach a card to my profile?", "Adding a second card gives an error.",
            "Where do I enter my card to link it?", "My card won't link to the wallet.",
            "Can I link a card from another bank?", "The card link screen is stuck.",
            "Why can't I connect my card?", "Link my card to the mobile app.", "Card linking says invalid details.",
            "I want to add this card to my account."]
_BALANCE = ["What is my balance?", "How much money is in my account?", "Show me my current balance.",
            "Is my balance up to date?", "Why is my balance lower than expected?", "Check my account balance, please.",
            "How much can I still spend?", "My balance looks wrong today.", "Tell me the balance of my savings.",
            "What's left in my account?", "The balance did not update after the transfer.",
            "How do I see my balance in the app?", "Has my salary reached my balance?", "Balance after the last payment?",
            "What is the available balance now?"]


def _rows(part: int):
    """Ten rows per class: part 0, 1 or 2 take disjoint texts (five each, once plain and once prefixed)."""
    rows = []
    for label, texts in (("card arrival", _ARRIVAL), ("card linking", _LINKING), ("balance", _BALANCE)):
        for text in texts[part * 5:(part + 1) * 5]:
            rows += [(text, label), (f"Hi, quick question. {text}", label)]
    return pd.DataFrame(rows, columns=["text", "label"])


def test_a_multi_token_task_scores_calibrates_and_gets_sets_end_to_end(tmp_path, monkeypatch, lm, capsys):
    import confnb.models

    monkeypatch.setattr(confnb.models, "load_model", lambda *a, **k: lm)  # one load for the four commands
    task = tmp_path / "bank.toml"
    task.write_text(TASK_TOML, encoding="utf-8")
    paths = {}
    for part, name in enumerate(("fit", "sets", "new")):
        paths[name] = tmp_path / f"{name}.csv"
        _rows(part).to_csv(paths[name], index=False)
    for name in ("fit", "sets"):
        scored = tmp_path / f"{name}_scores.csv"
        assert main(["score", str(paths[name]), "-o", str(scored), "--task", str(task), "--label-column", "label"]) == 0
    scores = pd.read_csv(tmp_path / "fit_scores.csv")
    assert {f"p_{c}" for c in CLASSES} | {f"mass_{c}" for c in CLASSES} <= set(scores.columns)
    assert "p_positive" not in scores.columns and set(scores["prediction"]) <= set(CLASSES)
    cal, sets, out = tmp_path / "cal.json", tmp_path / "sets.json", tmp_path / "scored.csv"
    assert main(["calibrate", str(tmp_path / "fit_scores.csv"), "--method", "temperature", "--n-splits", "3",
                 "-o", str(cal)]) == 0
    assert main(["conformal", str(tmp_path / "sets_scores.csv"), "--calibrator", str(cal), "--alpha", "0.1",
                 "-o", str(sets)]) == 0
    printed = capsys.readouterr().out
    assert "fit on 30 rows" in printed and "n 30, alpha 0.1" in printed
    assert main(["score", str(paths["new"]), "-o", str(out), "--task", str(task), "--label-column", "label",
                 "--calibrator", str(cal), "--conformal", str(sets)]) == 0
    scored = pd.read_csv(out)
    assert len(scored) == 30
    assert {"calibrated_prediction", "confidence", "prediction_set", "set_size",
            *(f"calibrated_p_{c}" for c in CLASSES)} <= set(scored.columns)
    members = scored["prediction_set"].fillna("").str.split("|")
    assert all(set(m) <= set(CLASSES) for m in members if m != [""])
    assert scored["set_size"].between(0, 3).all() and scored["confidence"].between(0, 1).all()


def test_score_warns_about_rows_the_prediction_sets_were_fit_on(files, fake_model, capsys):
    sets, out = files.tmp / "sets.json", files.tmp / "scored.csv"
    assert main(["conformal", str(files.sets), "-o", str(sets)]) == 0
    inputs = files.tmp / "seen.csv"
    pd.read_csv(files.sets).head(7)[["text", "label"]].to_csv(inputs, index=False)
    with pytest.warns(UserWarning, match="7 of the rows scored were used to fit the prediction sets"):
        assert main(["score", str(inputs), "-o", str(out), "--task", str(fake_model.task), "--conformal", str(sets)]) == 0
    assert pd.read_csv(out)["set_size"].notna().all()
