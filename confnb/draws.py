"""Which rows: seeded random draws and splits of labelled rows.

* :func:`random_draw` -- ``size`` rows drawn without replacement from a pool, simple random
  by default (what a labelling campaign gets) or stratified on a column known before
  labelling.
* :func:`split_rows` -- two disjoint parts of the rows, e.g. fit a calibrator on one and
  choose a threshold on the other.

Out of scope: what is done with the rows (:func:`confnb.sampling.sample_size_curve` repeats
draws to measure calibration by sample size) and resampling with replacement (the
bootstrap, :mod:`confnb.intervals`).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_count

__all__ = ["random_draw", "split_rows"]


def random_draw(n_pool: int, size: int, *, strata=None, rng=None) -> np.ndarray:
    """Sorted positions of ``size`` rows drawn without replacement from ``n_pool``.

    By default a simple random sample: every set of ``size`` rows is equally likely,
    which is what a labelling campaign gets when it picks rows before labelling them.

    With ``strata`` (one value per pool row, e.g. a category column or class labels
    known before labelling) the draw is stratified: each stratum gets its share of
    ``size`` (largest remainders, so the total is exact), at least one row each when
    ``size`` allows, and a simple random sample within.

    Parameters
    ----------
    n_pool : int
        Rows in the pool.
    size : int
        Rows to draw, ``1 <= size <= n_pool``.
    strata : array-like of length ``n_pool``, optional
    rng : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of int, sorted

    Examples
    --------
    >>> idx = random_draw(100, 10, rng=0)
    >>> len(idx), len(set(idx.tolist())), bool(idx.max() < 100)
    (10, 10, True)
    >>> labels = [1] * 90 + [0] * 10
    >>> idx = random_draw(100, 20, strata=labels, rng=0)
    >>> int(sum(i >= 90 for i in idx))
    2
    """
    n_pool = check_count(n_pool, "n_pool", minimum=1)
    size = check_count(size, "size", minimum=1)
    if size > n_pool:
        raise ValueError(f"cannot draw {size} rows from a pool of {n_pool}; use sizes up to {n_pool}")
    gen = np.random.default_rng(rng)
    if strata is None:
        return np.sort(gen.choice(n_pool, size, replace=False))
    groups = np.asarray(strata.to_numpy() if hasattr(strata, "to_numpy") else strata)
    if groups.ndim != 1 or groups.shape[0] != n_pool:
        raise ValueError(f"strata must hold one value per pool row ({n_pool}); got shape {groups.shape}")
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    alloc = _allocate(size, counts)
    parts = [gen.choice(np.flatnonzero(inverse == k), a, replace=False) for k, a in enumerate(alloc) if a]
    return np.sort(np.concatenate(parts))


def _allocate(size: int, counts: np.ndarray) -> np.ndarray:
    """Proportional allocation of ``size`` over strata of ``counts`` rows (largest remainders)."""
    raw = size * counts / counts.sum()
    alloc = np.floor(raw).astype(np.int64)
    if size >= counts.size:  # every stratum represented when there is room
        alloc = np.maximum(alloc, 1)
    while alloc.sum() > size:  # only after the minimum of one: take from the most over-served
        k = np.argmax(np.where(alloc > 1, alloc - raw, -np.inf))
        alloc[k] -= 1
    while alloc.sum() < size:
        k = np.argmax(np.where(alloc < counts, raw - alloc, -np.inf))
        alloc[k] += 1
    return alloc


def split_rows(n: int, *, fraction: float = 0.5, rng=None):
    """A seeded random split of ``n`` row positions into two disjoint sorted parts.

    Typical use: fit a calibrator on one part of the labelled calibration rows and choose
    a threshold (:func:`confnb.thresholds.choose_threshold`) on the other, so that the
    threshold's promise is not computed on the calibrator's own training rows.

    Parameters
    ----------
    n : int
        Number of rows, at least 2.
    fraction : float in (0, 1), default 0.5
        Share of rows in the first part, ``round(n * fraction)`` rows, moved into
        ``[1, n - 1]`` so that neither part is empty.
    rng : int, numpy.random.Generator or None

    Returns
    -------
    idx_a, idx_b : ndarray of int
        Sorted positions; together they cover ``range(n)`` once.

    Examples
    --------
    >>> fit_rows, choose_rows = split_rows(10, fraction=0.6, rng=0)
    >>> len(fit_rows), len(choose_rows), sorted(fit_rows.tolist() + choose_rows.tolist()) == list(range(10))
    (6, 4, True)
    """
    n = check_count(n, "n", minimum=2)
    fraction = float(fraction)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be strictly between 0 and 1 (e.g. 0.5); got {fraction!r}")
    n_a = min(max(int(round(n * fraction)), 1), n - 1)
    perm = np.random.default_rng(rng).permutation(n)
    return np.sort(perm[:n_a]), np.sort(perm[n_a:])
