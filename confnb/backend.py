"""The one interface every model backend implements, so that scoring never asks which one it has.

`confnb.load_model` chooses the backend from the name it is given: a `confnb.models.LanguageModel`
(a local transformers model: the whole vocabulary's log-probabilities) or a
`confnb.remote.RemoteModel` (an OpenAI-compatible server: its top-k tokens, plus the probability it
did not show). `confnb.classify`, `confnb.next_token_table`, the score cache and
``confnb score --resume`` use only what `Scorer` declares.

Out of scope: loading (`confnb.models`), HTTP (`confnb.remote`) and the arithmetic that turns
log-probabilities into class masses (`confnb.distributions`).
"""

from __future__ import annotations

from typing import Any, Iterator, Protocol, Sequence, runtime_checkable

from .distributions import NextTokens

__all__ = ["Scorer", "TopToken"]

#: One row of `Scorer.top_tokens`: the token's text, its id (None where a server gives no ids) and
#: its natural-log probability.
TopToken = tuple[str, "int | None", float]


@runtime_checkable
class Scorer(Protocol):
    """What `confnb.classify` needs from a model.

    Attributes
    ----------
    name : str
        How the model is reported (a preset, a path, a hub id or ``"openai:<model>"``).

    Examples
    --------
    >>> from confnb.remote import connect
    >>> isinstance(connect("openai:some-model", base_url="http://127.0.0.1:9/v1"), Scorer)
    True
    """

    name: str

    def identity(self) -> dict[str, Any]:
        """What changes this backend's numbers: ``weights``, ``quantization``, ``dtype``, ``device``,
        ``max_length`` (see `confnb.identity.scoring_identity`, which keys the score cache)."""

    def next_token_batches(self, texts: Sequence[str], task: Any, *, batch_size: int = 32) -> Iterator[NextTokens]:
        """Next-token log-probabilities after each text's prompt, batch by batch (any order; each
        batch says which `texts` it holds)."""

    def top_tokens(self, prompt: str, *, k: int = 12, chat: bool = False) -> list[TopToken]:
        """The `k` most likely next tokens after a raw `prompt` (or, with ``chat=True``, after
        `prompt` sent as a user message), most likely first."""
