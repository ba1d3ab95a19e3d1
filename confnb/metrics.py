"""Metrics for probability scores: calibration error, proper scores, accuracy and AUC.

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
message that names the fault and the fix (the checks live in an internal validation module).
Metrics return Python ``float``. Each metric also offers ``metric.unchecked``, the same
computation on already checked arrays, which resampling loops call.

Intervals (:class:`Interval`, :func:`wilson_interval`, :func:`confnb.intervals.bootstrap_ci`,
:func:`paired_bootstrap_difference`) are defined in :mod:`confnb.intervals` and
re-exported here.

Out of scope: K-class metrics, debiased and smooth calibration errors (`confnb.multiclass`),
intervals (`confnb.intervals`), and anything that needs a model.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._validation import PROB_TOLERANCE  # noqa: F401  (re-exported: public since the first release)
from ._validation import as_binary, bin_index, check_level, check_n_bins, check_pair, uniform_edges
from .intervals import Interval, bootstrap_ci, paired_bootstrap_difference, wilson_interval

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

#: Clip used by :func:`log_loss` so that a confident mistake costs a large but finite amount.
LOG_LOSS_EPS = 1e-15


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
    t, p = check_pair(y_true, y_prob)
    n_bins = check_n_bins(n_bins)
    level = check_level(level)
    return _binned(t, p, n_bins, strategy, level, stacklevel=stacklevel + 1, intervals=intervals)


def _binned(t, p, n_bins, strategy, level=0.95, *, stacklevel, intervals=True) -> ReliabilityTable:
    """The reliability table of checked arrays (``t`` int 0/1, ``p`` float in [0, 1])."""
    if p.shape[0] < n_bins:
        warnings.warn(
            f"only {p.shape[0]} rows for n_bins={n_bins}: most bins are empty or hold a single "
            "row; use fewer bins or more rows",
            UserWarning,
            stacklevel=stacklevel,
        )
    if strategy == "uniform":
        edges = uniform_edges(n_bins)
    elif strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1)))
        if edges.shape[0] < 2:  # every score identical
            edges = np.array([p[0], p[0]])
        edges[0], edges[-1] = min(edges[0], 0.0), max(edges[-1], 1.0)
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile'; got {strategy!r}")
    idx = bin_index(p, edges)
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


# the binned errors of checked arrays (``metric.unchecked``, see the end of the module)
def _ece(t, p, *, n_bins: int = 20, strategy: str = "uniform") -> float:
    return _binned(t, p, n_bins, strategy, stacklevel=3, intervals=False).ece


def _mce(t, p, *, n_bins: int = 20, strategy: str = "uniform") -> float:
    return _binned(t, p, n_bins, strategy, stacklevel=3, intervals=False).mce


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
    y_true, y_prob
        Outcomes and their predicted probabilities, as in :func:`reliability_table`.
    n_bins : int, default 20
        Number of bins (5% wide when uniform).
    strategy : {"uniform", "quantile"}, default "uniform"
        Equal-width or equal-count bins, see :func:`reliability_table`.

    Returns
    -------
    float
        In [0, 1]; 0 only when every non-empty bin's accuracy equals its mean confidence.

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
        The largest gap over the non-empty bins.

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
    return _brier(*check_pair(y_true, y_prob))


def _brier(t, p) -> float:
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
    return _log_loss(*check_pair(y_true, y_prob))


def _log_loss(t, p) -> float:
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
    t, p = check_pair(y_true, y_prob)
    return _accuracy(t, p, threshold=threshold)


def _accuracy(t, p, *, threshold: float = 0.5) -> float:
    threshold = float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1]; got {threshold!r}")
    return float(np.mean((p >= threshold).astype(np.int64) == t))


def share_correct(y_true, y_prob=None) -> float:
    """Model accuracy for the **confidence** target: the mean of the ``correct`` flags.

    ``y_prob`` is accepted and ignored (its length is still checked when given), so the
    function fits :func:`confnb.intervals.bootstrap_ci`'s ``metric(y_true, y_prob)`` shape.

    Examples
    --------
    >>> share_correct([True, True, False, True])
    0.75
    """
    if y_prob is None:
        t = as_binary(y_true)
    else:
        t, _ = check_pair(y_true, y_prob)
    return _share_correct(t)


def _share_correct(t, p=None) -> float:
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
    return _roc_auc(*check_pair(y_true, y_prob))


def _roc_auc(t, p) -> float:
    from sklearn.metrics import roc_auc_score

    if np.unique(t).shape[0] < 2:
        raise ValueError("roc_auc needs both classes in y_true; this sample has only one")
    return float(roc_auc_score(t, p))


# the same metrics without input checks, for resampling loops over checked arrays
# (:mod:`confnb.intervals` and :func:`confnb.sampling.sample_size_curve` call them)
expected_calibration_error.unchecked = _ece
maximum_calibration_error.unchecked = _mce
brier_score.unchecked = _brier
log_loss.unchecked = _log_loss
accuracy.unchecked = _accuracy
share_correct.unchecked = _share_correct
roc_auc.unchecked = _roc_auc
