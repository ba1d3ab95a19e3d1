"""Confidence thresholds for automation: volume, accuracy, guarantees, cost.

Works on the **confidence** target: ``y_prob`` is the (calibrated) confidence of each
prediction and ``y_true`` says whether the prediction was correct. For the class target
turn ``p_positive`` into (prediction, confidence) first with
:func:`confnb.calibration.class_to_confidence`.

* :func:`threshold_table` -- for each threshold, how many predictions are at or above it,
  their share, their accuracy, and a one-sided Clopper-Pearson lower bound on that
  accuracy.
* :func:`choose_threshold` -- the lowest threshold whose lower bound meets a target.
* :func:`tier_table` -- split predictions into tiers (automate / quick review / full review).
* :func:`review_costs` -- what the remaining human reviews cost per day and per year.

Choose thresholds on one split and report their accuracy on another: picking the best of
ten thresholds on the same rows makes its bound a little optimistic.

Out of scope: cost-sensitive optimisation of several thresholds at once, and
per-class thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .metrics import _check_level, _check_pair

__all__ = [
    "DEFAULT_THRESHOLDS",
    "ReviewCosts",
    "ThresholdChoice",
    "ThresholdTable",
    "TierTable",
    "choose_threshold",
    "clopper_pearson_lower",
    "review_costs",
    "threshold_table",
    "tier_table",
]

#: 0.50, 0.55, ..., 0.95 -- rounded so that 0.6 is exactly the float 0.6.
DEFAULT_THRESHOLDS = tuple(float(t) for t in np.round(np.arange(0.50, 0.951, 0.05), 2))


def _check_thresholds(thresholds, name="thresholds") -> np.ndarray:
    arr = np.round(np.atleast_1d(np.asarray(thresholds, dtype=float)), 12)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers in [0, 1]")
    if np.isnan(arr).any() or (arr < 0).any() or (arr > 1).any():
        raise ValueError(f"{name} must lie in [0, 1] (e.g. 0.9 for 90%); got {arr.tolist()}")
    return arr


def clopper_pearson_lower(successes, n, *, level: float = 0.95):
    """One-sided Clopper-Pearson lower confidence bound for a proportion.

    With probability at least ``level`` the true accuracy is at or above the bound:
    ``beta.ppf(1 - level, k, n - k + 1)`` (0 when ``k == 0``, NaN when ``n == 0``).

    Examples
    --------
    >>> round(clopper_pearson_lower(95, 100), 4)
    0.8977
    """
    from scipy.stats import beta

    level = _check_level(level)
    k = np.asarray(successes, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore"):
        bound = np.where(k > 0, beta.ppf(1 - level, np.maximum(k, 1e-12), n_arr - k + 1), 0.0)
    bound = np.where(n_arr > 0, bound, np.nan)
    return float(bound) if bound.ndim == 0 else bound


@dataclass(frozen=True, repr=False, eq=False)
class ThresholdTable:
    """Volume and accuracy of the predictions at or above each confidence threshold.

    Attributes
    ----------
    thresholds : ndarray
    counts : ndarray of int
        Predictions with confidence >= threshold.
    shares : ndarray
        ``counts / n``: the share you could automate at that threshold.
    accuracy : ndarray
        Accuracy of those predictions (NaN where there are none).
    lower_bound : ndarray
        One-sided Clopper-Pearson lower bound on that accuracy at ``level``.
    n : int
        All predictions.
    level : float
    """

    thresholds: np.ndarray
    counts: np.ndarray
    shares: np.ndarray
    accuracy: np.ndarray
    lower_bound: np.ndarray
    n: int
    level: float = 0.95

    def to_frame(self):
        """One row per threshold: ``threshold, count, share, accuracy, lower_bound``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "threshold": self.thresholds,
                "count": self.counts,
                "share": self.shares,
                "accuracy": self.accuracy,
                "lower_bound": self.lower_bound,
            }
        )

    def __repr__(self) -> str:
        lines = [f"ThresholdTable(n={self.n}, level={self.level:g})"]
        lines.append("threshold  count  share  accuracy  lower_bound")
        for t, c, s, a, lb in zip(self.thresholds, self.counts, self.shares, self.accuracy, self.lower_bound):
            lines.append(f"{t:9.2f}  {c:5d}  {s:5.1%}  {a:8.1%}  {lb:11.1%}")
        return "\n".join(lines)

    __str__ = __repr__


def threshold_table(y_true, y_prob, *, thresholds=DEFAULT_THRESHOLDS, level: float = 0.95) -> ThresholdTable:
    """Volume, accuracy and a guaranteed-accuracy bound at each confidence threshold.

    Parameters
    ----------
    y_true : array-like of 0/1
        Whether each prediction was correct.
    y_prob : array-like of float in [0, 1]
        Confidence of each prediction.
    thresholds : sequence of float in [0, 1], default 0.50, 0.55, ..., 0.95
        A prediction counts when its confidence is at or above the threshold.
    level : float, default 0.95
        Confidence level of the one-sided lower bounds.

    Returns
    -------
    ThresholdTable

    Examples
    --------
    >>> table = threshold_table([1, 1, 0, 1], [0.95, 0.9, 0.6, 0.7], thresholds=[0.5, 0.9])
    >>> table.counts.tolist(), table.accuracy.tolist()
    ([4, 2], [0.75, 1.0])
    """
    t, p = _check_pair(y_true, y_prob)
    ths = _check_thresholds(thresholds)
    level = _check_level(level)
    above = p[None, :] >= ths[:, None]
    counts = above.sum(axis=1)
    correct = (above & (t[None, :] == 1)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(counts > 0, correct / np.maximum(counts, 1), np.nan)
    lower = clopper_pearson_lower(correct, counts, level=level)
    n = int(t.shape[0])
    arrays = (ths, counts.astype(np.int64), counts / n, acc, np.asarray(lower, dtype=float))
    for a in arrays:
        a.setflags(write=False)
    return ThresholdTable(*arrays, n=n, level=level)


@dataclass(frozen=True)
class ThresholdChoice:
    """Result of :func:`choose_threshold`.

    ``threshold`` is ``None`` when no candidate's lower bound reaches the target; the
    other numbers then describe the candidate with the highest lower bound.
    """

    threshold: float | None
    target_accuracy: float
    level: float
    count: int
    share: float
    accuracy: float
    lower_bound: float

    @property
    def met(self) -> bool:
        """Whether some threshold meets the target."""
        return self.threshold is not None

    def __str__(self) -> str:
        if self.met:
            return (
                f"threshold {self.threshold:.2f}: {self.count} predictions ({self.share:.1%}) with "
                f"accuracy {self.accuracy:.1%}, at least {self.lower_bound:.1%} with "
                f"{self.level:.0%} confidence (target {self.target_accuracy:.1%})"
            )
        return (
            f"no threshold guarantees {self.target_accuracy:.1%} accuracy at {self.level:.0%} "
            f"confidence; the best lower bound is {self.lower_bound:.1%} ({self.count} predictions)"
        )


def choose_threshold(
    y_true, y_prob, *, target_accuracy: float, level: float = 0.95, thresholds=DEFAULT_THRESHOLDS
) -> ThresholdChoice:
    """The lowest threshold whose accuracy lower bound meets ``target_accuracy``.

    "Lowest" maximises the volume automated. The bound is the one-sided Clopper-Pearson
    bound of :func:`threshold_table`, so the choice already pays for small counts.

    Parameters
    ----------
    y_true, y_prob, thresholds, level
        As in :func:`threshold_table`.
    target_accuracy : float in (0, 1]
        Required accuracy of the automated predictions, e.g. 0.9.

    Returns
    -------
    ThresholdChoice
        ``threshold`` is ``None`` when no candidate qualifies.

    Examples
    --------
    >>> import numpy as np
    >>> conf = np.r_[np.full(400, 0.97), np.full(600, 0.7)]
    >>> correct = np.r_[np.ones(392), np.zeros(8), np.ones(420), np.zeros(180)]
    >>> choose_threshold(correct, conf, target_accuracy=0.95).threshold
    0.75
    """
    target = float(target_accuracy)
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target_accuracy must be in (0, 1], e.g. 0.9; got {target_accuracy!r}")
    table = threshold_table(y_true, y_prob, thresholds=thresholds, level=level)
    order = np.argsort(table.thresholds, kind="stable")
    lb = np.nan_to_num(table.lower_bound, nan=-1.0)
    for i in order:
        if lb[i] >= target:
            return _choice(table, i, float(table.thresholds[i]), target)
    best = int(np.argmax(lb))
    return _choice(table, best, None, target)


def _choice(table: ThresholdTable, i: int, threshold, target) -> ThresholdChoice:
    return ThresholdChoice(
        threshold=threshold,
        target_accuracy=target,
        level=table.level,
        count=int(table.counts[i]),
        share=float(table.shares[i]),
        accuracy=float(table.accuracy[i]),
        lower_bound=float(table.lower_bound[i]),
    )


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
    from .metrics import _as_prob

    if y_true is None:
        p = _as_prob(y_prob)
        t = None
    else:
        t, p = _check_pair(y_true, y_prob)
    b = np.sort(_check_thresholds(bounds, "bounds"))
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
        E.g. ``ThresholdTable.shares`` at the chosen threshold.
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
