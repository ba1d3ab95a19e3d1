"""confnb.sampling: repeated draws, fixed test set, spread by size."""

import warnings

import numpy as np
import pandas as pd
import pytest

from confnb.calibration import PlattCalibrator
from confnb.metrics import expected_calibration_error
from confnb.sampling import (
    SampleSizeCurve,
    SufficientSize,
    random_draw,
    sample_size_curve,
    smallest_sufficient_size,
    split_rows,
)


@pytest.fixture(scope="module")
def data(overconfident_sample):
    gen = np.random.default_rng(21)
    return (overconfident_sample(gen, 1000, slope=0.6, high=0.999),
            overconfident_sample(gen, 2000, slope=0.6, high=0.999))


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


def test_random_draw_is_a_simple_random_sample():
    draws = np.array([random_draw(10, 3, rng=seed) for seed in range(3000)])
    assert all(len(set(d)) == 3 and list(d) == sorted(d) for d in draws[:50])
    # every row equally likely (3 / 10 each) ...
    np.testing.assert_allclose(np.bincount(draws.ravel(), minlength=10) / 3000, 0.3, atol=0.03)
    # ... and, unlike a stratified draw, the class balance varies from draw to draw
    y = np.r_[np.ones(7, int), np.zeros(3, int)]
    assert len({int(y[d].sum()) for d in draws}) == 4  # 0 to 3 positives
    a, b = random_draw(1000, 50, rng=7), random_draw(1000, 50, rng=np.random.default_rng(7))
    assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="pool of 1000"):
        random_draw(1000, 1001)
    with pytest.raises(ValueError, match="size"):
        random_draw(1000, 0)


def test_random_draw_with_strata():
    y = np.r_[np.ones(990, int), np.zeros(10, int)]
    for seed in range(20):
        idx = random_draw(1000, 10, strata=y, rng=seed)
        assert len(idx) == len(set(idx)) == 10
        assert (y[idx] == 0).sum() == 1  # 0.1 rounds down, but every stratum gets a row
    assert (y[random_draw(1000, 500, strata=y, rng=0)] == 0).sum() == 5  # the pool's 1%
    groups = np.repeat(["a", "b", "c"], [500, 300, 200])
    idx = random_draw(1000, 7, strata=groups, rng=0)  # 3.5, 2.1, 1.4: largest remainders
    assert [int((groups[idx] == g).sum()) for g in "abc"] == [4, 2, 1]
    with pytest.raises(ValueError, match="strata"):
        random_draw(1000, 10, strata=y[:-1])


def test_curve_draws_are_simple_random_unless_strata(data):
    """Stratifying on correctness understates the spread a labelling campaign will see.

    Platt, n = 50, 200 draws: ECE std 0.035 (mean 0.075) with simple random draws, 0.023
    (mean 0.046) stratified on correctness; over seeds 0-5 the std ratio ranged 1.1-2.0 and
    the mean difference 0.016-0.029.
    """
    (cs, cy), (ts, ty) = data
    plain = sample_size_curve(cs, cy, ts, ty, sizes=(50,), n_draws=200, rng=0)
    strat = sample_size_curve(cs, cy, ts, ty, sizes=(50,), n_draws=200, rng=0, strata=cy)
    assert plain.ece_std[0] > 1.25 * strat.ece_std[0]
    assert plain.ece_mean[0] > strat.ece_mean[0] + 0.01
    with pytest.raises(ValueError, match="strata"):
        sample_size_curve(cs, cy, ts, ty, sizes=(50,), strata=cy[:10])


def test_single_class_draws_are_redrawn():
    # 2 mistakes in 400 rows: a random draw of 20 usually holds no mistake and must be redrawn
    gen = np.random.default_rng(0)
    s = gen.uniform(0.5, 1, 400)
    y = np.ones(400, int)
    y[[3, 250]] = 0
    curve = sample_size_curve(s, y, s, y, sizes=(20,), n_draws=5, rng=0)
    assert np.isfinite(curve.ece).all()
    # 1 mistake in 5,000 rows: a draw of 2 holds it with probability 0.0004; 100 tries fail
    big = gen.uniform(0.5, 1, 5000)
    with pytest.raises(ValueError, match="single class of cal_y_true"):
        sample_size_curve(big, np.r_[np.ones(4999, int), 0], s, y, sizes=(2,), rng=0)


def test_split_rows():
    a, b = split_rows(11, fraction=0.3, rng=0)
    assert len(a) == 3 and len(b) == 8
    assert sorted(np.r_[a, b].tolist()) == list(range(11))
    assert list(a) == sorted(a) and list(b) == sorted(b)
    c, d = split_rows(11, fraction=0.3, rng=np.random.default_rng(0))
    assert np.array_equal(a, c) and np.array_equal(b, d)
    assert not np.array_equal(a, split_rows(11, fraction=0.3, rng=1)[0])
    assert [len(x) for x in split_rows(2, fraction=0.01)] == [1, 1]  # neither part empty
    with pytest.raises(ValueError, match="fraction"):
        split_rows(10, fraction=1.0)
    with pytest.raises(ValueError, match="n must"):
        split_rows(1)


def _notebook_rule(curve, pool, ece_tolerance, spread_tolerance):
    # notebook 05's former in-notebook version, kept verbatim as the reference
    full = curve.ece_mean[list(curve.sizes).index(pool)]
    rows = []
    for i, size in enumerate(curve.sizes):
        if size >= pool:
            continue
        fpc = 1.0 / np.sqrt(1.0 - size / pool)
        spread = np.nanmax(curve.accuracy_std[i]) * fpc
        rows.append({"size": int(size), "ece_mean": curve.ece_mean[i],
                     "ece_excess": round(float(curve.ece_mean[i] - full), 3) + 0.0,
                     "worst_accuracy_spread": spread,
                     "passes": bool(curve.ece_mean[i] - full <= ece_tolerance and spread <= spread_tolerance)})
    table = pd.DataFrame(rows).set_index("size")
    passing = table.index[table["passes"]]
    return table, (int(passing.min()) if len(passing) else None)


@pytest.mark.parametrize("tolerances", [(0.01, 0.02), (0.02, 0.05), (0.0, 0.0), (1.0, 1.0)])
def test_smallest_sufficient_size_matches_the_notebook_rule(curve, tolerances):
    found = smallest_sufficient_size(curve, pool=1000, ece_tolerance=tolerances[0], spread_tolerance=tolerances[1])
    table, size = _notebook_rule(curve, 1000, *tolerances)
    assert isinstance(found, SufficientSize) and found.size == size
    pd.testing.assert_frame_equal(found.table, table)
    assert found.table.index.tolist() == [30, 100]  # the whole pool is only the reference
    if tolerances == (1.0, 1.0):
        assert found.size == 30
    if tolerances == (0.0, 0.0):
        assert found.size is None and "none below the pool of 1000" in repr(found)


def test_finite_population_correction(curve):
    found = smallest_sufficient_size(curve, pool=1000, ece_tolerance=1.0, spread_tolerance=1.0)
    i = list(curve.sizes).index(100)
    raw = np.nanmax(curve.accuracy_std[i])
    # 100 of 1000 rows: spread scaled by 1 / sqrt(0.9)
    assert found.table.loc[100, "worst_accuracy_spread"] == pytest.approx(raw / np.sqrt(0.9))
    # a spread just under the tolerance before the correction fails after it
    edge = smallest_sufficient_size(curve, pool=1000, ece_tolerance=1.0, spread_tolerance=raw * 1.02)
    assert not edge.table.loc[100, "passes"]


def test_smallest_sufficient_size_bad_input(curve):
    with pytest.raises(ValueError, match="no size equal to the pool"):
        smallest_sufficient_size(curve, pool=2000, ece_tolerance=0.01, spread_tolerance=0.02)
    with pytest.raises(ValueError, match="ece_tolerance"):
        smallest_sufficient_size(curve, pool=1000, ece_tolerance=-0.01, spread_tolerance=0.02)


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
