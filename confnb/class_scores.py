"""A scored table of three or more classes, read: class names, usable rows, labels, probabilities.

A K-class scored table (:func:`confnb.scoring.classify` output, a ``confnb score`` CSV read
back) has a ``p_<class>`` and a ``mass_<class>`` column per class and no ``p_positive``.

* :func:`scored_classes`, :func:`is_multiclass_scores` -- its class names, read from the
  ``mass_<class>`` columns, and whether there are more than two.
* :func:`class_rows`, :func:`unscored_rows`, :func:`class_skip_messages` -- the rows with
  scores; the rest are skipped and counted, never silently.
* :func:`class_labels`, :func:`class_probs`, :func:`class_log_masses` -- labels (class names)
  as indices, the ``p_<class>`` columns as (n, K), and ``log(mass_<class>)``, the input of
  :mod:`confnb.scaling`.

Used by :mod:`confnb.class_calibration` and :mod:`confnb.conformal_scores`. Out of scope:
the two-class table (:mod:`confnb.targets`) and fitting anything.
"""

from __future__ import annotations

import numpy as np

from ._multiclass_validation import PROB_PREFIX
from .columns import MASS_PREFIX, NO_CLASS_TOKEN, P_POSITIVE, mass_column
from .targets import csv_flag, skip_messages
from .tasks import label_text

__all__ = [
    "class_labels",
    "class_log_masses",
    "class_probs",
    "class_rows",
    "class_skip_messages",
    "is_multiclass_scores",
    "prob_column",
    "scored_classes",
    "unscored_rows",
]

LABEL_HINT = "score a labelled file with `confnb score --label-column label`"


def scored_classes(frame) -> list[str]:
    """Class names of a scored table, in column order: from ``mass_<class>``, else ``p_<class>``.

    Examples
    --------
    >>> import pandas as pd
    >>> scored_classes(pd.DataFrame(columns=["text", "p_a", "p_b", "p_c", "mass_a", "mass_b", "mass_c"]))
    ['a', 'b', 'c']
    """
    names = [c[len(MASS_PREFIX):] for c in frame.columns if isinstance(c, str) and c.startswith(MASS_PREFIX)]
    if names:
        return names
    return [c[len(PROB_PREFIX):] for c in frame.columns
            if isinstance(c, str) and c.startswith(PROB_PREFIX) and c != P_POSITIVE]


def is_multiclass_scores(frame) -> bool:
    """True for a scored table of three or more classes (no ``p_positive``, K ``p_<class>`` columns).

    Examples
    --------
    >>> import pandas as pd
    >>> is_multiclass_scores(pd.DataFrame(columns=["p_positive", "mass_positive", "mass_negative"]))
    False
    """
    return P_POSITIVE not in frame.columns and len(scored_classes(frame)) > 2


def prob_column(name: str) -> str:
    """The column of a class's probability among the classes.

    >>> prob_column("balance")
    'p_balance'
    """
    return f"{PROB_PREFIX}{name}"


def unscored_rows(frame, columns) -> tuple[np.ndarray, np.ndarray]:
    """(rows flagged ``no_class_token``, other rows with a blank in ``columns``) as boolean arrays.

    >>> import pandas as pd
    >>> [a.tolist() for a in unscored_rows(pd.DataFrame({"p_a": [0.5, None]}), ["p_a"])]
    [[False, False], [False, True]]
    """
    no_token = np.zeros(len(frame), dtype=bool)
    if NO_CLASS_TOKEN in frame.columns:
        no_token = np.array([csv_flag(v) for v in frame[NO_CLASS_TOKEN]], dtype=bool)
    blank = np.zeros(len(frame), dtype=bool)
    for col in columns:
        blank |= frame[col].isna().to_numpy()
    return no_token, blank & ~no_token


def class_rows(frame, classes=None):
    """The rows of a K-class scored table that have scores, and how many were skipped and why.

    Parameters
    ----------
    frame : pandas.DataFrame
        A ``confnb score`` CSV read back, or :func:`confnb.scoring.classify` output.
    classes : sequence of str, optional
        The classes whose ``p_<class>`` and ``mass_<class>`` columns must be there (default:
        :func:`scored_classes`).

    Returns
    -------
    rows : pandas.DataFrame
    skipped : dict
        ``{"no_class_token": int, "no_score": int}``, as :func:`confnb.targets.usable_rows`.
    """
    if not hasattr(frame, "columns"):
        raise ValueError("scores must be a pandas DataFrame (e.g. pd.read_csv of a `confnb score` CSV)")
    classes = list(scored_classes(frame) if classes is None else classes)
    needed = [c for name in classes for c in (prob_column(name), mass_column(name))]
    missing = [c for c in needed if c not in frame.columns]
    if missing or len(classes) < 2:
        raise ValueError(
            f"the scores have no column(s) {missing or ['p_<class>', 'mass_<class>']}, which K-class calibration "
            "needs (one p_<class> and one mass_<class> per class); pass a CSV written by `confnb score --task ...`"
        )
    if len(frame) == 0:
        raise ValueError("the scores have no rows")
    no_token, blank = unscored_rows(frame, needed)
    skipped = {"no_class_token": int(no_token.sum()), "no_score": int(blank.sum())}
    keep = ~(no_token | blank)
    if not keep.any():
        raise ValueError(f"none of the {len(frame)} rows has scores to use ({'; '.join(class_skip_messages(skipped))})")
    return frame.loc[keep], skipped


def class_skip_messages(skipped: dict) -> list[str]:
    """One line per reason K-class rows were skipped (see :func:`class_rows`).

    >>> class_skip_messages({"no_class_token": 0, "no_score": 2})
    ['skipped 2 rows with blank p_<class> or mass_<class> (empty texts kept by --skip-empty, or unscored)']
    """
    lines = skip_messages({"no_class_token": skipped.get("no_class_token", 0)})
    if skipped.get("no_score"):
        lines.append(f"skipped {skipped['no_score']} rows with blank p_<class> or mass_<class> "
                     "(empty texts kept by --skip-empty, or unscored)")
    return lines


def class_labels(rows, label_column: str, classes) -> np.ndarray:
    """Labels of ``rows`` as indices into ``classes``; every label must be a class name.

    Examples
    --------
    >>> import pandas as pd
    >>> class_labels(pd.DataFrame({"label": ["b", " a "]}), "label", ["a", "b"]).tolist()
    [1, 0]
    """
    if label_column not in rows.columns:
        raise ValueError(
            f"the scores have no {label_column!r} column, so there is nothing to check them against; name the "
            f"label column with --label-column (label_column=...), or {LABEL_HINT}"
        )
    lookup = {str(c): i for i, c in enumerate(classes)}
    texts = [label_text(v) for v in rows[label_column]]
    missing = sum(t is None for t in texts)
    if missing:
        raise ValueError(f"{label_column!r} has {missing} missing value(s); drop those rows first")
    unknown = sorted({t for t in texts if t not in lookup})
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:5])
        raise ValueError(f"{label_column!r} has values that are not classes of these scores: {shown}. "
                         f"Labels must be class names: {list(lookup)}")
    return np.array([lookup[t] for t in texts], dtype=np.int64)


def class_probs(rows, classes) -> np.ndarray:
    """The ``p_<class>`` columns of ``rows`` as an (n, K) array, in the order of ``classes``."""
    return rows[[prob_column(c) for c in classes]].to_numpy(dtype=float)


def class_log_masses(rows, classes) -> np.ndarray:
    """``log(mass_<class>)`` of ``rows`` as an (n, K) array (``-inf`` for no mass): the scalers' input."""
    masses = rows[[mass_column(c) for c in classes]].to_numpy(dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(masses)
