"""Calibrated predictions: one rule that turns calibrated scores into (prediction, confidence).

* :func:`class_to_confidence` -- a probability of the positive class becomes the predicted
  class and the confidence of that prediction (always at least 0.5).
* :func:`calibrated_prediction` -- the rule for both calibration targets, which ``confnb
  score --calibrator`` writes and ``confnb report`` evaluates, so the two always agree.
* :func:`add_confidence_column` -- that rule applied to a scored table with a saved
  calibrator (``confnb score --calibrator``; re-exported by :mod:`confnb.report`).

Out of scope: fitting calibrators (:mod:`confnb.calibration`) and choosing thresholds on the
confidences (:mod:`confnb.thresholds`).
"""

from __future__ import annotations

import numpy as np

from ._validation import as_prob, check_target
from .columns import CALIBRATED_PREDICTION, CONFIDENCE, NO_CLASS_TOKEN, PREDICTION, TARGET_SCORE_COLUMN
from .targets import csv_flag
from .tasks import SENTIMENT

__all__ = ["add_confidence_column", "calibrated_prediction", "class_to_confidence"]


def class_to_confidence(p_positive, *, labels=None):
    """Turn probabilities of the positive class into (prediction, confidence).

    The prediction is the positive class where ``p_positive >= 0.5``; its confidence is
    ``p_positive`` for positive predictions and ``1 - p_positive`` for negative ones, so
    it is always at least 0.5 here.

    Parameters
    ----------
    p_positive : array-like of float in [0, 1]
        (Calibrated) probability that the label is the positive class.
    labels : (negative, positive) or None
        Names to return instead of 0/1, e.g. ``("negative", "positive")``.

    Returns
    -------
    prediction : ndarray
        1 / 0, or the names from ``labels``.
    confidence : ndarray of float

    Examples
    --------
    >>> pred, conf = class_to_confidence([0.9, 0.2], labels=("negative", "positive"))
    >>> pred.tolist(), conf.round(2).tolist()
    (['positive', 'negative'], [0.9, 0.8])
    """
    p = as_prob(p_positive, "p_positive")
    positive = p >= 0.5
    confidence = np.where(positive, p, 1.0 - p)
    if labels is None:
        return positive.astype(np.int64), confidence
    if len(labels) != 2:
        raise ValueError(f"labels must be a (negative, positive) pair; got {labels!r}")
    return np.where(positive, labels[1], labels[0]), confidence


def calibrated_prediction(calibrated, *, target: str, prediction=None, labels=None):
    """The prediction and its confidence after calibration: one rule for reports and scoring.

    ``confnb score --calibrator`` writes these pairs and ``confnb report`` evaluates them,
    so the two always agree.

    * **confidence** target: the calibrated value *is* P(the model's prediction is
      correct), so the model's ``prediction`` is kept and ``confidence = calibrated``
      (which may fall below 0.5: send such rows to a human).
    * **class** target: the calibrated value is P(label is positive). It defines both the
      prediction (positive where ``p >= 0.5``) and its confidence ``max(p, 1 - p)``, as in
      :func:`class_to_confidence`. Calibrating the class probability exists to correct a
      bias in the model's own 0.5 cut-off (a prompt that leans towards one class); keeping
      the model's prediction would discard that correction and pair it with a confidence
      below 0.5 whenever the two disagree. For binary tasks.

    Parameters
    ----------
    calibrated : array-like of float in [0, 1]
        ``calibrator.predict_proba(scores)``.
    target : {"confidence", "class"}
    prediction : array-like, optional
        The model's predictions; returned unchanged for the confidence target.
    labels : (negative, positive) or None
        Class names for the class target's predictions (default 0 / 1).

    Returns
    -------
    prediction : ndarray or None
    confidence : ndarray of float

    Examples
    --------
    >>> pred, conf = calibrated_prediction([0.3], target="class", labels=("negative", "positive"))
    >>> pred.tolist(), conf.round(2).tolist()
    (['negative'], [0.7])
    >>> pred, conf = calibrated_prediction([0.3], target="confidence", prediction=["positive"])
    >>> pred.tolist(), conf.round(2).tolist()
    (['positive'], [0.3])
    """
    if check_target(target) == "class":
        return class_to_confidence(calibrated, labels=labels)
    confidence = as_prob(calibrated, "calibrated")
    if prediction is None:
        return None, confidence
    prediction = np.asarray(prediction, dtype=object).reshape(-1)
    if prediction.shape != confidence.shape:
        raise ValueError(f"prediction has {prediction.shape[0]} rows but calibrated has {confidence.shape[0]}")
    return prediction, confidence


def add_confidence_column(scores_df, calibrator, *, target: str | None = None,
                          positive: str = SENTIMENT.positive_class, negative: str = SENTIMENT.negative_class):
    """Copy of ``scores_df`` with ``calibrated_prediction`` and its ``confidence``.

    Both come from :func:`confnb.calibration.calibrated_prediction`, the rule ``confnb
    report`` evaluates: for the confidence target the model's ``prediction`` is kept and
    ``confidence`` is P(it is correct); for the class target the calibrated ``p_positive``
    decides (positive where ``p >= 0.5``) and ``confidence = max(p, 1 - p)``. Rows without
    scores (``no_class_token``, blank score) get blank values. The calibrator's fit rows are
    not checked here; see :func:`confnb.fingerprints.fit_row_overlap`.

    Parameters
    ----------
    scores_df : pandas.DataFrame
        Scored rows (labels not needed).
    calibrator : confnb.calibration.Calibrator
        Fitted on other rows.
    target : {"confidence", "class"}, optional
        Defaults to the calibrator's recorded target, else "confidence".
    positive, negative : str
        Class names of the class target's calibrated predictions.

    Examples
    --------
    >>> import pandas as pd
    >>> from confnb.calibration import TemperatureCalibrator
    >>> cal = TemperatureCalibrator(target="confidence").fit([0.9, 0.8, 0.7, 0.95], [1, 0, 0, 1])
    >>> out = add_confidence_column(pd.DataFrame({"prediction": ["positive"], "total_probability": [0.9]}), cal)
    >>> out["calibrated_prediction"].tolist()
    ['positive']
    """
    target = check_target(target or calibrator.target or "confidence")
    if calibrator.target is not None and calibrator.target != target:
        raise ValueError(
            f"the calibrator was fit for target {calibrator.target!r}, not {target!r}; "
            "use a calibrator fit on the same kind of score"
        )
    col = TARGET_SCORE_COLUMN[target]
    if col not in scores_df.columns:
        raise ValueError(f"scores_df has no {col!r} column, which a {target!r} calibrator needs")
    if target == "confidence" and PREDICTION not in scores_df.columns:
        raise ValueError("scores_df has no 'prediction' column, the prediction whose confidence is reported")
    out = scores_df.copy()
    raw = out[col].to_numpy(dtype=object)
    ok = ~out[col].isna().to_numpy()
    if NO_CLASS_TOKEN in out.columns:
        ok &= ~np.array([csv_flag(v) for v in out[NO_CLASS_TOKEN]], dtype=bool)
    prediction = np.full(len(out), None, dtype=object)
    confidence = np.full(len(out), np.nan)
    if ok.any():
        pred, conf = calibrated_prediction(
            calibrator.predict_proba(raw[ok]),
            target=target,
            prediction=out[PREDICTION].to_numpy()[ok] if target == "confidence" else None,
            labels=(negative, positive),
        )
        prediction[ok], confidence[ok] = pred, conf
    out[CALIBRATED_PREDICTION] = prediction
    out[CONFIDENCE] = confidence
    return out
