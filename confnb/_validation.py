"""Input checks shared by the evaluation modules: one place for every array and option check.

Each function takes what a user passed, returns it coerced (a 1-D float or int array, an
``int``, a ``float``) or raises ``ValueError`` with a message that names the fault and the
fix. The public functions of :mod:`confnb.metrics`, :mod:`confnb.thresholds`,
:mod:`confnb.sampling`, :mod:`confnb.shift` and their neighbours call these once, at the
boundary, and then work on the checked arrays.

Package-internal: the names are plain so that sibling modules may import them; they are
not part of the public API and may change. Out of scope: metrics, and checks that belong to
one function only (those stay next to it).
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

#: Probabilities this close outside [0, 1] (float round-off from summing token masses)
#: are clipped instead of rejected.
PROB_TOLERANCE = 1e-9
#: The two calibration targets: P(prediction correct), P(label is the positive class).
TARGETS = ("confidence", "class")


def to_float_array(values, name: str) -> np.ndarray:
    """A non-empty 1-D float array (NaN kept), or ``ValueError``.

    >>> to_float_array([[1], [2]], "x").tolist()
    [1.0, 2.0]
    """
    if hasattr(values, "to_numpy"):  # pandas Series / nullable dtypes: NA -> NaN
        try:
            values = values.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"{name} must hold numbers; convert the column with pd.to_numeric first ({err})"
            ) from None
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must hold numbers (probabilities in [0, 1]); got {type(values).__name__} "
            "with non-numeric values"
        ) from None
    if arr.ndim == 0:
        raise ValueError(f"{name} must be a sequence of values, not a single number; wrap it in a list")
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (one value per row); got shape {arr.shape}. "
            "For a two-column predict_proba output pass the positive column, e.g. proba[:, 1]"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one row")
    return arr


def as_prob(y_prob, name: str = "y_prob") -> np.ndarray:
    """Coerce probabilities to a 1-D float array in [0, 1] or raise ``ValueError``.

    >>> as_prob([0.2, 1.0 + 1e-12]).tolist()
    [0.2, 1.0]
    """
    arr = to_float_array(y_prob, name)
    n_nan = int(np.isnan(arr).sum())
    if n_nan:
        raise ValueError(f"{name} contains {n_nan} NaN value(s); drop or fill those rows first")
    bad = (arr < -PROB_TOLERANCE) | (arr > 1 + PROB_TOLERANCE)
    if bad.any():
        example = float(arr[bad][0])
        raise ValueError(
            f"{name} has values outside [0, 1] ({int(bad.sum())} row(s), e.g. {example!r}); "
            "pass probabilities, not logits or margins (apply a sigmoid first)"
        )
    return np.clip(arr, 0.0, 1.0)


def as_binary(y_true, name: str = "y_true") -> np.ndarray:
    """Coerce 0/1 (or bool) outcomes to a 1-D int array or raise ``ValueError``.

    >>> as_binary([True, False]).tolist()
    [1, 0]
    """
    raw = np.asarray(y_true.to_numpy() if hasattr(y_true, "to_numpy") else y_true)
    if raw.dtype.kind in "USO" and raw.size and any(isinstance(v, str) for v in raw.reshape(-1)[:50]):
        example = next(v for v in raw.reshape(-1) if isinstance(v, str))
        raise ValueError(
            f"{name} must be 0/1 or True/False, got strings such as {example!r}; compare with "
            "the positive class first, e.g. (df['label'] == 'positive')"
        )
    arr = to_float_array(raw, name)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains {int(np.isnan(arr).sum())} missing value(s); drop those rows first")
    values = np.unique(arr)
    if not np.isin(values, (0.0, 1.0)).all():
        shown = ", ".join(f"{v:g}" for v in values[:5])
        raise ValueError(
            f"{name} must contain only 0 and 1 (or False/True); got values {shown}. "
            "Binarise it first, e.g. (labels == positive_label).astype(int)"
        )
    return arr.astype(np.int64)


def check_pair(y_true, y_prob, *, true_name: str = "y_true", prob_name: str = "y_prob"):
    """Validate and coerce an outcome / probability pair of equal length.

    >>> t, p = check_pair([1, 0], [0.9, 0.2])
    >>> t.dtype.kind, p.dtype.kind
    ('i', 'f')
    """
    t = as_binary(y_true, true_name)
    p = as_prob(y_prob, prob_name)
    if t.shape[0] != p.shape[0]:
        raise ValueError(
            f"{true_name} has {t.shape[0]} rows but {prob_name} has {p.shape[0]}; "
            "pass one probability per outcome"
        )
    return t, p


def finite_array(values, name: str) -> np.ndarray:
    """A non-empty 1-D float array of finite real numbers (any sign), or ``ValueError``.

    >>> finite_array([-0.5, 2], "values").tolist()
    [-0.5, 2.0]
    """
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values, dtype=float).reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} is empty; the group needs at least one row")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; drop those rows first")
    return arr


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def check_count(value, name: str, *, minimum: int, hint: str = "") -> int:
    """An integer (not bool) at least ``minimum``, or ``ValueError``; ``hint`` follows the bound.

    >>> check_count(5, "n", minimum=2)
    5
    """
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}{hint}; got {value!r}")
    return int(value)


def check_positive_int(value, name: str) -> int:
    """A positive integer (not bool), or ``ValueError``.

    >>> check_positive_int(20, "n_bins")
    20
    """
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_n_bins(n_bins) -> int:
    """The number of bins, a positive integer.

    >>> check_n_bins(10)
    10
    """
    return check_positive_int(n_bins, "n_bins")


def check_n_boot(n_boot) -> int:
    """The number of bootstrap resamples, an integer >= 10.

    >>> check_n_boot(1000)
    1000
    """
    return check_count(n_boot, "n_boot", minimum=10, hint=" (1000 is typical)")


def check_level(level) -> float:
    """A coverage strictly between 0 and 1.

    >>> check_level(0.95)
    0.95
    """
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1 (e.g. 0.95); got {level!r}")
    return level


def check_thresholds(thresholds, name="thresholds") -> np.ndarray:
    """A non-empty 1-D array of thresholds in [0, 1], rounded so that 0.6 is exactly 0.6.

    >>> check_thresholds(0.9).tolist()
    [0.9]
    """
    arr = np.round(np.atleast_1d(np.asarray(thresholds, dtype=float)), 12)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers in [0, 1]")
    if np.isnan(arr).any() or (arr < 0).any() or (arr > 1).any():
        raise ValueError(f"{name} must lie in [0, 1] (e.g. 0.9 for 90%); got {arr.tolist()}")
    return arr


def check_target(target) -> str:
    """A calibration target name, ``"confidence"`` or ``"class"``.

    >>> check_target("class")
    'class'
    """
    if target not in TARGETS:
        raise ValueError(f"target must be 'confidence' or 'class'; got {target!r}")
    return target


def check_optional_target(target):
    """A calibration target name or ``None`` (not recorded).

    >>> check_optional_target(None) is None
    True
    """
    if target is not None and target not in TARGETS:
        raise ValueError(f"target must be 'confidence', 'class' or None; got {target!r}")
    return target


def uniform_edges(n_bins: int) -> np.ndarray:
    """Edges of ``n_bins`` equal-width bins on [0, 1].

    Rounded so that an edge such as 0.95 is exactly the float 0.95: a score of 0.95 then
    lands in the [0.95, 1.00] bin, as a reader expects.

    >>> uniform_edges(4).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    return np.round(np.linspace(0.0, 1.0, n_bins + 1), 12)


def bin_index(y_prob: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value: bins are [lo, hi) except the last, which includes its upper edge.

    >>> bin_index(np.array([0.0, 0.5, 1.0]), uniform_edges(2)).tolist()
    [0, 1, 1]
    """
    idx = np.searchsorted(edges, y_prob, side="right") - 1
    return np.clip(idx, 0, len(edges) - 2)


def unchecked(metric: Callable) -> Callable:
    """``metric`` without its input checks, for loops over arrays that were checked once.

    The metrics of :mod:`confnb.metrics` carry the unchecked version as ``metric.unchecked``
    (same arithmetic, same result on checked arrays); a ``functools.partial`` of one keeps
    its options. Any other callable is returned as it is.

    >>> from confnb.metrics import brier_score
    >>> unchecked(brier_score)(np.array([1, 0]), np.array([0.9, 0.2]))
    0.025
    """
    if isinstance(metric, functools.partial):
        inner = getattr(metric.func, "unchecked", None)
        return metric if inner is None else functools.partial(inner, *metric.args, **metric.keywords)
    return getattr(metric, "unchecked", metric)
