"""confnb.metrics on synthetic data with a known truth."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as sk_log_loss

from confnb.metrics import (
    Interval,
    ReliabilityTable,
    accuracy,
    bootstrap_ci,
    brier_score,
    expected_calibration_error,
    log_loss,
    maximum_calibration_error,
    paired_bootstrap_difference,
    reliability_table,
    roc_auc,
    share_correct,
    wilson_interval,
)


@pytest.fixture(scope="module")
def calibrated():
    """y ~ Bernoulli(p) with p ~ U(0, 1): perfectly calibrated by construction."""
    gen = np.random.default_rng(1)
    p = gen.uniform(0, 1, 5000)
    y = (gen.uniform(size=p.size) < p).astype(int)
    return y, p


@pytest.fixture(scope="module")
def overconfident(overconfident_sample):
    """(y, p): confidences in [0.5, 1]; the real accuracy is 0.5 + 0.7 * (p - 0.5)."""
    return overconfident_sample(2, 4000, slope=0.7).y_and_p


def test_perfectly_calibrated_sample_has_small_ece(calibrated):
    y, p = calibrated
    ece = expected_calibration_error(y, p)
    assert type(ece) is float
    # binned ECE is biased upwards: ~0.8*sqrt(20 * E[p(1-p)] / n) = 0.021 here
    assert ece < 0.035
    assert expected_calibration_error(y, p, strategy="quantile") < 0.035


def _coverage(metric, truth, sampler, *, reps=40, n=1000, n_boot=200):
    hits = 0
    for rep in range(reps):
        y, p = sampler(np.random.default_rng(1000 + rep), n)
        ci = bootstrap_ci(metric, y, p, n_boot=n_boot, rng=rep)
        hits += ci.low <= truth <= ci.high
    return hits / reps


def _calibrated_sample(gen, n):
    p = gen.uniform(0, 1, n)
    return (gen.uniform(size=n) < p).astype(int), p


def _overconfident_sampler(draw):
    """(gen, n) -> (y, p), accuracy 0.5 + 0.7 * (p - 0.5): the `overconfident` fixture's kind of sample."""
    return lambda gen, n: draw(gen, n, slope=0.7).y_and_p


def test_bootstrap_intervals_cover_the_true_values(overconfident_sample):
    # A 95% interval misses now and then by design, so check coverage over repeated samples.
    # Perfect calibration, p ~ U(0, 1): E[(p - y)^2] = E[p(1-p)] = 1/6, E[log loss] = E[entropy(p)] = 1/2
    assert _coverage(brier_score, 1 / 6, _calibrated_sample) >= 0.85
    assert _coverage(log_loss, 0.5, _calibrated_sample) >= 0.85
    # overconfident: accuracy 0.5 + 0.7 * 0.25
    assert _coverage(share_correct, 0.675, _overconfident_sampler(overconfident_sample)) >= 0.85


def test_ece_interval_covers_the_true_ece(overconfident_sample):
    # every 5% bin over [0.5, 1] has gap 0.3 * (midpoint - 0.5): the true 20-bin ECE is 0.075.
    # The binned estimator is biased upwards, so coverage is a little below nominal.
    assert _coverage(expected_calibration_error, 0.075, _overconfident_sampler(overconfident_sample), reps=20, n=4000) >= 0.75


def test_ece_interval_of_a_calibrated_sample_is_near_zero(calibrated):
    # The true ECE is 0, but the plug-in binned ECE is positive on every sample and its
    # resamples are noisier still, so the percentile interval sits just above 0 (and can
    # even sit above the estimate). What holds: it is narrow and close to 0.
    y, p = calibrated
    ci = bootstrap_ci(expected_calibration_error, y, p, n_boot=200, rng=0)
    assert 0 < ci.low < ci.high < 0.045
    assert ci.estimate < 0.035


def test_bootstrap_is_reproducible_and_formats(overconfident):
    y, p = overconfident
    a = bootstrap_ci(brier_score, y, p, n_boot=100, rng=5)
    b = bootstrap_ci(brier_score, y, p, n_boot=100, rng=np.random.default_rng(5))
    assert a == b
    assert isinstance(a, Interval) and all(type(v) is float for v in (a.estimate, a.low, a.high))
    assert str(a) == f"{a.estimate:.3f} (95% CI {a.low:.3f} to {a.high:.3f})"
    assert f"{a:.1%}".startswith(f"{a.estimate:.1%} (95% CI")
    assert a.to_dict() == {"estimate": a.estimate, "low": a.low, "high": a.high, "level": 0.95}
    narrow = bootstrap_ci(brier_score, y, p, n_boot=100, level=0.5, rng=5)
    assert narrow.high - narrow.low < a.high - a.low


def test_bootstrap_bad_arguments(overconfident):
    y, p = overconfident
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci(brier_score, y, p, n_boot=2)
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(brier_score, y, p, level=95)
    # roc_auc fails on most resamples of a tiny sample with one positive
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_ci(roc_auc, [1, 0, 0, 0, 0], [0.9, 0.1, 0.2, 0.3, 0.4], n_boot=50, rng=0)


def _notebook_paired_ece_difference(correct, conf_a, conf_b, n_boot=1000, rng=0):
    # notebook 07's former in-notebook version, kept verbatim as the reference
    gen = np.random.default_rng(rng)
    n = len(correct)
    diffs = []
    for _ in range(n_boot):
        idx = gen.integers(0, n, size=n)
        diffs.append(expected_calibration_error(correct[idx], conf_a[idx])
                     - expected_calibration_error(correct[idx], conf_b[idx]))
    estimate = expected_calibration_error(correct, conf_a) - expected_calibration_error(correct, conf_b)
    low, high = np.quantile(diffs, [0.025, 0.975])
    return estimate, low, high


def test_paired_difference_matches_the_notebook_version(overconfident):
    y, p = overconfident
    truth = 0.5 + 0.7 * (p - 0.5)
    d = paired_bootstrap_difference(expected_calibration_error, y, p, truth, n_boot=100, rng=3)
    est, low, high = _notebook_paired_ece_difference(y, p, truth, n_boot=100, rng=3)
    assert (d.estimate, d.low, d.high) == pytest.approx((est, low, high), abs=1e-12)
    assert isinstance(d, Interval) and all(type(v) is float for v in (d.estimate, d.low, d.high))
    assert d.estimate == pytest.approx(expected_calibration_error(y, p) - expected_calibration_error(y, truth))


def test_paired_difference_settles_what_separate_intervals_cannot(overconfident):
    """Calibrated scores vs slightly overconfident ones (slope 0.8 instead of the true 0.7).

    Measured: separate ECE intervals 0.009-0.027 and 0.024-0.047 overlap; the paired difference
    is 0.023, 95% interval 0.004 to 0.025, so the sign is settled.
    """
    y, p = overconfident
    good = 0.5 + 0.7 * (p - 0.5)
    worse = 0.5 + 0.8 * (p - 0.5)
    ece = expected_calibration_error
    a = bootstrap_ci(ece, y, good, n_boot=200, rng=0)
    b = bootstrap_ci(ece, y, worse, n_boot=200, rng=0)
    assert a.high > b.low  # the separate intervals overlap
    d = paired_bootstrap_difference(ece, y, worse, good, n_boot=200, rng=0)
    assert d.excludes_zero and d.low > 0
    assert paired_bootstrap_difference(ece, y, good, worse, n_boot=200, rng=0).high < 0
    # for a smooth metric the paired interval is much narrower than either separate one
    pb = paired_bootstrap_difference(brier_score, y, worse, good, n_boot=200, rng=0)
    sb = bootstrap_ci(brier_score, y, good, n_boot=200, rng=0)
    assert pb.high - pb.low < 0.5 * (sb.high - sb.low)


def test_paired_difference_of_identical_scores_is_zero(overconfident):
    y, p = overconfident
    d = paired_bootstrap_difference(brier_score, y, p, p, n_boot=50, rng=0)
    assert (d.estimate, d.low, d.high) == (0.0, 0.0, 0.0) and not d.excludes_zero


def test_interval_excludes_zero():
    assert Interval(0.1, 0.02, 0.2, 0.95).excludes_zero
    assert Interval(-0.1, -0.2, -0.01, 0.95).excludes_zero
    assert not Interval(0.1, -0.01, 0.2, 0.95).excludes_zero
    assert not Interval(0.0, 0.0, 0.2, 0.95).excludes_zero


def test_paired_difference_bad_arguments(overconfident):
    y, p = overconfident
    with pytest.raises(ValueError, match="y_prob_b has 3"):
        paired_bootstrap_difference(brier_score, y, p, p[:3])
    with pytest.raises(ValueError, match="y_prob_a"):
        paired_bootstrap_difference(brier_score, y, p * 2, p)
    with pytest.raises(ValueError, match="n_boot"):
        paired_bootstrap_difference(brier_score, y, p, p, n_boot=5)
    with pytest.raises(ValueError, match="resamples"):
        paired_bootstrap_difference(roc_auc, [1, 0, 0, 0, 0], [0.9, 0.1, 0.2, 0.3, 0.4],
                                    [0.8, 0.2, 0.3, 0.1, 0.4], n_boot=50, rng=0)


def test_ece_and_mce_by_hand():
    y = [1, 1, 0, 1, 0] * 2  # ten rows for ten bins: no warning
    p = [0.95, 0.90, 0.92, 0.55, 0.52] * 2
    # bins of 0.1: [0.5, 0.6) holds 0.55, 0.52 -> conf 0.535, acc 0.5;
    # [0.9, 1.0] holds 0.95, 0.90, 0.92 -> conf 0.923.., acc 2/3
    conf_hi = (0.95 + 0.90 + 0.92) / 3
    expected = 2 / 5 * abs(0.5 - 0.535) + 3 / 5 * abs(2 / 3 - conf_hi)
    assert expected_calibration_error(y, p, n_bins=10) == pytest.approx(expected)
    assert maximum_calibration_error(y, p, n_bins=10) == pytest.approx(abs(2 / 3 - conf_hi))


def test_reliability_table_contents():
    y = [1, 0, 1, 1, 0, 1]
    p = [0.95, 0.95, 1.0, 0.6, 0.05, 0.5]
    with pytest.warns(UserWarning, match="only 6 rows"):
        table = reliability_table(y, p)
    assert isinstance(table, ReliabilityTable)
    assert table.n_bins == 20 and table.n == 6
    assert table.edges[19] == 0.95  # exactly: 0.95 opens the last stripe
    assert table.counts[19] == 3 and table.counts[12] == 1 and table.counts[10] == 1 and table.counts[1] == 1
    assert table.accuracy[19] == pytest.approx(2 / 3)
    assert table.mean_confidence[19] == pytest.approx((0.95 + 0.95 + 1.0) / 3)
    assert np.isnan(table.accuracy[0]) and np.isnan(table.ci_low[0])
    low, high = wilson_interval(2, 3)
    assert table.ci_low[19] == pytest.approx(low) and table.ci_high[19] == pytest.approx(high)
    frame = table.to_frame()
    assert list(frame.columns) == ["bin_low", "bin_high", "count", "mean_confidence", "accuracy", "ci_low",
                                   "ci_high", "gap"]
    assert len(frame) == 20 and frame["count"].sum() == 6
    with pytest.warns(UserWarning):
        assert table.ece == pytest.approx(expected_calibration_error(y, p, n_bins=20))
    assert "ece=" in repr(table)
    with pytest.raises(ValueError):
        table.counts[0] = 5  # read-only


def test_quantile_bins_hold_similar_counts(calibrated):
    y, p = calibrated
    table = reliability_table(y, p, n_bins=10, strategy="quantile")
    assert table.counts.min() >= 490 and table.counts.max() <= 510
    with pytest.raises(ValueError, match="strategy"):
        reliability_table(y, p, strategy="kernel")


def test_wilson_interval_known_values():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    # against the textbook formula with z from scipy
    k, n, z = 30, 70, norm.ppf(0.95)
    ph = k / n
    centre = (ph + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n))
    assert wilson_interval(k, n, level=0.9) == pytest.approx((centre - half, centre + half))
    lows, highs = wilson_interval(np.array([0, 5]), np.array([0, 5]))
    assert np.isnan(lows[0]) and highs[1] == 1.0


def test_scores_match_scikit_learn(overconfident):
    y, p = overconfident
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p))
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, p))
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p))
    for fn in (brier_score, log_loss, roc_auc, accuracy, share_correct, expected_calibration_error,
               maximum_calibration_error):
        assert type(fn(y, p)) is float


def test_accuracy_versus_share_correct():
    y = [1, 0, 1, 0]
    p = [0.9, 0.4, 0.3, 0.6]
    assert accuracy(y, p) == 0.5  # decisions 1, 0, 0, 1
    assert accuracy(y, p, threshold=0.25) == 0.5
    assert share_correct(y) == 0.5 and share_correct(y, p) == 0.5
    assert share_correct([True, True, True, False]) == 0.75
    with pytest.raises(ValueError, match="threshold"):
        accuracy(y, p, threshold=1.5)
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([1, 1], [0.2, 0.3])


def test_log_loss_is_finite_for_confident_mistakes():
    assert 34 < log_loss([1, 0], [0.0, 1.0]) < 35  # about -log(1e-15) per row


def test_accepts_pandas_and_bools():
    y = pd.Series([True, False, True])
    p = pd.Series([0.8, 0.3, 0.6], dtype="Float64")
    assert brier_score(y, p) == pytest.approx(np.mean([0.04, 0.09, 0.16]))
    assert brier_score(np.array([[1], [0]]), [[0.5], [0.5]]) == 0.25  # column vectors are fine
    assert brier_score([1], [1 + 1e-12]) == 0.0  # float round-off is clipped, not rejected


@pytest.mark.parametrize(
    "y_true, y_prob, message",
    [
        ([1, 0], [0.5, np.nan], "NaN"),
        ([1, 0], [0.5, 1.2], r"outside \[0, 1\]"),
        ([1, 0], [-0.1, 0.5], r"outside \[0, 1\]"),
        ([1, 0, 1], [0.5, 0.5], "3 rows but y_prob has 2"),
        ([], [], "empty"),
        ([1, 2], [0.5, 0.5], "only 0 and 1"),
        (["positive", "negative"], [0.5, 0.5], "strings"),
        ([1, np.nan], [0.5, 0.5], "missing"),
        ([1, 0], [[0.2, 0.8], [0.6, 0.4]], "1-D"),
        ([1, 0], 0.5, "single number"),
        ([1, 0], ["a", "b"], "numbers"),
        ([1, 0], pd.Series([0.5, None], dtype="Float64"), "NaN"),
    ],
)
def test_bad_input_names_the_fault(y_true, y_prob, message):
    for fn in (expected_calibration_error, brier_score, log_loss, reliability_table):
        with pytest.raises(ValueError, match=message):
            fn(y_true, y_prob)


def test_bad_bins_and_levels():
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error([1, 0], [0.5, 0.5], n_bins=0)
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error([1, 0], [0.5, 0.5], n_bins=2.5)
    with pytest.raises(ValueError, match="level"):
        reliability_table([1, 0], [0.5, 0.5], n_bins=2, level=1.0)


def test_fewer_rows_than_bins_warns():
    with pytest.warns(UserWarning, match="n_bins=20"):
        expected_calibration_error([1, 0, 1], [0.9, 0.2, 0.7])
