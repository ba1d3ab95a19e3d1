"""Input checks for the K-class modules: class-probability tables, class labels, log-masses.

Each function takes what a user passed and returns it coerced (a 2-D float array, a 1-D
array of class indices, a tuple of class names) or raises ``ValueError`` with a message
that names the fault and the fix. :mod:`confnb.multiclass`, :mod:`confnb.scaling`,
:mod:`confnb.conformal` and :mod:`confnb.class_charts` call them once, at the boundary.

Conventions: ``probs`` is an (n, K) array of class probabilities, or a ``DataFrame``
whose ``p_<class>`` columns are those probabilities (the class names then come from the
column names); ``y_true`` holds class *indices* 0..K-1 when it is numeric and class
*names* (looked up in ``classes``) when it holds strings.

Package-internal: the names are plain so that sibling modules may import them; they are
not part of the public API. Out of scope: the binary checks (:mod:`confnb._validation`).
"""

from __future__ import annotations

import numpy as np

from ._validation import PROB_TOLERANCE

#: Rows of ``probs`` may sum to 1 within this tolerance (token masses renormalised in
#: float32); they are renormalised exactly. Further off raises.
ROW_SUM_TOLERANCE = 1e-4
#: Prefix of the class-probability columns of a scored table.
PROB_PREFIX = "p_"
#: Log-probability given to a class with no mass (-inf) after each row is normalised:
#: finite, so that a label on such a class costs a large but finite log loss.
LOG_PROB_FLOOR = -30.0


def _prob_columns(frame):
    return [c for c in frame.columns if isinstance(c, str) and c.startswith(PROB_PREFIX)]


def check_probs(probs, name: str = "probs", *, classes=None):
    """``(probs, classes)``: an (n, K) float array of probabilities, rows summing to 1, and class names.

    A ``DataFrame`` contributes its ``p_<class>`` columns (``classes`` default to their names);
    an array's classes default to ``(0, 1, ..., K-1)``.

    >>> p, names = check_probs([[0.2, 0.8], [0.5, 0.5]])
    >>> p.shape, names
    ((2, 2), (0, 1))
    """
    if hasattr(probs, "columns"):
        cols = _prob_columns(probs)
        if cols and classes is not None:  # take the columns in the order of the given classes
            by_name = {c[len(PROB_PREFIX):]: c for c in cols}
            missing = [str(c) for c in classes if str(c) not in by_name]
            if missing:
                raise ValueError(f"{name} has no column for class(es) {missing} (looked for "
                                 f"{[PROB_PREFIX + m for m in missing]}); its p_ columns are {cols}")
            cols = [by_name[str(c)] for c in classes]
        elif cols:
            classes = [c[len(PROB_PREFIX):] for c in cols]
        if cols:
            probs = probs[cols]
        probs = probs.to_numpy(dtype=float, na_value=np.nan)
    try:
        arr = np.asarray(probs, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an (n, K) array of probabilities; got non-numeric values") from None
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D, one row per item and one column per class; got shape {arr.shape}. "
            "For a binary score pass np.c_[1 - p, p]"
        )
    n, k = arr.shape
    if n == 0:
        raise ValueError(f"{name} is empty; pass at least one row")
    if k < 2:
        raise ValueError(f"{name} has {k} column(s); pass one column per class (at least 2)")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains {int(np.isnan(arr).any(axis=1).sum())} row(s) with NaN; drop them first")
    bad = (arr < -PROB_TOLERANCE) | (arr > 1 + PROB_TOLERANCE)
    if bad.any():
        raise ValueError(
            f"{name} has values outside [0, 1] (e.g. {float(arr[bad][0])!r}); pass probabilities, not "
            "logits or log-masses (apply a softmax first, or use confnb.scaling for log-masses)"
        )
    arr = np.clip(arr, 0.0, 1.0)
    sums = arr.sum(axis=1)
    off = np.abs(sums - 1.0) > ROW_SUM_TOLERANCE
    if off.any():
        raise ValueError(
            f"{name} has {int(off.sum())} row(s) that do not sum to 1 (e.g. {float(sums[off][0]):.4f}); "
            "renormalise each row (probs / probs.sum(axis=1, keepdims=True)) over the classes"
        )
    return arr / sums[:, None], check_classes(classes, k)


def check_classes(classes, n_classes: int) -> tuple:
    """Class names as a tuple of ``n_classes`` distinct entries; ``None`` gives ``(0, ..., K-1)``.

    >>> check_classes(["cat", "dog"], 2)
    ('cat', 'dog')
    """
    if classes is None:
        return tuple(range(n_classes))
    names = tuple(c.item() if isinstance(c, np.generic) else c for c in classes)
    if len(names) != n_classes:
        raise ValueError(f"classes has {len(names)} name(s) but there are {n_classes} classes; pass one name "
                         "per column, in column order")
    if len(set(names)) != len(names):
        raise ValueError(f"classes has repeated names {list(names)}; each class needs its own name")
    return names


def check_labels(y_true, classes: tuple, name: str = "y_true") -> np.ndarray:
    """Class indices (int, 0..K-1) of ``y_true``: numbers are indices, strings are names in ``classes``.

    >>> check_labels(["b", "a"], ("a", "b")).tolist()
    [1, 0]
    """
    raw = np.asarray(y_true.to_numpy() if hasattr(y_true, "to_numpy") else y_true)
    if raw.ndim == 0:
        raise ValueError(f"{name} must be a sequence of class labels, not a single value")
    raw = raw.reshape(-1) if raw.ndim == 2 and 1 in raw.shape else raw
    if raw.ndim != 1 or raw.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of class labels; got shape {raw.shape}")
    k = len(classes)
    if raw.dtype.kind in "USO":
        lookup = {str(c): i for i, c in enumerate(classes)}
        idx = np.array([lookup.get(str(v), -1) for v in raw], dtype=np.int64)
        if (idx < 0).any():
            unknown = sorted({str(v) for v in raw[idx < 0]})[:5]
            raise ValueError(
                f"{name} has labels {unknown} that are not in classes {list(classes)}; pass classes= with "
                "every class name, in the column order of probs (or pass class indices 0..K-1)"
            )
        return idx
    try:
        arr = raw.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold class indices 0..{k - 1} or class names") from None
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains {int(np.isnan(arr).sum())} missing label(s); drop those rows first")
    if (arr != np.round(arr)).any() or (arr < 0).any() or (arr > k - 1).any():
        shown = ", ".join(f"{v:g}" for v in np.unique(arr)[:5])
        raise ValueError(f"{name} must hold class indices 0..{k - 1} (one per column of probs); got values {shown}")
    return arr.astype(np.int64)


def check_probs_labels(y_true, probs, *, classes=None, prob_name: str = "probs"):
    """``(labels, probs, classes)`` checked together: one label per row of ``probs``.

    >>> y, p, names = check_probs_labels(["b", "a"], [[0.3, 0.7], [0.9, 0.1]], classes=["a", "b"])
    >>> y.tolist(), names
    ([1, 0], ('a', 'b'))
    """
    p, names = check_probs(probs, prob_name, classes=classes)
    y = check_labels(y_true, names)
    if y.shape[0] != p.shape[0]:
        raise ValueError(f"y_true has {y.shape[0]} rows but {prob_name} has {p.shape[0]}; pass one label per row")
    return y, p, names


def check_log_masses(log_masses, name: str = "log_masses") -> np.ndarray:
    """Row-normalised log-probabilities (n, K) from log-masses, -inf floored at :data:`LOG_PROB_FLOOR`.

    Each row is shifted by its log-sum-exp (a softmax does not see the shift), so masses that
    do not sum to 1 are fine. NaN, +inf and rows where every class is -inf raise.

    >>> check_log_masses([[np.log(0.3), np.log(0.1)], [0.0, -np.inf]]).round(3).tolist()
    [[-0.288, -1.386], [0.0, -30.0]]
    """
    if hasattr(log_masses, "to_numpy"):
        log_masses = log_masses.to_numpy(dtype=float, na_value=np.nan)
    try:
        arr = np.asarray(log_masses, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an (n, K) array of log-masses; got non-numeric values") from None
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < 2:
        raise ValueError(f"{name} must be 2-D with one row per item and at least 2 class columns; got shape "
                         f"{arr.shape}")
    if np.isnan(arr).any() or np.isposinf(arr).any():
        raise ValueError(f"{name} contains NaN or +inf; pass log(class mass), with -inf only for a class with no mass")
    dead = np.isneginf(arr).all(axis=1)
    if dead.any():
        raise ValueError(f"{name} has {int(dead.sum())} row(s) where every class is -inf (no class token got any "
                         "mass); drop those rows (the no_class_token column marks them)")
    top = arr.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        norm = top + np.log(np.exp(arr - top).sum(axis=1, keepdims=True))
    return np.maximum(arr - norm, LOG_PROB_FLOOR)


def check_alpha(alpha) -> float:
    """A miscoverage rate strictly between 0 and 1.

    >>> check_alpha(0.1)
    0.1
    """
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number strictly between 0 and 1 (e.g. 0.1); got {alpha!r}") from None
    if not 0.0 < value < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1 (e.g. 0.1 for 90% coverage); got {alpha!r}")
    return value
