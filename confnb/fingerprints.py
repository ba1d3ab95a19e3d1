"""Fit-row fingerprints: record which rows a calibrator was fit on, and find them again.

* :func:`fingerprint_rows` -- a small record (hashes of the rows' texts, or of their
  scores) that :func:`confnb.report.calibrate_scores` saves with a calibrator as
  ``fit_rows_``.
* :func:`fit_row_overlap` -- which rows of another frame the calibrator was fit on, so that
  reports can leave them out or refuse in-sample numbers.

Re-exported by :mod:`confnb.report`. Out of scope: the calibrator file format
(:mod:`confnb.calibration`) and any evaluation.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata

import numpy as np
import pandas as pd

from .columns import P_POSITIVE, TOTAL_PROBABILITY

__all__ = ["FINGERPRINT_SCORE_COLUMNS", "fingerprint_rows", "fit_row_overlap"]


#: Score columns hashed when a frame has no text column.
FINGERPRINT_SCORE_COLUMNS = (TOTAL_PROBABILITY, P_POSITIVE)


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _row_hashes(frame, kind: str, *, text_column: str, columns=FINGERPRINT_SCORE_COLUMNS) -> list[str] | None:
    """One 16-hex-digit hash per row, or None when ``frame`` lacks the columns for ``kind``."""
    if kind == "text":
        if text_column not in frame.columns:
            return None
        out = []
        for v in frame[text_column]:
            text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            out.append(_hash(" ".join(unicodedata.normalize("NFC", text).split())))
        return out
    if not columns or any(c not in frame.columns for c in columns):
        return None
    cols = [pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in columns]
    return [_hash(",".join(f"{x:.8g}" for x in row)) for row in zip(*cols)]


def fingerprint_rows(frame, *, text_column: str = "text") -> dict:
    """A small record of which rows a calibrator is fit on, saved with it as ``fit_rows_``.

    Each row is hashed (SHA-1, first 16 hex digits) from its text, whitespace-normalised,
    so the record survives CSV round-trips and re-scoring with another model; a frame
    without ``text_column`` is hashed from its ``total_probability`` and ``p_positive``
    (those present; 8 significant digits, so only files scored the same way match).
    Duplicate texts share a hash: a test text that repeats a calibration text *is* in-sample.

    Returns
    -------
    dict
        ``{"kind": "text" | "scores", "n": rows, "hashes": sorted unique hashes}``, plus
        ``"columns"`` (the score columns hashed) for kind "scores".

    Examples
    --------
    >>> import pandas as pd
    >>> fp = fingerprint_rows(pd.DataFrame({"text": ["Great!", "Awful", " Great! "]}))
    >>> fp["kind"], fp["n"], len(fp["hashes"])
    ('text', 3, 2)
    """
    if text_column in frame.columns:
        hashes = _row_hashes(frame, "text", text_column=text_column)
        return {"kind": "text", "n": len(hashes), "hashes": sorted(set(hashes))}
    columns = [c for c in FINGERPRINT_SCORE_COLUMNS if c in frame.columns]
    hashes = _row_hashes(frame, "scores", text_column=text_column, columns=columns)
    if hashes is None:
        raise ValueError(
            f"cannot fingerprint the rows: no {text_column!r} column (pass text_column=) and no "
            f"{' or '.join(FINGERPRINT_SCORE_COLUMNS)} column"
        )
    return {"kind": "scores", "columns": columns, "n": len(hashes), "hashes": sorted(set(hashes))}


def fit_row_overlap(calibrator, frame, *, text_column: str = "text"):
    """Which rows of ``frame`` the calibrator was fit on, from its ``fit_rows_`` record.

    Returns
    -------
    ndarray of bool or None
        True for rows it was fit on. None when that cannot be known: the calibrator has no
        record (older file, or not fit by :func:`confnb.report.calibrate_scores`), or ``frame`` lacks
        the column the record was made from.

    Examples
    --------
    >>> import pandas as pd
    >>> from confnb.calibration import PlattCalibrator
    >>> cal = PlattCalibrator().fit([0.6, 0.9, 0.7, 0.99], [0, 1, 1, 1])
    >>> cal.fit_rows_ = fingerprint_rows(pd.DataFrame({"text": ["a", "b", "c", "d"]}))
    >>> fit_row_overlap(cal, pd.DataFrame({"text": ["b", "e"]})).tolist()
    [True, False]
    """
    record = getattr(calibrator, "fit_rows_", None)
    if record is None:
        return None
    columns = record.get("columns", FINGERPRINT_SCORE_COLUMNS)
    hashes = _row_hashes(frame, record["kind"], text_column=text_column, columns=columns)
    if hashes is None:
        return None
    known = set(record["hashes"])
    return np.array([h in known for h in hashes], dtype=bool)
