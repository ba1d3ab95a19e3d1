"""Confidence thresholds for automation: volume, accuracy, guarantees, cost.

Works on the **confidence** target: ``y_prob`` is the (calibrated) confidence of each
prediction and ``y_true`` says whether the prediction was correct. For the class target
turn ``p_positive`` into (prediction, confidence) first with
:func:`confnb.calibration.class_to_confidence`.

* :func:`threshold_table` -- for each threshold, how many predictions are at or above it,
  their share, their accuracy, and a one-sided Clopper-Pearson lower bound on that
  accuracy.
* :func:`choose_threshold` -- the lowest threshold that can be *promised* to meet a target
  accuracy, by fixed-sequence testing.
* :func:`decision_summary` -- one threshold, one cost per review, one daily volume: the
  automated share, its accuracy, the unchecked mistakes and the review bill.
* :func:`tier_table` -- split predictions into tiers (automate / quick review / full review).
* :func:`review_costs` -- what the remaining human reviews cost per day and per year.

:func:`tier_table` and :func:`review_costs` are defined in :mod:`confnb.review`, and
:func:`clopper_pearson_lower` in :mod:`confnb.intervals`; all three are re-exported here.

Why :func:`choose_threshold` needs no multiplicity correction
------------------------------------------------------------
Each candidate threshold ``t`` carries a null hypothesis H_t: "the accuracy of predictions
with confidence >= t is below the target". Promising ``t`` means rejecting H_t. The
thresholds are tested in an order fixed before any label is looked at -- the most
conservative (highest) first -- each at the full ``level``, and testing stops at the first
threshold whose lower bound misses the target. Whatever the truth, the procedure can only
make a false promise by rejecting the *first* true null hypothesis it meets (it never gets
past a hypothesis it does not reject), and that one rejection has probability at most
``1 - level``. So the chance of any false promise is at most ``1 - level``, with no
Bonferroni-style correction (this is the fixed-sequence procedure, the simplest case of
Learn then Test, Angelopoulos et al. 2021).

Scanning from the *lowest* threshold up and taking the first one whose bound meets the
target is not valid: it gives every threshold a chance to be rejected by luck. With a
true accuracy of 0.899 at every confidence, a 0.90 target and 1,000 rows, that scan
promises 0.90 in about 13% of samples at ``level=0.95``; fixed-sequence testing in about
3% (``benchmarks/threshold_guarantee.py``, 20,000 simulated samples).

What the promise means: with probability at least ``level`` (over the labelled rows), the
automated share -- predictions at or above the chosen threshold -- is at least
``target_accuracy`` accurate on future rows drawn like the rows the threshold was chosen
on. It is one-sided and about the share as a whole, not each prediction. Choose the
threshold on labelled rows the calibrator was **not** fit on (see
:func:`confnb.sampling.split_rows`): on its own training rows a calibrator looks better
than it is. The promise covers sampling luck only; when production rows drift away from
the labelled ones, re-check it on fresh labels.

Out of scope: cost-sensitive optimisation of several thresholds at once, and
per-class thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_level, check_pair, check_thresholds
from .intervals import clopper_pearson_lower
from .review import DEFAULT_TIER_NAMES, ReviewCosts, TierTable, review_costs, tier_table  # noqa: F401  (re-exported)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "DecisionSummary",
    "ReviewCosts",
    "ThresholdChoice",
    "ThresholdTable",
    "TierTable",
    "choose_threshold",
    "clopper_pearson_lower",
    "decision_summary",
    "review_costs",
    "threshold_table",
    "tier_table",
]

#: 0.50, 0.55, ..., 0.95 -- rounded so that 0.6 is exactly the float 0.6.
DEFAULT_THRESHOLDS = tuple(float(t) for t in np.round(np.arange(0.50, 0.951, 0.05), 2))


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
    t, p = check_pair(y_true, y_prob)
    ths = check_thresholds(thresholds)
    level = check_level(level)
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

    Attributes
    ----------
    threshold : float or None
        The chosen threshold; ``None`` when the first threshold tested already misses the
        target (or no prediction clears any candidate).
    target_accuracy, level : float
    count, share, accuracy, lower_bound : int, float, float, float
        The predictions at or above ``threshold``. When ``threshold`` is ``None`` they
        describe the first threshold tested, the one that failed (NaN accuracy and bound,
        count 0, when nothing was tested).
    n_tested : int
        Thresholds tested, including the one that failed; empty thresholds are skipped
        and not counted.
    """

    threshold: float | None
    target_accuracy: float
    level: float
    count: int
    share: float
    accuracy: float
    lower_bound: float
    n_tested: int = 0

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
        if self.n_tested == 0:
            return "no prediction clears any candidate threshold: nothing to choose"
        return (
            f"no threshold guarantees {self.target_accuracy:.1%} accuracy at {self.level:.0%} "
            f"confidence; the first one tested has a lower bound of {self.lower_bound:.1%} "
            f"({self.count} predictions)"
        )


def choose_threshold(
    y_true, y_prob, *, target_accuracy: float, level: float = 0.95, thresholds=DEFAULT_THRESHOLDS
) -> ThresholdChoice:
    """The lowest threshold whose accuracy can be promised, by fixed-sequence testing.

    The thresholds are tested from the most conservative (highest) down. At each one the
    one-sided Clopper-Pearson lower bound of :func:`threshold_table`, at ``level``, must
    reach ``target_accuracy``; testing stops at the first threshold where it does not.
    The result is the lowest threshold passed before that first failure, ``None`` if the
    first threshold tested fails. Thresholds that no prediction clears are skipped: which
    ones they are depends on the scores, never on the labels.

    Why one ``level`` suffices for all thresholds: threshold ``t`` stands for the
    hypothesis H_t "predictions with confidence >= t are less than ``target_accuracy``
    accurate", and the order of the tests is fixed before the labels are seen. A false
    promise needs the *first* true H_t in that order to be rejected (the procedure cannot
    get past it otherwise), which happens with probability at most ``1 - level``. See the
    module docstring; ``benchmarks/threshold_guarantee.py`` measures it.

    What is promised: with probability at least ``level``, the predictions at or above the
    chosen threshold are at least ``target_accuracy`` accurate, as a share, on future rows
    drawn like ``y_true, y_prob``. One-sided, and only about sampling luck. Pass rows the
    calibrator was **not** fit on (e.g. one part of :func:`confnb.sampling.split_rows`).

    Consequence of the order: a threshold that misses the target stops the search even
    when a lower one would pass (its bound can be higher because more predictions clear
    it). Taking that lower one anyway is the data snooping this procedure avoids.

    Parameters
    ----------
    y_true, y_prob, thresholds, level
        As in :func:`threshold_table`; any order of ``thresholds``, sorted internally.
    target_accuracy : float in (0, 1]
        Required accuracy of the automated predictions, e.g. 0.9.

    Returns
    -------
    ThresholdChoice
        ``threshold`` is ``None`` when nothing can be promised.

    Examples
    --------
    >>> import numpy as np
    >>> conf = np.r_[np.full(400, 0.97), np.full(600, 0.7)]
    >>> correct = np.r_[np.ones(392), np.zeros(8), np.ones(420), np.zeros(180)]
    >>> choice = choose_threshold(correct, conf, target_accuracy=0.95)
    >>> choice.threshold, choice.n_tested
    (0.75, 6)
    """
    target = float(target_accuracy)
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target_accuracy must be in (0, 1], e.g. 0.9; got {target_accuracy!r}")
    table = threshold_table(y_true, y_prob, thresholds=thresholds, level=level)
    passed = None
    n_tested = 0
    first = None
    for i in np.argsort(-table.thresholds, kind="stable"):  # most conservative first
        if table.counts[i] == 0:
            continue
        n_tested += 1
        first = i if first is None else first
        if not table.lower_bound[i] >= target:
            break
        passed = i
    if passed is not None:
        return _choice(table, passed, float(table.thresholds[passed]), target, n_tested)
    if first is not None:
        return _choice(table, first, None, target, n_tested)
    return ThresholdChoice(None, target, table.level, 0, 0.0, float("nan"), float("nan"), 0)


def _choice(table: ThresholdTable, i: int, threshold, target, n_tested) -> ThresholdChoice:
    return ThresholdChoice(
        threshold=threshold,
        target_accuracy=target,
        level=table.level,
        count=int(table.counts[i]),
        share=float(table.shares[i]),
        accuracy=float(table.accuracy[i]),
        lower_bound=float(table.lower_bound[i]),
        n_tested=int(n_tested),
    )


@dataclass(frozen=True)
class DecisionSummary:
    """What automating every prediction at or above one threshold means (see :func:`decision_summary`).

    ``str(summary)`` is a short report in words; :meth:`to_dict` a flat dict for tables.

    Attributes
    ----------
    threshold, level : float
    n : int
        All labelled predictions the summary was computed on.
    count : int
        Predictions at or above ``threshold``.
    share : float
        ``count / n``: the automated share.
    accuracy : float
        Measured accuracy of those predictions (NaN when there are none).
    lower_bound : float
        One-sided Clopper-Pearson lower bound on it at ``level`` (NaN when there are none).
    expected_accuracy : float
        Mean confidence of those predictions: the accuracy a calibrated model promises
        for them (NaN when there are none).
    overall_accuracy : float
        Accuracy of all ``n`` predictions.
    automated_per_day : float
        ``volume_per_day * share``.
    mistakes_per_day, mistakes_per_day_max : float
        Automated mistakes nobody checks, at the measured accuracy and at its lower bound
        (0 when nothing is automated).
    costs : ReviewCosts
        The review bill of the predictions below the threshold.
    """

    threshold: float
    level: float
    n: int
    count: int
    share: float
    accuracy: float
    lower_bound: float
    expected_accuracy: float
    overall_accuracy: float
    automated_per_day: float
    mistakes_per_day: float
    mistakes_per_day_max: float
    costs: ReviewCosts

    def to_dict(self) -> dict:
        """Flat dict: the fields above, then the fields of ``costs`` (less its ``share_automated``)."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "costs"}
        for name in self.costs.__dataclass_fields__:
            if name != "share_automated":
                out[name] = getattr(self.costs, name)
        return out

    def __str__(self) -> str:
        c = self.costs
        lines = [
            f"Threshold: {self.threshold:.0%} | cost per review: ${c.cost_per_review:,.2f} | "
            f"volume: {c.volume_per_day:,.0f} per day",
            f"Automated share: {self.share:.1%} ({self.automated_per_day:,.0f} items per day)",
        ]
        if self.count > 0:
            lines += [
                f"Expected accuracy (mean calibrated confidence): {self.expected_accuracy:.1%}",
                f"Measured accuracy: {self.accuracy:.1%}, at least {self.lower_bound:.1%} "
                f"({self.level:.0%} confidence)",
                f"Unchecked mistakes per day: about {self.mistakes_per_day:,.0f}, "
                f"at most {self.mistakes_per_day_max:,.0f}",
            ]
        else:
            lines.append("Expected accuracy: n/a (no prediction clears this threshold)")
        lines += [
            f"Reviews per day: {c.reviews_per_day:,.0f}",
            f"Review cost: ${c.daily_cost:,.0f} per day, ${c.yearly_cost:,.0f} per year",
            f"Savings vs reviewing everything: ${c.daily_savings:,.0f} per day, "
            f"${c.yearly_savings:,.0f} per year",
        ]
        return "\n".join(lines)


def decision_summary(
    y_true,
    y_prob,
    *,
    threshold: float,
    cost_per_review,
    volume_per_day,
    level: float = 0.95,
    days_per_year: int = 365,
) -> DecisionSummary:
    """Automated share, accuracy, unchecked mistakes and review bill at one threshold.

    Every prediction at or above ``threshold`` is automated; every other one goes to a
    person at ``cost_per_review`` (see :func:`review_costs`). The shares and accuracies are
    measured on ``y_true, y_prob`` and scaled to ``volume_per_day``. Two accuracies are
    reported: the *expected* one (mean calibrated confidence of the automated predictions,
    what the calibrator promises) and the *measured* one with its lower bound. When the
    expected accuracy lies below the lower bound or far above the measured accuracy, these
    rows do not behave like the rows the calibrator was fit on.

    The lower bound is valid for a threshold fixed in advance; for one picked from these
    same rows use :func:`choose_threshold` and report on other rows.

    Parameters
    ----------
    y_true : array-like of 0/1
        Whether each prediction was correct.
    y_prob : array-like of float in [0, 1]
        Calibrated confidence of each prediction.
    threshold : float in [0, 1]
    cost_per_review, volume_per_day, days_per_year
        As in :func:`review_costs`.
    level : float, default 0.95
        Confidence level of the lower bound (and of the "at most" mistakes per day).

    Returns
    -------
    DecisionSummary

    Examples
    --------
    >>> summary = decision_summary([1, 1, 0, 1], [0.95, 0.9, 0.6, 0.7], threshold=0.9,
    ...                            cost_per_review=5, volume_per_day=1000)
    >>> print(summary.share, summary.costs.daily_cost)
    0.5 2500.0
    >>> print(str(summary).splitlines()[0])
    Threshold: 90% | cost per review: $5.00 | volume: 1,000 per day
    """
    thr = float(check_thresholds([threshold], "threshold")[0])
    t, p = check_pair(y_true, y_prob)
    row = threshold_table(t, p, thresholds=[thr], level=level)
    share = float(row.shares[0])
    costs = review_costs(
        share, volume_per_day=volume_per_day, cost_per_review=cost_per_review, days_per_year=days_per_year
    )
    count = int(row.counts[0])
    above = p >= thr
    acc = float(row.accuracy[0])
    lower = float(row.lower_bound[0])
    automated = costs.volume_per_day * share
    return DecisionSummary(
        threshold=thr,
        level=row.level,
        n=row.n,
        count=count,
        share=share,
        accuracy=acc,
        lower_bound=lower,
        expected_accuracy=float(p[above].mean()) if count else float("nan"),
        overall_accuracy=float(t.mean()),
        automated_per_day=automated,
        mistakes_per_day=automated * (1 - acc) if count else 0.0,
        mistakes_per_day_max=automated * (1 - lower) if count else 0.0,
        costs=costs,
    )
