"""Intervals: how far a number could move on another sample of the same size.

* :class:`Interval` -- a point estimate with a two-sided interval, as every function below
  returns (or its bounds).
* :func:`wilson_interval` -- two-sided interval for a binomial proportion (per-bin accuracy
  of a reliability diagram).
* :func:`clopper_pearson_lower` -- one-sided lower bound for a proportion (the accuracy a
  threshold can promise).
* :func:`confnb.intervals.bootstrap_ci` -- percentile bootstrap for any ``metric(y_true, y_prob)``.
* :func:`paired_bootstrap_difference` and :func:`paired_model_difference` -- the paired
  bootstrap for a difference of two metrics on the **same** rows.
* :func:`resample_interval` -- the percentile-bootstrap loop itself, for differences of
  independent samples (see :mod:`confnb.shift`) and other statistics.

Inputs are checked once, at the entry point. Inside the resampling loop a metric that offers
an ``unchecked`` attribute (the same metric without its input checks, as the metrics of
:mod:`confnb.metrics` do) is called through it, also inside ``functools.partial``: the
checked arrays need no second check, and the numbers are the same.

Out of scope: the metrics themselves (:mod:`confnb.metrics`), BCa or studentised bootstrap
intervals, and Bayesian credible intervals.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validation import check_level, check_n_boot, check_pair, unchecked

__all__ = [
    "Interval",
    "bootstrap_ci",
    "clopper_pearson_lower",
    "paired_bootstrap_difference",
    "paired_model_difference",
    "resample_interval",
    "wilson_interval",
]


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided interval (as returned by :func:`confnb.intervals.bootstrap_ci`).

    ``format(ci, ".3f")`` and f-strings such as ``f"{ci:.1%}"`` format all three numbers.

    Attributes
    ----------
    estimate : float
        The metric on the full sample.
    low, high : float
        Interval bounds.
    level : float
        Nominal coverage, e.g. 0.95.
    """

    estimate: float
    low: float
    high: float
    level: float

    def __format__(self, spec: str) -> str:
        spec = spec or ".3f"
        return (
            f"{format(self.estimate, spec)} "
            f"({self.level:.0%} CI {format(self.low, spec)} to {format(self.high, spec)})"
        )

    def __str__(self) -> str:
        return format(self, ".3f")

    @property
    def excludes_zero(self) -> bool:
        """Whether 0 lies outside ``[low, high]``.

        For a difference (:func:`paired_bootstrap_difference`) this says the sign is
        settled at ``level``: ``low > 0`` means the first metric is larger.
        """
        return bool(self.low > 0 or self.high < 0)

    def to_dict(self) -> dict:
        """Plain dict for JSON: estimate, low, high, level."""
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "level": self.level}


def wilson_interval(successes, n, *, level: float = 0.95):
    """Wilson score interval for a binomial proportion.

    Parameters
    ----------
    successes, n : int or array of int
        Number of successes and of trials. Where ``n == 0`` the interval is NaN.
    level : float, default 0.95
        Two-sided coverage.

    Returns
    -------
    (low, high) : tuple of float or of arrays
        Floats for scalar input, arrays otherwise.

    Examples
    --------
    >>> low, high = wilson_interval(8, 10)
    >>> round(low, 3), round(high, 3)
    (0.49, 0.943)
    """
    from scipy.stats import norm

    level = check_level(level)
    k = np.asarray(successes, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    z = float(norm.ppf(0.5 + level / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        phat = k / n_arr
        denom = 1 + z**2 / n_arr
        centre = (phat + z**2 / (2 * n_arr)) / denom
        half = z * np.sqrt(phat * (1 - phat) / n_arr + z**2 / (4 * n_arr**2)) / denom
        low = np.where(n_arr > 0, np.clip(centre - half, 0, 1), np.nan)
        high = np.where(n_arr > 0, np.clip(centre + half, 0, 1), np.nan)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


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

    level = check_level(level)
    k = np.asarray(successes, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore"):
        bound = np.where(k > 0, beta.ppf(1 - level, np.maximum(k, 1e-12), n_arr - k + 1), 0.0)
    bound = np.where(n_arr > 0, bound, np.nan)
    return float(bound) if bound.ndim == 0 else bound


# ---------------------------------------------------------------------------
# bootstrap
# ---------------------------------------------------------------------------
def bootstrap_ci(
    metric: Callable,
    y_true,
    y_prob,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    rng=None,
) -> Interval:
    """Percentile bootstrap interval for any ``metric(y_true, y_prob) -> float``.

    Rows are resampled with replacement ``n_boot`` times and the metric recomputed; the
    interval is the central ``level`` share of those values. Resamples on which the
    metric raises ``ValueError`` (e.g. a single class for :func:`~confnb.metrics.roc_auc`) are skipped;
    if more than 10% fail the function raises. Warnings from the metric (such as
    "fewer rows than bins") are silenced inside the resampling loop.

    The interval describes sampling noise of the *estimator*: "how much would this number
    move on another sample of the same size?". For a biased estimator such as the binned
    ECE, resamples (which repeat rows) are more biased still, so near 0 the whole
    interval can sit above the estimate; it never covers an ECE of exactly 0.

    Parameters
    ----------
    metric : callable
        Called as ``metric(y_true, y_prob)``; pass ``functools.partial`` or a lambda for
        options, e.g. ``partial(expected_calibration_error, n_bins=10)`` (a partial of a
        confnb metric skips the repeated input checks on each resample).
    y_true, y_prob : array-like
        As for the metrics in :mod:`confnb.metrics`.
    n_boot : int, default 1000
        Number of resamples.
    level : float, default 0.95
        Two-sided coverage.
    rng : int, numpy.random.Generator or None
        Seed or generator for the resampling.

    Returns
    -------
    Interval
        ``estimate`` is the metric on the full sample.

    Examples
    --------
    >>> from confnb.metrics import brier_score
    >>> ci = bootstrap_ci(brier_score, [1, 0, 1, 1, 0, 1], [0.8, 0.3, 0.6, 0.9, 0.1, 0.7],
    ...                   n_boot=200, rng=0)
    >>> ci.low <= ci.estimate <= ci.high
    True
    >>> print(f"{ci.estimate:.3f}")
    0.067
    """
    t, p = check_pair(y_true, y_prob)
    level, n_boot = check_level(level), check_n_boot(n_boot)
    estimate = float(metric(t, p))
    fast, n = unchecked(metric), t.shape[0]
    return resample_interval(lambda gen: fast(*_take(gen, n, t, p)), estimate, n_boot=n_boot, level=level, rng=rng)


def paired_bootstrap_difference(
    metric: Callable,
    y_true,
    y_prob_a,
    y_prob_b,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    rng=None,
) -> Interval:
    """Paired percentile bootstrap for ``metric(y_true, y_prob_a) - metric(y_true, y_prob_b)``.

    Use it to compare two sets of probabilities (two calibrators, two models) on the
    **same** rows. Each resample draws the rows once and computes both metrics on them, so
    the luck of the sample, which moves both metrics together, cancels in the difference.
    The interval is then much narrower than the two separate :func:`confnb.intervals.bootstrap_ci`
    intervals suggest; overlapping separate intervals do not mean "no difference".

    Resamples on which the metric raises ``ValueError`` are skipped as in
    :func:`confnb.intervals.bootstrap_ci` (more than 10% failing raises); warnings are silenced inside the
    loop. With the same ``rng`` it draws the same resamples as :func:`confnb.intervals.bootstrap_ci`.

    Parameters
    ----------
    metric : callable
        Called as ``metric(y_true, y_prob)``, e.g. :func:`confnb.metrics.expected_calibration_error`.
    y_true : array-like of 0/1
    y_prob_a, y_prob_b : array-like of float in [0, 1]
        Two probabilities per row, aligned with ``y_true``.
    n_boot, level, rng
        As in :func:`confnb.intervals.bootstrap_ci`.

    Returns
    -------
    Interval
        ``estimate`` is the difference on the full sample; ``excludes_zero`` tells whether
        the sign is settled (``low > 0``: ``a`` scores higher, ``high < 0``: lower).

    Examples
    --------
    >>> from confnb.metrics import brier_score
    >>> y = [1, 0, 1, 1, 0, 1, 0, 1]
    >>> a = [0.9, 0.1, 0.8, 0.7, 0.2, 0.9, 0.3, 0.6]
    >>> b = [0.6, 0.4, 0.6, 0.5, 0.5, 0.6, 0.4, 0.5]
    >>> diff = paired_bootstrap_difference(brier_score, y, a, b, n_boot=200, rng=0)
    >>> diff.estimate < 0, diff.excludes_zero
    (True, True)
    """
    t, pa = check_pair(y_true, y_prob_a, prob_name="y_prob_a")
    _, pb = check_pair(y_true, y_prob_b, prob_name="y_prob_b")
    return _paired_difference(metric, t, pa, t, pb, n_boot=n_boot, level=level, rng=rng)


def _paired_difference(metric, ta, pa, tb, pb, *, n_boot, level, rng) -> Interval:
    """``metric(ta, pa) - metric(tb, pb)`` with a paired bootstrap (arrays already checked, same rows)."""
    level, n_boot = check_level(level), check_n_boot(n_boot)
    estimate = float(metric(ta, pa)) - float(metric(tb, pb))
    fast, n = unchecked(metric), ta.shape[0]

    def draw(gen):
        a_true, a_prob, b_true, b_prob = _take(gen, n, ta, pa, tb, pb)
        return float(fast(a_true, a_prob)) - float(fast(b_true, b_prob))

    return resample_interval(draw, estimate, n_boot=n_boot, level=level, rng=rng)


def paired_model_difference(
    metric: Callable,
    y_true_a,
    y_prob_a,
    y_true_b,
    y_prob_b,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    rng=None,
) -> Interval:
    """Paired bootstrap for ``metric(y_true_a, y_prob_a) - metric(y_true_b, y_prob_b)`` on the same rows.

    Row ``i`` of ``a`` and row ``i`` of ``b`` must be the same item scored by two models.
    Each resample draws the rows once and recomputes both metrics on them, so the luck of the
    sample (easy or hard rows), which moves both models together, cancels in the difference.
    Two overlapping separate intervals therefore do not mean "no difference": judge a
    difference by this interval. Percentile interval; resamples on which the metric raises
    ``ValueError`` are skipped (more than 10% failing raises), warnings are silenced.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_prob) -> float``, e.g. :func:`confnb.metrics.expected_calibration_error`.
    y_true_a, y_prob_a, y_true_b, y_prob_b : array-like
        Each model's targets (e.g. its correctness) and probabilities, aligned by row.
    n_boot, level, rng
        As in :func:`confnb.intervals.bootstrap_ci`.

    Returns
    -------
    Interval
        ``estimate`` is the difference on all rows; ``low > 0`` says model ``a`` scores higher
        at ``level``, ``high < 0`` lower (`confnb.intervals.Interval.excludes_zero`).

    Examples
    --------
    >>> from confnb.metrics import brier_score
    >>> a_true, a_prob = [1, 1, 0, 1, 1, 0, 1, 1], [0.9, 0.8, 0.2, 0.9, 0.7, 0.1, 0.8, 0.9]
    >>> b_true, b_prob = [1, 0, 0, 1, 0, 0, 1, 1], [0.6, 0.6, 0.5, 0.6, 0.6, 0.4, 0.5, 0.6]
    >>> diff = paired_model_difference(brier_score, a_true, a_prob, b_true, b_prob, n_boot=200, rng=0)
    >>> diff.estimate < 0 and diff.high < 0
    True
    """
    ta, pa = check_pair(y_true_a, y_prob_a, true_name="y_true_a", prob_name="y_prob_a")
    tb, pb = check_pair(y_true_b, y_prob_b, true_name="y_true_b", prob_name="y_prob_b")
    if ta.shape != tb.shape:
        raise ValueError(f"model a has {ta.size} rows and model b {tb.size}; a paired comparison needs "
                         "the same rows, in the same order, for both")
    return _paired_difference(metric, ta, pa, tb, pb, n_boot=n_boot, level=level, rng=rng)


def resample_interval(draw: Callable, estimate: float, *, n_boot: int = 1000, level: float = 0.95,
                      rng=None) -> Interval:
    """Percentile interval of ``draw(gen)`` over ``n_boot`` bootstrap rounds.

    The loop under every bootstrap of confnb: ``draw`` receives one
    ``numpy.random.Generator`` (made from ``rng``), resamples whatever it needs from it and
    returns one value of the statistic. Rounds on which ``draw`` raises ``ValueError`` are
    skipped; if more than 10% fail the function raises. Warnings are silenced inside the loop.

    Parameters
    ----------
    draw : callable
        ``draw(gen) -> float``.
    estimate : float
        The statistic on the full sample(s), returned as ``Interval.estimate``.
    n_boot : int, default 1000
        Rounds, at least 10.
    level : float, default 0.95
        Two-sided coverage.
    rng : int, numpy.random.Generator or None

    Returns
    -------
    Interval

    Examples
    --------
    >>> x = np.array([0.2, 0.4, 0.6, 0.8])
    >>> ci = resample_interval(lambda gen: gen.choice(x, x.size).mean(), x.mean(), n_boot=200, rng=0)
    >>> ci.low <= 0.5 <= ci.high
    True
    """
    level, n_boot = check_level(level), check_n_boot(n_boot)
    gen = np.random.default_rng(rng)
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_boot):
            try:
                values.append(float(draw(gen)))
            except ValueError:
                continue
    if len(values) < 0.9 * n_boot:
        raise ValueError(
            f"the metric failed on {n_boot - len(values)} of {n_boot} resamples (e.g. a single "
            "class); use more rows or a metric defined on every resample"
        )
    alpha = 1 - level
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return Interval(estimate=float(estimate), low=float(low), high=float(high), level=level)


def _take(gen, n: int, *arrays):
    """The same ``n`` row positions, drawn with replacement, taken from each array."""
    idx = gen.integers(0, n, size=n)
    return tuple(a[idx] for a in arrays)
