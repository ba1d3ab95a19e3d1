"""Evaluation reports from a scored DataFrame (`confnb.classify` output or a ``confnb score`` CSV).

* :func:`target_arrays` -- pick scores and outcomes for a calibration target.
* :func:`calibrate_scores` -- fit a calibrator on all rows *and* measure, by cross-fitting,
  what calibration does on rows it has not seen (the ``confnb calibrate`` command).
* :func:`write_report` -- PNG charts, ``metrics.json`` and ``summary.md`` (``confnb report``).
* :func:`add_confidence_column` -- apply a saved calibrator to new scores
  (``confnb score --calibrator``).
* :func:`fingerprint_rows` / :func:`fit_row_overlap` -- record which rows a calibrator was
  fit on, and find them again in another file.
* :func:`format_metrics` -- the before/after table as plain text.

:func:`target_arrays` is defined in :mod:`confnb.targets`, :func:`add_confidence_column` in
:mod:`confnb.predictions`, and the fingerprints in :mod:`confnb.fingerprints`; all are
re-exported here.

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
from functools import partial
from pathlib import Path

import numpy as np

from ._validation import check_target
from .calibration import Calibrator, calibrated_prediction, cross_calibrate, make_calibrator
from .fingerprints import FINGERPRINT_SCORE_COLUMNS, fingerprint_rows, fit_row_overlap  # noqa: F401  (re-exported)
from .metrics import (
    accuracy,
    bootstrap_ci,
    brier_score,
    expected_calibration_error,
    log_loss,
    maximum_calibration_error,
    share_correct,
)
from .predictions import add_confidence_column
from .targets import LABEL_HINT, labelled_arrays, skip_messages, target_arrays, usable_rows  # noqa: F401
from .tasks import SENTIMENT
from .thresholds import DEFAULT_THRESHOLDS, threshold_table

# importable from here before the split into targets, fingerprints and predictions
from ._validation import TARGETS  # noqa: E402, F401
from .columns import NO_CLASS_TOKEN  # noqa: E402, F401
from .columns import TARGET_SCORE_COLUMN as SCORE_COLUMN  # noqa: E402, F401
from .tasks import NEGATIVE_SPELLINGS, POSITIVE_SPELLINGS, label_text  # noqa: E402, F401

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
IN_SAMPLE = "in-sample (optimistic)"


def _seeds(rng, k):
    gen = np.random.default_rng(rng)
    return [int(x) for x in gen.integers(0, 2**31 - 1, size=k)]


def _metric_functions(target, n_bins):
    acc = share_correct if target == "confidence" else accuracy
    return {
        "accuracy": acc,
        "ece": partial(expected_calibration_error, n_bins=n_bins),
        "mce": partial(maximum_calibration_error, n_bins=n_bins),
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
    positive: str = SENTIMENT.positive_class,
    label_column: str = "label",
    text_column: str = "text",
    rng=0,
):
    """Fit a calibrator on all rows and measure its effect honestly, by cross-fitting.

    The returned calibrator is fit on every row with scores (use it on *new* data) and
    carries ``fit_rows_``, a fingerprint of those rows (:func:`fingerprint_rows`), so that
    :func:`write_report` and ``confnb score --calibrator`` can tell when it meets them
    again. The metrics are not computed with it: "after" comes from out-of-fold scores of
    :func:`confnb.calibration.cross_calibrate`, so each row is scored by a calibrator that never saw it.

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
    rows, skipped = usable_rows(scores_df, target)
    scores, y_true = labelled_arrays(rows, target, positive=positive, label_column=label_column)
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


def format_metrics(metrics: dict, *, digits: int = 3, names=METRIC_NAMES) -> str:
    """Plain-text table of a metrics dict from :func:`calibrate_scores` or :func:`write_report`.

    ``names`` are the metrics shown, in order (those no column has are left out); pass
    :data:`confnb.class_calibration.CLASS_METRIC_NAMES` for
    :func:`confnb.class_calibration.calibrate_classes`. A metric that is ``None`` shows "n/a".

    Examples
    --------
    >>> m = {"before": {"ece": {"estimate": 0.1, "low": 0.08, "high": 0.12, "level": 0.95}},
    ...      "after": {"ece": {"estimate": 0.02, "low": 0.01, "high": 0.03, "level": 0.95}}}
    >>> print(format_metrics(m))
    metric    before                after
    ece       0.100 [0.080, 0.120]  0.020 [0.010, 0.030]
    """
    cols = [k for k in ("before", "after", "raw", "calibrated") if k in metrics]
    names = [n for n in names if any(n in metrics[c] for c in cols)]

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
    positive: str = SENTIMENT.positive_class,
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
        ``fit_rows_`` record is looked up in these rows (:func:`confnb.fingerprints.fit_row_overlap`):

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

    check_target(target)
    rows, skipped = usable_rows(scores_df, target)
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
        scores, y_true = labelled_arrays(rows, target, positive=positive, label_column=label_column)
        calibrated = calibrator.predict_proba(scores)
    else:
        scores, y_true = labelled_arrays(rows, target, positive=positive, label_column=label_column)
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
    conf_label = "Confidence (total probability)" if target == "confidence" else f"P({positive})"
    ylabel = "Observed accuracy" if target == "confidence" else f"Observed share {positive}"
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
    skipped = skip_messages(result.get("skipped", {}))
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
