"""Conformal prediction sets for a scored table: fit on labelled scores, save what they rest on, apply.

What ``confnb conformal`` and ``confnb score --conformal`` do, for any number of classes:
a two-class table's ``p_positive`` becomes two columns, a K-class table gives its
``p_<class>`` columns. With a calibrator the sets are built from calibrated probabilities
(a K-class temperature or vector scaler, or a two-class calibrator of the ``class``
target); the file records which, and :func:`check_conformal_use` insists on the same
probabilities at use: sets fit on one kind of probability say nothing about another.

* :func:`set_classes` -- the class names of the sets, in column order.
* :func:`set_probabilities` -- the (n, K) probabilities the sets are built from.
* :func:`fit_conformal_scores` -- fit :class:`confnb.conformal.ConformalClassifier` on the
  labelled rows, leaving out rows the calibrator was fit on (all of them is refused unless
  ``allow_in_sample``: calibrated probabilities of its own fit rows are optimistic, and sets
  fit on them cover new rows less often than promised).
* :func:`save_conformal_scores`, :func:`read_conformal` -- the library's JSON
  (:func:`confnb.conformal.load_conformal` reads it too) plus ``probabilities`` (what the sets
  were built from) and ``fit_rows``.
* :func:`check_conformal_use`, :func:`add_prediction_sets` -- ``prediction_set`` (class names
  joined by ``|``) and ``set_size`` at score time.

Out of scope: the conformal arithmetic (:mod:`confnb.conformal`) and calibrators
(:mod:`confnb.class_calibration`, :mod:`confnb.calibration`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .calibration import Calibrator
from .class_calibration import calibrated_class_probs, calibrator_id, is_scaler
from .class_scores import (
    class_labels,
    class_probs,
    class_rows,
    is_multiclass_scores,
    prob_column,
    scored_classes,
    unscored_rows,
)
from .columns import P_POSITIVE, PREDICTION, mass_column
from .conformal import ConformalClassifier, load_conformal, set_sizes, sets_to_labels
from .fingerprints import fingerprint_rows, fit_row_overlap
from .targets import labelled_arrays, usable_rows
from .tasks import SENTIMENT, label_text

__all__ = [
    "PREDICTION_SET",
    "SET_SIZE",
    "add_prediction_sets",
    "check_conformal_use",
    "check_set_calibrator",
    "expected_coverage",
    "fit_conformal_scores",
    "read_conformal",
    "save_conformal_scores",
    "set_classes",
    "set_probabilities",
]

#: Columns ``confnb score --conformal`` writes.
PREDICTION_SET = "prediction_set"
SET_SIZE = "set_size"
SEPARATOR = "|"
IN_SAMPLE = "in-sample (optimistic)"


def set_classes(scores_df, *, positive: str = SENTIMENT.positive_class) -> list[str]:
    """Class names of the sets, in column order: the K-class table's, or the two classes of ``p_positive``.

    A two-class table names its classes in its ``mass_<class>`` columns; without them, in its
    predictions (the positive class and one other).

    Examples
    --------
    >>> import pandas as pd
    >>> set_classes(pd.DataFrame({"p_positive": [0.9], "prediction": ["positive"], "mass_positive": [0.6],
    ...                           "mass_negative": [0.1]}))
    ['positive', 'negative']
    """
    if is_multiclass_scores(scores_df):
        return scored_classes(scores_df)
    if P_POSITIVE not in scores_df.columns:
        raise ValueError("the scores have neither a p_positive column (two classes) nor p_<class> columns (three or "
                         "more); pass a CSV written by `confnb score`")
    names = scored_classes(scores_df)
    if len(names) == 2:
        if positive not in names:
            raise ValueError(f"the positive class {positive!r} is not one of the scored classes {names}; name the "
                             "task's positive class with --positive-class")
        return names
    predicted = set()
    if PREDICTION in scores_df.columns:
        predicted = {t for t in (label_text(v) for v in scores_df[PREDICTION]) if t is not None}
    others = sorted(predicted - {positive})
    if len(others) == 1:
        return [positive, others[0]]
    raise ValueError(f"cannot tell the two classes apart: the scores have no mass_<class> columns and their predictions "
                     f"are {sorted(predicted)} (positive class {positive!r}); score the file with `confnb score`, or "
                     "name the positive class with --positive-class")


def _is_binary(classes) -> bool:
    return len(classes) == 2


def check_set_calibrator(calibrator, classes) -> None:
    """Refuse a calibrator whose output is not class probabilities of these classes."""
    if _is_binary(classes):
        if not isinstance(calibrator, Calibrator):
            raise ValueError(f"the calibrator is a K-class one, but these scores have two classes {classes}; "
                             "pass a two-class calibrator of the class target (`confnb calibrate --target class`)")
        if calibrator.target != "class":
            raise ValueError(f"the calibrator calibrates the {calibrator.target or 'unknown'!s} target, not P(class): "
                             "prediction sets need class probabilities; fit one with `confnb calibrate --target class`, "
                             "or leave out --calibrator")
        return
    if isinstance(calibrator, Calibrator):
        raise ValueError(f"the calibrator is a two-class one, but these scores have {len(classes)} classes {classes}; "
                         "fit a K-class one with `confnb calibrate --method temperature` (or vector)")
    if not is_scaler(calibrator):
        raise ValueError("a top-label (platt/isotonic) calibrator gives only the confidence of the predicted class, not "
                         "the class probabilities prediction sets need; use a temperature or vector calibrator "
                         "(`confnb calibrate --method temperature`), or leave out --calibrator")
    fitted = [str(c) for c in calibrator.classes_]
    if sorted(fitted) != sorted(classes):
        raise ValueError(f"the calibrator was fit on classes {fitted}, but these scores have classes {classes}")


def set_probabilities(rows, classes, *, positive: str = SENTIMENT.positive_class, calibrator=None) -> np.ndarray:
    """The (n, K) probabilities, in the order of ``classes``, that sets are built from.

    Two classes: ``p_positive`` (calibrated by a class-target ``calibrator`` if given) and its
    complement. K classes: the ``p_<class>`` columns, or a scaler's calibrated probabilities.

    Examples
    --------
    >>> import pandas as pd
    >>> set_probabilities(pd.DataFrame({"p_positive": [0.8]}), ["negative", "positive"]).tolist()
    [[0.19999999999999996, 0.8]]
    """
    if _is_binary(classes):
        p = rows[P_POSITIVE].to_numpy(dtype=float)
        if calibrator is not None:
            p = calibrator.predict_proba(p)
        return np.column_stack([p if c == positive else 1.0 - p for c in classes])
    if calibrator is None:
        return class_probs(rows, classes)
    fitted = [str(c) for c in calibrator.classes_]
    return calibrated_class_probs(rows, calibrator)[:, [fitted.index(c) for c in classes]]


def _without_calibrator_fit_rows(calibrator, rows, *, text_column: str, allow_in_sample: bool):
    """(rows to fit the sets on, a note on the calibrator's fit rows among them)."""
    overlap = fit_row_overlap(calibrator, rows, text_column=text_column)
    if overlap is None:
        return rows, {"evaluation": "fit rows unknown", "n_excluded": 0,
                      "description": "the calibrator's fit rows are unknown (not recorded, or no text column to find "
                                     "them by); if it was fit on these rows, the sets may cover less than promised"}
    n, k = len(rows), int(overlap.sum())
    if k == 0:
        return rows, {"evaluation": "held-out", "n_excluded": 0,
                      "description": f"calibrator fit on other rows (checked: none of these {n})"}
    if allow_in_sample:
        return rows, {"evaluation": IN_SAMPLE, "n_excluded": 0,
                      "description": f"{IN_SAMPLE}: the calibrator was fit on {k} of these {n} rows, kept by "
                                     "--allow-in-sample; the sets may cover new rows less often than promised"}
    if k == n:
        raise ValueError(f"the calibrator was fit on all {n} of these rows: its probabilities here are in-sample "
                         "(optimistic), and sets fit on them cover new rows less often than promised. Fit the sets on "
                         "other labelled rows, leave out --calibrator, or pass --allow-in-sample")
    return rows.loc[~overlap], {"evaluation": "held-out", "n_excluded": k,
                                "description": f"left out the {k} of {n} rows the calibrator was fit on"}


def _labels(rows, classes, *, positive, label_column) -> np.ndarray:
    if not _is_binary(classes):
        return class_labels(rows, label_column, classes)
    _, is_positive = labelled_arrays(rows, "class", positive=positive, label_column=label_column)
    pos = classes.index(positive)
    return np.where(is_positive == 1, pos, 1 - pos)


def expected_coverage(n: int, alpha: float) -> float:
    """Average coverage of split-conformal sets from ``n`` rows without ties: ``ceil((n+1)(1-alpha)) / (n+1)``.

    >>> round(expected_coverage(30, 0.1), 4)
    0.9032
    """
    return math.ceil((n + 1) * (1 - alpha) - 1e-9) / (n + 1)


def fit_conformal_scores(scores_df, *, alpha: float = 0.1, method: str = "lac", calibrator=None,
                         calibrator_file=None, positive: str = SENTIMENT.positive_class, label_column: str = "label",
                         text_column: str = "text", allow_in_sample: bool = False):
    """Fit conformal prediction sets on a labelled scored table.

    Parameters
    ----------
    scores_df : pandas.DataFrame
        Labelled scores, two classes (``p_positive``) or K (``p_<class>``).
    alpha : float
        Allowed miscoverage, strictly between 0 and 1.
    method : {"lac", "aps"}
    calibrator : optional
        Build the sets from its calibrated probabilities (see :func:`confnb.conformal_scores.check_set_calibrator`).
        Rows it was fit on are left out; all of them raises unless ``allow_in_sample``.
    calibrator_file : str, optional
        Its path, recorded for the error messages at use.
    positive, label_column, text_column : str
        The positive class of a two-class table; labels; the column rows are fingerprinted by.
    allow_in_sample : bool, default False
        Keep rows the calibrator was fit on (recorded as in-sample).

    Returns
    -------
    conformal : ConformalClassifier
        Fitted, with ``probabilities_`` (what the sets are built from) and ``fit_rows_``.
    summary : dict
        ``n``, ``alpha``, ``method``, ``qhat``, ``classes``, ``expected_coverage``, ``skipped``,
        ``source`` and, with a calibrator, ``calibrator_rows``.
    """
    template = ConformalClassifier(alpha=alpha, method=method)  # bad alpha or method: before any work
    classes = set_classes(scores_df, positive=positive)
    if _is_binary(classes):
        rows, skipped = usable_rows(scores_df, "class")
    else:
        rows, skipped = class_rows(scores_df, classes)
    record = {"source": P_POSITIVE if _is_binary(classes) else "p_<class>", "calibrator": None,
              "positive": positive if _is_binary(classes) else None}
    note = None
    if calibrator is not None:
        check_set_calibrator(calibrator, classes)
        rows, note = _without_calibrator_fit_rows(calibrator, rows, text_column=text_column,
                                                  allow_in_sample=allow_in_sample)
        kind = getattr(calibrator, "kind", None) or getattr(calibrator, "method", type(calibrator).__name__)
        record.update(source="calibrated", calibrator={"id": calibrator_id(calibrator), "kind": kind,
                                                       "file": None if calibrator_file is None else str(calibrator_file)},
                      calibrator_rows=note["evaluation"])
    y = _labels(rows, classes, positive=positive, label_column=label_column)
    probs = set_probabilities(rows, classes, positive=positive, calibrator=calibrator)
    conformal = ConformalClassifier(alpha=template.alpha, method=template.method, classes=classes).fit(probs, y)
    conformal.probabilities_ = record
    conformal.fit_rows_ = fingerprint_rows(rows, text_column=text_column)
    n = conformal.n_calibration_
    summary = {"n": n, "alpha": conformal.alpha, "method": method, "qhat": conformal.qhat_, "classes": classes,
               "expected_coverage": expected_coverage(n, conformal.alpha), "skipped": skipped,
               "source": record["source"], "calibrator_rows": note}
    return conformal, summary


def save_conformal_scores(conformal, path) -> Path:
    """Write fitted sets as JSON: :meth:`confnb.conformal.ConformalClassifier.to_dict` plus ``probabilities`` and ``fit_rows``."""
    data = conformal.to_dict()
    data["probabilities"] = getattr(conformal, "probabilities_", None)
    if getattr(conformal, "fit_rows_", None) is not None:
        data["fit_rows"] = conformal.fit_rows_
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def read_conformal(path) -> ConformalClassifier:
    """Read sets written by :func:`save_conformal_scores` (or :meth:`confnb.conformal.ConformalClassifier.save`: raw probabilities)."""
    conformal = load_conformal(path)
    data = json.loads(Path(path).read_text(encoding="utf-8", errors="replace"))
    record = data.get("probabilities") or {"source": "raw", "calibrator": None, "positive": None}
    calibrator = record.get("calibrator") if isinstance(record, dict) else "damaged"
    if calibrator is not None and not (isinstance(calibrator, dict) and isinstance(calibrator.get("id"), str)):
        raise ValueError(f"{path}: its 'probabilities' record is damaged; re-create it with `confnb conformal`")
    conformal.probabilities_ = record
    conformal.fit_rows_ = data.get("fit_rows")
    return conformal


def check_conformal_use(conformal, *, class_names, positive: str | None = None, calibrator=None,
                        where: str = "the prediction sets") -> None:
    """Refuse sets fit on other classes, or on other probabilities than these would be built from.

    Sets fit on calibrated probabilities need the same calibrator (same parameters); sets fit
    on raw probabilities are built from raw ones whatever calibrator is given.
    """
    names, fitted = [str(c) for c in class_names], [str(c) for c in conformal.classes_]
    if sorted(names) != sorted(fitted):
        raise ValueError(f"{where} were fit on classes {fitted}, but the task has classes {names}; fit them on "
                         "scores of this task with `confnb conformal SCORES.csv --label-column label`")
    record = getattr(conformal, "probabilities_", None) or {}
    if len(names) == 2 and record.get("positive") not in (None, positive):
        raise ValueError(f"{where} were fit with positive class {record['positive']!r}, but the task's positive "
                         f"class is {positive!r}; fit them on scores of this task")
    wanted = record.get("calibrator")
    if wanted is None:
        return
    file = f" ({wanted['file']})" if wanted.get("file") else ""
    if calibrator is None:
        raise ValueError(f"{where} were fit on probabilities calibrated by a {wanted.get('kind')} calibrator{file}; "
                         "pass that calibrator with --calibrator, so the sets are built from the same probabilities")
    if calibrator_id(calibrator) != wanted["id"]:
        raise ValueError(f"{where} were fit on probabilities of another calibrator{file} (id {wanted['id']}) than "
                         f"the one given (id {calibrator_id(calibrator)}); pass the calibrator they were fit with, "
                         "or fit the sets again with `confnb conformal --calibrator ...`")


def add_prediction_sets(scores_df, conformal, *, positive: str = SENTIMENT.positive_class, calibrator=None):
    """Copy of ``scores_df`` with ``prediction_set`` (class names joined by ``|``) and ``set_size``.

    The probabilities are those the sets were fit on (see :func:`check_conformal_use`):
    ``calibrator`` is used only when they were calibrated. Rows without scores get blanks;
    an empty set (LAC: no class plausible enough) is ``""`` with size 0.

    Examples
    --------
    >>> import pandas as pd
    >>> conf = ConformalClassifier(alpha=0.2, classes=["negative", "positive"]).fit(
    ...     [[0.1, 0.9]] * 5 + [[0.6, 0.4]] * 5, [1] * 4 + [0] * 6)
    >>> add_prediction_sets(pd.DataFrame({"p_positive": [0.95, None]}), conf)["set_size"].tolist()
    [1, <NA>]
    """
    classes = [str(c) for c in conformal.classes_]
    record = getattr(conformal, "probabilities_", None) or {}
    use = calibrator if record.get("calibrator") is not None else None
    columns = [P_POSITIVE] if _is_binary(classes) else [c for name in classes for c in (prob_column(name), mass_column(name))]
    missing = [c for c in columns if c not in scores_df.columns]
    if missing:
        raise ValueError(f"the scores have no column(s) {missing}, which the prediction sets (classes {classes}) need")
    out = scores_df.copy()
    no_token, blank = unscored_rows(out, columns)
    ok = ~(no_token | blank)
    labels = np.full(len(out), None, dtype=object)
    sizes = np.full(len(out), np.nan)
    if ok.any():
        probs = set_probabilities(out.loc[ok], classes, positive=positive, calibrator=use)
        sets = conformal.predict_sets(probs)
        labels[ok] = sets_to_labels(sets, classes, sep=SEPARATOR)
        sizes[ok] = set_sizes(sets)
    out[PREDICTION_SET] = labels
    out[SET_SIZE] = pd.array(sizes, dtype="Int64")  # whole numbers; blank where a row has no scores
    return out
