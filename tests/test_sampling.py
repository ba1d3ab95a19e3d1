"""confnb.sampling: repeated draws, fixed test set, spread by size."""

import warnings

import numpy as np
import pytest

from confnb.calibration import PlattCalibrator
from confnb.metrics import expected_calibration_error
from confnb.sampling import SampleSizeCurve, sample_size_curve, stratified_draw


def _overconfident(gen, n):
    p = gen.uniform(0.5, 0.999, n)
    return p, (gen.uniform(size=n) < 0.5 + 0.6 * (p - 0.5)).astype(int)


@pytest.fixture(scope="module")
def data():
    gen = np.random.default_rng(21)
    return _overconfident(gen, 1000), _overconfident(gen, 2000)


@pytest.fixture(scope="module")
def curve(data):
    (cs, cy), (ts, ty) = data
    return sample_size_curve(cs, cy, ts, ty, sizes=(30, 100, 1000), n_draws=8, rng=0)


def test_shapes_and_frames(curve):
    assert isinstance(curve, SampleSizeCurve)
    assert curve.sizes.tolist() == [30, 100, 1000] and curve.thresholds.tolist() == [0.7, 0.8, 0.9, 0.95]
    assert curve.ece.shape == (3, 8) and curve.counts.shape == (3, 4, 8) and curve.accuracy.shape == (3, 4, 8)
    frame = curve.to_frame()
    assert len(frame) == 12
    assert list(frame.columns) == ["size", "threshold", "count_mean", "count_std", "accuracy_mean",
                                   "accuracy_std", "draws_with_none", "ece_mean", "ece_std"]
    ece = curve.ece_frame()
    assert ece["size"].tolist() == [30, 100, 1000]
    np.testing.assert_allclose(ece["ece_mean"], curve.ece.mean(axis=1))
    assert "SampleSizeCurve(method='platt'" in repr(curve)


def test_more_rows_give_better_and_steadier_calibration(curve):
    assert curve.ece_mean[-1] < curve.ece_mean[0]
    assert curve.ece_std[1] < curve.ece_std[0]
    assert curve.ece_mean[-1] < curve.raw_ece


def test_whole_pool_draws_match_a_single_fit(data, curve):
    (cs, cy), (ts, ty) = data
    # size == pool: every draw is the whole pool, so no spread, and the numbers equal one fit
    assert curve.ece_std[-1] == 0
    p = PlattCalibrator().fit(cs, cy).predict_proba(ts)
    assert curve.ece[-1, 0] == pytest.approx(expected_calibration_error(ty, p))
    for j, t in enumerate(curve.thresholds):
        above = p >= t
        assert curve.counts[-1, j, 0] == above.sum()
        if above.any():
            assert curve.accuracy[-1, j, 0] == pytest.approx(ty[above].mean())
        else:
            assert np.isnan(curve.accuracy[-1, j, 0])


def test_reproducible_and_isotonic_quiet(data):
    (cs, cy), (ts, ty) = data
    a = sample_size_curve(cs, cy, ts, ty, sizes=(50,), n_draws=3, rng=4, method="isotonic")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # isotonic's small-sample warning is expected here: silenced
        b = sample_size_curve(cs, cy, ts, ty, sizes=(50,), n_draws=3, rng=4, method="isotonic")
    assert np.array_equal(a.ece, b.ece) and np.array_equal(a.counts, b.counts)
    assert a.method == "isotonic"


def test_stratified_draw_keeps_both_classes():
    y = np.r_[np.ones(990, int), np.zeros(10, int)]
    for seed in range(20):
        idx = stratified_draw(y, 10, rng=seed)
        assert len(idx) == len(set(idx)) == 10
        assert 0 < y[idx].sum() < 10
    idx = stratified_draw(y, 500, rng=0)
    assert (y[idx] == 0).sum() == 5  # the pool's 1% share of negatives
    with pytest.raises(ValueError, match="pool of 1000"):
        stratified_draw(y, 1001)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(sizes=(50, 5000)), r"exceed the calibration pool of 1000 rows"),
        (dict(sizes=(1,)), "at least 2"),
        (dict(sizes=(0.5,)), "integers"),
        (dict(n_draws=0), "n_draws"),
        (dict(method="contextual"), "method"),
        (dict(thresholds=(0.7, 1.5)), "thresholds"),
    ],
)
def test_bad_input(data, kwargs, message):
    (cs, cy), (ts, ty) = data
    with pytest.raises(ValueError, match=message):
        sample_size_curve(cs, cy, ts, ty, **kwargs)


def test_single_class_pool_and_bad_arrays(data):
    (cs, cy), (ts, ty) = data
    with pytest.raises(ValueError, match="single class"):
        sample_size_curve(cs, np.ones_like(cy), ts, ty, sizes=(50,))
    with pytest.raises(ValueError, match="test_scores"):
        sample_size_curve(cs, cy, ts * 2, ty, sizes=(50,))
