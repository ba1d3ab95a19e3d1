"""Evaluation reports from a scored DataFrame (``classify`` output or a ``confnb score`` CSV).

* :func:`target_arrays` -- pick scores and outcomes for a calibration target.
* :func:`calibrate_scores` -- fit a calibrator on all rows *and* measure, by cross-fitting,
  what calibration does on rows it has not seen (the ``confnb calibrate`` command).
* :func:`write_report` -- PNG charts, ``metrics.json`` and ``summary.md`` (``confnb report``).
* :func:`add_confidence_column` -- apply a saved calibrator to new scores
  (``confnb score --calibrator``).
* :func:`format_metrics` -- the before/after table as plain text.

Honest numbers: no metric here is computed on rows a calibrator was fit on. With a
calibrator given, it is assumed to have been fit on *other* rows and is evaluated on these;
without one, calibrated scores are out-of-fold (:func:`confnb.calibration.cross_calibrate`).

Out of scope: running a model (see :mod:`confnb.scoring`) and HTML reports.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .calibration import TARGETS, Calibrator, class_to_confidence, cross_calibrate, make_calibrator
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
from .thresholds import DEFAULT_THRESHOLDS, threshold_table

__all__ = [
    "METRIC_NAMES",
    "add_confidence_column",
    "calibrate_scores",
    "format_metrics",
    "target_arrays",
    "write_report",
]

#: Metrics reported before and after calibration, in this order.
METRIC_NAMES = ("accuracy", "ece", "mce", "brier", "log_loss")
SCORE_COLUMN = {"confidence": "total_probability", "class": "p_positive"}
LABEL_HINT = "score a labelled file with `confnb score --label-column label` (or pass labels to classify)"


def _check_target_name(target):
    if target not in TARGETS:
        raise ValueError(f"target must be 'confidence' or 'class'; got {target!r}")
    return target


def target_arrays(scores_df, target: str = "confidence", *, positive: str = "positive"):
    """Scores and 0/1 outcomes of a scored DataFrame for one calibration target.

    Parameters
    ----------
    scores_df : pandas.DataFrame
        Output of :func:`confnb.scoring.classify` or a ``confnb score`` CSV, with labels.
    target : {"confidence", "class"}
        ``"confidence"``: (``total_probability``, ``correct``);
        ``"class"``: (``p_positive``, ``label == positive``).
    positive : str, default "positive"
        Name of the positive class (class target).

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
    """
    from .metrics import _as_prob

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
    scores = _as_prob(scores_df[score_col], score_col)
    if target == "confidence":
        if "correct" not in scores_df.columns:
            raise ValueError(
                "scores_df has no 'correct' column, so there is nothing to check the scores against; "
                + LABEL_HINT
            )
        y_true = _as_binary(scores_df["correct"], "correct")
    else:
        if "label" not in scores_df.columns:
            raise ValueError(
                "scores_df has no 'label' column, so there is nothing to check the scores against; " + LABEL_HINT
            )
        labels = scores_df["label"]
        if labels.isna().any():
            raise ValueError(f"'label' has {int(labels.isna().sum())} missing value(s); drop those rows first")
        y_true = (labels.astype(str) == positive).to_numpy().astype(np.int64)
    return scores, y_true


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
    rng=0,
):
    """Fit a calibrator on all rows and measure its effect honestly, by cross-fitting.

    The returned calibrator is fit on every row (use it on *new* data). The metrics are
    not computed with it: "after" comes from out-of-fold scores of :func:`cross_calibrate`,
    so each row is scored by a calibrator that never saw it.

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
    positive : str, default "positive"
    rng : int, Generator or None, default 0

    Returns
    -------
    calibrator : Calibrator
        Fitted on all rows, ``target`` recorded.
    metrics : dict
        ``{"target", "method", "n", "n_splits", "n_bins", "evaluation", "before", "after"}``;
        ``before``/``after`` map each of :data:`METRIC_NAMES` to
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
    scores, y_true = target_arrays(scores_df, target, positive=positive)
    template = make_calibrator(method, target=target)
    seed_cv, seed_boot = _seeds(rng, 2)
    calibrated = cross_calibrate(scores, y_true, template, n_splits=n_splits, rng=seed_cv)
    calibrator = template.clone().fit(scores, y_true)
    calibrator.target = target
    metrics = {
        "target": target,
        "method": calibrator.method,
        "n": int(y_true.shape[0]),
        "n_splits": int(n_splits),
        "n_bins": int(n_bins),
        "evaluation": f"out-of-fold ({n_splits}-fold cross-fitting); the saved calibrator is fit on all rows",
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
                          positive: str = "positive"):
    """Copy of ``scores_df`` with a calibrated ``confidence`` column: P(the prediction is correct).

    Parameters
    ----------
    scores_df : pandas.DataFrame
        Scored rows (labels not needed).
    calibrator : Calibrator
        Fitted on other rows.
    target : {"confidence", "class"}, optional
        Defaults to the calibrator's recorded target, else "confidence". For "class" the
        calibrated ``p_positive`` is turned into the confidence of each row's
        ``prediction`` (``p`` for positive predictions, ``1 - p`` otherwise).
    positive : str, default "positive"

    Examples
    --------
    >>> import pandas as pd
    >>> from confnb.calibration import TemperatureCalibrator
    >>> cal = TemperatureCalibrator(target="confidence").fit([0.9, 0.8, 0.7, 0.95], [1, 0, 0, 1])
    >>> out = add_confidence_column(pd.DataFrame({"total_probability": [0.9]}), cal)
    >>> "confidence" in out.columns
    True
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
    out = scores_df.copy()
    p = calibrator.predict_proba(out[col])
    if target == "class":
        if "prediction" not in out.columns:
            raise ValueError("scores_df has no 'prediction' column; the class target needs it to report confidence")
        p = np.where(out["prediction"].astype(str).to_numpy() == positive, p, 1.0 - p)
    out["confidence"] = p
    return out


def _confidence_view(target, y_true, y_prob):
    """(correct, confidence) for the threshold chart, whatever the target."""
    if target == "confidence":
        return y_true, y_prob
    pred, conf = class_to_confidence(y_prob)
    return (pred == y_true).astype(np.int64), conf


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
        it, ``method`` is cross-fitted on these rows (out-of-fold scores).
    target : {"confidence", "class"}
    method : str, default "platt"
        Cross-fitted method when no calibrator is given.
    n_bins, n_splits, n_boot : int
    thresholds : sequence of float
        For the threshold table and chart.
    positive : str, default "positive"
    rng : int, Generator or None, default 0

    Returns
    -------
    dict
        The content of ``metrics.json``: ``raw`` and ``calibrated`` metrics with bootstrap
        intervals, the threshold table, how calibration was done, and the file names.
    """
    from .plots import plot_confidence_histogram, plot_reliability_diagram, plot_threshold_chart

    _check_target_name(target)
    scores, y_true = target_arrays(scores_df, target, positive=positive)
    seed_cv, seed_boot = _seeds(rng, 2)
    if calibrator is not None:
        if not isinstance(calibrator, Calibrator):
            raise ValueError("calibrator must be a fitted confnb Calibrator (see load_calibrator)")
        if calibrator.target is not None and calibrator.target != target:
            raise ValueError(
                f"the calibrator was fit for target {calibrator.target!r} but the report uses {target!r}; "
                f"pass target={calibrator.target!r}"
            )
        calibrated = calibrator.predict_proba(scores)
        source = {
            "kind": "given",
            "class": type(calibrator).__name__,
            "description": "calibrator fit on other rows, evaluated on these",
        }
    else:
        calibrated = cross_calibrate(scores, y_true, method, n_splits=n_splits, rng=seed_cv)
        source = {
            "kind": "cross-fitted",
            "method": make_calibrator(method).method,
            "n_splits": int(n_splits),
            "description": f"out-of-fold scores from {n_splits}-fold cross-fitting on these rows",
        }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    kw = dict(target=target, n_bins=n_bins, n_boot=n_boot, seed=seed_boot)
    raw_metrics = _metrics_with_intervals(y_true, scores, **kw)
    cal_metrics = _metrics_with_intervals(y_true, calibrated, **kw)
    correct, confidence = _confidence_view(target, y_true, calibrated)
    table = threshold_table(correct, confidence, thresholds=thresholds)

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
                                          title=f"Calibrated ({source.get('method', source.get('class'))})")),
        ("threshold_chart.png", lambda: plot_threshold_chart(table=table, show_lower_bound=True)),
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

    lines = [
        "# Confidence report",
        "",
        f"- rows: {result['n']}; target: **{result['target']}**",
        f"- calibration: {result['calibration']['description']}",
        f"- intervals: 95% percentile bootstrap, {result['n_boot']} resamples; ECE and MCE use "
        f"{result['n_bins']} bins and are biased upwards on finite samples (a well-calibrated model's "
        "interval sits a little above 0, sometimes above its estimate)",
        "",
        "| metric | raw | calibrated |",
        "|---|---|---|",
    ]
    for name in METRIC_NAMES:
        lines.append(f"| {name} | {fmt(result['raw'].get(name))} | {fmt(result['calibrated'].get(name))} |")
    lines += [
        "",
        "## Calibrated confidence thresholds",
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
