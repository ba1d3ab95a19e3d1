"""confnb.calibration: known truths, held-out gains, persistence, bad input."""

import json
import warnings

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from confnb.calibration import (
    CALIBRATOR_FORMAT,
    calibrated_prediction,
    CALIBRATOR_FORMAT_VERSION,
    ContextualCalibrator,
    IsotonicCalibrator,
    NotFittedError,
    PlattCalibrator,
    TemperatureCalibrator,
    class_to_confidence,
    cross_calibrate,
    load_calibrator,
    make_calibrator,
)
from confnb.metrics import expected_calibration_error


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _logit(p):
    return np.log(p) - np.log1p(-p)


@pytest.fixture(scope="module")
def splits(overconfident_sample):
    """(confidence, correct) pairs: confidences in [0.5, 1); real accuracy 0.5 + 0.6 * (p - 0.5)."""
    gen = np.random.default_rng(3)
    cal = overconfident_sample(gen, 2000, slope=0.6, high=0.999)
    test = overconfident_sample(gen, 5000, slope=0.6, high=0.999)
    return cal, test


@pytest.mark.parametrize("method", ["platt", "isotonic", "temperature"])
def test_every_calibrator_lowers_held_out_ece(splits, method):
    (s_cal, y_cal), (s_test, y_test) = splits
    raw = expected_calibration_error(y_test, s_test)
    cal = make_calibrator(method).fit(s_cal, y_cal)
    after = expected_calibration_error(y_test, cal.predict_proba(s_test))
    assert raw > 0.08
    assert after < raw / 2


def test_platt_recovers_known_parameters():
    gen = np.random.default_rng(4)
    s = gen.uniform(0.02, 0.98, 20000)
    y = (gen.uniform(size=s.size) < _sigmoid(0.5 * _logit(s) + 0.3)).astype(int)
    cal = PlattCalibrator().fit(s, y)
    assert cal.coef_ == pytest.approx(0.5, abs=0.05)
    assert cal.intercept_ == pytest.approx(0.3, abs=0.05)
    assert cal.n_fit_ == 20000
    expected = _sigmoid(cal.coef_ * _logit(np.array([0.3, 0.9])) + cal.intercept_)
    np.testing.assert_allclose(cal.predict_proba([0.3, 0.9]), expected)


def test_platt_is_finite_on_separable_data():
    cal = PlattCalibrator().fit([0.6, 0.7, 0.8, 0.9], [0, 0, 1, 1])
    assert np.isfinite([cal.coef_, cal.intercept_]).all()


def test_platt_can_report_confidence_below_one_half():
    # predictions with raw confidence 0.5-0.7 are right only 30% of the time
    gen = np.random.default_rng(5)
    s = gen.uniform(0.5, 1.0, 3000)
    y = (gen.uniform(size=s.size) < np.where(s < 0.7, 0.3, 0.95)).astype(int)
    p = PlattCalibrator().fit(s, y).predict_proba([0.55, 0.99])
    assert p[0] < 0.5 < p[1]


def test_temperature_recovers_known_temperature():
    gen = np.random.default_rng(6)
    s = gen.uniform(0.02, 0.98, 20000)
    y = (gen.uniform(size=s.size) < _sigmoid(_logit(s) / 2.0)).astype(int)
    cal = TemperatureCalibrator().fit(s, y)
    assert cal.temperature_ == pytest.approx(2.0, rel=0.08)
    # keeps 0.5 fixed and the order of scores
    p = cal.predict_proba([0.5, 0.7, 0.9])
    assert p[0] == pytest.approx(0.5) and p[0] < p[1] < p[2]


def test_isotonic_is_monotone_and_clipped_out_of_range(splits):
    (s_cal, y_cal), _ = splits
    cal = IsotonicCalibrator().fit(s_cal, y_cal)
    grid = np.linspace(0, 1, 201)
    p = cal.predict_proba(grid)
    assert np.all(np.diff(p) >= 0)
    assert np.all((p >= 0) & (p <= 1))
    # below the smallest fitted score: the first knot's value, above the largest: the last
    assert p[0] == cal.y_thresholds_[0] and p[-1] == cal.y_thresholds_[-1]
    assert s_cal.min() > 0.45  # so 0.0 .. 0.45 really is out of range


def test_isotonic_warns_on_few_rows(overconfident_sample):
    s, y = overconfident_sample(7, 600, slope=0.6, high=0.999)
    with pytest.warns(UserWarning, match="overfit"):
        IsotonicCalibrator().fit(s[:100], y[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        IsotonicCalibrator().fit(s, y)


def test_contextual_calibration_removes_a_planted_prior():
    gen = np.random.default_rng(8)
    prior = 0.7
    p_true = gen.uniform(0.01, 0.99, 1000)
    # the prompt tilts every input towards "positive" by the same odds factor
    p_seen = prior * p_true / (prior * p_true + (1 - prior) * (1 - p_true))
    content_free = np.full(3, prior)  # "N/A", "" and "[MASK]" all show just the tilt
    cal = ContextualCalibrator().fit(content_free)
    assert cal.prior_ == pytest.approx(prior)
    assert cal.target == "class"
    np.testing.assert_allclose(cal.predict_proba(p_seen), p_true, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cal.predict_proba([prior]), [0.5])
    # labels, if given, are ignored
    assert ContextualCalibrator().fit(content_free, [1, 0, 1]).prior_ == cal.prior_


def test_contextual_prior_is_the_mean_of_content_free_scores():
    cal = ContextualCalibrator().fit([0.6, 0.8, 0.7])
    assert cal.prior_ == pytest.approx(0.7)
    assert cal.predict_proba([0.0, 1.0]).tolist() == [0.0, 1.0]


def _all_fitted(splits):
    (s_cal, y_cal), _ = splits
    return [
        PlattCalibrator(target="confidence").fit(s_cal, y_cal),
        IsotonicCalibrator(target="confidence").fit(s_cal, y_cal),
        TemperatureCalibrator().fit(s_cal, y_cal),
        ContextualCalibrator().fit([0.62, 0.58, 0.66]),
    ]


def test_json_round_trip_gives_identical_predictions(splits, tmp_path):
    _, (s_test, _) = splits
    for cal in _all_fitted(splits):
        path = cal.save(tmp_path / f"{cal.method}.json")
        data = json.loads(path.read_text())
        assert data["format"] == CALIBRATOR_FORMAT and data["version"] == CALIBRATOR_FORMAT_VERSION
        assert data["class"] == type(cal).__name__
        back = load_calibrator(path)
        assert type(back) is type(cal) and back.target == cal.target
        assert np.array_equal(back.predict_proba(s_test), cal.predict_proba(s_test))
    iso = json.loads((tmp_path / "isotonic.json").read_text())
    assert iso["target"] == "confidence" and len(iso["params"]["x_thresholds_"]) > 2


def _write(tmp_path, content):
    path = tmp_path / "cal.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_corrupt_or_foreign_files_give_clear_errors(splits, tmp_path):
    good = PlattCalibrator().fit(*splits[0]).to_dict()
    cases = [
        ("not json at all", "not valid JSON"),
        (json.dumps(good)[:40], "not valid JSON"),
        ({"hello": "world"}, "not a confnb calibrator"),
        ([1, 2, 3], "not a confnb calibrator"),
        ({**good, "version": 99}, "version 99"),
        ({**good, "version": "1"}, "version '1'"),
        ({**good, "class": "MagicCalibrator"}, "unknown calibrator class"),
        ({**good, "params": {"coef_": 1.0}}, "missing parameter"),
        ({**good, "params": None}, "damaged"),
        ({**good, "params": {**good["params"], "coef_": "abc"}}, "damaged"),
        ({**good, "params": {**good["params"], "coef_": float("nan")}}, "finite"),
        ({**good, "target": "banana"}, "damaged"),
        (
            {**good, "class": "IsotonicCalibrator",
             "params": {"x_thresholds_": [0.9, 0.1], "y_thresholds_": [0.2, 0.3], "n_fit_": 5}},
            "sorted",
        ),
        ({**good, "class": "TemperatureCalibrator", "params": {"temperature_": -1, "n_fit_": 5}}, "positive"),
        ({**good, "class": "ContextualCalibrator", "params": {"prior_": 1.0, "n_fit_": 3}}, "prior_"),
    ]
    for content, message in cases:
        with pytest.raises(ValueError, match=message):
            load_calibrator(_write(tmp_path, content))
    with pytest.raises(FileNotFoundError):
        load_calibrator(tmp_path / "missing.json")


@pytest.mark.parametrize("cls", [PlattCalibrator, IsotonicCalibrator, TemperatureCalibrator, ContextualCalibrator])
def test_predict_or_save_before_fit_is_a_clear_error(cls, tmp_path):
    cal = cls()
    assert not cal.is_fitted and "not fitted" in repr(cal)
    with pytest.raises(NotFittedError, match=r"call fit\(scores, y_true\) first"):
        cal.predict_proba([0.5])
    with pytest.raises(NotFittedError):
        cal.save(tmp_path / "x.json")


@pytest.mark.parametrize("cls", [PlattCalibrator, IsotonicCalibrator, TemperatureCalibrator])
def test_label_calibrators_reject_bad_input(cls):
    with pytest.raises(ValueError, match="single class"):
        cls().fit([0.6, 0.7, 0.9], [1, 1, 1])
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        cls().fit([0.6, 1.7, 0.9], [1, 0, 1])
    with pytest.raises(ValueError, match="NaN"):
        cls().fit([0.6, np.nan, 0.9], [1, 0, 1])
    with pytest.raises(ValueError, match="3 rows but scores has 2"):
        cls().fit([0.6, 0.9], [1, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = cls().fit([0.6, 0.7, 0.8, 0.9], [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        cal.predict_proba([2.0])
    out = cal.predict_proba([[0.6], [0.9]])
    assert out.shape == (2,)


def test_predictions_are_one_dimensional_probabilities(splits):
    _, (s_test, _) = splits
    for cal in _all_fitted(splits):
        p = cal.predict_proba(s_test)
        assert p.shape == s_test.shape and np.all((p >= 0) & (p <= 1))
        assert cal.predict_proba([0.0, 1.0]).shape == (2,)  # extremes are clipped, not infinite


def test_cross_calibrate_is_out_of_fold(splits):
    (s, y), _ = splits
    out = cross_calibrate(s, y, "platt", n_splits=5, rng=7)
    manual = np.empty_like(s)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=7).split(s, y):
        manual[test] = PlattCalibrator().fit(s[train], y[train]).predict_proba(s[test])
    np.testing.assert_allclose(out, manual)
    assert np.array_equal(out, cross_calibrate(s, y, PlattCalibrator(), rng=7))
    # isotonic fit and scored on the same rows looks better than it is; out of fold it does not
    in_sample = IsotonicCalibrator().fit(s, y).predict_proba(s)
    oof = cross_calibrate(s, y, "isotonic", rng=7)
    assert expected_calibration_error(y, in_sample) < expected_calibration_error(y, oof)


def test_cross_calibrate_bad_input(splits):
    (s, y), _ = splits
    with pytest.raises(ValueError, match="learns from labels"):
        cross_calibrate(s, y, "contextual")
    with pytest.raises(ValueError, match="unknown calibration method"):
        cross_calibrate(s, y, "histogram")
    with pytest.raises(ValueError, match="n_splits"):
        cross_calibrate(s, y, "platt", n_splits=1)
    with pytest.raises(ValueError, match="fewer than n_splits"):
        cross_calibrate([0.6, 0.7, 0.8, 0.9, 0.95, 0.99], [1, 1, 1, 1, 0, 0], "platt", n_splits=3)
    with pytest.raises(ValueError, match="single class"):
        cross_calibrate([0.6, 0.7, 0.8], [1, 1, 1], "platt", n_splits=2)


def test_make_calibrator_and_repr():
    assert isinstance(make_calibrator("Platt"), PlattCalibrator)
    assert make_calibrator("isotonic", target="class").target == "class"
    assert make_calibrator("contextual").target == "class"
    with pytest.raises(ValueError, match="platt, isotonic, temperature"):
        make_calibrator("beta")
    with pytest.raises(ValueError, match="target"):
        PlattCalibrator(target="probability")
    fitted = PlattCalibrator(target="confidence").fit([0.6, 0.9, 0.7, 0.99], [0, 1, 1, 1])
    clone = make_calibrator(fitted)
    assert not clone.is_fitted and clone.target == "confidence"
    assert repr(fitted).startswith("PlattCalibrator(target='confidence') [coef_=")


def test_class_to_confidence():
    pred, conf = class_to_confidence([0.9, 0.5, 0.2, 0.0])
    assert pred.tolist() == [1, 1, 0, 0]
    np.testing.assert_allclose(conf, [0.9, 0.5, 0.8, 1.0])
    pred, _ = class_to_confidence([0.7], labels=("neg", "pos"))
    assert pred.tolist() == ["pos"]
    with pytest.raises(ValueError, match="pair"):
        class_to_confidence([0.7], labels=("a", "b", "c"))


def test_fit_rows_are_saved_loaded_validated_and_reset_by_fit(splits, tmp_path):
    cal = PlattCalibrator(target="confidence").fit(*splits[0])
    assert cal.fit_rows_ is None and "fit_rows" not in cal.to_dict()  # unknown unless recorded
    record = {"kind": "text", "n": 3, "hashes": ["00000000000000ff", "0123456789abcdef"]}
    cal.fit_rows_ = record
    back = load_calibrator(cal.save(tmp_path / "cal.json"))
    assert back.fit_rows_ == record
    good = cal.to_dict()
    for bad in ({"kind": "ids", "n": 1, "hashes": []}, {"kind": "text", "n": 1, "hashes": ["xyz"]},
                {"kind": "text", "n": 1, "hashes": ["00000000000000ff", "0123456789abcdef"]}, [1, 2]):
        with pytest.raises(ValueError, match="damaged.*fit_rows"):
            load_calibrator(_write(tmp_path, {**good, "fit_rows": bad}))
    back.fit(*splits[1])  # refit on other rows: the old record no longer describes them
    assert back.fit_rows_ is None


def test_calibrated_prediction_is_one_rule_for_both_targets():
    pred, conf = calibrated_prediction([0.2, 0.7], target="confidence", prediction=["negative", "positive"])
    assert pred.tolist() == ["negative", "positive"] and conf.tolist() == [0.2, 0.7]  # below 0.5 is kept
    pred, conf = calibrated_prediction([0.2, 0.7], target="class", labels=("negative", "positive"))
    assert pred.tolist() == ["negative", "positive"] and conf.round(6).tolist() == [0.8, 0.7]
    with pytest.raises(ValueError, match="target"):
        calibrated_prediction([0.5], target="probability")
