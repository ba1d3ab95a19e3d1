"""Human review: confidence tiers for routing predictions, and what the reviews cost.

* :func:`tier_table` -- split predictions into tiers (automate / quick review / full review)
  and count them, with their accuracy when labels are known.
* :func:`review_costs` -- what the remaining human reviews cost per day and per year when a
  share of predictions is automated.

Works on the **confidence** target, like :mod:`confnb.thresholds` (which re-exports these
names and combines them with a threshold in :func:`confnb.thresholds.decision_summary`).

Out of scope: choosing the threshold (:func:`confnb.thresholds.choose_threshold`), the cost
of automated mistakes, and the model's own running cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_prob, check_pair, check_thresholds

__all__ = ["DEFAULT_TIER_NAMES", "ReviewCosts", "TierTable", "review_costs", "tier_table"]


@dataclass(frozen=True, repr=False, eq=False)
class TierTable:
    """Predictions split into confidence tiers, most confident first.

    Attributes
    ----------
    names : tuple of str
    low, high : ndarray
        Tier ``i`` holds confidences in ``[low[i], high[i])`` (the top tier includes 1.0).
    counts : ndarray of int
    shares : ndarray
    accuracy : ndarray
        NaN where a tier is empty or labels were not given.
    n : int
    """

    names: tuple
    low: np.ndarray
    high: np.ndarray
    counts: np.ndarray
    shares: np.ndarray
    accuracy: np.ndarray
    n: int

    def to_frame(self):
        """One row per tier: ``tier, low, high, count, share, accuracy``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "tier": list(self.names),
                "low": self.low,
                "high": self.high,
                "count": self.counts,
                "share": self.shares,
                "accuracy": self.accuracy,
            }
        )

    def __repr__(self) -> str:
        lines = [f"TierTable(n={self.n})"]
        for name, lo, hi, c, s, a in zip(self.names, self.low, self.high, self.counts, self.shares, self.accuracy):
            acc = "   n/a" if np.isnan(a) else f"{a:6.1%}"
            lines.append(f"{name:>14}  [{lo:.2f}, {hi:.2f})  {c:6d}  {s:6.1%}  accuracy {acc}")
        return "\n".join(lines)

    __str__ = __repr__


DEFAULT_TIER_NAMES = ("automate", "quick review", "full review")


def tier_table(y_true, y_prob, *, bounds=(0.7, 0.9), names=None) -> TierTable:
    """Count predictions (and their accuracy) in confidence tiers.

    With the default ``bounds=(0.7, 0.9)``: confidence >= 0.9 -> "automate",
    0.7 to 0.9 -> "quick review", below 0.7 -> "full review".

    Parameters
    ----------
    y_true : array-like of 0/1 or None
        Whether each prediction was correct; ``None`` for unlabelled production data
        (accuracy is then NaN).
    y_prob : array-like of float in [0, 1]
        Confidence of each prediction.
    bounds : sequence of float in (0, 1)
        Tier boundaries; any order, sorted internally.
    names : sequence of str, optional
        One name per tier, most confident first (``len(bounds) + 1`` names). Required
        unless there are exactly two bounds.

    Returns
    -------
    TierTable

    Examples
    --------
    >>> tiers = tier_table([1, 1, 0, 1], [0.95, 0.8, 0.6, 0.9])
    >>> tiers.counts.tolist()
    [2, 1, 1]
    """
    if y_true is None:
        p = as_prob(y_prob)
        t = None
    else:
        t, p = check_pair(y_true, y_prob)
    b = np.sort(check_thresholds(bounds, "bounds"))
    if ((b <= 0) | (b >= 1)).any() or np.unique(b).size != b.size:
        raise ValueError(f"bounds must be distinct values strictly between 0 and 1; got {b.tolist()}")
    if names is None:
        if b.size != 2:
            raise ValueError(f"pass names= with {b.size + 1} tier names (most confident first)")
        names = DEFAULT_TIER_NAMES
    names = tuple(str(x) for x in names)
    if len(names) != b.size + 1:
        raise ValueError(f"names needs {b.size + 1} entries for {b.size} bounds; got {len(names)}")
    edges = np.r_[0.0, b, 1.0]
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, b.size)  # 0 = least confident
    k = b.size + 1
    counts = np.bincount(idx, minlength=k)
    if t is None:
        acc = np.full(k, np.nan)
    else:
        hits = np.bincount(idx, weights=t, minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            acc = np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)
    rev = slice(None, None, -1)  # most confident first
    n = int(p.shape[0])
    return TierTable(
        names=names,
        low=edges[:-1][rev].copy(),
        high=edges[1:][rev].copy(),
        counts=counts[rev].astype(np.int64),
        shares=counts[rev] / n,
        accuracy=acc[rev].copy(),
        n=n,
    )


@dataclass(frozen=True)
class ReviewCosts:
    """Human-review cost of a given automation share (see :func:`review_costs`)."""

    share_automated: float
    volume_per_day: float
    cost_per_review: float
    days_per_year: int
    reviews_per_day: float
    daily_cost: float
    yearly_cost: float
    baseline_daily_cost: float
    daily_savings: float
    yearly_savings: float

    def __str__(self) -> str:
        return (
            f"{self.share_automated:.1%} automated: {self.reviews_per_day:,.0f} reviews/day cost "
            f"{self.daily_cost:,.2f}/day ({self.yearly_cost:,.0f}/year); saves "
            f"{self.daily_savings:,.2f}/day ({self.yearly_savings:,.0f}/year) vs reviewing everything"
        )


def review_costs(share_automated, *, volume_per_day, cost_per_review, days_per_year: int = 365) -> ReviewCosts:
    """Daily and yearly review cost when a share of predictions is automated.

    Every prediction that is not automated goes to a human at ``cost_per_review``. The
    baseline is reviewing everything. The model's own running cost and the cost of
    automated mistakes are not included.

    Parameters
    ----------
    share_automated : float in [0, 1]
        E.g. the ``shares`` of a `confnb.thresholds.ThresholdTable` at the chosen threshold.
    volume_per_day : float
        Predictions per day.
    cost_per_review : float
        Cost of one human review (any currency).
    days_per_year : int, default 365

    Examples
    --------
    >>> costs = review_costs(0.4, volume_per_day=1000, cost_per_review=5)
    >>> costs.daily_cost, costs.daily_savings
    (3000.0, 2000.0)
    """
    share = float(share_automated)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share_automated must be in [0, 1] (0.4 means 40%); got {share_automated!r}")
    volume = float(volume_per_day)
    cost = float(cost_per_review)
    if not np.isfinite(volume) or volume < 0:
        raise ValueError(f"volume_per_day must be a non-negative number; got {volume_per_day!r}")
    if not np.isfinite(cost) or cost < 0:
        raise ValueError(f"cost_per_review must be a non-negative number; got {cost_per_review!r}")
    if isinstance(days_per_year, bool) or int(days_per_year) != days_per_year or days_per_year <= 0:
        raise ValueError(f"days_per_year must be a positive integer; got {days_per_year!r}")
    days = int(days_per_year)
    reviews = volume * (1.0 - share)
    daily = reviews * cost
    baseline = volume * cost
    return ReviewCosts(
        share_automated=share,
        volume_per_day=volume,
        cost_per_review=cost,
        days_per_year=days,
        reviews_per_day=reviews,
        daily_cost=daily,
        yearly_cost=daily * days,
        baseline_daily_cost=baseline,
        daily_savings=baseline - daily,
        yearly_savings=(baseline - daily) * days,
    )
