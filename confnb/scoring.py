"""From next-token log-probabilities to class masses, predictions and total probability.

Two definitions are reported for every text (both are documented in the README):

* ``total_probability`` -- the summed probability of every token of the *predicted* class (the raw
  confidence of the reference article). It lives in [0, 1] and includes no renormalisation: mass on
  tokens of no class (``other_mass``) lowers it.
* ``p_positive`` -- ``mass_positive / (mass_positive + mass_negative)``, the probability of the
  positive class *among the class tokens*, and its log-odds ``margin`` =
  ``log(mass_positive) - log(mass_negative)``.

`classify` scores many texts quickly: the prompt's shared prefix is encoded once and its key/value
cache reused for every batch; only the last position's logits are computed; texts are batched by
length. Its log-probabilities match a one-text-at-a-time forward pass to about 1e-5.

Out of scope: calibration (`confnb.calibration`) and remote servers.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import sqlite3
import sys
import warnings
from contextlib import closing
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from .models import LanguageModel, cache_dir, scoring_key
from .tasks import SENTIMENT, ClassificationTask

__all__ = [
    "classify",
    "next_token_logprobs",
    "next_token_table",
    "prompt_ids",
    "score_distribution",
    "visible",
]


def visible(token: str) -> str:
    """Make a token's whitespace visible: ``" Who"`` -> ``"␣Who"``, newline -> ``"↵"``.

    >>> visible(" Yes")
    '␣Yes'
    """
    return token.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")


# ------------------------------------------------------------------------------- next-token table


def _adds_bos(tokenizer: Any, prompt: str) -> bool:
    """Whether to let the tokenizer add its special tokens (BOS) to `prompt`.

    Not when the text already starts with the BOS token: chat templates of Gemma 3 and Llama 3.x
    render ``<bos>`` / ``<|begin_of_text|>`` themselves, and adding one more would start the prompt
    with two BOS tokens, a sequence the model never saw in training.
    """
    bos = getattr(tokenizer, "bos_token", None)
    return not (bos and prompt.startswith(bos))


def prompt_ids(tokenizer: Any, prompt: str) -> list[int]:
    """Token ids of a whole prompt, with exactly the one BOS token the model expects.

    The tokenizer's special tokens are added unless `prompt` already starts with the BOS token
    (as text rendered by a chat template may). Every place that encodes a prompt -- scoring's
    shared prefix, `next_token_table`, fine-tuning -- goes through this function.

    Examples
    --------
    >>> ids = prompt_ids(load_model().tokenizer, "Knock knock.")    # doctest: +SKIP
    """
    return list(tokenizer(prompt, add_special_tokens=_adds_bos(tokenizer, prompt))["input_ids"])


def _encode(model: LanguageModel, prompt: str):
    import torch

    ids = torch.tensor([prompt_ids(model.tokenizer, prompt)], dtype=torch.long)
    return ids.to(model.model.device) if hasattr(model.model, "device") else ids


def _last_logprobs(model: LanguageModel, prompt: str):
    """Log-softmax of the logits after `prompt` (one forward pass, no cache), as a float64 tensor."""
    import torch

    with torch.inference_mode():
        logits = model.model(input_ids=_encode(model, prompt), logits_to_keep=1).logits[0, -1]
    return torch.log_softmax(logits.double(), dim=-1).cpu()


def next_token_table(model: LanguageModel, prompt: str, *, k: int = 12, chat: bool = False) -> pd.DataFrame:
    """The `k` most likely next tokens after `prompt`.

    Parameters
    ----------
    model : LanguageModel
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
    import torch

    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if getattr(model, "is_remote", False):
        from .remote import remote_next_token_table

        return remote_next_token_table(model, prompt, k=k, chat=chat)
    if chat:
        if not model.has_chat_template:
            raise ValueError(f"{model.name} has no chat template; call with chat=False")
        prompt = model.tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
    logprobs = _last_logprobs(model, prompt)
    top = torch.topk(logprobs, k)
    ids = top.indices.tolist()
    lp = top.values.numpy()
    return pd.DataFrame(
        {
            "rank": np.arange(1, k + 1),
            "token": [visible(model.tokenizer.decode([i])) for i in ids],
            "token_id": ids,
            "logprob": lp,
            "probability": np.exp(lp),
            "percent": 100 * np.exp(lp),
        }
    )


# ----------------------------------------------------------------------- distribution -> classes


def score_distribution(
    logprobs: np.ndarray,
    token_ids: Mapping[str, Sequence[int]],
    *,
    positive_class: str | None = None,
) -> dict[str, np.ndarray]:
    """Class masses, prediction and confidence from next-token log-probabilities.

    The five steps: take the top token; if it belongs to a class, that class is the prediction
    (otherwise the class with the larger mass is); sum the probabilities of each class's tokens;
    the predicted class's sum is the ``total_probability``.

    The same rule serves a remote server's top-k answer: `logprobs` then holds only the visible
    tokens, and the probability outside them counts as mass of no class (it is in ``other_mass``
    but never competes for the top token). A row where every class has zero mass (no class token
    among the visible ones) has ``no_class_token`` True, ``prediction`` None and NaN
    ``total_probability``, ``p_positive`` and ``margin``: there is no prediction to be confident in.

    Parameters
    ----------
    logprobs : array of shape (n_vocab,) or (n_texts, n_vocab)
        Natural-log probabilities of the next token.
    token_ids : mapping of class name to token ids
        E.g. ``task.token_ids(model)``.
    positive_class : str, optional
        Class reported as ``p_positive``; defaults to the first class.

    Returns
    -------
    dict of arrays
        ``prediction``, ``total_probability``, ``p_positive``, ``margin``, ``mass_<class>`` for
        each class, ``other_mass``, ``no_class_token`` and ``top_token_id``.

    Examples
    --------
    The reference article's "Not bad" example: yes 40.68%, Yes 37.62%, YES 0.01%, no 13.63%, No 8.01%.

    >>> p = np.full(10, 1e-12); p[[0, 1, 2, 3, 4]] = [0.4068, 0.3762, 0.0001, 0.1363, 0.0801]
    >>> out = score_distribution(np.log(p), {"positive": [0, 1, 2], "negative": [3, 4]})
    >>> str(out["prediction"][0]), round(100 * float(out["total_probability"][0]), 2)
    ('positive', 78.31)
    """
    lp = np.atleast_2d(np.asarray(logprobs, dtype=np.float64))
    names = list(token_ids)
    positive = positive_class or names[0]
    if positive not in names:
        raise ValueError(f"positive_class {positive!r} is not one of {names}")
    log_mass = {c: _logsumexp(lp[:, list(ids)]) for c, ids in token_ids.items()}
    mass = {c: np.exp(v) for c, v in log_mass.items()}
    top = lp.argmax(axis=1)
    class_of = {i: c for c, ids in token_ids.items() for i in ids}
    stacked = np.stack([mass[c] for c in names], axis=1)
    no_class = ~np.isfinite(np.stack([log_mass[c] for c in names], axis=1)).any(axis=1)
    by_mass = np.array(names, dtype=object)[stacked.argmax(axis=1)]
    prediction = np.array(
        [None if empty else class_of.get(int(t), m) for t, m, empty in zip(top, by_mass, no_class)],
        dtype=object,
    )
    index = {c: j for j, c in enumerate(names)}
    total = np.array([stacked[r, index[c]] if c is not None else np.nan for r, c in enumerate(prediction)])
    others = [c for c in names if c != positive]
    log_rest = _logsumexp(np.stack([log_mass[c] for c in others], axis=1))
    with np.errstate(invalid="ignore", over="ignore"):
        margin = np.where(no_class, np.nan, log_mass[positive] - log_rest)
        p_positive = 1.0 / (1.0 + np.exp(-margin))
    out: dict[str, np.ndarray] = {
        "prediction": prediction,
        "total_probability": total,
        "p_positive": p_positive,
        "margin": margin,
    }
    for c in names:
        out[f"mass_{c}"] = mass[c]
    out["other_mass"] = np.clip(1.0 - stacked.sum(axis=1), 0.0, 1.0)
    out["no_class_token"] = no_class
    out["top_token_id"] = top
    return out


def _logsumexp(a: np.ndarray) -> np.ndarray:
    m = a.max(axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):  # an all -inf row is log(0) = -inf, by design
        return (m + np.log(np.exp(a - m).sum(axis=1, keepdims=True)))[:, 0]


# -------------------------------------------------------------------------------- batched scoring


class _PromptEncoder:
    """Token ids of the shared prefix and of each text's suffix, with context-length truncation."""

    def __init__(self, model: LanguageModel, task: ClassificationTask):
        self.tokenizer = model.tokenizer
        prefix, self.suffix = task.split(model)
        self.prefix_ids = prompt_ids(self.tokenizer, prefix)
        self.limit = model.context_length
        fixed = len(self.prefix_ids) + len(self._ids(self.suffix.replace("{text}", "")))
        if fixed + 8 > self.limit:
            raise ValueError(
                f"the prompt without the text is already {fixed} tokens, too long for a context of "
                f"{self.limit} tokens; raise max_length or use a shorter prompt (fewer demonstrations)"
            )
        self.text_budget = self.limit - fixed - 2
        self.truncated = 0

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def suffix_ids(self, text: str) -> list[int]:
        ids = self._ids(self.suffix.format(text=text))
        if len(self.prefix_ids) + len(ids) > self.limit:
            text = self.tokenizer.decode(self._ids(" " + text)[: self.text_budget]).strip()
            ids = self._ids(self.suffix.format(text=text))
            self.truncated += 1
        return ids


def _iter_batches(
    model: LanguageModel,
    task: ClassificationTask,
    texts: Sequence[str],
    batch_size: int,
) -> Iterator[tuple[list[int], Any]]:
    """Yield (row indices, log-probs tensor [B, vocab]) batch by batch, longest texts first."""
    import torch

    encoder = _PromptEncoder(model, task)
    suffixes = [encoder.suffix_ids(t) for t in texts]
    if encoder.truncated:
        warnings.warn(
            f"{encoder.truncated} text(s) were longer than {model.name}'s context of "
            f"{model.context_length} tokens and were truncated",
            stacklevel=3,
        )
    order = sorted(range(len(texts)), key=lambda i: -len(suffixes[i]))
    device = model.model.device
    pad = model.tokenizer.pad_token_id or 0
    net = model.model
    with torch.inference_mode():
        prefix = torch.tensor([encoder.prefix_ids], device=device)
        prefix_cache = net(input_ids=prefix, use_cache=True).cache
        n_prefix = prefix.shape[1]
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(suffixes[i]) for i in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):  # left-pad, so every row's last position is real
                s = suffixes[i]
                ids[r, width - len(s) :] = torch.tensor(s)
                mask[r, width - len(s) :] = 1
            positions = (n_prefix + mask.cumsum(dim=1) - 1).clamp(min=n_prefix)
            attention = torch.cat([torch.ones((len(rows), n_prefix), dtype=torch.long), mask], dim=1)
            cache = copy.deepcopy(prefix_cache)
            if len(rows) > 1:
                cache.batch_repeat_interleave(len(rows))
            logits = net(
                input_ids=ids.to(device),
                attention_mask=attention.to(device),
                position_ids=positions.to(device),
                cache=cache,
                use_cache=True,
                logits_to_keep=1,
            ).logits[:, -1]
            yield rows, torch.log_softmax(logits.double(), dim=-1).cpu()


def next_token_logprobs(
    model: LanguageModel,
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
    out = np.empty((len(texts), len(model.tokenizer)), dtype=np.float64)
    for rows, lp in _iter_batches(model, task, texts, batch_size):
        out[rows] = lp[:, : out.shape[1]].numpy()
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


def _want_progress(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    if os.environ.get("CONFNB_PROGRESS", "").lower() in ("0", "false", "no"):
        return False
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def classify(
    model: LanguageModel,
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
    model : LanguageModel
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
        if _want_progress(progress):
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


def _score_rows(model, task, texts, todo, batch_size) -> Iterator[dict[int, dict]]:
    """Yield {text index: scored row} batch by batch, from a local model or a remote server."""
    if getattr(model, "is_remote", False):
        chunk = max(batch_size, 8 * model.concurrency)
        for start in range(0, len(todo), chunk):
            part = todo[start : start + chunk]
            yield dict(zip(part, model.score([texts[i] for i in part], task)))
        return
    ids = task.token_ids(model)
    for batch, lp in _iter_batches(model, task, [texts[i] for i in todo], batch_size):
        scored = score_distribution(lp.numpy(), ids, positive_class=task.positive_class)
        fresh = {}
        for r, j in enumerate(batch):
            row = {k: v[r] for k, v in scored.items()}
            row["top_token"] = model.tokenizer.decode([int(row.pop("top_token_id"))])
            fresh[todo[j]] = _plain(row)
        yield fresh


def _plain(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


class _ScoreCache:
    """Scored rows in SQLite, keyed by (scoring key, task key, text). Each write is one transaction.

    The scoring key (`confnb.models.scoring_key`) covers everything that changes the numbers.
    """

    def __init__(self, where: bool | str | os.PathLike, model: LanguageModel, task: ClassificationTask):
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
