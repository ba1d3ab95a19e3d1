"""Evaluation reports from a scored DataFrame (``classify`` output or a ``confnb score`` CSV).

* :func:`target_arrays` -- pick scores and outcomes for a calibration target.
* :func:`calibrate_scores` -- fit a calibrator on all rows *and* measure, by cross-fitting,
  what calibration does on rows it has not seen (the ``confnb calibrate`` command).
* :func:`write_report` -- PNG charts, ``metrics.json`` and ``summary.md`` (``confnb report``).
* :func:`add_confidence_column` -- apply a saved calibrator to new scores
  (``confnb score --calibrator``).
* :func:`fingerprint_rows` / :func:`fit_row_overlap` -- record which rows a calibrator was
  fit on, and find them again in another file.
* :func:`format_metrics` -- the before/after table as plain text.

Honest numbers: no metric here is computed on rows a calibrator was fit on unless you ask
for it, and then every such number is labelled "in-sample (optimistic)". Without a
calibrator, calibrated scores are out-of-fold (:func:`confnb.calibration.cross_calibrate`).
With one, its recorded fit rows (``fit_rows_``) are looked up in the rows given: rows it was
fit on are left out of the evaluation, all of them overlapping is refused, and a calibrator
without a record is reported as "fit rows unknown".

Rows without scores are skipped and counted, never silently: rows a remote server flagged
``no_class_token`` (no class token among its top-k, so ``p_positive`` is NaN) and rows with
a blank ``total_probability`` or ``p_positive`` (``--skip-empty``).

Out of scope: running a model (see :mod:`confnb.scoring`) and HTML reports.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .calibration import TARGETS, Calibrator, calibrated_prediction, cross_calibrate, make_calibrator
from .metrics import (
    _as_binary,
    bootstrap_ci,
    accuracy,
    brier_score,
    expected_calibration_error,
    log_loss,
    maximum_calibration_error,
    share_correct,
)
from .tasks import NEGATIVE_SPELLINGS, POSITIVE_SPELLINGS, label_text
from .thresholds import DEFAULT_THRESHOLDS, threshold_table

__all__ = [
    "METRIC_NAMES",
    "add_confidence_column",
    "calibrate_scores",
    "fingerprint_rows",
    "fit_row_overlap",
    "format_metrics",
    "target_arrays",
    "write_report",
]

#: Metrics reported before and after calibration, in this order.
METRIC_NAMES = ("accuracy", "ece", "mce", "brier", "log_loss")
SCORE_COLUMN = {"confidence": "total_probability", "class": "p_positive"}
LABEL_HINT = "score a labelled file with `confnb score --label-column label` (or pass labels to classify)"
#: Boolean column of remote scores: no class token among the server's top-k (p_positive is NaN).
NO_CLASS_TOKEN = "no_class_token"
IN_SAMPLE = "in-sample (optimistic)"


def _check_target_name(target):
    if target not in TARGETS:
        raise ValueError(f"target must be 'confidence' or 'class'; got {target!r}")
    return target


def _flag(value) -> bool:
    """A boolean cell of a CSV read back by pandas (bool, 0/1, "True"/"false", blank)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return str(value).strip().lower() in ("1", "1.0", "true", "yes")


def _skip_message(skipped: dict) -> list[str]:
    lines = []
    if skipped.get("no_class_token"):
        lines.append(f"skipped {skipped['no_class_token']} rows with no class token among the server's top-k")
    if skipped.get("no_score"):
        lines.append(f"skipped {skipped['no_score']} rows with blank total_probability or p_positive "
                     "(empty texts kept by --skip-empty, or unscored)")
    return lines


def _scored_rows(scores_df, target):
    """(kept rows, skipped counts): drop rows without scores, count why."""
    _check_target_name(target)
    if not hasattr(scores_df, "columns"):
        raise ValueError("scores_df must be a pandas DataFrame (e.g. pd.read_csv of a `confnb score` CSV)")
    score_col = SCORE_COLUMN[target]
    if score_col not in scores_df.columns:
        raise ValueError(
            f"scores_df has no {score_col!r} column (needed for target {target!r}); pass the output of "
            "confnb.scoring.classify or a `confnb score` CSV"
        )
    if len(scores_df) == 0:
        raise ValueError("scores_df has no rows")
    no_token = np.zeros(len(scores_df), dtype=bool)
    if NO_CLASS_TOKEN in scores_df.columns:  # optional: only remote scores have it
        no_token = np.array([_flag(v) for v in scores_df[NO_CLASS_TOKEN]], dtype=bool)
    blank = np.zeros(len(scores_df), dtype=bool)
    for col in ("total_probability", "p_positive"):
        if col in scores_df.columns:  # NaN or empty; anything else non-numeric is an error later
            blank |= scores_df[col].isna().to_numpy()
    skipped = {"no_class_token": int(no_token.sum()), "no_score": int((blank & ~no_token).sum())}
    keep = ~(no_token | blank)
    if not keep.any():
        reasons = "; ".join(_skip_message(skipped))
        raise ValueError(
            f"none of the {len(scores_df)} rows has scores to use ({reasons}); score rows whose answer "
            "the model puts among its class tokens, or ask the server for more top log-probabilities"
        )
    return scores_df.loc[keep], skipped


def _outcomes(labels, *, positive: str, classes, column: str) -> np.ndarray:
    """1 where a label means the positive class, 0 where it means another class."""
    out = np.empty(len(labels), dtype=np.int64)
    unknown = set()
    missing = 0
    for i, value in enumerate(labels):
        text = label_text(value)
        if text is None:
            missing += 1
        elif text == positive:
            out[i] = 1
        elif text in classes:
            out[i] = 0
        elif text.lower() in POSITIVE_SPELLINGS:
            out[i] = 1
        elif text.lower() in NEGATIVE_SPELLINGS:
            out[i] = 0
        else:
            unknown.add(text)
    if missing:
        raise ValueError(f"{column!r} has {missing} missing value(s); drop those rows first")
    if unknown:
        shown = ", ".join(repr(u) for u in sorted(unknown)[:5])
        raise ValueError(
            f"{column!r} has values that are neither the positive class {positive!r}, another predicted "
            f"class ({sorted(classes - {positive})}), nor 1/0 or true/false: {shown}. Fix the labels, or "
            "name the task's positive class with --positive-class (positive=...)"
        )
    return out


def _arrays(rows, target, *, positive: str, label_column: str):
    from .metrics import _as_prob

    score_col = SCORE_COLUMN[target]
    scores = _as_prob(rows[score_col], score_col)
    if target == "confidence":
        if "correct" not in rows.columns:
            raise ValueError(
                "scores_df has no 'correct' column, so there is nothing to check the scores against; "
                + LABEL_HINT
            )
        return scores, _as_binary(rows["correct"], "correct")
    if label_column not in rows.columns:
        raise ValueError(
            f"scores_df has no {label_column!r} column, so there is nothing to check the scores against; "
            f"name the label column with --label-column (label_column=...), or {LABEL_HINT}"
        )
    labels = [label_text(v) for v in rows[label_column]]
    predicted = set()
    if "prediction" in rows.columns:
        predicted = {t for t in (label_text(v) for v in rows["prediction"]) if t is not None}
    spellings_only = all(t is None or t.lower() in POSITIVE_SPELLINGS | NEGATIVE_SPELLINGS for t in labels)
    if predicted and positive not in predicted | set(labels) and not spellings_only:
        raise ValueError(
            f"the positive class {positive!r} appears in neither {label_column!r} nor the predictions "
            f"({sorted(predicted)}); name the task's positive class with --positive-class (positive=...)"
        )
    classes = predicted | {positive}
    return scores, _outcomes(rows[label_column], positive=positive, classes=classes, column=label_column)


def target_arrays(scores_df, target: str = "confidence", *, positive: str = "positive",
                  label_column: str = "label"):
    """Scores and 0/1 outcomes of a scored DataFrame for one calibration target.

    Rows without scores (a remote server's ``no_class_token`` rows, blank
    ``total_probability`` or ``p_positive``) are left out with a warning that counts them.

    Parameters
    ----------
    scores_df : pandas.DataFrame
        Output of :func:`confnb.scoring.classify` or a ``confnb score`` CSV, with labels.
    target : {"confidence", "class"}
        ``"confidence"``: (``total_probability``, ``correct``);
        ``"class"``: (``p_positive``, label is the positive class).
    positive : str, default "positive"
        The task's positive class (:attr:`confnb.tasks.ClassificationTask.positive_class`), the
        class ``p_positive`` is about (class target).
    label_column : str, default "label"
        Column of true labels (class target): the positive class name, another class name
        (one the model predicts), or 1/0, true/false, yes/no.

    Returns
    -------
    scores : ndarray of float
    y_true : ndarray of int

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"total_probability": [0.9, 0.6], "correct": [True, False]})
    >>> s, y = target_arrays(df)
    >>> y.tolist()
    [1, 0]
    >>> df = pd.DataFrame({"p_positive": [0.9, 0.2], "label": [1, 0]})
    >>> target_arrays(df, "class")[1].tolist()
    [1, 0]
    """
    import warnings

    rows, skipped = _scored_rows(scores_df, target)
    for line in _skip_message(skipped):
        warnings.warn(line, UserWarning, stacklevel=2)
    return _arrays(rows, target, positive=positive, label_column=label_column)


# ------------------------------------------------------------------------------ fit-row fingerprints

FINGERPRINT_SCORE_COLUMNS = ("total_probability", "p_positive")


def _hash(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _row_hashes(frame, kind: str, *, text_column: str, columns=FINGERPRINT_SCORE_COLUMNS) -> list[str] | None:
    """One 16-hex-digit hash per row, or None when ``frame`` lacks the columns for ``kind``."""
    import unicodedata

    if kind == "text":
        if text_column not in frame.columns:
            return None
        out = []
        for v in frame[text_column]:
            text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            out.append(_hash(" ".join(unicodedata.normalize("NFC", text).split())))
        return out
    if not columns or any(c not in frame.columns for c in columns):
        return None
    import pandas as pd

    cols = [pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in columns]
    return [_hash(",".join(f"{x:.8g}" for x in row)) for row in zip(*cols)]


def fingerprint_rows(frame, *, text_column: str = "text") -> dict:
    """A small record of which rows a calibrator is fit on, saved with it as ``fit_rows_``.

    Each row is hashed (SHA-1, first 16 hex digits) from its text, whitespace-normalised,
    so the record survives CSV round-trips and re-scoring with another model; a frame
    without ``text_column`` is hashed from its ``total_probability`` and ``p_positive``
    (those present; 8 significant digits, so only files scored the same way match).
    Duplicate texts share a hash: a test text that repeats a calibration text *is* in-sample.

    Returns
    -------
    dict
        ``{"kind": "text" | "scores", "n": rows, "hashes": sorted unique hashes}``, plus
        ``"columns"`` (the score columns hashed) for kind "scores".

    Examples
    --------
    >>> import pandas as pd
    >>> fp = fingerprint_rows(pd.DataFrame({"text": ["Great!", "Awful", " Great! "]}))
    >>> fp["kind"], fp["n"], len(fp["hashes"])
    ('text', 3, 2)
    """
    if text_column in frame.columns:
        hashes = _row_hashes(frame, "text", text_column=text_column)
        return {"kind": "text", "n": len(hashes), "hashes": sorted(set(hashes))}
    columns = [c for c in FINGERPRINT_SCORE_COLUMNS if c in frame.columns]
    hashes = _row_hashes(frame, "scores", text_column=text_column, columns=columns)
    if hashes is None:
        raise ValueError(
            f"cannot fingerprint the rows: no {text_column!r} column (pass text_column=) and no "
            f"{' or '.join(FINGERPRINT_SCORE_COLUMNS)} column"
        )
    return {"kind": "scores", "columns": columns, "n": len(hashes), "hashes": sorted(set(hashes))}


def fit_row_overlap(calibrator, frame, *, text_column: str = "text"):
    """Which rows of ``frame`` the calibrator was fit on, from its ``fit_rows_`` record.

    Returns
    -------
    ndarray of bool or None
        True for rows it was fit on. None when that cannot be known: the calibrator has no
        record (older file, or not fit by :func:`calibrate_scores`), or ``frame`` lacks
        the column the record was made from.

    Examples
    --------
    >>> import pandas as pd
    >>> from confnb.calibration import PlattCalibrator
    >>> cal = PlattCalibrator().fit([0.6, 0.9, 0.7, 0.99], [0, 1, 1, 1])
    >>> cal.fit_rows_ = fingerprint_rows(pd.DataFrame({"text": ["a", "b", "c", "d"]}))
    >>> fit_row_overlap(cal, pd.DataFrame({"text": ["b", "e"]})).tolist()
    [True, False]
    """
    record = getattr(calibrator, "fit_rows_", None)
    if record is None:
        return None
    columns = record.get("columns", FINGERPRINT_SCORE_COLUMNS)
    hashes = _row_hashes(frame, record["kind"], text_column=text_column, columns=columns)
    if hashes is None:
        return None
    known = set(record["hashes"])
    return np.array([h in known for h in hashes], dtype=bool)


def _seeds(rng, k):
    gen = np.random.default_rng(rng)
    return [int(x) for x in gen.integers(0, 2**31 - 1, size=k)]


def _metric_functions(target, n_bins):
    acc = share_correct if target == "confidence" else accuracy
    return {
        "accuracy": acc,
        "ece": lambda t, p: expected_calibration_error(t, p, n_bins=n_bins),
        "mce": lambda t, p: maximum_calibration_error(t, p, n_bins=n_bins),
        "brier": brier_score,
        "log_loss": log_loss,
    }


def _metrics_with_intervals(y_true, y_prob, *, target, n_bins, n_boot, seed, level=0.95) -> dict:
    # the same seed for every metric: all intervals come from the same resamples
    out = {}
    for name, fn in _metric_functions(target, n_bins).items():
        out[name] = bootstrap_ci(fn, y_true, y_prob, n_boot=n_boot, level=level, rng=seed).to_dict()
    return out


def _clean(obj):
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_clean(v) for v in obj.tolist()]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    return obj


def calibrate_scores(
    scores_df,
    *,
    method: str = "platt",
    target: str = "confidence",
    n_splits: int = 5,
    n_bins: int = 20,
    n_boot: int = 1000,
    positive: str = "positive",
    label_column: str = "label",
    text_column: str = "text",
    rng=0,
):
    """Fit a calibrator on all rows and measure its effect honestly, by cross-fitting.

    The returned calibrator is fit on every row with scores (use it on *new* data) and
    carries ``fit_rows_``, a fingerprint of those rows (:func:`fingerprint_rows`), so that
    :func:`write_report` and ``confnb score --calibrator`` can tell when it meets them
    again. The metrics are not computed with it: "after" comes from out-of-fold scores of
    :func:`cross_calibrate`, so each row is scored by a calibrator that never saw it.

    Parameters
    ----------
    scores_df : pandas.DataFrame
        Scored rows with labels (see :func:`target_arrays`).
    method : {"platt", "isotonic", "temperature"}
    target : {"confidence", "class"}
    n_splits : int, default 5
    n_bins : int, default 20
    n_boot : int, default 1000
        Bootstrap resamples for the intervals.
    positive, label_column : str
        See :func:`target_arrays`.
    text_column : str, default "text"
        Column the fit-row fingerprint is made from (scores when absent).
    rng : int, Generator or None, default 0

    Returns
    -------
    calibrator : Calibrator
        Fitted on all rows with scores, ``target`` and ``fit_rows_`` recorded.
    metrics : dict
        ``{"target", "method", "n", "n_splits", "n_bins", "evaluation", "skipped", "before",
        "after"}``; ``skipped`` counts rows left out for lack of scores (``no_class_token``,
        ``no_score``); ``before``/``after`` map each of :data:`METRIC_NAMES` to
        ``{"estimate", "low", "high", "level"}``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> gen = np.random.default_rng(0)
    >>> conf = gen.uniform(0.5, 1, 300)
    >>> df = pd.DataFrame({"total_probability": conf, "correct": gen.uniform(size=300) < conf - 0.2})
    >>> cal, metrics = calibrate_scores(df, method="platt", n_boot=50)
    >>> metrics["after"]["ece"]["estimate"] < metrics["before"]["ece"]["estimate"]
    True
    """
    rows, skipped = _scored_rows(scores_df, target)
    scores, y_true = _arrays(rows, target, positive=positive, label_column=label_column)
    template = make_calibrator(method, target=target)
    seed_cv, seed_boot = _seeds(rng, 2)
    calibrated = cross_calibrate(scores, y_true, template, n_splits=n_splits, rng=seed_cv)
    calibrator = template.clone().fit(scores, y_true)
    calibrator.target = target
    calibrator.fit_rows_ = fingerprint_rows(rows, text_column=text_column)
    metrics = {
        "target": target,
        "method": calibrator.method,
        "n": int(y_true.shape[0]),
        "n_splits": int(n_splits),
        "n_bins": int(n_bins),
        "evaluation": f"out-of-fold ({n_splits}-fold cross-fitting); the saved calibrator is fit on all rows",
        "skipped": skipped,
        "before": _metrics_with_intervals(y_true, scores, target=target, n_bins=n_bins, n_boot=n_boot,
                                          seed=seed_boot),
        "after": _metrics_with_intervals(y_true, calibrated, target=target, n_bins=n_bins, n_boot=n_boot,
                                         seed=seed_boot),
    }
    return calibrator, _clean(metrics)


def format_metrics(metrics: dict, *, digits: int = 3) -> str:
    """Plain-text table of a metrics dict from :func:`calibrate_scores` or :func:`write_report`.

    Examples
    --------
    >>> m = {"before": {"ece": {"estimate": 0.1, "low": 0.08, "high": 0.12, "level": 0.95}},
    ...      "after": {"ece": {"estimate": 0.02, "low": 0.01, "high": 0.03, "level": 0.95}}}
    >>> print(format_metrics(m))
    metric    before                after
    ece       0.100 [0.080, 0.120]  0.020 [0.010, 0.030]
    """
    cols = [k for k in ("before", "after", "raw", "calibrated") if k in metrics]
    names = [n for n in METRIC_NAMES if any(n in metrics[c] for c in cols)]

    def cell(d):
        if d is None:
            return "n/a"
        f = f"{{:.{digits}f}}"
        low, high = d.get("low"), d.get("high")
        est = "n/a" if d.get("estimate") is None else f.format(d["estimate"])
        if low is None or high is None:
            return est
        return f"{est} [{f.format(low)}, {f.format(high)}]"

    rows = [["metric", *cols]] + [[n, *(cell(metrics[c].get(n)) for c in cols)] for n in names]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in rows)


def add_confidence_column(scores_df, calibrator: Calibrator, *, target: str | None = None,
                          positive: str = "positive", negative: str = "negative"):
    """Copy of ``scores_df`` with ``calibrated_prediction`` and its ``confidence``.

    Both come from :func:`confnb.calibration.calibrated_prediction`, the rule ``confnb
    report`` evaluates: for the confidence target the model's ``prediction`` is kept and
    ``confidence`` is P(it is correct); for the class target the calibrated ``p_positive``
    decides (positive where ``p >= 0.5``) and ``confidence = max(p, 1 - p)``. Rows without
    scores (``no_class_token``, blank score) get blank values. The calibrator's fit rows are
    not checked here; see :func:`fit_row_overlap`.

    Parameters
    ----------
    scores_df : pandas.DataFrame
        Scored rows (labels not needed).
    calibrator : Calibrator
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
    target = _check_target_name(target or calibrator.target or "confidence")
    if calibrator.target is not None and calibrator.target != target:
        raise ValueError(
            f"the calibrator was fit for target {calibrator.target!r}, not {target!r}; "
            "use a calibrator fit on the same kind of score"
        )
    col = SCORE_COLUMN[target]
    if col not in scores_df.columns:
        raise ValueError(f"scores_df has no {col!r} column, which a {target!r} calibrator needs")
    if target == "confidence" and "prediction" not in scores_df.columns:
        raise ValueError("scores_df has no 'prediction' column, the prediction whose confidence is reported")
    out = scores_df.copy()
    raw = out[col].to_numpy(dtype=object)
    ok = ~out[col].isna().to_numpy()
    if NO_CLASS_TOKEN in out.columns:
        ok &= ~np.array([_flag(v) for v in out[NO_CLASS_TOKEN]], dtype=bool)
    prediction = np.full(len(out), None, dtype=object)
    confidence = np.full(len(out), np.nan)
    if ok.any():
        pred, conf = calibrated_prediction(
            calibrator.predict_proba(raw[ok]),
            target=target,
            prediction=out["prediction"].to_numpy()[ok] if target == "confidence" else None,
            labels=(negative, positive),
        )
        prediction[ok], confidence[ok] = pred, conf
    out["calibrated_prediction"] = prediction
    out["confidence"] = confidence
    return out


def _confidence_view(target, y_true, y_prob):
    """(correct, confidence) for the threshold chart: :func:`calibrated_prediction`'s rule."""
    if target == "confidence":
        return y_true, calibrated_prediction(y_prob, target=target)[1]
    pred, conf = calibrated_prediction(y_prob, target=target)
    return (pred == y_true).astype(np.int64), conf


def _given_calibrator_rows(calibrator, rows, *, text_column, allow_in_sample):
    """(rows to evaluate on, description of the calibration) after looking up its fit rows."""
    base = {"kind": "given", "class": type(calibrator).__name__, "n_overlap": None, "n_excluded": 0}
    overlap = fit_row_overlap(calibrator, rows, text_column=text_column)
    if overlap is None:
        why = ("its file does not record them (saved by an older confnb, or not by `confnb calibrate`)"
               if calibrator.fit_rows_ is None else
               f"these rows have no {text_column!r} column to look them up by (pass --text-column)")
        return rows, {**base, "evaluation": "fit rows unknown",
                      "description": f"calibrator fit rows unknown: {why}; if it was fit on any of these "
                                     "rows, its numbers here are in-sample (optimistic)"}
    n, k = len(rows), int(overlap.sum())
    base["n_overlap"] = k
    if k == 0:
        return rows, {**base, "evaluation": "held-out",
                      "description": f"calibrator fit on other rows (checked: none of these {n} rows), "
                                     "evaluated on these"}
    if allow_in_sample:
        return rows, {**base, "evaluation": IN_SAMPLE,
                      "description": f"{IN_SAMPLE}: the calibrator was fit on {k} of these {n} rows, and "
                                     "every calibrated number below includes them"}
    if k == n:
        raise ValueError(
            f"the calibrator was fit on all {n} of these rows, so its numbers here would be in-sample "
            "(optimistic). Evaluate it on rows it never saw (a test split), leave out --calibrator for "
            "cross-fitted numbers on these rows, or pass --allow-in-sample (allow_in_sample=True) to "
            "get numbers labelled in-sample"
        )
    return rows.loc[~overlap], {
        **base, "evaluation": "held-out", "n_excluded": k,
        "description": f"calibrator evaluated on the {n - k} rows it was not fit on; {k} of the {n} "
                       "rows were in its fit set and are left out of every number (raw too)",
    }


def write_report(
    scores_df,
    out_dir,
    *,
    calibrator: Calibrator | None = None,
    target: str = "confidence",
    method: str = "platt",
    n_bins: int = 20,
    n_splits: int = 5,
    n_boot: int = 1000,
    thresholds=DEFAULT_THRESHOLDS,
    positive: str = "positive",
    label_column: str = "label",
    text_column: str = "text",
    allow_in_sample: bool = False,
    rng=0,
) -> dict:
    """Write charts, ``metrics.json`` and ``summary.md`` for a scored, labelled DataFrame.

    Files written to ``out_dir``: ``confidence_histogram.png``, ``reliability_raw.png``,
    ``reliability_calibrated.png``, ``threshold_chart.png`` (calibrated confidence),
    ``metrics.json``, ``summary.md``.

    Parameters
    ----------
    scores_df : pandas.DataFrame
        Scored rows with labels (see :func:`target_arrays`).
    out_dir : str or Path
        Created if missing.
    calibrator : Calibrator, optional
        Fitted on *other* rows (e.g. the calibration split) and evaluated here. Without
        it, ``method`` is cross-fitted on these rows (out-of-fold scores). Its
        ``fit_rows_`` record is looked up in these rows (:func:`fit_row_overlap`):

        * no overlap: evaluated on all rows;
        * some rows overlap: those rows are left out (raw metrics too, so both columns
          describe the same rows) and the count is reported;
        * every row overlaps: ``ValueError`` -- the numbers would be in-sample;
        * no record (older file) or not checkable: evaluated on all rows, reported as
          "fit rows unknown".

        With ``allow_in_sample=True`` overlapping rows are kept and every calibrated number
        is labelled "in-sample (optimistic)".
    target : {"confidence", "class"}
    method : str, default "platt"
        Cross-fitted method when no calibrator is given.
    n_bins, n_splits, n_boot : int
    thresholds : sequence of float
        For the threshold table and chart, over the confidence of
        :func:`confnb.calibration.calibrated_prediction` (the same pairs ``confnb score
        --calibrator`` writes).
    positive, label_column : str
        See :func:`target_arrays`.
    text_column : str, default "text"
        Column the calibrator's fit rows are looked up by.
    allow_in_sample : bool, default False
        Evaluate a calibrator on rows it was fit on, labelled as such.
    rng : int, Generator or None, default 0

    Returns
    -------
    dict
        The content of ``metrics.json``: ``raw`` and ``calibrated`` metrics with bootstrap
        intervals, the threshold table, how calibration was done (``calibration``, with
        ``evaluation``: "held-out", "fit rows unknown" or "in-sample (optimistic)"), rows
        skipped for lack of scores, and the file names.
    """
    from .plots import plot_confidence_histogram, plot_reliability_diagram, plot_threshold_chart

    _check_target_name(target)
    rows, skipped = _scored_rows(scores_df, target)
    seed_cv, seed_boot = _seeds(rng, 2)
    if calibrator is not None:
        if not isinstance(calibrator, Calibrator):
            raise ValueError("calibrator must be a fitted confnb Calibrator (see load_calibrator)")
        if calibrator.target is not None and calibrator.target != target:
            raise ValueError(
                f"the calibrator was fit for target {calibrator.target!r} but the report uses {target!r}; "
                f"pass target={calibrator.target!r}"
            )
        rows, source = _given_calibrator_rows(calibrator, rows, text_column=text_column,
                                              allow_in_sample=allow_in_sample)
        scores, y_true = _arrays(rows, target, positive=positive, label_column=label_column)
        calibrated = calibrator.predict_proba(scores)
    else:
        scores, y_true = _arrays(rows, target, positive=positive, label_column=label_column)
        calibrated = cross_calibrate(scores, y_true, method, n_splits=n_splits, rng=seed_cv)
        source = {
            "kind": "cross-fitted",
            "method": make_calibrator(method).method,
            "n_splits": int(n_splits),
            "evaluation": "held-out",
            "description": f"out-of-fold scores from {n_splits}-fold cross-fitting on these rows",
        }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    kw = dict(target=target, n_bins=n_bins, n_boot=n_boot, seed=seed_boot)
    raw_metrics = _metrics_with_intervals(y_true, scores, **kw)
    cal_metrics = _metrics_with_intervals(y_true, calibrated, **kw)
    correct, confidence = _confidence_view(target, y_true, calibrated)
    table = threshold_table(correct, confidence, thresholds=thresholds)

    in_sample = source["evaluation"] == IN_SAMPLE
    conf_label = "Confidence (total probability)" if target == "confidence" else "P(positive)"
    ylabel = "Observed accuracy" if target == "confidence" else "Observed share positive"
    files = {}
    charts = [
        ("confidence_histogram.png",
         lambda: plot_confidence_histogram(scores, n_bins=n_bins, xlabel=conf_label, title="Raw scores")),
        ("reliability_raw.png",
         lambda: plot_reliability_diagram(y_true, scores, n_bins=n_bins, title="Raw scores", ylabel=ylabel)),
        ("reliability_calibrated.png",
         lambda: plot_reliability_diagram(y_true, calibrated, n_bins=n_bins, ylabel=ylabel,
                                          title=f"Calibrated ({source.get('method', source.get('class'))})"
                                          + (f", {IN_SAMPLE}" if in_sample else ""))),
        ("threshold_chart.png", lambda: plot_threshold_chart(
            table=table, show_lower_bound=True,
            **({"title": f"Accuracy and volume by threshold, {IN_SAMPLE}"} if in_sample else {}))),
    ]
    for name, draw in charts:
        display = draw()
        display.savefig(out / name)
        display.close()
        files[name.rsplit(".", 1)[0]] = name

    frame = table.to_frame()
    result = _clean(
        {
            "target": target,
            "n": int(y_true.shape[0]),
            "n_bins": int(n_bins),
            "n_boot": int(n_boot),
            "skipped": skipped,
            "evaluation": source["evaluation"],
            "calibration": source,
            "raw": raw_metrics,
            "calibrated": cal_metrics,
            "thresholds": frame.to_dict(orient="records"),
            "files": {**files, "metrics": "metrics.json", "summary": "summary.md"},
        }
    )
    (out / "metrics.json").write_text(json.dumps(result, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    (out / "summary.md").write_text(_summary_markdown(result, frame), encoding="utf-8")
    return result


def _summary_markdown(result: dict, frame) -> str:
    def fmt(d):
        if d is None or d.get("estimate") is None:
            return "n/a"
        return f"{d['estimate']:.3f} ({d['low']:.3f} to {d['high']:.3f})"

    in_sample = result["calibration"]["evaluation"] == IN_SAMPLE
    skipped = _skip_message(result.get("skipped", {}))
    lines = [
        "# Confidence report",
        "",
        f"- rows: {result['n']}; target: **{result['target']}**",
        *(f"- {line}" for line in skipped),
        f"- calibration: {result['calibration']['description']}",
        f"- intervals: 95% percentile bootstrap, {result['n_boot']} resamples; ECE and MCE use "
        f"{result['n_bins']} bins and are biased upwards on finite samples (a well-calibrated model's "
        "interval sits a little above 0, sometimes above its estimate)",
        "",
        "| metric | raw | " + ("calibrated, in-sample (optimistic)" if in_sample else "calibrated") + " |",
        "|---|---|---|",
    ]
    for name in METRIC_NAMES:
        lines.append(f"| {name} | {fmt(result['raw'].get(name))} | {fmt(result['calibrated'].get(name))} |")
    lines += [
        "",
        "## Calibrated confidence thresholds" + (f" -- {IN_SAMPLE}" if in_sample else ""),
        "",
        "| threshold | predictions | share | accuracy | 95% lower bound |",
        "|---|---|---|---|---|",
    ]
    for row in frame.itertuples(index=False):
        acc = "n/a" if np.isnan(row.accuracy) else f"{row.accuracy:.1%}"
        lb = "n/a" if np.isnan(row.lower_bound) else f"{row.lower_bound:.1%}"
        lines.append(f"| {row.threshold:.2f} | {row.count} | {row.share:.1%} | {acc} | {lb} |")
    lines += ["", "## Charts", ""]
    for key in ("confidence_histogram", "reliability_raw", "reliability_calibrated", "threshold_chart"):
        lines.append(f"![{key.replace('_', ' ')}]({result['files'][key]})")
    return "\n".join(lines) + "\n"
