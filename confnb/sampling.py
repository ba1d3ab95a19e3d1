"""How many labelled rows does calibration need? Repeated draws, fixed test set.

:func:`sample_size_curve` draws ``n`` rows from a calibration pool (for several ``n``,
``n_draws`` times each), fits a calibrator on each draw, and scores the calibrated
predictions of one fixed test set. What it reports for each size:

* the held-out ECE on the test set (mean and spread over draws);
* for each confidence threshold, how many test predictions clear it and how accurate
  they are (mean and spread over draws).

The test set never changes and is never used for fitting, so differences between sizes
come from the calibration data alone. The spread across draws is the point: with 50 rows
the same procedure gives very different answers depending on which 50.

For the **confidence** target ``y_true`` means "the prediction was correct" and the
threshold counts are predictions you could automate.

Out of scope: choosing the size for you, and learning curves of the classifier itself.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .calibration import LABEL_METHODS, make_calibrator
from .metrics import _check_n_bins, _check_pair, expected_calibration_error
from .thresholds import _check_thresholds

__all__ = ["SampleSizeCurve", "sample_size_curve", "stratified_draw"]


def stratified_draw(y_true, size: int, *, rng=None) -> np.ndarray:
    """Indices of ``size`` rows drawn without replacement, keeping the class balance.

    The number of positives is ``round(size * share_of_positives)``, moved into
    ``[1, size - 1]`` so that every draw holds both classes (a calibrator cannot learn
    from one). Within each class the rows are a simple random sample.

    Examples
    --------
    >>> idx = stratified_draw([1] * 90 + [0] * 10, 20, rng=0)
    >>> len(idx), int(sum(i >= 90 for i in idx))
    (20, 2)
    """
    from .metrics import _as_binary

    t = _as_binary(y_true)
    gen = np.random.default_rng(rng)
    size = int(size)
    pos = np.flatnonzero(t == 1)
    neg = np.flatnonzero(t == 0)
    if size > t.shape[0]:
        raise ValueError(f"cannot draw {size} rows from a pool of {t.shape[0]}; use sizes up to {t.shape[0]}")
    if size < 2 or pos.size == 0 or neg.size == 0:
        raise ValueError("a draw needs at least 2 rows and a pool holding both classes")
    n_pos = int(round(size * pos.size / t.shape[0]))
    n_pos = min(max(n_pos, 1), size - 1, pos.size)
    n_pos = max(n_pos, size - neg.size)
    idx = np.r_[gen.choice(pos, n_pos, replace=False), gen.choice(neg, size - n_pos, replace=False)]
    return np.sort(idx)


@dataclass(frozen=True, repr=False, eq=False)
class SampleSizeCurve:
    """Results of :func:`sample_size_curve`.

    Attributes
    ----------
    sizes : ndarray of int, shape (S,)
    thresholds : ndarray, shape (T,)
    method : str
        Calibration method.
    n_draws : int
    n_test : int
        Rows in the fixed test set.
    raw_ece : float
        ECE of the uncalibrated test scores, for reference.
    ece : ndarray, shape (S, n_draws)
        Held-out ECE of each draw.
    counts : ndarray of int, shape (S, T, n_draws)
        Test predictions whose calibrated score is at or above each threshold.
    accuracy : ndarray, shape (S, T, n_draws)
        Their accuracy (NaN when none clear the threshold).
    n_bins : int
        Bins used for the ECE.
    """

    sizes: np.ndarray
    thresholds: np.ndarray
    method: str
    n_draws: int
    n_test: int
    raw_ece: float
    ece: np.ndarray
    counts: np.ndarray
    accuracy: np.ndarray
    n_bins: int = 20

    @property
    def ece_mean(self) -> np.ndarray:
        """Mean held-out ECE per size."""
        return self.ece.mean(axis=1)

    @property
    def ece_std(self) -> np.ndarray:
        """Standard deviation of held-out ECE across draws, per size."""
        return self.ece.std(axis=1, ddof=1) if self.n_draws > 1 else np.zeros(len(self.sizes))

    @property
    def count_mean(self) -> np.ndarray:
        """Mean count clearing each threshold, shape (S, T)."""
        return self.counts.mean(axis=2)

    @property
    def count_std(self) -> np.ndarray:
        """Spread of those counts across draws, shape (S, T)."""
        return self.counts.std(axis=2, ddof=1) if self.n_draws > 1 else np.zeros(self.counts.shape[:2])

    @property
    def accuracy_mean(self) -> np.ndarray:
        """Mean accuracy above each threshold over the draws that had any, shape (S, T)."""
        return _nan_reduce(np.nanmean, self.accuracy)

    @property
    def accuracy_std(self) -> np.ndarray:
        """Spread of that accuracy over the draws that had any, shape (S, T)."""
        return _nan_reduce(lambda a, axis: np.nanstd(a, axis=axis, ddof=1 if self.n_draws > 1 else 0), self.accuracy)

    def ece_frame(self):
        """One row per size: ``size, ece_mean, ece_std, ece_p10, ece_p90``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "size": self.sizes,
                "ece_mean": self.ece_mean,
                "ece_std": self.ece_std,
                "ece_p10": np.percentile(self.ece, 10, axis=1),
                "ece_p90": np.percentile(self.ece, 90, axis=1),
            }
        )

    def to_frame(self):
        """One row per (size, threshold).

        Columns: ``size, threshold, count_mean, count_std, accuracy_mean, accuracy_std,
        draws_with_none, ece_mean, ece_std`` (the ECE columns repeat per threshold).
        """
        import pandas as pd

        rows = []
        cm, cs, am, as_ = self.count_mean, self.count_std, self.accuracy_mean, self.accuracy_std
        em, es = self.ece_mean, self.ece_std
        for i, size in enumerate(self.sizes):
            for j, thr in enumerate(self.thresholds):
                rows.append(
                    {
                        "size": int(size),
                        "threshold": float(thr),
                        "count_mean": float(cm[i, j]),
                        "count_std": float(cs[i, j]),
                        "accuracy_mean": float(am[i, j]),
                        "accuracy_std": float(as_[i, j]),
                        "draws_with_none": int((self.counts[i, j] == 0).sum()),
                        "ece_mean": float(em[i]),
                        "ece_std": float(es[i]),
                    }
                )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        parts = ", ".join(f"{s}: {m:.3f}±{d:.3f}" for s, m, d in zip(self.sizes, self.ece_mean, self.ece_std))
        return (
            f"SampleSizeCurve(method={self.method!r}, n_draws={self.n_draws}, n_test={self.n_test}, "
            f"raw_ece={self.raw_ece:.3f}, ece by size: {parts})"
        )

    __str__ = __repr__


def _nan_reduce(func, a):
    # draws where nothing cleared a threshold are NaN; all-NaN cells stay NaN, quietly
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(a, axis=2)


def sample_size_curve(
    cal_scores,
    cal_y_true,
    test_scores,
    test_y_true,
    *,
    method="platt",
    sizes=(50, 100, 200, 500, 1000),
    n_draws: int = 20,
    thresholds=(0.7, 0.8, 0.9, 0.95),
    n_bins: int = 20,
    rng=None,
) -> SampleSizeCurve:
    """Held-out calibration quality as a function of the calibration-set size.

    For each size, ``n_draws`` stratified draws (see :func:`stratified_draw`: every draw
    keeps the pool's class balance and holds both classes) are taken from the calibration
    pool without replacement; a fresh calibrator is fit on each and applied to the fixed
    test set. A size equal to the pool makes every draw the whole pool (no spread).

    Parameters
    ----------
    cal_scores, cal_y_true : array-like
        The calibration pool: raw scores in [0, 1] and 0/1 outcomes.
    test_scores, test_y_true : array-like
        The fixed held-out test set.
    method : {"platt", "isotonic", "temperature"} or Calibrator, default "platt"
        Isotonic's small-sample warning is silenced here: small sizes are the point.
    sizes : sequence of int
        Calibration-set sizes; each must be at least 2 and at most the pool size.
    n_draws : int, default 20
    thresholds : sequence of float in [0, 1], default (0.7, 0.8, 0.9, 0.95)
    n_bins : int, default 20
        Bins for the ECE.
    rng : int, numpy.random.Generator or None

    Returns
    -------
    SampleSizeCurve

    Examples
    --------
    >>> import numpy as np
    >>> gen = np.random.default_rng(0)
    >>> s = gen.uniform(0.5, 1, 600); y = (gen.uniform(size=600) < s - 0.15).astype(int)
    >>> curve = sample_size_curve(s[:300], y[:300], s[300:], y[300:], sizes=(50, 300),
    ...                           n_draws=3, rng=0)
    >>> curve.ece.shape, curve.counts.shape
    ((2, 3), (2, 4, 3))
    """
    ct, cs = _check_pair(cal_y_true, cal_scores, true_name="cal_y_true", prob_name="cal_scores")
    tt, ts = _check_pair(test_y_true, test_scores, true_name="test_y_true", prob_name="test_scores")
    template = make_calibrator(method)
    if template.method not in LABEL_METHODS:
        raise ValueError(f"method must be one of {', '.join(LABEL_METHODS)}; got {template.method!r}")
    n_bins = _check_n_bins(n_bins)
    ths = _check_thresholds(thresholds)
    size_arr = np.asarray(sizes)
    if size_arr.ndim != 1 or size_arr.size == 0 or size_arr.dtype.kind not in "iu":
        raise ValueError(f"sizes must be a non-empty sequence of integers; got {sizes!r}")
    if (size_arr < 2).any():
        raise ValueError(f"every size must be at least 2 rows; got {size_arr.tolist()}")
    pool = ct.shape[0]
    if (size_arr > pool).any():
        raise ValueError(
            f"sizes {size_arr[size_arr > pool].tolist()} exceed the calibration pool of {pool} rows; "
            f"use sizes up to {pool} or a larger pool"
        )
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive integer; got {n_draws!r}")
    if np.unique(ct).size < 2:
        raise ValueError("cal_y_true has a single class; the calibration pool needs both outcomes")
    gen = np.random.default_rng(rng)

    S, T, D = size_arr.size, ths.size, int(n_draws)
    ece = np.empty((S, D))
    counts = np.empty((S, T, D), dtype=np.int64)
    acc = np.full((S, T, D), np.nan)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="isotonic calibration on only")
        warnings.filterwarnings("ignore", message="only .* rows for n_bins")
        raw_ece = expected_calibration_error(tt, ts, n_bins=n_bins)
        for i, size in enumerate(size_arr):
            for d in range(D):
                idx = stratified_draw(ct, int(size), rng=gen)
                cal = template.clone().fit(cs[idx], ct[idx])
                p = cal.predict_proba(ts)
                ece[i, d] = expected_calibration_error(tt, p, n_bins=n_bins)
                above = p[None, :] >= ths[:, None]
                c = above.sum(axis=1)
                counts[i, :, d] = c
                hits = (above & (tt[None, :] == 1)).sum(axis=1)
                acc[i, :, d] = np.where(c > 0, hits / np.maximum(c, 1), np.nan)
    return SampleSizeCurve(
        sizes=size_arr.astype(np.int64),
        thresholds=ths,
        method=template.method,
        n_draws=D,
        n_test=int(tt.shape[0]),
        raw_ece=float(raw_ece),
        ece=ece,
        counts=counts,
        accuracy=acc,
        n_bins=n_bins,
    )
