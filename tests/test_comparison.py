"""confnb.comparison: calibrated outcomes of one model, paired differences between two models."""

import numpy as np
import pandas as pd
import pytest

from confnb.comparison import CONFIDENCE_METHODS, calibrated_outcomes, paired_model_difference
from confnb.metrics import bootstrap_ci, expected_calibration_error, share_correct


def _scores(draw, gen, n, *, accuracy_gap):
    """Fake classify output whose confidence overstates accuracy by `accuracy_gap` (`draw`: the
    `overconfident_sample` fixture)."""
    conf, right = draw(gen, n, gap=accuracy_gap)
    labels = gen.choice(["positive", "negative"], n)
    other = np.where(labels == "positive", "negative", "positive")
    return pd.DataFrame({"prediction": np.where(right, labels, other), "total_probability": conf}), labels


def test_calibrated_outcomes_fit_on_calibration_rows_only(overconfident_sample):
    gen = np.random.default_rng(0)
    cal, cal_labels = _scores(overconfident_sample, gen, 2000, accuracy_gap=0.15)
    test, test_labels = _scores(overconfident_sample, gen, 2000, accuracy_gap=0.15)
    out = calibrated_outcomes(test, test_labels, cal, cal_labels)
    assert tuple(out.confidence) == CONFIDENCE_METHODS and out.n_fit == 2000
    assert out.correct.tolist() == (test["prediction"].to_numpy() == test_labels).tolist()
    np.testing.assert_array_equal(out.confidence["raw"], test["total_probability"].to_numpy())
    raw_ece = expected_calibration_error(out.correct, out.confidence["raw"])
    for method in ("Platt", "isotonic"):  # the calibrators remove most of the planted overconfidence
        assert expected_calibration_error(out.correct, out.confidence[method]) < raw_ece / 2
    assert "accuracy=" in repr(out)
    # changing test labels must not change the calibrated confidences (no test row helps fit them)
    flipped = calibrated_outcomes(test, np.where(test_labels == "positive", "negative", "positive"),
                                  cal, cal_labels)
    np.testing.assert_array_equal(flipped.confidence["Platt"], out.confidence["Platt"])


def test_calibrated_outcomes_rejects_misaligned_labels(overconfident_sample):
    cal, cal_labels = _scores(overconfident_sample, np.random.default_rng(1), 100, accuracy_gap=0.0)
    with pytest.raises(ValueError, match="same order"):
        calibrated_outcomes(cal, cal_labels[:-1], cal, cal_labels)


def test_paired_model_difference_is_tighter_than_separate_intervals():
    gen = np.random.default_rng(2)
    n = 2000
    hard = gen.uniform(size=n) < 0.3  # shared difficulty: both models struggle on the same rows
    a = gen.uniform(size=n) < np.where(hard, 0.55, 0.92)
    b = a.copy()
    flip = gen.choice(n, 40, replace=False)  # b loses 40 rows that a gets right (and vice versa)
    b[flip] = ~b[flip]
    prob = np.full(n, 0.8)
    diff = paired_model_difference(share_correct, a, prob, b, prob, n_boot=300, rng=0)
    assert diff.estimate == pytest.approx(a.mean() - b.mean())
    ca = bootstrap_ci(share_correct, a, prob, n_boot=300, rng=0)
    cb = bootstrap_ci(share_correct, b, prob, n_boot=300, rng=0)
    assert (diff.high - diff.low) < 0.5 * ((ca.high - ca.low) + (cb.high - cb.low)) / 2


def test_paired_model_difference_detects_a_real_calibration_gap():
    gen = np.random.default_rng(3)
    n = 3000
    conf = gen.uniform(0.5, 1, n)
    calibrated = gen.uniform(size=n) < conf
    overconfident = gen.uniform(size=n) < conf - 0.1
    diff = paired_model_difference(expected_calibration_error, overconfident, conf, calibrated, conf,
                                   n_boot=200, rng=0)
    assert diff.low > 0 and diff.excludes_zero


def test_paired_model_difference_needs_the_same_rows():
    with pytest.raises(ValueError, match="same rows"):
        paired_model_difference(share_correct, [1, 0, 1], [0.6, 0.7, 0.8], [1, 0], [0.6, 0.7])
