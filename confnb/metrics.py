"""Metrics for probability scores: calibration error, proper scores, intervals.

Every function here works on two plain arrays:

``y_true``
    0/1 outcomes (``True``/``False`` is fine), 1 = the event happened.
``y_prob``
    the predicted probability of that event, one float in [0, 1] per row.

confnb uses two *targets* (see :mod:`confnb.calibration`), and the same metrics serve both:

* **confidence** -- ``y_prob`` is the confidence of the model's prediction
  (``total_probability`` raw, or a calibrated ``confidence``) and ``y_true`` is the
  ``correct`` column: 1 when the prediction matched the label.
* **class** -- ``y_prob`` is ``p_positive`` and ``y_true`` is 1 when the label is the
  positive class.

Inputs are checked once, at the boundary: NaN, values outside [0, 1], a length
mismatch, empty input or a ``y_true`` that is not 0/1 raise ``ValueError`` with a
message that names the fault and the fix. Metrics return Python ``float``.

Out of scope: multi-class calibration (top-label only), kernel-smoothed or debiased
calibration-error estimators, and anything that needs a model.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = [
    "Interval",
    "ReliabilityTable",
    "accuracy",
    "bootstrap_ci",
    "brier_score",
    "expected_calibration_error",
    "log_loss",
    "maximum_calibration_error",
    "paired_bootstrap_difference",
    "reliability_table",
    "roc_auc",
    "share_correct",
    "wilson_interval",
]

#: Probabilities this close outside [0, 1] (float round-off from summing token masses)
#: are clipped instead of rejected.
PROB_TOLERANCE = 1e-9
#: Clip used by :func:`log_loss` so that a confident mistake costs a large but finite amount.
LOG_LOSS_EPS = 1e-15


# ---------------------------------------------------------------------------
# input checking (shared by the other confnb evaluation modules)
# ---------------------------------------------------------------------------
def _to_float_array(values, name: str) -> np.ndarray:
    if hasattr(values, "to_numpy"):  # pandas Series / nullable dtypes: NA -> NaN
        try:
            values = values.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"{name} must hold numbers; convert the column with pd.to_numeric first ({err})"
            ) from None
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must hold numbers (probabilities in [0, 1]); got {type(values).__name__} "
            "with non-numeric values"
        ) from None
    if arr.ndim == 0:
        raise ValueError(f"{name} must be a sequence of values, not a single number; wrap it in a list")
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (one value per row); got shape {arr.shape}. "
            "For a two-column predict_proba output pass the positive column, e.g. proba[:, 1]"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one row")
    return arr


def _as_prob(y_prob, name: str = "y_prob") -> np.ndarray:
    """Coerce probabilities to a 1-D float array in [0, 1] or raise ``ValueError``."""
    arr = _to_float_array(y_prob, name)
    n_nan = int(np.isnan(arr).sum())
    if n_nan:
        raise ValueError(f"{name} contains {n_nan} NaN value(s); drop or fill those rows first")
    bad = (arr < -PROB_TOLERANCE) | (arr > 1 + PROB_TOLERANCE)
    if bad.any():
        example = float(arr[bad][0])
        raise ValueError(
            f"{name} has values outside [0, 1] ({int(bad.sum())} row(s), e.g. {example!r}); "
            "pass probabilities, not logits or margins (apply a sigmoid first)"
        )
    return np.clip(arr, 0.0, 1.0)


def _as_binary(y_true, name: str = "y_true") -> np.ndarray:
    """Coerce 0/1 (or bool) outcomes to a 1-D int array or raise ``ValueError``."""
    raw = np.asarray(y_true.to_numpy() if hasattr(y_true, "to_numpy") else y_true)
    if raw.dtype.kind in "USO" and raw.size and any(isinstance(v, str) for v in raw.reshape(-1)[:50]):
        example = next(v for v in raw.reshape(-1) if isinstance(v, str))
        raise ValueError(
            f"{name} must be 0/1 or True/False, got strings such as {example!r}; compare with "
            "the positive class first, e.g. (df['label'] == 'positive')"
        )
    arr = _to_float_array(raw, name)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains {int(np.isnan(arr).sum())} missing value(s); drop those rows first")
    values = np.unique(arr)
    if not np.isin(values, (0.0, 1.0)).all():
        shown = ", ".join(f"{v:g}" for v in values[:5])
        raise ValueError(
            f"{name} must contain only 0 and 1 (or False/True); got values {shown}. "
            "Binarise it first, e.g. (labels == positive_label).astype(int)"
        )
    return arr.astype(np.int64)


def _check_pair(y_true, y_prob, *, true_name: str = "y_true", prob_name: str = "y_prob"):
    """Validate and coerce an outcome / probability pair of equal length."""
    t = _as_binary(y_true, true_name)
    p = _as_prob(y_prob, prob_name)
    if t.shape[0] != p.shape[0]:
        raise ValueError(
            f"{true_name} has {t.shape[0]} rows but {prob_name} has {p.shape[0]}; "
            "pass one probability per outcome"
        )
    return t, p


def _check_n_bins(n_bins) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer; got {n_bins!r}")
    return int(n_bins)


def _check_level(level) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1 (e.g. 0.95); got {level!r}")
    return level


def _uniform_edges(n_bins: int) -> np.ndarray:
    # Rounded so that an edge such as 0.95 is exactly the float 0.95: a score of 0.95
    # then lands in the [0.95, 1.00] bin, as a reader expects.
    return np.round(np.linspace(0.0, 1.0, n_bins + 1), 12)


def _bin_index(y_prob: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value: bins are [lo, hi) except the last, which includes its upper edge."""
    idx = np.searchsorted(edges, y_prob, side="right") - 1
    return np.clip(idx, 0, len(edges) - 2)


# ---------------------------------------------------------------------------
# intervals
# ---------------------------------------------------------------------------
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

    level = _check_level(level)
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


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided interval (as returned by :func:`bootstrap_ci`).

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


# ---------------------------------------------------------------------------
# reliability table and calibration error
# ---------------------------------------------------------------------------
@dataclass(frozen=True, repr=False, eq=False)
class ReliabilityTable:
    """Binned comparison of predicted probability and observed frequency.

    Attributes
    ----------
    edges : ndarray, shape (n_bins + 1,)
        Bin edges. Bins are ``[lo, hi)``; the last bin includes 1.0.
    counts : ndarray of int, shape (n_bins,)
        Rows per bin.
    mean_confidence : ndarray, shape (n_bins,)
        Mean ``y_prob`` in each bin (NaN where empty).
    accuracy : ndarray, shape (n_bins,)
        Observed share of ``y_true == 1`` in each bin (NaN where empty). For the
        confidence target this is the accuracy of the predictions in the bin.
    ci_low, ci_high : ndarray, shape (n_bins,)
        Wilson interval for ``accuracy`` at ``level`` (NaN where empty).
    level : float
        Coverage of the Wilson intervals.
    strategy : str
        ``"uniform"`` (equal-width bins) or ``"quantile"`` (equal-count bins).
    """

    edges: np.ndarray
    counts: np.ndarray
    mean_confidence: np.ndarray
    accuracy: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    level: float = 0.95
    strategy: str = "uniform"

    @property
    def n_bins(self) -> int:
        """Number of bins (including empty ones)."""
        return int(self.counts.shape[0])

    @property
    def n(self) -> int:
        """Total number of rows."""
        return int(self.counts.sum())

    @property
    def gaps(self) -> np.ndarray:
        """``accuracy - mean_confidence`` per bin: negative = overconfident (NaN where empty)."""
        return self.accuracy - self.mean_confidence

    @property
    def ece(self) -> float:
        """Expected calibration error: count-weighted mean of ``|gap|`` over non-empty bins."""
        filled = self.counts > 0
        return float(np.sum(self.counts[filled] * np.abs(self.gaps[filled])) / self.n)

    @property
    def mce(self) -> float:
        """Maximum calibration error: largest ``|gap|`` over non-empty bins."""
        filled = self.counts > 0
        return float(np.max(np.abs(self.gaps[filled])))

    def to_frame(self):
        """One row per bin as a ``pandas.DataFrame``.

        Columns: ``bin_low, bin_high, count, mean_confidence, accuracy, ci_low, ci_high, gap``.
        """
        import pandas as pd

        return pd.DataFrame(
            {
                "bin_low": self.edges[:-1],
                "bin_high": self.edges[1:],
                "count": self.counts,
                "mean_confidence": self.mean_confidence,
                "accuracy": self.accuracy,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "gap": self.gaps,
            }
        )

    def __repr__(self) -> str:
        return (
            f"ReliabilityTable(n={self.n}, n_bins={self.n_bins}, strategy={self.strategy!r}, "
            f"ece={self.ece:.4f}, mce={self.mce:.4f})"
        )

    __str__ = __repr__


def _readonly(*arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays


def reliability_table(y_true, y_prob, *, n_bins: int = 20, strategy: str = "uniform", level: float = 0.95):
    """Group predictions into probability bins and compare with what happened.

    Parameters
    ----------
    y_true : array-like of 0/1
        Outcomes (``correct`` for the confidence target).
    y_prob : array-like of float in [0, 1]
        Predicted probabilities of ``y_true == 1``.
    n_bins : int, default 20
        Number of bins; 20 gives the 5%-wide stripes of the course's reliability diagrams.
    strategy : {"uniform", "quantile"}, default "uniform"
        Equal-width bins on [0, 1], or bins holding about the same number of rows
        (edges at quantiles of ``y_prob``; tied quantiles merge bins).
    level : float, default 0.95
        Coverage of the per-bin Wilson intervals.

    Returns
    -------
    ReliabilityTable

    Warns
    -----
    UserWarning
        When there are fewer rows than bins.

    Examples
    --------
    >>> table = reliability_table([1, 1, 0, 1], [0.9, 0.8, 0.7, 0.95], n_bins=4)
    >>> table.counts.tolist()
    [0, 0, 1, 3]
    >>> table.accuracy.round(2).tolist()[2:]
    [0.0, 1.0]
    >>> round(table.ece, 4)
    0.2625
    """
    return _reliability_table(y_true, y_prob, n_bins, strategy, level, stacklevel=3)


def _reliability_table(y_true, y_prob, n_bins, strategy, level=0.95, *, stacklevel, intervals=True):
    t, p = _check_pair(y_true, y_prob)
    n_bins = _check_n_bins(n_bins)
    level = _check_level(level)
    if p.shape[0] < n_bins:
        warnings.warn(
            f"only {p.shape[0]} rows for n_bins={n_bins}: most bins are empty or hold a single "
            "row; use fewer bins or more rows",
            UserWarning,
            stacklevel=stacklevel,
        )
    if strategy == "uniform":
        edges = _uniform_edges(n_bins)
    elif strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1)))
        if edges.shape[0] < 2:  # every score identical
            edges = np.array([p[0], p[0]])
        edges[0], edges[-1] = min(edges[0], 0.0), max(edges[-1], 1.0)
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile'; got {strategy!r}")
    idx = _bin_index(p, edges)
    k = edges.shape[0] - 1
    counts = np.bincount(idx, minlength=k)
    sum_p = np.bincount(idx, weights=p, minlength=k)
    sum_y = np.bincount(idx, weights=t, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(counts > 0, sum_p / counts, np.nan)
        acc = np.where(counts > 0, sum_y / counts, np.nan)
    if intervals:
        low, high = wilson_interval(sum_y, counts, level=level)
    else:  # ECE/MCE do not need them; skipping saves time inside bootstrap loops
        low = high = np.full(k, np.nan)
    arrays = _readonly(edges, counts, mean_conf, acc, np.array(low, dtype=float), np.array(high, dtype=float))
    return ReliabilityTable(*arrays, level=level, strategy=strategy)


def expected_calibration_error(y_true, y_prob, *, n_bins: int = 20, strategy: str = "uniform") -> float:
    """Expected calibration error (ECE) over probability bins.

    ``ECE = sum_b (n_b / n) * |accuracy_b - mean_confidence_b|``: the average distance,
    weighted by rows, between what the scores promise and what happens.

    The binned estimate is biased upwards on finite samples (every bin's gap carries noise
    that the absolute value cannot cancel), so even a perfectly calibrated model scores
    above 0: up to about ``0.4 * sqrt(n_bins / n)`` when the bins are evenly filled
    (0.06 for 20 bins and 1000 rows). Compare ECEs computed with the same ``n_bins`` on
    samples of similar size.

    Parameters
    ----------
    y_true : array-like of 0/1
        Outcomes (``correct`` for the confidence target).
    y_prob : array-like of float in [0, 1]
        Predicted probabilities of ``y_true == 1``.
    n_bins : int, default 20
        Number of bins (5% wide when uniform).
    strategy : {"uniform", "quantile"}, default "uniform"
        Equal-width or equal-count bins, see :func:`reliability_table`.

    Returns
    -------
    float

    Examples
    --------
    >>> expected_calibration_error([1, 0], [0.9, 0.2], n_bins=2)
    0.15
    """
    return _reliability_table(y_true, y_prob, n_bins, strategy, stacklevel=3, intervals=False).ece


def maximum_calibration_error(y_true, y_prob, *, n_bins: int = 20, strategy: str = "uniform") -> float:
    """Maximum calibration error (MCE): the largest bin gap ``|accuracy_b - mean_confidence_b|``.

    Sensitive to sparsely filled bins: a bin with one row can set it. Read it together
    with the bin counts of :func:`reliability_table`.

    Parameters
    ----------
    y_true, y_prob, n_bins, strategy
        As in :func:`expected_calibration_error`.

    Returns
    -------
    float

    Examples
    --------
    >>> maximum_calibration_error([1, 0], [0.9, 0.2], n_bins=2)
    0.2
    """
    return _reliability_table(y_true, y_prob, n_bins, strategy, stacklevel=3, intervals=False).mce


def brier_score(y_true, y_prob) -> float:
    """Brier score: mean squared difference between probability and outcome (lower is better).

    A proper score: it rewards both calibration and sharpness (telling rows apart).

    Examples
    --------
    >>> brier_score([1, 0], [0.9, 0.2])
    0.025
    """
    t, p = _check_pair(y_true, y_prob)
    return float(np.mean((p - t) ** 2))


def log_loss(y_true, y_prob) -> float:
    """Mean negative log-likelihood in nats (lower is better).

    Probabilities are clipped to ``[1e-15, 1 - 1e-15]`` so a confident mistake costs
    about 34.5 nats instead of infinity.

    Examples
    --------
    >>> round(log_loss([1, 0], [0.9, 0.2]), 4)
    0.1643
    """
    t, p = _check_pair(y_true, y_prob)
    p = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return float(-np.mean(t * np.log(p) + (1 - t) * np.log1p(-p)))


def accuracy(y_true, y_prob, *, threshold: float = 0.5) -> float:
    """Share of rows where the decision ``y_prob >= threshold`` equals ``y_true``.

    Use it for the **class** target: ``y_prob`` = ``p_positive``, ``y_true`` = label is
    positive; the result is the classifier's accuracy at that threshold.

    For the **confidence** target ``y_true`` already *is* correctness (the ``correct``
    column), so the model's accuracy is :func:`share_correct`. Applied to confidence
    scores this function measures something else: how often "confidence >= 0.5" agrees
    with being right.

    Examples
    --------
    >>> accuracy([1, 0, 1], [0.9, 0.2, 0.4])
    0.6666666666666666
    """
    t, p = _check_pair(y_true, y_prob)
    threshold = float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1]; got {threshold!r}")
    return float(np.mean((p >= threshold).astype(np.int64) == t))


def share_correct(y_true, y_prob=None) -> float:
    """Model accuracy for the **confidence** target: the mean of the ``correct`` flags.

    ``y_prob`` is accepted and ignored (its length is still checked when given), so the
    function fits :func:`bootstrap_ci`'s ``metric(y_true, y_prob)`` shape.

    Examples
    --------
    >>> share_correct([True, True, False, True])
    0.75
    """
    if y_prob is None:
        t = _as_binary(y_true)
    else:
        t, _ = _check_pair(y_true, y_prob)
    return float(np.mean(t))


def roc_auc(y_true, y_prob) -> float:
    """Area under the ROC curve: how well ``y_prob`` ranks positives above negatives.

    Calibration-blind (any increasing transform of the scores leaves it unchanged), which
    makes it a useful partner to ECE. Needs both classes in ``y_true``.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    from sklearn.metrics import roc_auc_score

    t, p = _check_pair(y_true, y_prob)
    if np.unique(t).shape[0] < 2:
        raise ValueError("roc_auc needs both classes in y_true; this sample has only one")
    return float(roc_auc_score(t, p))


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
    metric raises ``ValueError`` (e.g. a single class for :func:`roc_auc`) are skipped;
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
        options, e.g. ``lambda t, p: expected_calibration_error(t, p, n_bins=10)``.
    y_true, y_prob : array-like
        As for the metrics in this module.
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
    >>> ci = bootstrap_ci(brier_score, [1, 0, 1, 1, 0, 1], [0.8, 0.3, 0.6, 0.9, 0.1, 0.7],
    ...                   n_boot=200, rng=0)
    >>> ci.low <= ci.estimate <= ci.high
    True
    >>> print(f"{ci.estimate:.3f}")
    0.067
    """
    t, p = _check_pair(y_true, y_prob)
    level, n_boot = _check_level(level), _check_n_boot(n_boot)
    estimate = float(metric(t, p))
    return _bootstrap(lambda idx: metric(t[idx], p[idx]), t.shape[0], estimate, n_boot, level, rng)


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
    The interval is then much narrower than the two separate :func:`bootstrap_ci`
    intervals suggest; overlapping separate intervals do not mean "no difference".

    Resamples on which the metric raises ``ValueError`` are skipped as in
    :func:`bootstrap_ci` (more than 10% failing raises); warnings are silenced inside the
    loop. With the same ``rng`` it draws the same resamples as :func:`bootstrap_ci`.

    Parameters
    ----------
    metric : callable
        Called as ``metric(y_true, y_prob)``, e.g. :func:`expected_calibration_error`.
    y_true : array-like of 0/1
    y_prob_a, y_prob_b : array-like of float in [0, 1]
        Two probabilities per row, aligned with ``y_true``.
    n_boot : int, default 1000
    level : float, default 0.95
        Two-sided coverage.
    rng : int, numpy.random.Generator or None

    Returns
    -------
    Interval
        ``estimate`` is the difference on the full sample; ``excludes_zero`` tells whether
        the sign is settled (``low > 0``: ``a`` scores higher, ``high < 0``: lower).

    Examples
    --------
    >>> y = [1, 0, 1, 1, 0, 1, 0, 1]
    >>> a = [0.9, 0.1, 0.8, 0.7, 0.2, 0.9, 0.3, 0.6]
    >>> b = [0.6, 0.4, 0.6, 0.5, 0.5, 0.6, 0.4, 0.5]
    >>> diff = paired_bootstrap_difference(brier_score, y, a, b, n_boot=200, rng=0)
    >>> diff.estimate < 0, diff.excludes_zero
    (True, True)
    """
    t, pa = _check_pair(y_true, y_prob_a, prob_name="y_prob_a")
    _, pb = _check_pair(y_true, y_prob_b, prob_name="y_prob_b")
    return _paired_difference(metric, t, pa, t, pb, n_boot=n_boot, level=level, rng=rng)


def _paired_difference(metric, ta, pa, tb, pb, *, n_boot, level, rng) -> Interval:
    """``metric(ta, pa) - metric(tb, pb)`` with a paired bootstrap (arrays already checked, same rows)."""
    level, n_boot = _check_level(level), _check_n_boot(n_boot)
    estimate = float(metric(ta, pa)) - float(metric(tb, pb))

    def stat(idx):
        return float(metric(ta[idx], pa[idx])) - float(metric(tb[idx], pb[idx]))

    return _bootstrap(stat, ta.shape[0], estimate, n_boot, level, rng)


def _check_n_boot(n_boot) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise ValueError(f"n_boot must be an integer >= 10 (1000 is typical); got {n_boot!r}")
    return int(n_boot)


def _bootstrap(stat, n: int, estimate: float, n_boot: int, level: float, rng) -> Interval:
    """Percentile interval of ``stat(idx)`` over ``n_boot`` resampled index arrays."""
    gen = np.random.default_rng(rng)
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n_boot):
            idx = gen.integers(0, n, size=n)
            try:
                values.append(float(stat(idx)))
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
