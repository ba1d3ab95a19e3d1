"""Score through any OpenAI-compatible server that returns log-probabilities.

``confnb.load_model("openai:<model>", base_url=..., api_key=...)`` returns a `RemoteModel`, and the
same `confnb.classify`, `confnb.next_token_table`, ``confnb score`` and calibration work on it. This is how a user
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
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from .distributions import NextTokens, from_top_k

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
            return self.top_next_tokens(messages=[{"role": "user", "content": task.body(text)}])
        return self.top_next_tokens(task.render(text))

    # ------------------------------------------------------- the confnb.backend.Scorer interface

    def identity(self) -> dict[str, Any]:
        """What changes this server's numbers: its address, model and top-k (`key`)."""
        return {"weights": self.key, "quantization": None, "dtype": "n/a", "device": "remote", "max_length": None}

    def next_token_batches(self, texts: Sequence[str], task, *, batch_size: int = 32) -> Iterator[NextTokens]:
        """The top-k next tokens after each text's prompt, one `confnb.distributions.NextTokens` per text, in order.

        Requests run `concurrency` at a time, in chunks of ``max(batch_size, 8 * concurrency)``
        texts. Class tokens are matched by their text; the probability the server did not show is
        each row's ``unseen_mass`` (see `confnb.distributions.from_top_k`).
        """
        variants = {c: task.variants(c) for c in task.class_names}
        several = [v.strip() for c in task.class_names for v in task.classes[c] if len(v.split()) > 1]
        if several:
            raise RemoteError(
                f"{', '.join(map(repr, several))} are answers of several words; a server's top-k "
                "log-probabilities score only the next token, so these cannot be scored exactly here. "
                "Score this task with a local model (confnb.load_model(...)), or use one-word answers."
            )
        chunk = max(batch_size, 8 * self.concurrency)
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            for start in range(0, len(texts), chunk):
                part = range(start, min(start + chunk, len(texts)))
                answers = [pool.submit(self._request, texts[i], task) for i in part]
                for i, answer in zip(part, answers):
                    yield from_top_k(answer.result(), variants, row=i)

    def top_tokens(self, prompt: str, *, k: int = 12, chat: bool = False) -> list[tuple[str, None, float]]:
        """At most `top_logprobs` most likely next tokens (servers give no token ids)."""
        if chat:
            top = self.top_next_tokens(messages=[{"role": "user", "content": prompt}], k=k)
        else:
            top = self.top_next_tokens(prompt, k=k)
        return [(t, None, v) for t, v in sorted(top.items(), key=lambda kv: -kv[1])[:k]]


_NO_LOGPROBS = (
    "{url}{endpoint} returned no log-probabilities. confnb needs a server and model that expose them "
    "(vLLM, llama.cpp's server started with logits_all, TGI, or an OpenAI model that supports "
    "logprobs); reasoning models and some providers do not."
)


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
