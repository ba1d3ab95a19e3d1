"""Compare two models on the same labelled rows: outcomes, calibrated confidences, paired differences.

* :func:`calibrated_outcomes` -- one model's correctness on the report rows, and its raw,
  Platt and isotonic confidence, the calibrators fit on other labelled rows.
* :func:`paired_model_difference` -- a paired bootstrap interval for
  ``metric(model A) - metric(model B)`` when the two models are scored on the same rows but
  are right on different ones (so each has its own ``y_true``, e.g. its correctness).

:func:`confnb.metrics.paired_bootstrap_difference` covers the simpler case of one
``y_true`` and two ``y_prob`` (two calibrators of one model, or two models' probabilities
of the same class). Use :func:`paired_model_difference` for the confidence target, where
``y_true`` is "this model's prediction was correct" and differs between the models.

Out of scope: training or scoring models (see :mod:`confnb.finetune`, :func:`confnb.classify`),
drawing (see :mod:`confnb.plots`), and more than two models at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from .calibration import IsotonicCalibrator, PlattCalibrator
from .metrics import Interval, _check_pair, _paired_difference

__all__ = ["CONFIDENCE_METHODS", "Outcomes", "calibrated_outcomes", "paired_model_difference"]

#: The confidences :func:`calibrated_outcomes` returns, in display order.
CONFIDENCE_METHODS = ("raw", "Platt", "isotonic")


@dataclass(frozen=True, repr=False, eq=False)
class Outcomes:
    """One model's results on the report rows (see :func:`calibrated_outcomes`).

    Attributes
    ----------
    correct : ndarray of bool
        Whether each prediction on the report rows was right.
    confidence : mapping of str to ndarray
        ``"raw"`` (the ``total_probability`` of the predicted class), ``"Platt"`` and
        ``"isotonic"`` (calibrated estimates of P(correct)), aligned with ``correct``.
    n_fit : int
        Labelled rows the calibrators were fit on (none of them report rows).
    """

    correct: np.ndarray
    confidence: Mapping[str, np.ndarray]
    n_fit: int

    @property
    def accuracy(self) -> float:
        """Share of correct predictions on the report rows."""
        return float(np.mean(self.correct))

    def __repr__(self) -> str:
        means = ", ".join(f"{m} {float(np.mean(p)):.3f}" for m, p in self.confidence.items())
        return f"Outcomes(n={self.correct.size}, accuracy={self.accuracy:.3f}; mean confidence: {means})"


def _correct(scores, labels) -> np.ndarray:
    prediction = np.asarray(scores["prediction"]).astype(str)
    labels = np.asarray(labels).astype(str)
    if prediction.shape != labels.shape:
        raise ValueError(f"scores and labels differ in length ({prediction.size} vs {labels.size}); "
                         "pass the labels of the rows that were scored, in the same order")
    return prediction == labels


def calibrated_outcomes(test_scores, test_labels, cal_scores, cal_labels) -> Outcomes:
    """Correctness and raw / Platt / isotonic confidence on report rows, calibrated on other rows.

    Both calibrators use the **confidence** target: they learn P(correct) from the raw
    ``total_probability`` of the predicted class on the calibration rows (``cal_*``) and are
    then applied to the report rows (``test_*``), so no report row helps fit them.

    Parameters
    ----------
    test_scores, cal_scores : pandas.DataFrame
        Output of :func:`confnb.classify` (columns ``prediction`` and ``total_probability``).
    test_labels, cal_labels : array-like of str
        The true labels of the scored rows, in the same order.

    Returns
    -------
    Outcomes

    Examples
    --------
    >>> import pandas as pd
    >>> cal = pd.DataFrame({"prediction": ["positive", "negative"] * 20,
    ...                     "total_probability": [0.55, 0.6, 0.9, 0.95] * 10})
    >>> cal_labels = ["positive", "positive", "positive", "negative"] * 10
    >>> test = cal.iloc[:4]
    >>> out = calibrated_outcomes(test, ["positive", "negative", "negative", "negative"], cal, cal_labels)
    >>> out.correct.tolist(), sorted(out.confidence)
    ([True, True, False, True], ['Platt', 'isotonic', 'raw'])
    """
    correct = _correct(test_scores, test_labels)
    cal_correct = _correct(cal_scores, cal_labels)
    raw = np.asarray(test_scores["total_probability"], dtype=float)
    cal_raw = np.asarray(cal_scores["total_probability"], dtype=float)
    platt = PlattCalibrator(target="confidence").fit(cal_raw, cal_correct)
    isotonic = IsotonicCalibrator(target="confidence").fit(cal_raw, cal_correct)
    confidence = {"raw": raw, "Platt": platt.predict_proba(raw), "isotonic": isotonic.predict_proba(raw)}
    for array in (correct, *confidence.values()):
        array.setflags(write=False)
    return Outcomes(correct=correct, confidence=confidence, n_fit=int(cal_correct.size))


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
    n_boot : int, default 1000
    level : float, default 0.95
        Two-sided coverage.
    rng : int, numpy.random.Generator or None
        Seed or generator for the resampling.

    Returns
    -------
    Interval
        ``estimate`` is the difference on all rows; ``low > 0`` says model ``a`` scores higher
        at ``level``, ``high < 0`` lower (``Interval.excludes_zero``).

    Examples
    --------
    >>> from confnb.metrics import brier_score
    >>> a_true, a_prob = [1, 1, 0, 1, 1, 0, 1, 1], [0.9, 0.8, 0.2, 0.9, 0.7, 0.1, 0.8, 0.9]
    >>> b_true, b_prob = [1, 0, 0, 1, 0, 0, 1, 1], [0.6, 0.6, 0.5, 0.6, 0.6, 0.4, 0.5, 0.6]
    >>> diff = paired_model_difference(brier_score, a_true, a_prob, b_true, b_prob, n_boot=200, rng=0)
    >>> diff.estimate < 0 and diff.high < 0
    True
    """
    ta, pa = _check_pair(y_true_a, y_prob_a, true_name="y_true_a", prob_name="y_prob_a")
    tb, pb = _check_pair(y_true_b, y_prob_b, true_name="y_true_b", prob_name="y_prob_b")
    if ta.shape != tb.shape:
        raise ValueError(f"model a has {ta.size} rows and model b {tb.size}; a paired comparison needs "
                         "the same rows, in the same order, for both")
    return _paired_difference(metric, ta, pa, tb, pb, n_boot=n_boot, level=level, rng=rng)
