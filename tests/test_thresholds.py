"""confnb.thresholds: counts, Clopper-Pearson bounds, threshold choice, tiers, costs."""

import numpy as np
import pytest
from scipy.stats import beta

from confnb.thresholds import (
    DEFAULT_THRESHOLDS,
    ReviewCosts,
    ThresholdTable,
    choose_threshold,
    clopper_pearson_lower,
    review_costs,
    threshold_table,
    tier_table,
)


@pytest.fixture(scope="module")
def sample():
    gen = np.random.default_rng(11)
    conf = gen.uniform(0.5, 1, 3000)
    correct = (gen.uniform(size=conf.size) < conf - 0.05).astype(int)
    return correct, conf


def test_default_thresholds_are_exact():
    assert DEFAULT_THRESHOLDS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def test_table_counts_at_or_above_each_threshold():
    y = [1, 1, 0, 1, 0]
    p = [0.95, 0.6, 0.6, 0.59, 0.2]
    table = threshold_table(y, p, thresholds=np.arange(0.5, 0.951, 0.05))
    frame = table.to_frame().set_index("threshold")
    assert list(table.to_frame().columns) == ["threshold", "count", "share", "accuracy", "lower_bound"]
    assert frame.loc[0.6, "count"] == 3  # 0.6 itself is included despite arange's 0.6000000000000001
    assert frame.loc[0.6, "accuracy"] == pytest.approx(2 / 3)
    assert frame.loc[0.5, "count"] == 4 and frame.loc[0.5, "share"] == pytest.approx(0.8)
    assert frame.loc[0.95, "count"] == 1 and frame.loc[0.95, "accuracy"] == 1.0
    assert table.n == 5 and isinstance(table, ThresholdTable)
    assert "threshold  count" in repr(table)


def test_lower_bound_matches_scipy_beta_quantile(sample):
    y, p = sample
    for level in (0.9, 0.95, 0.99):
        table = threshold_table(y, p, level=level)
        for t, n, lb in zip(table.thresholds, table.counts, table.lower_bound):
            k = int(y[p >= t].sum())
            assert lb == pytest.approx(beta.ppf(1 - level, k, n - k + 1), rel=1e-12)
            assert lb <= k / n


def test_lower_bound_edge_cases():
    assert clopper_pearson_lower(0, 10) == 0.0
    assert np.isnan(clopper_pearson_lower(0, 0))
    # all correct: the bound is (1 - level) ** (1 / n)
    assert clopper_pearson_lower(20, 20) == pytest.approx(0.05 ** (1 / 20))
    table = threshold_table([1, 0], [0.6, 0.55], thresholds=[0.5, 0.9])
    assert table.counts.tolist() == [2, 0]
    assert np.isnan(table.accuracy[1]) and np.isnan(table.lower_bound[1])


def test_choose_threshold_takes_the_lowest_that_qualifies(sample):
    y, p = sample
    table = threshold_table(y, p)
    choice = choose_threshold(y, p, target_accuracy=0.85)
    assert choice.met
    ok = table.thresholds[table.lower_bound >= 0.85]
    assert choice.threshold == ok.min()
    i = list(table.thresholds).index(choice.threshold)
    assert choice.count == table.counts[i] and choice.lower_bound == table.lower_bound[i]
    assert "threshold 0." in str(choice)


def test_choose_threshold_when_nothing_qualifies(sample):
    y, p = sample
    choice = choose_threshold(y, p, target_accuracy=0.999)
    assert choice.threshold is None and not choice.met
    assert choice.lower_bound == pytest.approx(np.nanmax(threshold_table(y, p).lower_bound))
    assert str(choice).startswith("no threshold guarantees 99.9%")
    with pytest.raises(ValueError, match="target_accuracy"):
        choose_threshold(y, p, target_accuracy=90)


@pytest.mark.parametrize("bad", [[0.5, 1.2], [-0.1], [np.nan], []])
def test_thresholds_outside_unit_interval_are_rejected(bad):
    with pytest.raises(ValueError, match="thresholds"):
        threshold_table([1, 0], [0.6, 0.7], thresholds=bad)


def test_tier_table(sample):
    y = [1, 1, 0, 1, 0, 1]
    p = [0.95, 0.9, 0.89, 0.7, 0.69, 0.1]
    tiers = tier_table(y, p)
    frame = tiers.to_frame()
    assert frame["tier"].tolist() == ["automate", "quick review", "full review"]
    assert tiers.counts.tolist() == [2, 2, 2]
    np.testing.assert_allclose(tiers.accuracy, [1.0, 0.5, 0.5])
    assert tiers.low.tolist() == [0.9, 0.7, 0.0] and tiers.high.tolist() == [1.0, 0.9, 0.7]
    assert tiers.shares.sum() == pytest.approx(1.0)
    unlabelled = tier_table(None, p)
    assert unlabelled.counts.tolist() == [2, 2, 2] and np.isnan(unlabelled.accuracy).all()
    four = tier_table(y, p, bounds=(0.95, 0.5, 0.8), names=["a", "b", "c", "d"])
    assert four.counts.tolist() == [1, 2, 2, 1]
    assert "automate" in repr(tiers)


def test_tier_table_bad_input():
    with pytest.raises(ValueError, match="bounds"):
        tier_table([1], [0.5], bounds=(0.7, 1.0))
    with pytest.raises(ValueError, match="bounds"):
        tier_table([1], [0.5], bounds=(0.7, 0.7))
    with pytest.raises(ValueError, match="names"):
        tier_table([1], [0.5], bounds=(0.5,))
    with pytest.raises(ValueError, match="names needs 3"):
        tier_table([1], [0.5], names=["a", "b"])


def test_review_costs():
    costs = review_costs(0.25, volume_per_day=1000, cost_per_review=5)
    assert isinstance(costs, ReviewCosts)
    assert costs.reviews_per_day == 750
    assert costs.daily_cost == 3750 and costs.yearly_cost == 3750 * 365
    assert costs.baseline_daily_cost == 5000
    assert costs.daily_savings == 1250 and costs.yearly_savings == 1250 * 365
    assert review_costs(0.25, volume_per_day=1000, cost_per_review=5, days_per_year=250).yearly_cost == 3750 * 250
    assert "saves 1,250.00/day" in str(costs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(share_automated=1.5, volume_per_day=10, cost_per_review=1), "share_automated"),
        (dict(share_automated=0.5, volume_per_day=-1, cost_per_review=1), "volume_per_day"),
        (dict(share_automated=0.5, volume_per_day=10, cost_per_review=float("nan")), "cost_per_review"),
        (dict(share_automated=0.5, volume_per_day=10, cost_per_review=1, days_per_year=0), "days_per_year"),
    ],
)
def test_review_costs_bad_input(kwargs, message):
    share = kwargs.pop("share_automated")
    with pytest.raises(ValueError, match=message):
        review_costs(share, **kwargs)
