"""Score a CSV or JSONL file of texts and write a CSV: what ``confnb score`` runs.

The input is read in chunks and the output appended chunk by chunk to ``OUTPUT.partial``, which
replaces OUTPUT only when every row is done: memory stays flat on large files and a failed run never
leaves a half-written OUTPUT. After each chunk is on disk (fsync), ``OUTPUT.partial.json`` records how
many rows and bytes are done, so ``--resume`` continues a killed run where it stopped, without
re-scoring or losing a row. Every input row comes out, in order, with all its columns.

Out of scope: spreadsheets (.xlsx) and Parquet; convert them to CSV first.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd

from .columns import is_score_column
from .tasks import SENTIMENT, ClassificationTask, label_to_class

__all__ = ["label_to_class", "read_chunks", "score_file"]  # label_to_class lives in confnb.tasks


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in (".jsonl", ".ndjson")


def read_chunks(path: str | os.PathLike, *, encoding: str = "utf-8", chunksize: int = 2000) -> Iterator[pd.DataFrame]:
    """Yield a CSV or JSONL file as DataFrames of at most `chunksize` rows, every column as text.

    Raises
    ------
    ValueError
        If the file is missing, empty, or not decodable with `encoding` (the message names the
        byte and the fix).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise ValueError(f"input file {str(path)!r} is empty")
    try:
        if _is_jsonl(path):
            reader = pd.read_json(path, lines=True, chunksize=chunksize, dtype=False, encoding=encoding)
        else:
            reader = pd.read_csv(path, chunksize=chunksize, dtype=str, keep_default_na=False, encoding=encoding)
        with reader:
            yield from reader
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{str(path)!r} is not valid {encoding}: byte {exc.object[exc.start:exc.start + 1]!r} at "
            f"position {exc.start} ({exc.reason}). Re-save the file as UTF-8, or pass its encoding "
            "with --encoding (e.g. --encoding latin-1)."
        ) from exc
    except pd.errors.ParserError as exc:
        raise ValueError(f"could not parse {str(path)!r} as {'JSONL' if _is_jsonl(path) else 'CSV'}: {exc}") from exc
    except ValueError as exc:  # pandas' JSON reader reports malformed lines as plain ValueError
        if not _is_jsonl(path):
            raise
        raise ValueError(f"could not parse {str(path)!r} as JSONL (one JSON object per line): {exc}") from exc


def score_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    *,
    text_column: str = "text",
    label_column: str | None = None,
    model: Any = None,
    model_args: Mapping[str, Any] | None = None,
    task: ClassificationTask = SENTIMENT,
    limit: int | None = None,
    batch_size: int = 32,
    skip_empty: bool = False,
    encoding: str = "utf-8",
    calibrator: str | os.PathLike | None = None,
    progress: bool | None = None,
    chunksize: int = 500,
    resume: bool = False,
    conformal: str | os.PathLike | None = None,
) -> str:
    """Score every row of a CSV/JSONL file and write a CSV with the input columns plus scores.

    Parameters
    ----------
    input_path, output_path : path
        CSV or JSONL in, CSV out.
    text_column : str
        Column of texts.
    label_column : str, optional
        Column of true labels; kept, and a boolean ``correct`` column is added.
    model : LanguageModel, optional
        An already loaded model; else one is loaded with ``load_model(**model_args)`` after the
        input's header has been checked.
    limit : int, optional
        Score only the first `limit` rows.
    skip_empty : bool
        Keep rows with empty text in the output with blank scores instead of failing.
    resume : bool
        Continue a run that was interrupted: rows already in ``OUTPUT.partial`` (recorded in
        ``OUTPUT.partial.json`` after each chunk) are not scored again. The run must have the same
        input, columns, prompt and calibrator, and the same model setup
        (`confnb.identity.scoring_identity`: weights, adapter, quantization, dtype, device,
        ``max_length``); otherwise a ValueError names what differs. Without it, an old partial
        output is discarded.
    calibrator : path, optional
        A calibrator JSON (``confnb calibrate``): adds ``calibrated_prediction`` and its calibrated
        ``confidence``, the probability that it is correct, by the rule ``confnb report`` evaluates
        (`confnb.calibration.calibrated_prediction`: the model's prediction for a confidence
        calibrator; the calibrated ``p_positive``'s side of 0.5 for a class calibrator). Rows the
        calibrator was fit on (its ``fit_rows_`` record) still get them, with a warning that counts
        them: their confidence is in-sample (optimistic). For a task of three or more classes, a
        K-class calibrator (`confnb.class_calibration.add_class_confidence`): a temperature or
        vector scaler's calibrated argmax and its probability, plus ``calibrated_p_<class>``;
        a top-label one's calibrated P(the argmax of ``p_<class>`` is correct). A calibrator fit
        on other classes is refused before any row is scored.
    conformal : path, optional
        Prediction sets from ``confnb conformal``: adds ``prediction_set`` (class names joined
        by ``|``) and ``set_size`` (`confnb.conformal_scores.add_prediction_sets`). Sets fit on
        calibrated probabilities need the same ``calibrator``; sets fit on other classes are
        refused before any row is scored.

    Returns
    -------
    str
        A one-line summary (rows scored, skipped, accuracy when labels are known).
    """
    from ._progress import want_progress
    from .scoring import classify

    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be at least 1, got {limit}")
    cal, sets = _load_calibration(task, calibrator, conformal)
    input_path, output_path = Path(input_path), Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(output_path.name + ".partial")
    state_path = output_path.with_name(output_path.name + ".partial.json")
    identity = {
        "input": str(input_path.resolve()),
        "input_bytes": input_path.stat().st_size if input_path.is_file() else None,
        "text_column": text_column,
        "label_column": label_column,
        "task": task.key,
        "calibrator": str(calibrator) if calibrator else None,
        "skip_empty": skip_empty,
    }
    if conformal is not None:  # only then: partial outputs of earlier versions still resume
        identity["conformal"] = str(conformal)
    counts = {"rows": 0, "skipped": 0, "correct": 0, "labelled": 0, "bytes": 0}
    setup = None
    if resume and state_path.exists() and partial.exists():
        state = json.loads(state_path.read_text())
        if state.get("identity") != identity:
            raise ValueError(
                f"{partial} was written for a different input, columns, prompt or calibrator; "
                "run again without --resume to start over"
            )
        if model is None:
            from .models import load_model

            model = load_model(**dict(model_args or {}))
        setup = _setup(model)
        _check_same_setup(partial, state.get("setup"), setup)
        counts = state["counts"]
        with open(partial, "r+b") as f:  # drop anything written after the last recorded chunk
            f.truncate(counts["bytes"])
    else:
        for stale in (partial, state_path):
            if stale.exists():
                stale.unlink()
    done = counts["rows"]
    seen = 0
    fit_overlap = 0  # rows scored in this run that the calibrator was fit on
    sets_overlap = 0  # ... and that the prediction sets were fit on
    bar = None
    if want_progress(progress):
        from tqdm.auto import tqdm

        bar = tqdm(desc=f"scoring {input_path.name}", unit="row", initial=done, total=limit)
    for chunk in read_chunks(input_path, encoding=encoding, chunksize=chunksize):
        if seen == 0:
            _check_columns(chunk, text_column, label_column, _added_columns(cal, sets))
        start = seen
        seen += len(chunk)
        if seen <= done:
            continue  # scored by an earlier run
        chunk = chunk.iloc[max(done - start, 0) :]
        if limit is not None:
            chunk = chunk.iloc[: max(limit - counts["rows"], 0)]
            if chunk.empty:
                break
        first = counts["rows"]
        texts = chunk[text_column].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
        empty = texts.str.strip() == ""
        if empty.any() and not skip_empty:
            row = first + int(np.flatnonzero(empty.to_numpy())[0])
            raise ValueError(
                f"row {row + 1} (data row, not counting the header) has an empty {text_column!r}; "
                "fill it in, remove it, or pass --skip-empty to keep it with blank scores"
            )
        if model is None:
            from .models import load_model

            model = load_model(**dict(model_args or {}))
        if setup is None:
            setup = _setup(model)
        keep = ~empty.to_numpy()
        scores = classify(model, texts[keep].tolist(), task, batch_size=batch_size, progress=False)
        scores = scores.drop(columns="text")
        scores.index = chunk.index[keep]
        scores = scores.reindex(chunk.index)
        out = pd.concat([chunk, scores], axis=1)
        if label_column is not None:
            labels = label_to_class(chunk.loc[keep, label_column], task)
            correct = labels == scores.loc[keep, "prediction"]
            out["correct"] = correct.reindex(chunk.index)
            counts["correct"] += int(correct.sum())
            counts["labelled"] += int(keep.sum())
        if cal is not None:
            calibrated = _calibrated_columns(scores.loc[keep], cal, task)
            for name in calibrated.columns:
                out[name] = calibrated[name].reindex(chunk.index)
            fit_overlap += _count_fit_rows(cal, out.loc[keep], text_column)
        if sets is not None:
            from .conformal_scores import PREDICTION_SET, SET_SIZE, add_prediction_sets

            with_sets = add_prediction_sets(scores.loc[keep], sets, positive=task.positive_class, calibrator=cal)
            for name in (PREDICTION_SET, SET_SIZE):
                out[name] = with_sets[name].reindex(chunk.index)
            sets_overlap += _count_fit_rows(sets, out.loc[keep], text_column)
        with open(partial, "ab") as f:
            out.to_csv(f, header=first == 0, index=False, encoding="utf-8")
            f.flush()
            os.fsync(f.fileno())
            counts["bytes"] = f.tell()
        counts["rows"] += len(chunk)
        counts["skipped"] += int((~keep).sum())
        _write_json_atomically(state_path, {"identity": identity, "setup": setup, "counts": counts})
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    if counts["rows"] == 0:
        raise ValueError(f"input file {str(input_path)!r} has a header but no rows")
    if fit_overlap:
        warnings.warn(
            f"{fit_overlap} of the rows scored were used to fit the calibrator {str(calibrator)!r}; their "
            "`confidence` is in-sample (optimistic), not what new rows will see",
            UserWarning,
            stacklevel=2,
        )
    if sets_overlap:
        warnings.warn(
            f"{sets_overlap} of the rows scored were used to fit the prediction sets {str(conformal)!r}; how "
            "often their sets hold the true class is in-sample, not what new rows will see",
            UserWarning,
            stacklevel=2,
        )
    os.replace(partial, output_path)
    state_path.unlink(missing_ok=True)
    summary = f"scored {counts['rows'] - counts['skipped']} of {counts['rows']} rows -> {output_path}"
    if done:
        summary += f" (resumed after row {done})"
    if counts["skipped"]:
        summary += f" ({counts['skipped']} empty rows kept with blank scores)"
    if counts["labelled"]:
        summary += f"; accuracy {counts['correct'] / counts['labelled']:.3f} on {counts['labelled']} labelled rows"
    return summary


def _setup(model: Any) -> dict:
    """What a resumed run must share with the run it continues: `scoring_identity`, plus names."""
    from .identity import scoring_identity

    return {"model": model.name, "adapter": getattr(model, "adapter", None), **scoring_identity(model)}


#: How each field of a setup is set on the command line, for the error that names a difference.
_SETUP_FLAGS = {
    "model": "--model",
    "adapter": "--adapter",
    "quantization": "--quantization",
    "dtype": "--dtype",
    "device": "--device",
    "max_length": "--max-length",
}


def _check_same_setup(partial: Path, recorded: dict | None, current: dict) -> None:
    """Refuse to resume a partial output scored under another model setup, naming what differs."""
    if recorded is None:
        raise ValueError(
            f"{partial} records no model setup (it was written by an older confnb), so it cannot be "
            "checked against this run; run again without --resume to start over"
        )
    numbers = [k for k in current if k not in ("model", "adapter")]
    if all(recorded.get(k) == current[k] for k in numbers):
        return  # same numbers, even if a name or a folder path differs
    differs = [k for k in current if recorded.get(k) != current[k]]
    if differs == ["weights"]:
        details = [
            f"the model's weights (or server) changed under the same name: {recorded.get('weights')!r} "
            f"then, {current['weights']!r} now"
        ]
    else:
        details = [f"{k} {recorded.get(k)!r} then, {current[k]!r} now" for k in differs if k != "weights"]
    flags = list(dict.fromkeys(_SETUP_FLAGS[k] for k in differs if k in _SETUP_FLAGS))
    fix = (
        f"Run with the same {', '.join(flags)} as the first run to continue it, or without --resume to start over."
        if flags
        else "Run again without --resume to start over."
    )
    raise ValueError(
        f"{partial} was scored with a different model setup: {'; '.join(details)}. Resuming would mix "
        f"rows scored two ways. {fix}"
    )


def _write_json_atomically(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _load_calibration(task: ClassificationTask, calibrator, conformal):
    """(calibrator, prediction sets) read from their files and checked against the task, or None each."""
    cal = sets = None
    if calibrator is not None:
        from .class_calibration import check_calibrator_for_classes, read_calibrator

        cal = read_calibrator(calibrator)
        check_calibrator_for_classes(cal, task.class_names, where=f"the calibrator {str(calibrator)!r}")
    if conformal is not None:
        from .conformal_scores import check_conformal_use, read_conformal

        sets = read_conformal(conformal)
        check_conformal_use(sets, class_names=task.class_names, positive=task.positive_class, calibrator=cal,
                            where=f"the prediction sets {str(conformal)!r}")
    return cal, sets


def _count_fit_rows(fitted, rows: pd.DataFrame, text_column: str) -> int:
    """How many of `rows` a calibrator or prediction sets were fit on (0 when unknown)."""
    from .report import fit_row_overlap

    overlap = fit_row_overlap(fitted, rows, text_column=text_column)
    return 0 if overlap is None else int(overlap.sum())


def _added_columns(cal, sets) -> list[str]:
    """Columns a calibrator and prediction sets add besides `SCORE_COLUMNS` (an input must not have them)."""
    from .columns import CALIBRATED_PREDICTION, CONFIDENCE

    added = []
    if cal is not None:
        from .class_calibration import calibrator_classes, class_output_columns

        added += class_output_columns(cal) if calibrator_classes(cal) is not None else [CALIBRATED_PREDICTION, CONFIDENCE]
    if sets is not None:
        from .conformal_scores import PREDICTION_SET, SET_SIZE

        added += [PREDICTION_SET, SET_SIZE]
    return added


def _calibrated_columns(scores: pd.DataFrame, cal, task: ClassificationTask) -> pd.DataFrame:
    """The columns a calibrator adds to scored rows: two-class or K-class."""
    from .class_calibration import add_class_confidence, calibrator_classes, class_output_columns

    if calibrator_classes(cal) is None:
        from .report import add_confidence_column

        out = add_confidence_column(scores, cal, positive=task.positive_class, negative=task.negative_class)
        return out[["calibrated_prediction", "confidence"]]
    return add_class_confidence(scores, cal)[class_output_columns(cal)]


def _check_columns(chunk: pd.DataFrame, text_column: str, label_column: str | None, added=()) -> None:
    found = list(chunk.columns)
    for name, flag in ((text_column, "--text-column"), (label_column, "--label-column")):
        if name is not None and name not in found:
            raise ValueError(f"column {name!r} not found; the file has columns {found}. Choose one with {flag}.")
    clash = [c for c in found if is_score_column(c) or c in added]
    if clash:
        raise ValueError(
            f"the input already has column(s) {clash}, which scoring would overwrite; "
            "rename or drop them first"
        )
