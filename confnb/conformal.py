"""Split conformal prediction sets: a set of classes that holds the true one 1 - alpha of the time.

Instead of one predicted class, return every class that is not too implausible. Fit on
labelled calibration rows the model was not trained on; the sets on new rows drawn like
them then contain the true class with probability at least ``1 - alpha`` -- on average
over rows (marginal coverage), whatever the model, calibrated or not (Vovk et al. 2005;
Angelopoulos & Bates 2021, "A gentle introduction to conformal prediction"). A badly
calibrated model pays with larger sets, not with lost coverage.

Recipe (:class:`ConformalClassifier`): give each calibration row a *nonconformity score*
``s(x, y)`` (high = the label looks unlikely), take ``qhat`` = the
``ceil((n + 1)(1 - alpha))``-th smallest of the ``n`` scores, and on a new row keep every
class ``k`` with ``s(x, k) <= qhat``. Two scores:

``"lac"`` (least ambiguous set-valued classifier; Sadinle, Lei & Wasserman 2019)
    ``s = 1 - p_y``. The smallest sets on average; sets may be empty (no class plausible
    enough) and adapt little to how hard a row is.
``"aps"`` (adaptive prediction sets; Romano, Sesia & Candès 2020)
    ``s`` = the total probability of the classes at least as probable as ``y``: sort the
    classes by probability and add them up until ``y`` is in. Larger sets on hard rows,
    smaller on easy ones. ``randomized=True`` counts only a uniform share ``u`` of ``y``'s
    own probability (exact coverage instead of at least; sets may then be empty).

Helpers: :func:`set_sizes`, :func:`sets_to_labels` (``"cat|dog"``), :func:`coverage`,
:func:`set_size_table` (the numbers behind :func:`confnb.class_charts.plot_set_sizes`).
Fitted sets save to JSON (:meth:`ConformalClassifier.save`, :func:`load_conformal`).

Out of scope: class-conditional (Mondrian) coverage, cross-conformal and jackknife+,
regularised APS (RAPS), and conformal regression.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.exceptions import NotFittedError

from ._multiclass_validation import check_alpha, check_classes, check_labels, check_probs, check_probs_labels

__all__ = [
    "CONFORMAL_FORMAT",
    "ConformalClassifier",
    "SetSizes",
    "coverage",
    "load_conformal",
    "min_calibration_rows",
    "set_size_table",
    "set_sizes",
    "sets_to_labels",
]

#: Value of the ``format`` field of a saved conformal classifier.
CONFORMAL_FORMAT = "confnb.conformal"
CONFORMAL_FORMAT_VERSION = 1
METHODS = ("lac", "aps")


def _aps_scores(p: np.ndarray, u=None) -> np.ndarray:
    """APS score of every class of every row: mass of the strictly more probable classes + (u *) own mass."""
    order = np.argsort(-p, axis=1, kind="stable")
    sorted_p = np.take_along_axis(p, order, axis=1)
    before = np.cumsum(sorted_p, axis=1) - sorted_p  # mass ranked strictly ahead in the sorted order
    # tied classes share the mass of everything strictly more probable (order among ties is arbitrary)
    first_of_tie = np.concatenate([np.ones((p.shape[0], 1), bool), np.diff(sorted_p, axis=1) != 0], axis=1)
    before = np.maximum.accumulate(np.where(first_of_tie, before, -np.inf), axis=1)
    own = sorted_p if u is None else sorted_p * u[:, None]
    scores = np.empty_like(p)
    np.put_along_axis(scores, order, before + own, axis=1)
    return scores


def min_calibration_rows(alpha: float) -> int:
    """Fewest calibration rows for which ``qhat`` exists: ``ceil((n + 1)(1 - alpha)) <= n``.

    >>> min_calibration_rows(0.1), min_calibration_rows(0.05)
    (9, 19)
    """
    alpha = check_alpha(alpha)
    n = max(1, math.ceil((1 - alpha) / alpha - 1e-9))
    while _rank(n, alpha) > n:
        n += 1
    return n


def _rank(n: int, alpha: float) -> int:
    # the round-off guard keeps e.g. 10 * 0.9 = 9.000000000000002 from becoming 10
    return math.ceil((n + 1) * (1 - alpha) - 1e-9)


class ConformalClassifier:
    """Split conformal prediction sets from class probabilities (LAC or APS).

    Parameters
    ----------
    alpha : float, default 0.1
        Allowed miscoverage: sets contain the true class at least ``1 - alpha`` of the time.
    method : {"lac", "aps"}, default "lac"
        Nonconformity score, see the module docstring.
    randomized : bool, default False
        APS only: randomise the score of the true class (exact rather than conservative
        coverage; sets may be empty and differ between calls).
    rng : int, numpy.random.Generator or None
        Randomness for ``randomized=True`` (one generator, made at ``fit``, used by ``fit``
        and every ``predict_sets``).
    classes : sequence, optional
        Class names in column order (needed when ``y_true`` holds names).

    Attributes
    ----------
    qhat_ : float
        The ``ceil((n + 1)(1 - alpha))``-th smallest calibration score: the finite-sample
        corrected ``(1 - alpha)`` quantile. A class is kept when its score is ``<= qhat_``.
    n_calibration_ : int
    classes_ : list
    n_classes_ : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> probs = rng.dirichlet([1, 1, 1], 400)
    >>> y = (probs.cumsum(1) > rng.uniform(size=(400, 1))).argmax(1)  # labels drawn from probs
    >>> conf = ConformalClassifier(alpha=0.1).fit(probs[:200], y[:200])
    >>> sets = conf.predict_sets(probs[200:])
    >>> sets.shape, sets.dtype
    ((200, 3), dtype('bool'))
    >>> bool(coverage(sets, y[200:]) > 0.8)
    True
    """

    def __init__(self, alpha: float = 0.1, method: str = "lac", *, randomized: bool = False, rng=None,
                 classes=None):
        self.alpha = check_alpha(alpha)
        if method not in METHODS:
            raise ValueError(f"method must be 'lac' or 'aps'; got {method!r}")
        if randomized and method != "aps":
            raise ValueError("randomized=True applies to method='aps' only; LAC sets are not randomised")
        self.method = method
        self.randomized = bool(randomized)
        self.rng = rng
        self.classes = None if classes is None else list(classes)

    def _scores(self, p: np.ndarray) -> np.ndarray:
        if self.method == "lac":
            return 1.0 - p
        u = self._gen.uniform(size=p.shape[0]) if self.randomized else None
        return _aps_scores(p, u)

    def fit(self, probs, y_true):
        """Compute ``qhat_`` from calibration rows; returns ``self``.

        Raises ``ValueError`` when there are too few rows for ``alpha``
        (``ceil((n + 1)(1 - alpha)) > n``: at least 9 rows for 0.1, 19 for 0.05).
        """
        y, p, names = check_probs_labels(y_true, probs, classes=self.classes)
        n = y.shape[0]
        rank = _rank(n, self.alpha)
        if rank > n:
            raise ValueError(
                f"{n} calibration rows are too few for alpha={self.alpha}: the corrected quantile needs "
                f"at least {min_calibration_rows(self.alpha)}; use more rows or a larger alpha"
            )
        self._gen = np.random.default_rng(self.rng)
        scores = self._scores(p)[np.arange(n), y]
        self.qhat_ = float(np.sort(scores)[rank - 1])
        self.n_calibration_ = int(n)
        self.classes_, self.n_classes_ = list(names), len(names)
        return self

    def _check_fitted(self):
        if not hasattr(self, "qhat_"):
            raise NotFittedError("ConformalClassifier is not fitted yet; call fit(probs, y_true) on calibration "
                                 "rows first, or load a saved one with load_conformal(path)")

    def predict_sets(self, probs) -> np.ndarray:
        """Boolean (n, K): ``True`` where the class is in the row's prediction set."""
        self._check_fitted()
        p, _ = check_probs(probs, classes=self.classes_)
        if not hasattr(self, "_gen"):
            self._gen = np.random.default_rng(self.rng)
        return self._scores(p) <= self.qhat_

    def predict_labels(self, probs, *, sep: str = "|") -> list:
        """Each row's set as class names joined by ``sep`` (``""`` for an empty set)."""
        return sets_to_labels(self.predict_sets(probs), self.classes_, sep=sep)

    # -- persistence -----------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready: format, version, method, alpha, qhat, classes, n_calibration, randomized."""
        self._check_fitted()
        return {"format": CONFORMAL_FORMAT, "version": CONFORMAL_FORMAT_VERSION, "method": self.method,
                "alpha": self.alpha, "qhat": self.qhat_, "classes": list(self.classes_),
                "n_calibration": self.n_calibration_, "randomized": self.randomized}

    @classmethod
    def from_dict(cls, data: dict) -> ConformalClassifier:
        """Rebuild a fitted classifier from :meth:`to_dict`'s output (``ValueError`` if damaged)."""
        if not isinstance(data, dict) or data.get("format") != CONFORMAL_FORMAT:
            raise ValueError(f"not a confnb conformal classifier (expected \"format\": \"{CONFORMAL_FORMAT}\")")
        if data.get("version") != CONFORMAL_FORMAT_VERSION:
            raise ValueError(f"conformal format version {data.get('version')!r} is not one this confnb reads "
                             f"({CONFORMAL_FORMAT_VERSION}); upgrade confnb or re-create the file")
        try:
            classes = list(data["classes"])
            out = cls(alpha=data["alpha"], method=data["method"], randomized=bool(data.get("randomized", False)),
                      classes=classes)
            qhat = float(data["qhat"])
            n = data["n_calibration"]
            if not math.isfinite(qhat) or isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError("qhat must be a finite number and n_calibration a positive integer")
            out.qhat_, out.n_calibration_ = qhat, n
            out.classes_ = list(check_classes(classes, len(classes)))
            out.n_classes_ = len(classes)
        except (TypeError, KeyError) as err:
            raise ValueError(f"damaged conformal classifier description: missing or invalid {err}") from None
        return out

    def save(self, path) -> Path:
        """Write the fitted classifier as JSON; read it back with :func:`confnb.conformal.load_conformal`."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    def __repr__(self) -> str:
        state = (f"qhat_={self.qhat_:.4f}, n_calibration_={self.n_calibration_}" if hasattr(self, "qhat_")
                 else "not fitted")
        return f"ConformalClassifier(alpha={self.alpha}, method={self.method!r}) [{state}]"


def load_conformal(path) -> ConformalClassifier:
    """Read a classifier written by :meth:`ConformalClassifier.save`.

    Examples
    --------
    >>> import tempfile, os
    >>> conf = ConformalClassifier(alpha=0.2, classes=["a", "b"]).fit([[0.9, 0.1]] * 5 + [[0.3, 0.7]] * 5,
    ...                                                              ["a"] * 4 + ["b"] * 6)
    >>> back = load_conformal(conf.save(os.path.join(tempfile.mkdtemp(), "sets.json")))
    >>> back.predict_labels([[0.6, 0.4]]) == conf.predict_labels([[0.6, 0.4]])
    True
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err.msg}, line {err.lineno}); re-create it with "
                         "ConformalClassifier.save") from None
    try:
        return ConformalClassifier.from_dict(data)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


# ---------------------------------------------------------------------------
# helpers on sets
# ---------------------------------------------------------------------------
def _check_sets(sets) -> np.ndarray:
    arr = np.asarray(sets)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.dtype != bool:
        raise ValueError(f"sets must be a non-empty boolean (n, K) array as predict_sets returns; got "
                         f"{arr.dtype} of shape {arr.shape}")
    return arr


def set_sizes(sets) -> np.ndarray:
    """Number of classes in each row's set.

    >>> set_sizes([[True, False, True], [False, False, False]]).tolist()
    [2, 0]
    """
    return _check_sets(sets).sum(axis=1)


def sets_to_labels(sets, classes=None, *, sep: str = "|") -> list:
    """Each row's set as class names joined by ``sep``, in class order (``""`` for an empty set).

    >>> sets_to_labels([[True, False, True], [False, True, False]], ["cat", "dog", "fox"])
    ['cat|fox', 'dog']
    """
    arr = _check_sets(sets)
    names = [str(c) for c in check_classes(classes, arr.shape[1])]
    return [sep.join(n for n, keep in zip(names, row) if keep) for row in arr]


def coverage(sets, y_true, *, classes=None) -> float:
    """Share of rows whose set contains the true class.

    >>> coverage([[True, False], [True, True], [False, True]], [1, 0, 1])
    0.6666666666666666
    """
    arr = _check_sets(sets)
    y = check_labels(y_true, check_classes(classes, arr.shape[1]))
    if y.shape[0] != arr.shape[0]:
        raise ValueError(f"y_true has {y.shape[0]} rows but sets has {arr.shape[0]}; pass one label per row")
    return float(np.mean(arr[np.arange(y.shape[0]), y]))


@dataclass(frozen=True, eq=False)
class SetSizes:
    """How many sets have 0, 1, ..., K classes, and how often each size covers the label.

    Attributes
    ----------
    sizes : ndarray of int
        ``0, 1, ..., K``.
    counts : ndarray of int
        Rows with a set of each size.
    covered : ndarray of int or None
        Rows of each size whose set holds the true class (None without labels).
    """

    sizes: np.ndarray
    counts: np.ndarray
    covered: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def coverage_by_size(self) -> np.ndarray | None:
        """``covered / counts`` per size (NaN for sizes no row has); None without labels."""
        if self.covered is None:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.covered / self.counts, np.nan)

    @property
    def coverage(self) -> float | None:
        """Overall share of sets holding the true class; None without labels."""
        return None if self.covered is None else float(self.covered.sum() / self.n)

    @property
    def mean_size(self) -> float:
        return float(np.sum(self.sizes * self.counts) / self.n)

    def to_frame(self):
        """One row per size: ``size, count, covered, coverage`` (the last two when labels were given)."""
        import pandas as pd

        frame = pd.DataFrame({"size": self.sizes, "count": self.counts})
        if self.covered is not None:
            frame["covered"] = self.covered
            frame["coverage"] = self.coverage_by_size
        return frame


def set_size_table(sets, y_true=None, *, classes=None) -> SetSizes:
    """Count sets by size (0..K) and, with labels, how many of each size cover the true class.

    >>> table = set_size_table([[True, False], [True, True], [False, True]], [1, 0, 1])
    >>> table.counts.tolist(), table.covered.tolist(), table.coverage
    ([0, 2, 1], [0, 1, 1], 0.6666666666666666)
    """
    arr = _check_sets(sets)
    k = arr.shape[1]
    size = arr.sum(axis=1)
    counts = np.bincount(size, minlength=k + 1)
    covered = None
    if y_true is not None:
        y = check_labels(y_true, check_classes(classes, k))
        if y.shape[0] != arr.shape[0]:
            raise ValueError(f"y_true has {y.shape[0]} rows but sets has {arr.shape[0]}; pass one label per row")
        hit = arr[np.arange(y.shape[0]), y]
        covered = np.bincount(size, weights=hit, minlength=k + 1).astype(np.int64)
    return SetSizes(sizes=np.arange(k + 1), counts=counts, covered=covered)
