"""confnb.report: honest metrics from scored DataFrames, files on disk, clear errors."""

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from confnb import report  # noqa: E402
from confnb.calibration import IsotonicCalibrator, PlattCalibrator, cross_calibrate, load_calibrator  # noqa: E402
from confnb.metrics import expected_calibration_error, share_correct  # noqa: E402
from confnb.thresholds import threshold_table  # noqa: E402

FILES = {"confidence_histogram.png", "reliability_raw.png", "reliability_calibrated.png", "threshold_chart.png",
         "metrics.json", "summary.md"}


def _scored(draw, seed, n):
    """A scored DataFrame like classify's output: overconfident, labels known (`draw`: the
    `overconfident_sample` fixture)."""
    gen = np.random.default_rng(seed)
    label = np.where(gen.uniform(size=n) < 0.5, "positive", "negative")
    conf, correct = draw(gen, n, slope=0.6, high=0.999)
    correct = correct.astype(bool)
    other = np.where(label == "positive", "negative", "positive")
    prediction = np.where(correct, label, other)
    p_positive = np.where(prediction == "positive", conf, 1 - conf)
    return pd.DataFrame({"prediction": prediction, "total_probability": conf, "p_positive": p_positive,
                         "label": label, "correct": correct})


@pytest.fixture(scope="module")
def scored(overconfident_sample):
    return _scored(overconfident_sample, 41, 1200)


def test_write_report_cross_fits_and_writes_files(scored, tmp_path):
    result = report.write_report(scored, tmp_path / "out", n_boot=50, rng=0)
    assert {p.name for p in (tmp_path / "out").iterdir()} == FILES
    on_disk = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert on_disk == result
    assert result["calibration"]["kind"] == "cross-fitted" and result["n"] == 1200
    for part in ("raw", "calibrated"):
        assert set(result[part]) == set(report.METRIC_NAMES)
        for m in result[part].values():
            assert m["low"] <= m["high"] and m["level"] == 0.95
    assert result["calibrated"]["ece"]["estimate"] < result["raw"]["ece"]["estimate"]
    assert result["calibrated"]["brier"]["estimate"] < result["raw"]["brier"]["estimate"]
    assert result["raw"]["accuracy"]["estimate"] == pytest.approx(scored["correct"].mean())
    # honest numbers: the calibrated scores are exactly the out-of-fold ones
    seed_cv = int(np.random.default_rng(0).integers(0, 2**31 - 1, size=2)[0])  # rng=0 -> (cross-fit, bootstrap) seeds
    s, y = scored["total_probability"].to_numpy(), scored["correct"].to_numpy().astype(int)
    oof = cross_calibrate(s, y, "platt", rng=seed_cv)
    assert result["calibrated"]["ece"]["estimate"] == pytest.approx(expected_calibration_error(y, oof))
    in_sample = PlattCalibrator().fit(s, y).predict_proba(s)
    assert result["calibrated"]["ece"]["estimate"] != pytest.approx(expected_calibration_error(y, in_sample))
    assert len(result["thresholds"]) == 10 and result["thresholds"][0]["threshold"] == 0.5
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "out-of-fold" in summary and "| ece |" in summary and "![threshold chart](threshold_chart.png)" in summary
    png = (tmp_path / "out" / "reliability_raw.png").read_bytes()
    assert png[:4] == b"\x89PNG"


def test_write_report_with_a_calibrator_fit_elsewhere(scored, tmp_path, overconfident_sample):
    other = _scored(overconfident_sample, 42, 1000)
    cal = IsotonicCalibrator(target="confidence").fit(other["total_probability"], other["correct"])
    result = report.write_report(scored, tmp_path, calibrator=cal, n_boot=50)
    assert result["calibration"]["kind"] == "given" and result["calibration"]["class"] == "IsotonicCalibrator"
    y = scored["correct"].to_numpy()
    p = cal.predict_proba(scored["total_probability"])
    assert result["calibrated"]["ece"]["estimate"] == pytest.approx(expected_calibration_error(y, p))
    with pytest.raises(ValueError, match="fit for target 'confidence'"):
        report.write_report(scored, tmp_path, calibrator=cal, target="class", n_boot=50)
    with pytest.raises(ValueError, match="Calibrator"):
        report.write_report(scored, tmp_path, calibrator="calibrator.json", n_boot=50)


def test_write_report_class_target(scored, tmp_path):
    result = report.write_report(scored, tmp_path, target="class", n_boot=50)
    assert result["target"] == "class"
    decisions = (scored["p_positive"] >= 0.5) == (scored["label"] == "positive")
    assert result["raw"]["accuracy"]["estimate"] == pytest.approx(decisions.mean())
    assert {p.name for p in tmp_path.iterdir()} == FILES


def test_calibrate_scores_fits_on_all_and_reports_out_of_fold(scored):
    cal, metrics = report.calibrate_scores(scored, method="temperature", n_boot=50, rng=1)
    assert cal.is_fitted and cal.target == "confidence" and cal.n_fit_ == len(scored)
    assert metrics["method"] == "temperature" and metrics["n_splits"] == 5
    assert "out-of-fold" in metrics["evaluation"]
    assert metrics["after"]["ece"]["estimate"] < metrics["before"]["ece"]["estimate"]
    assert metrics["before"]["accuracy"]["estimate"] == pytest.approx(share_correct(scored["correct"]))
    text = report.format_metrics(metrics)
    lines = text.splitlines()
    assert lines[0].split() == ["metric", "before", "after"]
    assert [line.split()[0] for line in lines[1:]] == list(report.METRIC_NAMES)
    json.dumps(metrics, allow_nan=False)  # ready for the CLI to print or save


def test_add_confidence_column(scored):
    cal = PlattCalibrator(target="confidence").fit(scored["total_probability"], scored["correct"])
    out = report.add_confidence_column(scored, cal)
    np.testing.assert_allclose(out["confidence"], cal.predict_proba(scored["total_probability"]))
    assert (out["calibrated_prediction"] == scored["prediction"]).all()  # confidence target: the model's
    assert "confidence" not in scored.columns  # a copy
    label_is_pos = scored["label"] == "positive"
    cls_cal = PlattCalibrator(target="class").fit(scored["p_positive"], label_is_pos)
    out = report.add_confidence_column(scored, cls_cal)
    p = cls_cal.predict_proba(scored["p_positive"])
    np.testing.assert_allclose(out["confidence"], np.maximum(p, 1 - p))
    assert (out["calibrated_prediction"] == np.where(p >= 0.5, "positive", "negative")).all()
    with pytest.raises(ValueError, match="fit for target 'class'"):
        report.add_confidence_column(scored, cls_cal, target="confidence")
    with pytest.raises(ValueError, match="'prediction'"):
        report.add_confidence_column(scored.drop(columns="prediction"), cal)


def _biased(seed, n):
    """Class-target scores from a prompt that leans positive: the model's 0.5 cut-off is off."""
    gen = np.random.default_rng(seed)
    truth = gen.uniform(0.02, 0.98, n)
    label = np.where(gen.uniform(size=n) < truth, "positive", "negative")
    p_positive = 1 / (1 + np.exp(-(np.log(truth / (1 - truth)) + 1.5)))
    prediction = np.where(p_positive >= 0.5, "positive", "negative")
    return pd.DataFrame({"text": [f"review {seed}-{i}" for i in range(n)], "prediction": prediction,
                         "total_probability": np.maximum(p_positive, 1 - p_positive), "p_positive": p_positive,
                         "label": label, "correct": prediction == label})


def test_report_and_score_use_one_rule_for_the_class_target(tmp_path):
    fit, test = _biased(1, 1500), _biased(2, 1000)
    cal = PlattCalibrator(target="class").fit(fit["p_positive"], fit["label"] == "positive")
    result = report.write_report(test, tmp_path, calibrator=cal, target="class", n_boot=20)
    scored = report.add_confidence_column(test, cal)  # what `confnb score --calibrator` writes
    # the bias is real: calibration flips some of the model's predictions
    assert (scored["calibrated_prediction"] != test["prediction"]).sum() > 50
    assert scored["confidence"].min() >= 0.5
    table = threshold_table(scored["calibrated_prediction"] == test["label"], scored["confidence"])
    pd.testing.assert_frame_equal(table.to_frame(), pd.DataFrame(result["thresholds"]), check_dtype=False)
    assert result["calibrated"]["accuracy"]["estimate"] == pytest.approx(
        (scored["calibrated_prediction"] == test["label"]).mean())


def _csv_round_trip(df, tmp_path, name="scores.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return pd.read_csv(path)


def test_calibrator_remembers_its_fit_rows_and_report_refuses_in_sample(tmp_path):
    pool = _csv_round_trip(_biased(3, 600), tmp_path)
    cal, _ = report.calibrate_scores(pool, n_boot=20)
    assert cal.fit_rows_["kind"] == "text" and cal.fit_rows_["n"] == 600 and len(cal.fit_rows_["hashes"]) == 600
    loaded = load_calibrator(cal.save(tmp_path / "cal.json"))
    assert loaded.fit_rows_ == cal.fit_rows_
    # the very rows it was fit on: refused, however they were re-read
    again = _csv_round_trip(pool.assign(text=" " + pool["text"] + "  "), tmp_path, "again.csv")
    with pytest.raises(ValueError, match="fit on all 600 of these rows.*--allow-in-sample"):
        report.write_report(again, tmp_path / "r1", calibrator=loaded, n_boot=20)
    result = report.write_report(again, tmp_path / "r1", calibrator=loaded, n_boot=20, allow_in_sample=True)
    assert result["evaluation"] == "in-sample (optimistic)" and result["calibration"]["n_overlap"] == 600
    summary = (tmp_path / "r1" / "summary.md").read_text()
    assert "fit on other rows" not in summary
    assert "| metric | raw | calibrated, in-sample (optimistic) |" in summary
    assert "thresholds -- in-sample (optimistic)" in summary
    # partial overlap: the fit rows are left out of every number, and counted
    mixed = pd.concat([pool.iloc[:200], _biased(4, 500)], ignore_index=True)
    result = report.write_report(mixed, tmp_path / "r2", calibrator=loaded, n_boot=20)
    assert result["n"] == 500 and result["evaluation"] == "held-out"
    assert result["calibration"]["n_overlap"] == 200 and result["calibration"]["n_excluded"] == 200
    assert "200 of the 700 rows were in its fit set" in (tmp_path / "r2" / "summary.md").read_text()
    fresh = _biased(5, 400)
    result = report.write_report(fresh, tmp_path / "r3", calibrator=loaded, n_boot=20)
    assert result["n"] == 400 and result["calibration"]["n_overlap"] == 0
    assert "checked: none of these 400 rows" in result["calibration"]["description"]
    # without texts, the rows are recognised by their scores
    no_text = _csv_round_trip(pool.drop(columns="text"), tmp_path, "no_text.csv")
    cal_scores, _ = report.calibrate_scores(no_text, n_boot=20)
    assert cal_scores.fit_rows_["kind"] == "scores"
    with pytest.raises(ValueError, match="in-sample"):
        report.write_report(no_text, tmp_path / "r4", calibrator=cal_scores, n_boot=20)


def test_calibrator_without_a_record_of_its_fit_rows(tmp_path):
    pool = _biased(6, 400)
    cal, _ = report.calibrate_scores(pool, n_boot=20)
    data = json.loads(cal.save(tmp_path / "cal.json").read_text())
    del data["fit_rows"]  # a file written before fit rows were recorded
    (tmp_path / "old.json").write_text(json.dumps(data))
    old = load_calibrator(tmp_path / "old.json")
    assert old.fit_rows_ is None
    result = report.write_report(pool, tmp_path / "r", calibrator=old, n_boot=20)
    assert result["evaluation"] == "fit rows unknown" and result["n"] == 400
    summary = (tmp_path / "r" / "summary.md").read_text()
    assert "fit rows unknown" in summary and "fit on other rows" not in summary
    # a record made from texts cannot be checked on rows without them: said, not assumed
    result = report.write_report(pool.drop(columns="text"), tmp_path / "r", calibrator=cal, n_boot=20)
    assert result["evaluation"] == "fit rows unknown" and "'text' column" in result["calibration"]["description"]


@pytest.mark.parametrize("labels", [["1", "0"], [1, 0], [True, False], ["true", "false"], ["positive", "negative"]])
def test_class_target_accepts_binary_labels(tmp_path, labels):
    df = _biased(7, 300)
    is_pos = df["label"] == "positive"
    df["label"] = np.where(is_pos, labels[0], labels[1])
    df = _csv_round_trip(df, tmp_path)
    scores, y_true = report.target_arrays(df, "class")
    assert y_true.tolist() == is_pos.astype(int).tolist()
    cal, metrics = report.calibrate_scores(df.rename(columns={"label": "truth"}), target="class",
                                           label_column="truth", n_boot=20)
    assert metrics["n"] == 300 and cal.target == "class"


def test_class_target_labels_with_other_class_names(tmp_path):
    df = _biased(8, 200)
    df = df.assign(label=df["label"].map({"positive": "spam", "negative": "ham"}),
                   prediction=df["prediction"].map({"positive": "spam", "negative": "ham"}))
    with pytest.raises(ValueError, match="positive class 'positive' appears in neither.*--positive-class"):
        report.target_arrays(df, "class")
    _, y_true = report.target_arrays(df, "class", positive="spam")
    assert y_true.tolist() == (df["label"] == "spam").astype(int).tolist()
    with pytest.raises(ValueError, match="'maybe'"):
        report.target_arrays(df.assign(label=["maybe"] + df["label"].tolist()[1:]), "class", positive="spam")


def test_rows_without_a_class_token_are_skipped_and_counted(tmp_path):
    df = _biased(9, 300)
    df["no_class_token"] = False
    flagged, blank = [3, 50, 77], [120]
    df.loc[flagged, ["total_probability", "p_positive"]] = np.nan
    df.loc[flagged, "prediction"] = None
    df.loc[flagged, "no_class_token"] = True
    df.loc[blank, ["total_probability", "p_positive"]] = np.nan  # an empty text kept by --skip-empty
    df = _csv_round_trip(df, tmp_path)
    for target in ("confidence", "class"):
        cal, metrics = report.calibrate_scores(df, target=target, n_boot=20)
        assert metrics["skipped"] == {"no_class_token": 3, "no_score": 1} and metrics["n"] == 296
        assert cal.fit_rows_["n"] == 296
        result = report.write_report(df, tmp_path / target, target=target, n_boot=20)
        assert result["n"] == 296 and result["skipped"] == metrics["skipped"]
        summary = (tmp_path / target / "summary.md").read_text()
        assert "skipped 3 rows with no class token among the server's top-k" in summary
    with pytest.warns(UserWarning) as caught:
        scores, _ = report.target_arrays(df)
    assert [str(w.message).split(" rows")[0] for w in caught] == ["skipped 3", "skipped 1"]
    assert len(scores) == 296
    # an older CSV without the column: NaN scores alone are enough
    _, metrics = report.calibrate_scores(df.drop(columns="no_class_token"), n_boot=20)
    assert metrics["skipped"] == {"no_class_token": 0, "no_score": 4}
    everything = df.assign(no_class_token=True)
    with pytest.raises(ValueError, match="none of the 300 rows has scores.*300 rows with no class token"):
        report.calibrate_scores(everything, n_boot=20)
    # applying a calibrator leaves those rows blank instead of failing
    out = report.add_confidence_column(df, cal)
    assert out["confidence"].isna().sum() == 4 and out.loc[flagged, "calibrated_prediction"].isna().all()


@pytest.mark.parametrize(
    "drop, target, message",
    [
        ("correct", "confidence", r"no 'correct' column.*confnb score --label-column"),
        ("label", "class", r"no 'label' column.*confnb score --label-column"),
        ("total_probability", "confidence", "no 'total_probability' column"),
        ("p_positive", "class", "no 'p_positive' column"),
    ],
)
def test_missing_columns_say_how_to_get_them(scored, tmp_path, drop, target, message):
    df = scored.drop(columns=drop)
    with pytest.raises(ValueError, match=message):
        report.write_report(df, tmp_path, target=target, n_boot=50)
    with pytest.raises(ValueError, match=message):
        report.calibrate_scores(df, method="platt", target=target, n_boot=50)


def test_other_bad_input(scored, tmp_path):
    with pytest.raises(ValueError, match="target"):
        report.target_arrays(scored, "probability")
    with pytest.raises(ValueError, match="no rows"):
        report.target_arrays(scored.iloc[:0])
    with pytest.raises(ValueError, match="DataFrame"):
        report.target_arrays([0.5, 0.6])
    bad = scored.assign(correct=scored["correct"].astype(object))
    bad.loc[0, "correct"] = None
    with pytest.raises(ValueError, match="missing"):
        report.target_arrays(bad)
    with pytest.raises(ValueError, match="unknown calibration method"):
        report.calibrate_scores(scored, method="magic", n_boot=50)
