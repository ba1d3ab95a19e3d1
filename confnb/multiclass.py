"""Metrics for K-class probabilities: calibration errors, proper scores, confusion and per-class counts.

Every function takes

``y_true``
    one class per row: indices 0..K-1 (numbers) or class names (strings, looked up in
    ``classes=``);
``probs``
    an (n, K) array of class probabilities, rows summing to 1 -- or a scored table, whose
    ``p_<class>`` columns are used (class names come from the column names).

Three views of calibration:

* **top-label** -- only the predicted class: ``confidence = probs.max(1)`` against
  ``correct = probs.argmax(1) == y_true`` (:func:`top_label`). :func:`top_label_ece` is
  :func:`confnb.metrics.expected_calibration_error` on that pair, so for K = 2 it is the
  binary course's ECE. :func:`debiased_top_label_ece` (Kumar, Liang & Ma 2019) removes the
  upward bias of the binned estimate; :func:`smooth_top_label_ece` (Błasiok & Nakkiran
  2023, through the optional package ``relplot``) needs no bins at all.
* **classwise** -- every class's ``p_<class>`` against "the label is that class"
  (:func:`class_reliability`, :func:`classwise_ece`).
* **proper scores** over the whole distribution: :func:`multiclass_brier_score`,
  :func:`multiclass_log_loss`.

Metrics return Python ``float``. :func:`debiased_calibration_error` and
:func:`smooth_calibration_error` take a binary ``(y_true, y_prob)`` pair, so they fit
:func:`confnb.intervals.bootstrap_ci` on ``top_label(...)``; :func:`multiclass_bootstrap_ci`
resamples rows for any ``metric(y_true, probs)`` of this module.

Out of scope: fitting calibrators (:mod:`confnb.scaling`), prediction sets
(:mod:`confnb.conformal`), charts (:mod:`confnb.class_charts`) and anything that needs a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._multiclass_validation import check_probs_labels
from ._validation import check_level, check_n_boot, check_n_bins, check_pair
from .intervals import Interval, resample_interval
from .metrics import LOG_LOSS_EPS, ReliabilityTable, expected_calibration_error, reliability_table

__all__ = [
    "ClassReliability",
    "ConfusionMatrix",
    "class_reliability",
    "class_report",
    "classwise_ece",
    "confusion_matrix",
    "debiased_calibration_error",
    "debiased_top_label_ece",
    "multiclass_accuracy",
    "multiclass_bootstrap_ci",
    "multiclass_brier_score",
    "multiclass_log_loss",
    "smooth_calibration_error",
    "smooth_top_label_ece",
    "top_label",
    "top_label_ece",
]


# ---------------------------------------------------------------------------
# top label
# ---------------------------------------------------------------------------
def top_label(y_true, probs, *, classes=None) -> tuple[np.ndarray, np.ndarray]:
    """``(correct, confidence)`` of the predicted class, in the metrics' ``(y_true, y_prob)`` order.

    The prediction is ``probs.argmax(1)`` (ties go to the first class); ``confidence`` is
    its probability and ``correct`` is 1 where it equals ``y_true``. Every binary metric of
    :mod:`confnb.metrics`, :mod:`confnb.thresholds` and :mod:`confnb.calibration` then
    applies to the top label.

    Examples
    --------
    >>> correct, confidence = top_label([0, 2], [[0.7, 0.2, 0.1], [0.5, 0.3, 0.2]])
    >>> correct.tolist(), confidence.tolist()
    ([1, 0], [0.7, 0.5])
    """
    y, p, _ = check_probs_labels(y_true, probs, classes=classes)
    return _top_label(y, p)


def _top_label(y, p):
    pred = p.argmax(axis=1)
    return (pred == y).astype(np.int64), p[np.arange(p.shape[0]), pred]


def multiclass_accuracy(y_true, probs, *, classes=None) -> float:
    """Share of rows whose most probable class is the label.

    Examples
    --------
    >>> multiclass_accuracy([0, 2, 1], [[0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.1, 0.8, 0.1]])
    0.6666666666666666
    """
    y, p, _ = check_probs_labels(y_true, probs, classes=classes)
    return float(np.mean(p.argmax(axis=1) == y))


def top_label_ece(y_true, probs, *, classes=None, n_bins: int = 20, strategy: str = "uniform") -> float:
    """Top-label expected calibration error: the binned ECE of ``(correct, confidence)``.

    Exactly :func:`confnb.metrics.expected_calibration_error` applied to :func:`top_label`:
    same bins (``"uniform"``: equal width; ``"quantile"``: equal mass), same upward bias on
    small samples (see there, and :func:`debiased_top_label_ece`).

    Examples
    --------
    >>> top_label_ece([0, 1], [[0.9, 0.1], [0.6, 0.4]], n_bins=2)  # one bin: 50% right at 75%
    0.25
    """
    correct, confidence = top_label(y_true, probs, classes=classes)
    return expected_calibration_error(correct, confidence, n_bins=n_bins, strategy=strategy)


# ---------------------------------------------------------------------------
# classwise
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ClassReliability:
    """One reliability table per class: ``p_<class>`` against "the label is that class".

    Attributes
    ----------
    classes : tuple
        Class names, in column order.
    tables : tuple of ReliabilityTable
        ``tables[k]`` bins ``probs[:, k]`` against ``y_true == k``.
    """

    classes: tuple
    tables: tuple

    @property
    def ece(self) -> np.ndarray:
        """Per-class ECE, in class order."""
        return np.array([t.ece for t in self.tables])

    @property
    def classwise_ece(self) -> float:
        """Mean of the per-class ECEs (Kull et al. 2019)."""
        return float(np.mean(self.ece))

    def __repr__(self) -> str:
        return f"ClassReliability(classes={list(self.classes)}, classwise_ece={self.classwise_ece:.4f})"


def class_reliability(y_true, probs, *, classes=None, n_bins: int = 20, strategy: str = "uniform",
                      level: float = 0.95) -> ClassReliability:
    """Reliability table of each class's probability (for :func:`confnb.class_charts.plot_class_reliability`).

    Parameters
    ----------
    y_true, probs, classes
        As in the module docstring.
    n_bins, strategy, level
        As in :func:`confnb.metrics.reliability_table` (20 bins: 5% stripes).

    Returns
    -------
    ClassReliability

    Examples
    --------
    >>> rel = class_reliability([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.4, 0.6]], classes=["a", "b"], n_bins=2)
    >>> rel.classes, rel.ece.round(3).tolist()
    (('a', 'b'), [0.3, 0.3])
    """
    y, p, names = check_probs_labels(y_true, probs, classes=classes)
    check_n_bins(n_bins)
    tables = tuple(reliability_table((y == k).astype(np.int64), p[:, k], n_bins=n_bins, strategy=strategy,
                                     level=level) for k in range(p.shape[1]))
    return ClassReliability(classes=names, tables=tables)


def classwise_ece(y_true, probs, *, classes=None, n_bins: int = 20, strategy: str = "uniform") -> float:
    """Classwise ECE: the mean over classes of the binned ECE of ``p_<class>`` against ``y_true == class``.

    Looks at every probability, not only the top one, so it also catches a model that is
    miscalibrated about its second choice. The same bins as :func:`top_label_ece`.

    Examples
    --------
    >>> classwise_ece([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.4, 0.6]], n_bins=2)
    0.3
    """
    y, p, _ = check_probs_labels(y_true, probs, classes=classes)
    check_n_bins(n_bins)
    errors = [expected_calibration_error.unchecked((y == k).astype(np.int64), p[:, k], n_bins=n_bins,
                                                   strategy=strategy) for k in range(p.shape[1])]
    return float(np.mean(errors))


# ---------------------------------------------------------------------------
# proper scores
# ---------------------------------------------------------------------------
def multiclass_brier_score(y_true, probs, *, classes=None) -> float:
    """Brier's (1950) score: mean over rows of ``sum_k (p_k - [y == k])**2`` (0 best, 2 worst).

    For K = 2 it is twice the binary :func:`confnb.metrics.brier_score` of either class,
    because both columns carry the same error.

    Examples
    --------
    >>> multiclass_brier_score([0, 1], [[0.9, 0.1], [0.6, 0.4]])
    0.37
    """
    y, p, _ = check_probs_labels(y_true, probs, classes=classes)
    onehot = np.eye(p.shape[1])[y]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def multiclass_log_loss(y_true, probs, *, classes=None) -> float:
    """Mean negative log-probability of the true class, in nats (lower is better).

    The probability is clipped at ``1e-15`` (as :func:`confnb.metrics.log_loss` does), so a
    confident mistake costs about 34.5 nats instead of infinity.

    Examples
    --------
    >>> round(multiclass_log_loss([0, 2], [[0.5, 0.25, 0.25], [0.5, 0.25, 0.25]]), 4)
    1.0397
    """
    y, p, _ = check_probs_labels(y_true, probs, classes=classes)
    return float(-np.mean(np.log(np.clip(p[np.arange(y.shape[0]), y], LOG_LOSS_EPS, 1.0))))


# ---------------------------------------------------------------------------
# debiased and smooth calibration error
# ---------------------------------------------------------------------------
def debiased_calibration_error(y_true, y_prob, *, n_bins: int = 15, strategy: str = "quantile",
                               squared: bool = False) -> float:
    """Debiased binned L2 calibration error of a binary pair (Kumar, Liang & Ma 2019).

    The plug-in squared error ``sum_b (n_b / n) (ybar_b - pbar_b)**2`` is biased upwards:
    each bin's observed share ``ybar_b`` carries sampling noise of variance about
    ``ybar_b (1 - ybar_b) / (n_b - 1)``, which squaring adds in. The debiased estimator
    ("Verified uncertainty calibration", NeurIPS 2019, Section 5) subtracts that noise bin
    by bin::

        CE2 = sum_b (n_b / n) * [ (ybar_b - pbar_b)**2 - ybar_b (1 - ybar_b) / (n_b - 1) ]

    (bins with fewer than 2 rows add nothing). ``CE2`` estimates the squared calibration
    error without the upward bias -- so on a calibrated model it can come out slightly
    *negative*; the reported error is ``sqrt(max(CE2, 0))``. Defaults follow the paper's
    code: 15 equal-mass bins.

    Parameters
    ----------
    y_true : array-like of 0/1
        Outcomes (``correct`` for the top label).
    y_prob : array-like of float in [0, 1]
        Probabilities (``confidence`` for the top label).
    n_bins : int, default 15
    strategy : {"quantile", "uniform"}, default "quantile"
        Equal-mass or equal-width bins, as in :func:`confnb.metrics.reliability_table`.
    squared : bool, default False
        Return ``CE2`` itself (may be negative) instead of its clipped square root.

    Returns
    -------
    float

    Examples
    --------
    >>> y = [1, 0, 0, 1, 0, 1, 1, 1, 1, 0]
    >>> p = [0.4] * 5 + [0.8] * 5  # each bin's share equals its probability: the plug-in error is 0
    >>> round(debiased_calibration_error(y, p, n_bins=2, strategy="uniform", squared=True), 4)
    -0.05
    >>> debiased_calibration_error(y, p, n_bins=2, strategy="uniform")
    0.0
    """
    table = reliability_table(y_true, y_prob, n_bins=n_bins, strategy=strategy)
    return _debiased(table, squared)


def _debiased(table: ReliabilityTable, squared: bool) -> float:
    n_b = table.counts
    use = n_b >= 2
    ybar, pbar = table.accuracy[use], table.mean_confidence[use]
    per_bin = (ybar - pbar) ** 2 - ybar * (1 - ybar) / (n_b[use] - 1)
    ce2 = float(np.sum(n_b[use] * per_bin) / table.n)
    return ce2 if squared else float(np.sqrt(max(ce2, 0.0)))


def debiased_top_label_ece(y_true, probs, *, classes=None, n_bins: int = 15, strategy: str = "quantile",
                           squared: bool = False) -> float:
    """:func:`debiased_calibration_error` of the top label: ``(correct, confidence)``.

    Examples
    --------
    >>> probs = [[0.6, 0.4]] * 5 + [[0.2, 0.8]] * 5
    >>> y = [0, 0, 0, 1, 1, 1, 1, 1, 1, 0]  # 3 of 5 right at 60%, 4 of 5 at 80%
    >>> round(debiased_top_label_ece(y, probs, n_bins=4, strategy="uniform", squared=True), 4)
    -0.05
    """
    correct, confidence = top_label(y_true, probs, classes=classes)
    return debiased_calibration_error(correct, confidence, n_bins=n_bins, strategy=strategy, squared=squared)


def _relplot():
    try:
        import relplot
    except ImportError:
        raise ImportError(
            "smooth ECE needs the optional package relplot (Błasiok & Nakkiran's reference code); "
            "install it with `pip install relplot`, or use debiased_top_label_ece instead"
        ) from None
    return relplot


def smooth_calibration_error(y_true, y_prob) -> float:
    """Smooth ECE of a binary pair (Błasiok & Nakkiran 2023), via ``relplot.smECE``.

    A kernel-smoothed calibration error with its bandwidth chosen from the data: no bins,
    so no binning choices to argue about, and consistent. Needs the optional package
    ``relplot`` (``pip install relplot``); raises ``ImportError`` saying so when missing.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.5, 1, 2000)
    >>> y = (rng.uniform(size=2000) < p - 0.1).astype(int)  # 10 points overconfident
    >>> 0.07 < smooth_calibration_error(y, p) < 0.13  # doctest: +SKIP
    True
    """
    t, p = check_pair(y_true, y_prob)
    return float(_relplot().smECE(p, t))


def smooth_top_label_ece(y_true, probs, *, classes=None) -> float:
    """:func:`smooth_calibration_error` of the top label: ``(correct, confidence)``; needs ``relplot``."""
    correct, confidence = top_label(y_true, probs, classes=classes)
    return smooth_calibration_error(correct, confidence)


# ---------------------------------------------------------------------------
# confusion and per-class counts
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ConfusionMatrix:
    """Counts of (true class, predicted class) pairs.

    Attributes
    ----------
    counts : ndarray of int, shape (K, K)
        ``counts[i, j]``: rows whose label is class ``i`` and whose prediction is class ``j``
        (scikit-learn's convention: true classes down, predictions across).
    classes : tuple
        Class names, in index order.
    """

    counts: np.ndarray
    classes: tuple

    @property
    def n(self) -> int:
        """Total number of rows."""
        return int(self.counts.sum())

    @property
    def accuracy(self) -> float:
        """Share of rows on the diagonal."""
        return float(np.trace(self.counts) / self.n)

    def normalized(self) -> np.ndarray:
        """Each row divided by its total: the share of each true class predicted as each class (NaN rows: no rows)."""
        totals = self.counts.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, self.counts / totals, np.nan)

    def to_frame(self):
        """The counts as a ``DataFrame``: index ``true``, columns ``predicted``, labelled by class name."""
        import pandas as pd

        names = [str(c) for c in self.classes]
        return pd.DataFrame(self.counts, index=pd.Index(names, name="true"),
                            columns=pd.Index(names, name="predicted"))

    def __repr__(self) -> str:
        return f"ConfusionMatrix(n={self.n}, classes={list(self.classes)}, accuracy={self.accuracy:.4f})"


def confusion_matrix(y_true, probs, *, classes=None) -> ConfusionMatrix:
    """Confusion matrix of the most probable class against the label.

    Examples
    --------
    >>> cm = confusion_matrix(["a", "b", "b"], [[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]], classes=["a", "b"])
    >>> cm.counts.tolist(), cm.accuracy
    ([[1, 0], [1, 1]], 0.6666666666666666)
    """
    y, p, names = check_probs_labels(y_true, probs, classes=classes)
    k = p.shape[1]
    counts = np.bincount(y * k + p.argmax(axis=1), minlength=k * k).reshape(k, k)
    counts.setflags(write=False)
    return ConfusionMatrix(counts=counts, classes=names)


def class_report(y_true, probs, *, classes=None):
    """Precision, recall, F1 and support of each class, as a ``DataFrame`` (one row per class).

    ``precision`` is NaN for a class never predicted, ``recall`` for a class absent from
    ``y_true`` (undefined, not 0); ``f1`` is NaN where either is. ``support`` counts the
    rows of each class, ``predicted`` the rows predicted as it.

    Examples
    --------
    >>> class_report([0, 1, 1], [[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]).round(3).to_dict("list")["recall"]
    [1.0, 0.5]
    """
    import pandas as pd

    cm = confusion_matrix(y_true, probs, classes=classes)
    tp = np.diag(cm.counts).astype(float)
    support = cm.counts.sum(axis=1)
    predicted = cm.counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(support > 0, tp / support, np.nan)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    f1 = np.where(np.isnan(precision) | np.isnan(recall), np.nan, f1)
    return pd.DataFrame({"class": [str(c) for c in cm.classes], "precision": precision, "recall": recall,
                         "f1": f1, "support": support, "predicted": predicted})


# ---------------------------------------------------------------------------
# bootstrap
# ---------------------------------------------------------------------------
def multiclass_bootstrap_ci(metric: Callable, y_true, probs, *, classes=None, n_boot: int = 1000,
                            level: float = 0.95, rng=None) -> Interval:
    """Percentile bootstrap interval for any ``metric(y_true, probs) -> float`` of this module.

    The K-class counterpart of :func:`confnb.intervals.bootstrap_ci` (which takes 1-D
    binary pairs: use it directly on :func:`top_label`'s pair). Rows are resampled with
    replacement; resamples on which the metric raises ``ValueError`` are skipped (more than
    10% failing raises), warnings are silenced inside the loop.

    Parameters
    ----------
    metric : callable
        E.g. :func:`multiclass_brier_score` or ``functools.partial(top_label_ece, n_bins=10)``.
    y_true, probs, classes
        As in the module docstring; labels are passed on to ``metric`` as indices.
    n_boot, level, rng
        As in :func:`confnb.intervals.bootstrap_ci`.

    Returns
    -------
    Interval

    Examples
    --------
    >>> y = [0, 1, 2, 0, 1, 2, 0, 1]
    >>> probs = [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.5, 0.3, 0.2],
    ...          [0.3, 0.4, 0.3], [0.2, 0.2, 0.6], [0.6, 0.2, 0.2], [0.4, 0.5, 0.1]]
    >>> ci = multiclass_bootstrap_ci(multiclass_brier_score, y, probs, n_boot=200, rng=0)
    >>> ci.low <= ci.estimate <= ci.high
    True
    """
    y, p, _ = check_probs_labels(y_true, probs, classes=classes)
    level, n_boot = check_level(level), check_n_boot(n_boot)
    estimate = float(metric(y, p))
    n = y.shape[0]

    def draw(gen):
        idx = gen.integers(0, n, size=n)
        return metric(y[idx], p[idx])

    return resample_interval(draw, estimate, n_boot=n_boot, level=level, rng=rng)
