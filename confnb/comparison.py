"""Compare two models on the same labelled rows: outcomes, calibrated confidences, paired differences.

* :func:`calibrated_outcomes` -- one model's correctness on the report rows, and its raw,
  Platt and isotonic confidence, the calibrators fit on other labelled rows.
* :func:`paired_model_difference` -- a paired bootstrap interval for
  ``metric(model A) - metric(model B)`` when the two models are scored on the same rows but
  are right on different ones (so each has its own ``y_true``, e.g. its correctness).
  Defined in :mod:`confnb.intervals` with the other bootstrap intervals, re-exported here.

:func:`confnb.metrics.paired_bootstrap_difference` covers the simpler case of one
``y_true`` and two ``y_prob`` (two calibrators of one model, or two models' probabilities
of the same class). Use :func:`paired_model_difference` for the confidence target, where
``y_true`` is "this model's prediction was correct" and differs between the models.

Out of scope: training or scoring models (see :mod:`confnb.finetune`, :func:`confnb.classify`),
drawing (see :mod:`confnb.plots`), and more than two models at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .calibration import IsotonicCalibrator, PlattCalibrator
from .columns import PREDICTION, TOTAL_PROBABILITY
from .intervals import Interval, paired_model_difference  # noqa: F401  (re-exported)

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
    prediction = np.asarray(scores[PREDICTION]).astype(str)
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
    raw = np.asarray(test_scores[TOTAL_PROBABILITY], dtype=float)
    cal_raw = np.asarray(cal_scores[TOTAL_PROBABILITY], dtype=float)
    platt = PlattCalibrator(target="confidence").fit(cal_raw, cal_correct)
    isotonic = IsotonicCalibrator(target="confidence").fit(cal_raw, cal_correct)
    confidence = {"raw": raw, "Platt": platt.predict_proba(raw), "isotonic": isotonic.predict_proba(raw)}
    for array in (correct, *confidence.values()):
        array.setflags(write=False)
    return Outcomes(correct=correct, confidence=confidence, n_fit=int(cal_correct.size))
