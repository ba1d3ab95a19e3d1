"""Score through any OpenAI-compatible server that returns log-probabilities.

``confnb.load_model("openai:<model>", base_url=..., api_key=...)`` returns a `RemoteModel`, and the
same `classify`, `next_token_table`, ``confnb score`` and calibration work on it. This is how a user
scores millions of rows on many GPUs: run vLLM's (or llama.cpp's, or TGI's) OpenAI-compatible server,
with tensor parallelism or several replicas behind one address, and point confnb at it. OpenAI's own
API works the same way for models that expose log-probabilities.

A server returns only the top-k log-probabilities of the next token (k <= 20 for OpenAI). A class's
mass is the sum over the returned tokens that are one of its variants, so with top-k it is a **lower
bound**: mass on variants outside the top k is not seen. The probability not covered by the returned
tokens is reported per row as ``unseen_mass``; when it is small next to the class masses, the bound is
tight. Variants are matched by their text (the server's tokenizer is not known here). The prediction
follows the local rule on the visible tokens (the unseen mass never counts as a "top token"); a row
with no class token among them gets ``no_class_token`` True and no prediction.

Requests run with bounded concurrency, a timeout, and retries with exponential backoff on 429 and
5xx answers (honouring ``Retry-After``). API keys come from the environment (``OPENAI_API_KEY`` by
default) or an argument, and are never printed, logged, or written to results.

Out of scope: streaming responses, batch APIs, and servers that do not return log-probabilities (a
clear error says so).
"""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = ["RemoteError", "RemoteModel", "connect"]

PREFIX = "openai:"
_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class RemoteError(RuntimeError):
    """The server answered, but not with what scoring needs (or kept failing)."""


@dataclass(frozen=True, repr=False)
class RemoteModel:
    """A model behind an OpenAI-compatible HTTP API.

    Attributes
    ----------
    model_id : str
        The server's model name (what follows ``openai:``).
    base_url : str
        E.g. ``"https://api.openai.com/v1"`` or ``"http://127.0.0.1:8000/v1"``.
    top_logprobs : int
        How many next-token log-probabilities to ask for (OpenAI allows at most 20).
    concurrency : int
        Requests in flight at once.
    timeout : float
        Seconds per request.
    max_retries : int
        Retries on 429/5xx/connection errors, with exponential backoff.
    """

    model_id: str
    base_url: str
    api_key: str | None = field(default=None, compare=False)
    top_logprobs: int = 20
    concurrency: int = 4
    timeout: float = 60.0
    max_retries: int = 5
    backoff: float = 0.5
    _client: Any = field(default=None, compare=False)

    # the fields scoring and the CLI read from any model
    device = "remote"
    dtype = "n/a"
    quantization = None
    adapter = None
    has_chat_template = True
    tokenizer = None
    is_remote = True

    @property
    def name(self) -> str:
        return PREFIX + self.model_id

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.base_url.rstrip('/')}|{self.model_id}|top{self.top_logprobs}"

    def __repr__(self) -> str:  # never shows the key
        auth = "set" if self.api_key else "none"
        return f"RemoteModel(name={self.name!r}, base_url={self.base_url!r}, top_logprobs={self.top_logprobs}, concurrency={self.concurrency}, api_key={auth})"

    # ------------------------------------------------------------------------------------- http

    def _post(self, path: str, payload: dict) -> dict:
        import httpx

        url = self.base_url.rstrip("/") + path
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        last = ""
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.post(url, json=payload, headers=headers, timeout=self.timeout)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return response.json()
                if response.status_code in (401, 403):
                    raise RemoteError(
                        f"{url} refused the request ({response.status_code}): check the API key "
                        "(OPENAI_API_KEY, or api_key=...)"
                    )
                if response.status_code not in _RETRY_STATUS:
                    raise RemoteError(f"{url} answered {response.status_code}: {response.text[:300]}")
                last = f"HTTP {response.status_code}"
                retry_after = response.headers.get("retry-after")
                if retry_after and retry_after.replace(".", "", 1).isdigit() and attempt < self.max_retries:
                    time.sleep(min(float(retry_after), 60.0))
                    continue
            if attempt < self.max_retries:
                time.sleep(self.backoff * 2**attempt * (1 + 0.25 * random.random()))
        raise RemoteError(f"{url} failed after {self.max_retries + 1} attempts (last: {last})")

    def top_next_tokens(self, prompt: str | None = None, *, messages: list | None = None, k: int | None = None) -> dict[str, float]:
        """Top-k next-token log-probabilities after a prompt (completions) or messages (chat)."""
        k = min(k or self.top_logprobs, self.top_logprobs)
        if messages is None:
            body = {"model": self.model_id, "prompt": prompt, "max_tokens": 1, "temperature": 0.0, "logprobs": k}
            data = self._post("/completions", body)
            try:
                top = data["choices"][0]["logprobs"]["top_logprobs"][0]
            except (KeyError, IndexError, TypeError):
                top = None
            if not top:
                raise RemoteError(_NO_LOGPROBS.format(url=self.base_url, endpoint="/completions"))
            return {str(t): float(v) for t, v in top.items()}
        body = {"model": self.model_id, "messages": messages, "max_tokens": 1, "temperature": 0.0, "logprobs": True, "top_logprobs": k}
        data = self._post("/chat/completions", body)
        try:
            top = data["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        except (KeyError, IndexError, TypeError):
            top = None
        if not top:
            raise RemoteError(_NO_LOGPROBS.format(url=self.base_url, endpoint="/chat/completions"))
        return {str(t["token"]): float(t["logprob"]) for t in top}

    def _request(self, text: str, task) -> dict[str, float]:
        if task.chat:
            return self.top_next_tokens(messages=[{"role": "user", "content": task._body(text)}])
        return self.top_next_tokens(task.render(text))

    # ---------------------------------------------------------------------------------- scoring

    def score(self, texts: Sequence[str], task, *, progress: bool = False) -> list[dict]:
        """Score texts concurrently; returns one row dict per text, in order."""
        from .scoring import score_distribution

        rows: list[dict | None] = [None] * len(texts)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), desc=f"scoring ({self.name})", unit="text")
        lock = threading.Lock()

        def one(i: int) -> None:
            top = self._request(texts[i], task)
            rows[i] = _row_from_top(top, task, score_distribution)
            if bar is not None:
                with lock:
                    bar.update(1)

        try:
            with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
                for future in [pool.submit(one, i) for i in range(len(texts))]:
                    future.result()
        finally:
            if bar is not None:
                bar.close()
        return rows  # type: ignore[return-value]


_NO_LOGPROBS = (
    "{url}{endpoint} returned no log-probabilities. confnb needs a server and model that expose them "
    "(vLLM, llama.cpp's server started with logits_all, TGI, or an OpenAI model that supports "
    "logprobs); reasoning models and some providers do not."
)


def _row_from_top(top: dict[str, float], task, score_distribution) -> dict:
    """One scored row from a server's top-k answer, by the local rule applied to the visible tokens.

    The prediction is the class of the most likely *visible* token if that token is a class token,
    else the class with the larger visible mass. The probability the server did not show
    (``unseen_mass``) belongs to no class: it is part of ``other_mass`` but never takes part in the
    argmax. With no class token among the visible ones, ``no_class_token`` is True, the prediction
    is None and ``total_probability``, ``p_positive`` and ``margin`` are NaN (see
    `confnb.scoring.score_distribution`).
    """
    tokens = list(top)
    lp = np.array([top[t] for t in tokens], dtype=np.float64)
    unseen = max(0.0, 1.0 - float(np.exp(lp).sum()))
    ids = {c: [i for i, t in enumerate(tokens) if t in set(task.variants(c))] for c in task.class_names}
    empty = [c for c, v in ids.items() if not v]
    for c in empty:  # a class with no visible variant: mass 0 (a lower bound, like every mass here)
        ids[c] = [len(lp)]
    if empty:  # a padding entry of probability 0 that never wins the argmax
        lp = np.append(lp, -np.inf)
    out = score_distribution(lp, ids, positive_class=task.positive_class)
    row = {k: (v[0].item() if isinstance(v[0], np.generic) else v[0]) for k, v in out.items()}
    top_index = int(row.pop("top_token_id"))
    row["top_token"] = tokens[top_index] if top_index < len(tokens) else ""
    row["unseen_mass"] = unseen
    return row


def connect(
    name: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    top_logprobs: int = 20,
    concurrency: int = 4,
    timeout: float = 60.0,
    max_retries: int = 5,
) -> RemoteModel:
    """Build a `RemoteModel` for ``"openai:<model>"`` (what `confnb.load_model` calls).

    ``base_url`` defaults to ``$OPENAI_BASE_URL`` or OpenAI's API; the key to ``$OPENAI_API_KEY``.
    """
    import httpx

    model_id = name[len(PREFIX):] if name.startswith(PREFIX) else name
    if not model_id:
        raise ValueError("name the model after 'openai:', e.g. 'openai:gpt-4o-mini'")
    if not 1 <= top_logprobs <= 20:
        raise ValueError(f"top_logprobs must be between 1 and 20, got {top_logprobs}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    api_key = api_key if api_key is not None else os.environ.get(api_key_env)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client = httpx.Client(limits=limits, timeout=timeout)
    return RemoteModel(
        model_id=model_id,
        base_url=base_url,
        api_key=api_key,
        top_logprobs=top_logprobs,
        concurrency=concurrency,
        timeout=timeout,
        max_retries=max_retries,
        _client=client,
    )


def remote_next_token_table(model: RemoteModel, prompt: str, *, k: int = 12, chat: bool = False) -> pd.DataFrame:
    """`confnb.next_token_table` for a remote model (at most `top_logprobs` rows; no token ids)."""
    from .scoring import visible

    top = model.top_next_tokens(messages=[{"role": "user", "content": prompt}], k=k) if chat else model.top_next_tokens(prompt, k=k)
    items = sorted(top.items(), key=lambda kv: -kv[1])[:k]
    lp = np.array([v for _, v in items])
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(items) + 1),
            "token": [visible(t) for t, _ in items],
            "token_id": pd.array([pd.NA] * len(items), dtype="Int64"),
            "logprob": lp,
            "probability": np.exp(lp),
            "percent": 100 * np.exp(lp),
        }
    )
