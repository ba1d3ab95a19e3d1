"""Calibrators for a scored table of three or more classes: fit with held-out metrics, save, apply.

What ``confnb calibrate`` and ``confnb score --calibrator`` do when the task has K > 2
classes, on a scored table read by :mod:`confnb.class_scores` (``p_<class>`` and
``mass_<class>`` per class).

* :func:`calibrate_classes` -- fit a calibrator on every row and measure, by cross-fitting,
  what it does on rows it has not seen: ``temperature`` and ``vector`` scaling of the class
  log-masses (:mod:`confnb.scaling`), or ``platt`` and ``isotonic`` on the top label
  (:class:`confnb.scaling.TopLabelCalibrator`: P(prediction is correct)).
* :func:`save_class_calibrator`, :func:`read_calibrator` -- JSON files: a scaler in its own
  format (``"confnb.scaler"``), a top-label calibrator as ``"confnb.top_label_calibrator"``;
  :func:`read_calibrator` also reads the two-class files of :mod:`confnb.calibration`, so a
  caller can tell the kinds apart. Each carries ``fit_rows`` (:mod:`confnb.fingerprints`).
* :func:`check_calibrator_for_classes` -- refuse a calibrator fit on other classes.
* :func:`add_class_confidence` -- ``calibrated_prediction``, its ``confidence`` and, for a
  scaler, ``calibrated_p_<class>`` (``confnb score --calibrator``).
* :func:`calibrator_id` -- a short hash of a calibrator's parameters, by which conformal sets
  built on calibrated probabilities are tied to their calibrator.

The rule at score time mirrors :func:`confnb.predictions.calibrated_prediction`: a scaler
gives calibrated probabilities of every class, so (like the binary class target) it decides
the prediction -- ``calibrated_prediction`` is the calibrated argmax and ``confidence`` its
calibrated probability; a top-label calibrator (like the confidence target) keeps the
predicted class (the argmax of ``p_<class>``) and calibrates only its confidence.
``prediction`` stays the model's own; the two differ where vector scaling moves a row, or
where the model's top token and its class masses disagree.

Out of scope: reading the table (:mod:`confnb.class_scores`), the two-class path
(:mod:`confnb.report`), conformal sets (:mod:`confnb.conformal_scores`) and charts.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from pathlib import Path

import numpy as np

from .calibration import CALIBRATOR_FORMAT, Calibrator, load_calibrator
from .class_scores import (
    class_labels,
    class_log_masses,
    class_probs,
    class_rows,
    prob_column,
    scored_classes,
    unscored_rows,
)
from .columns import CALIBRATED_PREDICTION, CONFIDENCE, mass_column
from .fingerprints import fingerprint_rows
from .intervals import bootstrap_ci
from .metrics import expected_calibration_error, share_correct
from .multiclass import (
    classwise_ece,
    multiclass_accuracy,
    multiclass_bootstrap_ci,
    multiclass_brier_score,
    multiclass_log_loss,
    top_label,
    top_label_ece,
)
from .scaling import SCALER_FORMAT, TemperatureScaler, TopLabelCalibrator, VectorScaler, load_scaler

__all__ = [
    "CALIBRATED_PROB_PREFIX",
    "CLASS_METHODS",
    "CLASS_METRIC_NAMES",
    "TOP_LABEL_FORMAT",
    "add_class_confidence",
    "calibrate_classes",
    "calibrated_class_probs",
    "calibrator_classes",
    "calibrator_id",
    "check_calibrator_for_classes",
    "class_output_columns",
    "cross_fit_classes",
    "describe_calibrator",
    "is_scaler",
    "read_calibrator",
    "save_class_calibrator",
]

#: Methods of :func:`calibrate_classes`: the scalers, then the top-label calibrators.
CLASS_METHODS = ("temperature", "vector", "platt", "isotonic")
SCALER_METHODS = ("temperature", "vector")
#: Metrics reported before and after K-class calibration, in this order.
CLASS_METRIC_NAMES = ("accuracy", "top_label_ece", "classwise_ece", "brier", "log_loss")
#: ``format`` of a saved top-label calibrator.
TOP_LABEL_FORMAT = "confnb.top_label_calibrator"
TOP_LABEL_FORMAT_VERSION = 1
#: Prefix of the calibrated class-probability columns ``confnb score --calibrator`` writes.
CALIBRATED_PROB_PREFIX = "calibrated_p_"


# ------------------------------------------------------------------------------------ calibrating


def _new_calibrator(method: str, classes):
    if method == "temperature":
        return TemperatureScaler(classes=classes)
    if method == "vector":
        return VectorScaler(classes=classes)
    if method in ("platt", "isotonic"):
        return TopLabelCalibrator(method, classes=classes)
    raise ValueError(f"unknown K-class calibration method {method!r}; choose one of {', '.join(CLASS_METHODS)}")


def is_scaler(calibrator) -> bool:
    """True for a temperature or vector scaler (calibrated probabilities of every class)."""
    return isinstance(calibrator, (TemperatureScaler, VectorScaler))


def _fit_predict(method, classes, log_masses, probs, y, train, test):
    """Fit ``method`` on the ``train`` rows; calibrated output of the ``test`` rows."""
    cal = _new_calibrator(method, classes)
    if method in SCALER_METHODS:
        return cal.fit(log_masses[train], y[train]).predict_proba(log_masses[test])
    return cal.fit(probs[train], y[train]).predict_confidence(probs[test])


def _check_folds(y, classes, n_splits: int, method: str, probs) -> None:
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"--n-splits (n_splits) must be an integer of at least 2; got {n_splits!r}")
    counts = np.bincount(y, minlength=len(classes))
    small = [f"{classes[k]!r} ({counts[k]})" for k in range(len(classes)) if 0 < counts[k] < n_splits]
    if small:
        raise ValueError(f"class(es) {', '.join(small)} have fewer labelled rows than n_splits={n_splits}; "
                         "use fewer folds (--n-splits) or label more rows")
    if method not in SCALER_METHODS:
        correct, _ = top_label(y, probs)
        if correct.min() == correct.max():
            raise ValueError(f"the model's prediction is {'right' if correct[0] else 'wrong'} on every one of the "
                             f"{len(y)} rows, so a top-label ({method}) calibrator has nothing to learn; label more "
                             "rows, or use --method temperature")


def cross_fit_classes(log_masses, probs, y, *, method: str, classes, n_splits: int = 5, rng=0) -> np.ndarray:
    """Out-of-fold calibrated output: (n, K) probabilities for a scaler, (n,) confidences for top-label.

    Rows are split into ``n_splits`` folds stratified by label; each fold is calibrated by a
    calibrator fit on the other folds.
    """
    from sklearn.model_selection import StratifiedKFold

    _check_folds(y, classes, n_splits, method, probs)
    folds = StratifiedKFold(n_splits=int(n_splits), shuffle=True, random_state=int(rng))
    out = np.empty(probs.shape if method in SCALER_METHODS else probs.shape[0])
    for train, test in folds.split(probs, y):
        out[test] = _fit_predict(method, classes, log_masses, probs, y, train, test)
    return out


def _prob_metrics(y, probs, *, n_bins, n_boot, seed) -> dict:
    fns = {"accuracy": multiclass_accuracy, "top_label_ece": partial(top_label_ece, n_bins=n_bins),
           "classwise_ece": partial(classwise_ece, n_bins=n_bins), "brier": multiclass_brier_score,
           "log_loss": multiclass_log_loss}
    return {name: multiclass_bootstrap_ci(fn, y, probs, n_boot=n_boot, rng=seed).to_dict() for name, fn in fns.items()}


def _top_label_metrics(correct, confidence, *, n_bins, n_boot, seed) -> dict:
    fns = {"accuracy": share_correct, "top_label_ece": partial(expected_calibration_error, n_bins=n_bins)}
    out = {name: bootstrap_ci(fn, correct, confidence, n_boot=n_boot, rng=seed).to_dict() for name, fn in fns.items()}
    return {**out, "classwise_ece": None, "brier": None, "log_loss": None}


def describe_calibrator(calibrator) -> str:
    """One line: what the fitted calibrator learned.

    >>> describe_calibrator(TemperatureScaler().fit([[0.0, -1.0], [-1.0, 0.0]], [0, 1]))[:12]
    'temperature '
    """
    if isinstance(calibrator, TemperatureScaler):
        return f"temperature {calibrator.temperature_:.3f}"
    if isinstance(calibrator, VectorScaler):
        return (f"scale {np.round(calibrator.scale_, 3).tolist()}, bias {np.round(calibrator.bias_, 3).tolist()} "
                f"(classes {calibrator.classes_})")
    return f"top-label {calibrator.method}: {calibrator.calibrator_!r}"


def calibrate_classes(scores_df, *, method: str = "temperature", n_splits: int = 5, n_bins: int = 20,
                      n_boot: int = 1000, label_column: str = "label", text_column: str = "text", rng=0):
    """Fit a K-class calibrator on all rows and measure its effect honestly, by cross-fitting.

    Parameters
    ----------
    scores_df : pandas.DataFrame
        A labelled K-class scored table (``p_<class>``, ``mass_<class>``, labels that are
        class names).
    method : {"temperature", "vector", "platt", "isotonic"}
        Temperature or vector scaling of the class log-masses, or Platt / isotonic on the
        top label (calibrated P(prediction is correct)).
    n_splits : int, default 5
        Folds of the out-of-fold ("after") metrics; every class needs this many rows.
    n_bins, n_boot : int
        Bins of the ECEs; bootstrap resamples of the 95% intervals.
    label_column, text_column : str
        Labels; the column the fit-row fingerprint is made from (scores when absent).
    rng : int, default 0
        Seed of the folds and the bootstrap.

    Returns
    -------
    calibrator : TemperatureScaler, VectorScaler or TopLabelCalibrator
        Fitted on every row with scores; ``fit_rows_`` records them.
    metrics : dict
        ``{"kind": "multiclass", "method", "classes", "n", "n_splits", "n_bins", "evaluation",
        "skipped", "calibrator", "before", "after"}``; ``before``/``after`` map each of
        :data:`CLASS_METRIC_NAMES` to ``{"estimate", "low", "high", "level"}`` (``None`` after a
        top-label calibrator for the metrics of the whole distribution, which it does not change).

    Examples
    --------
    >>> import pandas as pd
    >>> gen = np.random.default_rng(0)
    >>> p = gen.dirichlet([1, 1, 1], 300) ** 2; p /= p.sum(1, keepdims=True)  # overconfident
    >>> y = (gen.dirichlet([1, 1, 1], 300).cumsum(1) > gen.uniform(size=(300, 1))).argmax(1)
    >>> df = pd.DataFrame({**{f"p_{c}": p[:, k] for k, c in enumerate("abc")},
    ...                    **{f"mass_{c}": p[:, k] for k, c in enumerate("abc")},
    ...                    "text": [f"t{i}" for i in range(300)], "label": np.array(list("abc"))[y]})
    >>> cal, metrics = calibrate_classes(df, n_boot=20)
    >>> metrics["classes"], metrics["n"]
    (['a', 'b', 'c'], 300)
    """
    if method not in CLASS_METHODS:
        raise ValueError(f"unknown K-class calibration method {method!r}; choose one of {', '.join(CLASS_METHODS)}")
    classes = scored_classes(scores_df)
    rows, skipped = class_rows(scores_df, classes)
    y = class_labels(rows, label_column, classes)
    probs, log_masses = class_probs(rows, classes), class_log_masses(rows, classes)
    gen = np.random.default_rng(rng)
    seed_cv, seed_boot = (int(s) for s in gen.integers(0, 2**31 - 1, size=2))
    out_of_fold = cross_fit_classes(log_masses, probs, y, method=method, classes=classes, n_splits=n_splits,
                                    rng=seed_cv)
    calibrator = _fit_all(method, classes, log_masses, probs, y)
    calibrator.fit_rows_ = fingerprint_rows(rows, text_column=text_column)
    kw = dict(n_bins=n_bins, n_boot=n_boot, seed=seed_boot)
    if method in SCALER_METHODS:
        before, after = _prob_metrics(y, probs, **kw), _prob_metrics(y, out_of_fold, **kw)
    else:
        before = _prob_metrics(y, probs, **kw)
        after = _top_label_metrics(top_label(y, probs)[0], out_of_fold, **kw)
    metrics = {
        "kind": "multiclass", "method": method, "classes": list(classes), "n": int(y.shape[0]),
        "n_splits": int(n_splits), "n_bins": int(n_bins),
        "evaluation": f"out-of-fold ({n_splits}-fold cross-fitting); the saved calibrator is fit on all rows",
        "skipped": skipped, "calibrator": describe_calibrator(calibrator), "before": before, "after": after,
    }
    return calibrator, metrics


def _fit_all(method, classes, log_masses, probs, y):
    cal = _new_calibrator(method, classes)
    return cal.fit(log_masses, y) if method in SCALER_METHODS else cal.fit(probs, y)


# ------------------------------------------------------------------------------------------ files


def _top_label_dict(calibrator: TopLabelCalibrator) -> dict:
    inner = calibrator.calibrator_.to_dict()
    return {"format": TOP_LABEL_FORMAT, "version": TOP_LABEL_FORMAT_VERSION, "method": calibrator.method,
            "classes": [str(c) for c in calibrator.classes], "calibrator": inner}


def _calibrator_dict(calibrator) -> dict:
    if isinstance(calibrator, TopLabelCalibrator):
        return _top_label_dict(calibrator)
    return calibrator.to_dict()


def save_class_calibrator(calibrator, path) -> Path:
    """Write a K-class calibrator from :func:`calibrate_classes` as JSON, with its ``fit_rows``.

    A scaler is written in its own format (``"confnb.scaler"``, readable by
    :func:`confnb.scaling.load_scaler` too); a top-label calibrator as
    ``"confnb.top_label_calibrator"``, holding its two-class calibrator's file. Read either
    back with :func:`read_calibrator`.
    """
    data = _calibrator_dict(calibrator)
    if getattr(calibrator, "fit_rows_", None) is not None:
        data["fit_rows"] = calibrator.fit_rows_
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def _read_top_label(path: Path, data: dict) -> TopLabelCalibrator:
    import tempfile

    if data.get("version") != TOP_LABEL_FORMAT_VERSION or not isinstance(data.get("calibrator"), dict):
        raise ValueError(f"{path} is a damaged or newer top-label calibrator file (version {data.get('version')!r}); "
                         "re-create it with `confnb calibrate`")
    with tempfile.TemporaryDirectory() as tmp:  # the two-class reader takes a file
        inner = Path(tmp) / "calibrator.json"
        inner.write_text(json.dumps(data["calibrator"]), encoding="utf-8")
        try:
            binary = load_calibrator(inner)
        except ValueError as err:
            raise ValueError(f"{path}: its two-class calibrator is damaged ({str(err).replace(str(inner), 'it')}); "
                             "re-create the file with `confnb calibrate`") from None
    try:
        cal = TopLabelCalibrator(data["method"], classes=list(data["classes"]))
    except (KeyError, TypeError) as err:
        raise ValueError(f"{path} is a damaged top-label calibrator file (missing {err}); re-create it") from None
    cal.calibrator_ = binary
    return cal


def read_calibrator(path):
    """Any calibrator file ``confnb calibrate`` writes: two-class or K-class, told apart by its ``format``.

    Returns
    -------
    confnb.calibration.Calibrator, TemperatureScaler, VectorScaler or TopLabelCalibrator
        With ``fit_rows_`` (``None`` when the file does not record them).

    Raises
    ------
    ValueError
        Not JSON, or not one of the three formats, or damaged.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err.msg}, line {err.lineno}); re-create it with "
                         "`confnb calibrate`") from None
    kind = data.get("format") if isinstance(data, dict) else None
    if kind == CALIBRATOR_FORMAT:
        return load_calibrator(path)
    if kind == SCALER_FORMAT:
        cal = load_scaler(path)
    elif kind == TOP_LABEL_FORMAT:
        cal = _read_top_label(path, data)
    else:
        raise ValueError(f"{path} is not a confnb calibrator file (its format is {kind!r}; expected one of "
                         f"{CALIBRATOR_FORMAT!r}, {SCALER_FORMAT!r}, {TOP_LABEL_FORMAT!r}); pass a file written by "
                         "`confnb calibrate`")
    cal.fit_rows_ = data.get("fit_rows")
    return cal


def calibrator_classes(calibrator) -> list | None:
    """The classes a K-class calibrator was fit on (None for a two-class calibrator)."""
    if isinstance(calibrator, Calibrator):
        return None
    if isinstance(calibrator, TopLabelCalibrator):
        return list(calibrator.classes)
    return list(calibrator.classes_)


def check_calibrator_for_classes(calibrator, class_names, *, where: str = "the calibrator") -> None:
    """Refuse a calibrator that does not fit a task of these classes, naming both class lists.

    A two-class calibrator (:mod:`confnb.calibration`) fits a two-class task; a K-class one
    fits a task with exactly its classes (in any order).
    """
    names = [str(c) for c in class_names]
    fitted = calibrator_classes(calibrator)
    if fitted is None:
        if len(names) > 2:
            raise ValueError(f"{where} is a two-class calibrator (fit on total_probability or p_positive), but the "
                             f"task has {len(names)} classes {names}; fit one on scores of this task with "
                             "`confnb calibrate SCORES.csv --label-column label`")
        return
    if len(names) == 2:
        raise ValueError(f"{where} is a K-class calibrator (classes {fitted}), but the task has two classes "
                         f"{names}; fit one on this task's scores with `confnb calibrate` (two-class methods)")
    if sorted(map(str, fitted)) != sorted(names):
        raise ValueError(f"{where} was fit on classes {fitted}, but the task has classes {names}; fit one on "
                         "scores of this task with `confnb calibrate SCORES.csv --label-column label`")


def calibrator_id(calibrator) -> str:
    """16 hex digits identifying a fitted calibrator by its parameters (not by its fit rows).

    >>> cal = TemperatureScaler().fit([[0.0, -1.0], [-1.0, 0.0], [0.0, -2.0]], [0, 1, 1])
    >>> len(calibrator_id(cal))
    16
    """
    data = {k: v for k, v in _calibrator_dict(calibrator).items() if k != "fit_rows"}
    if isinstance(data.get("calibrator"), dict):
        data["calibrator"] = {k: v for k, v in data["calibrator"].items() if k != "fit_rows"}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()[:16]


# ------------------------------------------------------------------------------------- score time


def calibrated_class_probs(rows, calibrator) -> np.ndarray:
    """A scaler's calibrated (n, K) probabilities of scored ``rows``, in the order of ``calibrator.classes_``."""
    return calibrator.predict_proba(class_log_masses(rows, calibrator.classes_))


def add_class_confidence(scores_df, calibrator):
    """Copy of K-class ``scores_df`` with ``calibrated_prediction``, ``confidence`` and, for a scaler, ``calibrated_p_<class>``.

    A scaler's calibrated argmax is the ``calibrated_prediction`` and its calibrated
    probability the ``confidence``; a top-label calibrator keeps the argmax of ``p_<class>``
    and gives its calibrated P(correct). Rows without scores get blanks. The calibrator's
    fit rows are not checked here (see :func:`confnb.fingerprints.fit_row_overlap`).

    Examples
    --------
    >>> import pandas as pd
    >>> logm = np.log([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.7, 0.2, 0.1]])
    >>> cal = TemperatureScaler(classes=["a", "b", "c"]).fit(logm, ["a", "b", "c", "b"])
    >>> p = {"a": [0.7, 0.1], "b": [0.2, 0.8], "c": [0.1, 0.1]}
    >>> df = pd.DataFrame({**{f"p_{c}": v for c, v in p.items()}, **{f"mass_{c}": v for c, v in p.items()}})
    >>> add_class_confidence(df, cal)["calibrated_prediction"].tolist()
    ['a', 'b']
    """
    classes = calibrator_classes(calibrator)
    if classes is None:
        raise ValueError("add_class_confidence takes a K-class calibrator; use confnb.predictions.add_confidence_column "
                         "for a two-class one")
    needed = [c for name in classes for c in (prob_column(name), mass_column(name))]
    missing = [c for c in needed if c not in scores_df.columns]
    if missing:
        raise ValueError(f"the scores have no column(s) {missing}, which the calibrator (classes {classes}) needs")
    out = scores_df.copy()
    no_token, blank = unscored_rows(out, needed)
    ok = ~(no_token | blank)
    prediction = np.full(len(out), None, dtype=object)
    confidence = np.full(len(out), np.nan)
    calibrated = np.full((len(out), len(classes)), np.nan)
    if ok.any():
        rows = out.loc[ok]
        if is_scaler(calibrator):
            calibrated[ok] = calibrated_class_probs(rows, calibrator)
            top = calibrated[ok].argmax(axis=1)
            confidence[ok] = calibrated[ok].max(axis=1)
        else:
            probs = class_probs(rows, classes)
            top = probs.argmax(axis=1)
            confidence[ok] = calibrator.predict_confidence(probs)
        prediction[ok] = np.array(classes, dtype=object)[top]
    out[CALIBRATED_PREDICTION] = prediction
    out[CONFIDENCE] = confidence
    if is_scaler(calibrator):
        for k, name in enumerate(classes):
            out[f"{CALIBRATED_PROB_PREFIX}{name}"] = calibrated[:, k]
    return out


def class_output_columns(calibrator) -> list[str]:
    """The columns :func:`add_class_confidence` writes with this calibrator."""
    extra = [f"{CALIBRATED_PROB_PREFIX}{c}" for c in calibrator_classes(calibrator) or []] if is_scaler(calibrator) else []
    return [CALIBRATED_PREDICTION, CONFIDENCE, *extra]
