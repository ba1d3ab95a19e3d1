"""From next-token log-probabilities to class masses, predictions and total probability.

Two definitions are reported for every text (both are documented in the README):

* ``total_probability`` -- the summed probability of every token of the *predicted* class (the raw
  confidence of the reference article). It lives in [0, 1] and includes no renormalisation: mass on
  tokens of no class (``other_mass``) lowers it.
* ``p_positive`` -- ``mass_positive / (mass_positive + mass_negative)``, the probability of the
  positive class *among the class tokens*, and its log-odds ``margin`` =
  ``log(mass_positive) - log(mass_negative)``.

`classify` works on any backend (`confnb.backend.Scorer`): it asks the model for next-token
log-probabilities batch by batch, turns each batch into rows with the one rule of
`confnb.distributions`, and keeps rows in an optional on-disk cache keyed by
`confnb.identity.scoring_key`. With a local model the prompt's shared prefix is encoded once and its
key/value cache reused for every batch; its log-probabilities match a one-text-at-a-time forward pass
to about 1e-5.

Out of scope: the arithmetic of class masses (`confnb.distributions`), running models
(`confnb.models`, `confnb.remote`) and calibration (`confnb.calibration`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from .batching import prompt_ids
from ._progress import want_progress
from .backend import Scorer
from .distributions import score_distribution, score_next_tokens, visible
from .identity import cache_dir, scoring_key
from .tasks import SENTIMENT, ClassificationTask

__all__ = [
    "classify",
    "next_token_logprobs",
    "next_token_table",
    "prompt_ids",
    "score_distribution",
    "visible",
]


def next_token_table(model: Scorer, prompt: str, *, k: int = 12, chat: bool = False) -> pd.DataFrame:
    """The `k` most likely next tokens after `prompt`.

    Parameters
    ----------
    model : LanguageModel or RemoteModel
    prompt : str
        Raw text, fed as is (no special formatting) unless ``chat=True``.
    k : int
        Number of rows.
    chat : bool
        Wrap `prompt` as a user message in the model's chat template, with the assistant's turn
        opened, so the table shows how the assistant's reply would start.

    Returns
    -------
    pandas.DataFrame
        Columns ``rank, token, token_id, logprob, probability, percent``; ``token`` shows spaces
        as ``␣`` and newlines as ``↵``.

    Examples
    --------
    >>> table = next_token_table(load_model(), "Knock knock.")   # doctest: +SKIP
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    top = model.top_tokens(prompt, k=k, chat=chat)
    lp = np.array([v for _, _, v in top], dtype=np.float64)
    ids = [i for _, i, _ in top]
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(top) + 1),
            "token": [visible(t) for t, _, _ in top],
            "token_id": ids if None not in ids else pd.array([pd.NA] * len(ids), dtype="Int64"),
            "logprob": lp,
            "probability": np.exp(lp),
            "percent": 100 * np.exp(lp),
        }
    )


# -------------------------------------------------------------------------------- batched scoring


def next_token_logprobs(
    model: Scorer,
    texts: Sequence[str],
    task: ClassificationTask = SENTIMENT,
    *,
    batch_size: int = 32,
) -> np.ndarray:
    """Full next-token log-probabilities after each text's prompt, shape (n_texts, n_vocab).

    Uses the same batched, prefix-cached path as `classify`. Memory grows with
    ``n_texts * n_vocab``: meant for inspection and tests, not for scoring a dataset.
    """
    texts = _check_texts(texts)
    out = None
    for batch in model.next_token_batches(texts, task, batch_size=batch_size):
        if not batch.full_vocabulary:
            raise ValueError(f"{model.name} reports only its top-k tokens; next_token_logprobs needs a local model")
        if out is None:
            out = np.empty((len(texts), len(model.tokenizer)), dtype=np.float64)
        out[batch.rows] = batch.logprobs[:, : out.shape[1]]
    if out is None:  # no texts
        out = np.empty((0, len(model.tokenizer)), dtype=np.float64)
    return out


def _check_texts(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not a single string; wrap it: [text]")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__}, not str")
        if not t.strip():
            raise ValueError(f"texts[{i}] is empty or whitespace only; remove it or fill it in")
    return texts


def classify(
    model: Scorer,
    texts: Iterable[str],
    task: ClassificationTask = SENTIMENT,
    *,
    batch_size: int = 32,
    progress: bool | None = None,
    cache: bool | str | os.PathLike = False,
) -> pd.DataFrame:
    """Classify texts by the total probability of each class's answer tokens.

    Parameters
    ----------
    model : LanguageModel or RemoteModel
        From `confnb.load_model`.
    texts : iterable of str
        Non-empty texts. Texts longer than the model's context are truncated with a warning.
    task : ClassificationTask
        Prompt and class variants; `confnb.SENTIMENT` by default.
    batch_size : int
        Texts per forward pass.
    progress : bool, optional
        Show a tqdm bar; by default only in a terminal or a notebook (``CONFNB_PROGRESS=0`` turns
        it off).
    cache : bool or path
        Reuse and store scored rows in an on-disk SQLite cache (``True``:
        ``<cache_dir>/scores.sqlite``), so re-running a notebook does not re-score. Rows are keyed
        by `confnb.models.scoring_key` -- the weights' content hash, adapter, dtype, device,
        quantization, ``max_length`` and scoring version -- and by the task's prompt and the text.

    Returns
    -------
    pandas.DataFrame
        One row per text, in input order: ``text, prediction, total_probability, p_positive,
        margin, mass_<class>..., other_mass, no_class_token, top_token`` (and ``unseen_mass`` for a
        remote model: the probability outside the top-k the server returned; class masses are then
        lower bounds). ``no_class_token`` is True where no class token had any probability -- only
        possible with a remote model's top-k -- and such a row has no prediction (None) and NaN
        ``total_probability``, ``p_positive`` and ``margin``.

    Examples
    --------
    >>> classify(load_model(), ["I love this movie!"])   # doctest: +SKIP
    """
    texts = _check_texts(texts)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    store = _ScoreCache(cache, model, task) if cache else None
    rows: dict[int, dict] = {}
    if store is not None:
        rows.update(store.get(texts))
    todo = [i for i in range(len(texts)) if i not in rows]
    if todo:
        bar = None
        if want_progress(progress):
            from tqdm.auto import tqdm

            bar = tqdm(total=len(todo), desc=f"scoring ({model.name})", unit="text")
        try:
            for fresh in _score_rows(model, task, texts, todo, batch_size):
                rows.update(fresh)
                if store is not None:
                    store.put({texts[i]: r for i, r in fresh.items()})
                if bar is not None:
                    bar.update(len(fresh))
        finally:
            if bar is not None:
                bar.close()
    frame = pd.DataFrame([rows[i] for i in range(len(texts))])
    frame.insert(0, "text", texts)
    return frame


def _score_rows(model: Scorer, task, texts, todo, batch_size) -> Iterator[dict[int, dict]]:
    """Yield {text index: scored row} batch by batch, from whichever backend `model` is."""
    for batch in model.next_token_batches([texts[i] for i in todo], task, batch_size=batch_size):
        rows = score_next_tokens(batch, positive_class=task.positive_class)
        yield {todo[j]: row for j, row in zip(batch.rows, rows)}


class _ScoreCache:
    """Scored rows in SQLite, keyed by (scoring key, task key, text). Each write is one transaction.

    The scoring key (`confnb.models.scoring_key`) covers everything that changes the numbers.
    """

    def __init__(self, where: bool | str | os.PathLike, model: Scorer, task: ClassificationTask):
        self.path = cache_dir() / "scores.sqlite" if where is True else Path(where)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.model_key = scoring_key(model)
        self.task_key = task.key
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS scores (model TEXT, task TEXT, text_hash TEXT, "
                "text TEXT, row TEXT, PRIMARY KEY (model, task, text_hash))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    @staticmethod
    def _hash(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def get(self, texts: Sequence[str]) -> dict[int, dict]:
        wanted: dict[str, list[int]] = {}
        for i, t in enumerate(texts):
            wanted.setdefault(self._hash(t), []).append(i)
        found: dict[int, dict] = {}
        hashes = list(wanted)
        with closing(self._connect()) as db:
            for start in range(0, len(hashes), 500):
                chunk = hashes[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = (
                    "SELECT text_hash, text, row FROM scores WHERE model = ? AND task = ? "
                    f"AND text_hash IN ({marks})"
                )
                for h, text, row in db.execute(query, [self.model_key, self.task_key, *chunk]):
                    for i in wanted[h]:
                        if texts[i] == text:
                            found[i] = json.loads(row)
        return found

    def put(self, rows: Mapping[str, dict]) -> None:
        values = [
            (self.model_key, self.task_key, self._hash(t), t, json.dumps(r, default=_json_default))
            for t, r in rows.items()
        ]
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?)", values)


def _json_default(value: Any):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(f"cannot store {type(value).__name__} in the score cache")
