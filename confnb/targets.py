"""Target arrays: the scores and 0/1 outcomes of a scored table for one calibration target.

* :func:`target_arrays` -- pick scores and outcomes for a calibration target: for
  ``"confidence"`` (``total_probability``, ``correct``), for ``"class"`` (``p_positive``,
  label is the task's positive class).
* :func:`usable_rows` and :func:`skip_messages` -- rows without scores are skipped and
  counted, never silently: rows a remote server flagged ``no_class_token`` (no class token
  among its top-k, so ``p_positive`` is NaN) and rows with a blank ``total_probability`` or
  ``p_positive`` (``--skip-empty``).
* :func:`labelled_arrays` -- the arrays of rows that all have scores; labels may be the
  positive class name, another class name, or 1/0, true/false, yes/no.
* :func:`csv_flag` -- a boolean cell of a CSV read back by pandas.

Used by :mod:`confnb.report` (which re-exports :func:`target_arrays`) and the command line.
Out of scope: metrics and calibration of the arrays, and reading files (:mod:`confnb.files`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ._validation import as_binary, as_prob, check_target
from .columns import CORRECT, NO_CLASS_TOKEN, P_POSITIVE, PREDICTION, TARGET_SCORE_COLUMN, TOTAL_PROBABILITY
from .tasks import NEGATIVE_SPELLINGS, POSITIVE_SPELLINGS, SENTIMENT, label_text

__all__ = ["csv_flag", "labelled_arrays", "skip_messages", "target_arrays", "usable_rows"]

LABEL_HINT = "score a labelled file with `confnb score --label-column label` (or pass labels to classify)"


def target_arrays(scores_df, target: str = "confidence", *, positive: str = SENTIMENT.positive_class,
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
    rows, skipped = usable_rows(scores_df, target)
    for line in skip_messages(skipped):
        warnings.warn(line, UserWarning, stacklevel=2)
    return labelled_arrays(rows, target, positive=positive, label_column=label_column)


def usable_rows(scores_df, target: str):
    """The rows with scores for ``target``, and how many were skipped and why.

    Parameters
    ----------
    scores_df : pandas.DataFrame
        Output of :func:`confnb.scoring.classify` or a ``confnb score`` CSV.
    target : {"confidence", "class"}

    Returns
    -------
    rows : pandas.DataFrame
        The rows kept.
    skipped : dict
        ``{"no_class_token": int, "no_score": int}`` (see :func:`skip_messages`).

    Examples
    --------
    >>> import pandas as pd
    >>> rows, skipped = usable_rows(pd.DataFrame({"total_probability": [0.9, None]}), "confidence")
    >>> len(rows), skipped
    (1, {'no_class_token': 0, 'no_score': 1})
    """
    check_target(target)
    if not hasattr(scores_df, "columns"):
        raise ValueError("scores_df must be a pandas DataFrame (e.g. pd.read_csv of a `confnb score` CSV)")
    score_col = TARGET_SCORE_COLUMN[target]
    if score_col not in scores_df.columns:
        raise ValueError(
            f"scores_df has no {score_col!r} column (needed for target {target!r}); pass the output of "
            "confnb.scoring.classify or a `confnb score` CSV"
        )
    if len(scores_df) == 0:
        raise ValueError("scores_df has no rows")
    no_token = np.zeros(len(scores_df), dtype=bool)
    if NO_CLASS_TOKEN in scores_df.columns:  # optional: only remote scores have it
        no_token = np.array([csv_flag(v) for v in scores_df[NO_CLASS_TOKEN]], dtype=bool)
    blank = np.zeros(len(scores_df), dtype=bool)
    for col in (TOTAL_PROBABILITY, P_POSITIVE):
        if col in scores_df.columns:  # NaN or empty; anything else non-numeric is an error later
            blank |= scores_df[col].isna().to_numpy()
    skipped = {"no_class_token": int(no_token.sum()), "no_score": int((blank & ~no_token).sum())}
    keep = ~(no_token | blank)
    if not keep.any():
        reasons = "; ".join(skip_messages(skipped))
        raise ValueError(
            f"none of the {len(scores_df)} rows has scores to use ({reasons}); score rows whose answer "
            "the model puts among its class tokens, or ask the server for more top log-probabilities"
        )
    return scores_df.loc[keep], skipped


def skip_messages(skipped: dict) -> list[str]:
    """One line per reason rows were skipped, from the ``skipped`` counts of :func:`usable_rows`.

    Examples
    --------
    >>> skip_messages({"no_class_token": 2, "no_score": 0})
    ["skipped 2 rows with no class token among the server's top-k"]
    """
    lines = []
    if skipped.get("no_class_token"):
        lines.append(f"skipped {skipped['no_class_token']} rows with no class token among the server's top-k")
    if skipped.get("no_score"):
        lines.append(f"skipped {skipped['no_score']} rows with blank total_probability or p_positive "
                     "(empty texts kept by --skip-empty, or unscored)")
    return lines


def labelled_arrays(rows, target: str, *, positive: str = SENTIMENT.positive_class, label_column: str = "label"):
    """Scores and 0/1 outcomes of rows that all have scores (see :func:`usable_rows`).

    Parameters are those of :func:`target_arrays`; no rows are skipped here.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"p_positive": [0.8, 0.3], "label": ["positive", "negative"],
    ...                      "prediction": ["positive", "negative"]})
    >>> labelled_arrays(rows, "class")[1].tolist()
    [1, 0]
    """
    score_col = TARGET_SCORE_COLUMN[check_target(target)]
    scores = as_prob(rows[score_col], score_col)
    if target == "confidence":
        if CORRECT not in rows.columns:
            raise ValueError(
                "scores_df has no 'correct' column, so there is nothing to check the scores against; "
                + LABEL_HINT
            )
        return scores, as_binary(rows[CORRECT], CORRECT)
    if label_column not in rows.columns:
        raise ValueError(
            f"scores_df has no {label_column!r} column, so there is nothing to check the scores against; "
            f"name the label column with --label-column (label_column=...), or {LABEL_HINT}"
        )
    labels = [label_text(v) for v in rows[label_column]]
    predicted = set()
    if PREDICTION in rows.columns:
        predicted = {t for t in (label_text(v) for v in rows[PREDICTION]) if t is not None}
    spellings_only = all(t is None or t.lower() in POSITIVE_SPELLINGS | NEGATIVE_SPELLINGS for t in labels)
    if predicted and positive not in predicted | set(labels) and not spellings_only:
        raise ValueError(
            f"the positive class {positive!r} appears in neither {label_column!r} nor the predictions "
            f"({sorted(predicted)}); name the task's positive class with --positive-class (positive=...)"
        )
    classes = predicted | {positive}
    return scores, _outcomes(rows[label_column], positive=positive, classes=classes, column=label_column)


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


def csv_flag(value) -> bool:
    """A boolean cell of a CSV read back by pandas (bool, 0/1, "True"/"false", blank).

    Examples
    --------
    >>> csv_flag("True"), csv_flag(0), csv_flag(float("nan"))
    (True, False, False)
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return str(value).strip().lower() in ("1", "1.0", "true", "yes")
