"""confnb.report: honest metrics from scored DataFrames, files on disk, clear errors."""

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from confnb import report  # noqa: E402
from confnb.calibration import IsotonicCalibrator, PlattCalibrator, cross_calibrate  # noqa: E402
from confnb.metrics import expected_calibration_error, share_correct  # noqa: E402

FILES = {"confidence_histogram.png", "reliability_raw.png", "reliability_calibrated.png", "threshold_chart.png",
         "metrics.json", "summary.md"}


def _scored(seed, n):
    """A scored DataFrame like classify's output: overconfident, labels known."""
    gen = np.random.default_rng(seed)
    label = np.where(gen.uniform(size=n) < 0.5, "positive", "negative")
    conf = gen.uniform(0.5, 0.999, n)
    correct = gen.uniform(size=n) < 0.5 + 0.6 * (conf - 0.5)
    other = np.where(label == "positive", "negative", "positive")
    prediction = np.where(correct, label, other)
    p_positive = np.where(prediction == "positive", conf, 1 - conf)
    return pd.DataFrame({"prediction": prediction, "total_probability": conf, "p_positive": p_positive,
                         "label": label, "correct": correct})


@pytest.fixture(scope="module")
def scored():
    return _scored(41, 1200)


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
    seed_cv = report._seeds(0, 2)[0]
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


def test_write_report_with_a_calibrator_fit_elsewhere(scored, tmp_path):
    other = _scored(42, 1000)
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
    assert "confidence" not in scored.columns  # a copy
    label_is_pos = scored["label"] == "positive"
    cls_cal = PlattCalibrator(target="class").fit(scored["p_positive"], label_is_pos)
    out = report.add_confidence_column(scored, cls_cal)
    p = cls_cal.predict_proba(scored["p_positive"])
    expected = np.where(scored["prediction"] == "positive", p, 1 - p)
    np.testing.assert_allclose(out["confidence"], expected)
    with pytest.raises(ValueError, match="fit for target 'class'"):
        report.add_confidence_column(scored, cls_cal, target="confidence")
    with pytest.raises(ValueError, match="'prediction'"):
        report.add_confidence_column(scored.drop(columns="prediction"), cls_cal)


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
