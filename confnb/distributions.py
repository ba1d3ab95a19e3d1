"""From next-token log-probabilities to class masses, a prediction and its total probability.

Pure array arithmetic, shared by every backend: a local model hands over the log-probabilities of its
whole vocabulary, a remote server its top-k tokens and, implicitly, the probability it did not show.
Both arrive as a `NextTokens` batch, and `score_next_tokens` turns a batch into scored rows by the one
rule of `score_distribution`.

Out of scope: running a model (`confnb.models`, `confnb.remote`), batching prompts
(`confnb.batching`), caching rows and the public `confnb.classify` (`confnb.scoring`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["NextTokens", "from_top_k", "logsumexp", "score_distribution", "score_next_tokens", "visible"]


def visible(token: str) -> str:
    """Make a token's whitespace visible: ``" Who"`` -> ``"␣Who"``, newline -> ``"↵"``.

    >>> visible(" Yes")
    '␣Yes'
    """
    return token.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")


def logsumexp(a: np.ndarray) -> np.ndarray:
    """Row-wise ``log(sum(exp(a)))`` of a 2-D array; a row of only ``-inf`` gives ``-inf``.

    >>> float(logsumexp(np.log([[0.25, 0.5]]))[0]) == float(np.log(0.75))
    True
    """
    m = a.max(axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):  # an all -inf row is log(0) = -inf, by design
        return (m + np.log(np.exp(a - m).sum(axis=1, keepdims=True)))[:, 0]


def score_distribution(
    logprobs: np.ndarray,
    token_ids: Mapping[str, Sequence[int]],
    *,
    positive_class: str | None = None,
    sequences: Mapping[str, tuple[Sequence[int], np.ndarray]] | None = None,
) -> dict[str, np.ndarray]:
    """Class masses, prediction and confidence from next-token log-probabilities.

    The five steps: take the top token; if it starts the answers of exactly one class, that class
    is the prediction (otherwise the class with the largest mass is); sum the probabilities of each
    class's answers; the predicted class's sum is the ``total_probability``. An answer of several
    tokens ("card arrival") counts with its exact probability, the product of its tokens'
    conditional probabilities, passed in `sequences`.

    The same rule serves a remote server's top-k answer: `logprobs` then holds only the visible
    tokens, and the probability outside them counts as mass of no class (it is in ``other_mass``
    but never competes for the top token). A row where every class has zero mass (no class token
    among the visible ones) has ``no_class_token`` True, ``prediction`` None and NaN
    ``total_probability`` and class probabilities: there is no prediction to be confident in.

    Parameters
    ----------
    logprobs : array of shape (n_vocab,) or (n_texts, n_vocab)
        Natural-log probabilities of the next token.
    token_ids : mapping of class name to token ids
        Each class's single-token answers, e.g. ``task.token_ids(model)``; a class may have none
        when all its answers are in `sequences`.
    positive_class : str, optional
        Two classes: the class reported as ``p_positive``; defaults to the first class.
    sequences : mapping of class name to (first token ids, log-probs of shape (n_texts, m)), optional
        Per class, its multi-token answers: their first tokens (for the prediction rule) and the
        log-probability of each whole answer after each prompt.

    Returns
    -------
    dict of arrays
        ``prediction``, ``total_probability``; with two classes ``p_positive`` and ``margin``
        (log-odds of the positive class among the classes), with more ``p_<class>`` for every class
        (the classes' masses normalised to sum to 1); ``mass_<class>`` for each class,
        ``other_mass``, ``no_class_token`` and ``top_token_id``.

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
    starts = {c: set(int(i) for i in ids) for c, ids in token_ids.items()}
    parts = {c: [lp[:, list(ids)]] for c, ids in token_ids.items()}
    for c, (first, seq_lp) in (sequences or {}).items():
        starts[c] |= {int(i) for i in first}
        parts[c].append(np.asarray(seq_lp, dtype=np.float64).reshape(lp.shape[0], -1))
    log_mass = {
        c: logsumexp(np.concatenate(parts[c], axis=1)) if sum(p.shape[1] for p in parts[c]) else np.full(lp.shape[0], -np.inf)
        for c in names
    }
    mass = {c: np.exp(v) for c, v in log_mass.items()}
    top = lp.argmax(axis=1)
    stacked = np.stack([mass[c] for c in names], axis=1)
    log_stacked = np.stack([log_mass[c] for c in names], axis=1)
    no_class = ~np.isfinite(log_stacked).any(axis=1)
    by_mass = np.array(names, dtype=object)[stacked.argmax(axis=1)]
    owners = {}
    for c in names:
        for i in starts[c]:
            owners.setdefault(i, []).append(c)
    prediction = np.array(
        [None if empty else (owners[int(t)][0] if len(owners.get(int(t), ())) == 1 else m)
         for t, m, empty in zip(top, by_mass, no_class)],
        dtype=object,
    )
    index = {c: j for j, c in enumerate(names)}
    total = np.array([stacked[r, index[c]] if c is not None else np.nan for r, c in enumerate(prediction)])
    out: dict[str, np.ndarray] = {"prediction": prediction, "total_probability": total}
    if len(names) == 2:
        others = [c for c in names if c != positive]
        log_rest = logsumexp(np.stack([log_mass[c] for c in others], axis=1))
        with np.errstate(invalid="ignore", over="ignore"):
            margin = np.where(no_class, np.nan, log_mass[positive] - log_rest)
            out["p_positive"] = 1.0 / (1.0 + np.exp(-margin))
        out["margin"] = margin
    else:
        with np.errstate(invalid="ignore"):
            shares = np.exp(log_stacked - logsumexp(log_stacked)[:, None])
        shares[no_class] = np.nan
        for c in names:
            out[f"p_{c}"] = shares[:, index[c]]
    for c in names:
        out[f"mass_{c}"] = mass[c]
    out["other_mass"] = np.clip(1.0 - stacked.sum(axis=1), 0.0, 1.0)
    out["no_class_token"] = no_class
    out["top_token_id"] = top
    return out


@dataclass(frozen=True)
class NextTokens:
    """Next-token log-probabilities after a batch of prompts, as any backend reports them.

    Attributes
    ----------
    rows : list of int
        Position of each batch row among the texts the backend was given.
    logprobs : ndarray of shape (len(rows), n_tokens)
        Natural-log probabilities; ``-inf`` for a token the backend did not report.
    class_ids : mapping of class name to column indices
        Which columns of `logprobs` are each class's answer tokens.
    decode : callable
        Column index -> the token's text (for ``top_token``).
    unseen_mass : ndarray or None
        Per row, the probability outside the reported tokens (a top-k backend); None when
        `logprobs` covers the whole vocabulary.
    sequences : mapping or None
        Per class, its multi-token answers: (first token ids, log-probs of shape (len(rows), m)),
        as `score_distribution` takes them.

    Examples
    --------
    >>> batch = from_top_k({" Yes": np.log(0.7), " No": np.log(0.2)}, {"positive": [" Yes"], "negative": [" No"]})
    >>> batch.rows, round(float(batch.unseen_mass[0]), 2)
    ([0], 0.1)
    """

    rows: list[int]
    logprobs: np.ndarray
    class_ids: Mapping[str, Sequence[int]]
    decode: Callable[[int], str]
    unseen_mass: np.ndarray | None = None
    sequences: Mapping[str, tuple[Sequence[int], np.ndarray]] | None = None

    @property
    def full_vocabulary(self) -> bool:
        """Whether `logprobs` covers every token (a local model) rather than a top-k."""
        return self.unseen_mass is None


def from_top_k(top: Mapping[str, float], variants: Mapping[str, Sequence[str]], *, row: int = 0) -> NextTokens:
    """A one-row `NextTokens` from a server's top-k answer ``{token text: logprob}``.

    Class tokens are matched by their text (``variants``: class name -> surface forms). A class with
    no visible variant gets a padding column of probability 0 that never wins the argmax, so its
    mass is 0 -- a lower bound, like every mass computed from a top-k.
    """
    tokens = list(top)
    lp = np.array([top[t] for t in tokens], dtype=np.float64)
    unseen = max(0.0, 1.0 - float(np.exp(lp).sum()))
    ids = {c: [i for i, t in enumerate(tokens) if t in set(forms)] for c, forms in variants.items()}
    empty = [c for c, v in ids.items() if not v]
    for c in empty:
        ids[c] = [len(lp)]
    if empty:
        lp = np.append(lp, -np.inf)

    def decode(i: int) -> str:
        return tokens[i] if i < len(tokens) else ""

    return NextTokens([row], lp[None, :], ids, decode, np.array([unseen]))


def score_next_tokens(batch: NextTokens, *, positive_class: str | None = None) -> list[dict[str, Any]]:
    """Scored rows (plain Python values) for a `NextTokens` batch, in batch order.

    Each row holds `score_distribution`'s columns with ``top_token`` (the top token's text) in place
    of its id, and ``unseen_mass`` when the batch came from a top-k backend.

    >>> batch = from_top_k({" Yes": np.log(0.2), " yes": np.log(0.15), " No": np.log(0.25)},
    ...                    {"positive": [" Yes", " yes"], "negative": [" No"]})
    >>> row = score_next_tokens(batch)[0]
    >>> row["prediction"], row["top_token"], round(row["unseen_mass"], 2)
    ('negative', ' No', 0.4)
    """
    scored = score_distribution(batch.logprobs, batch.class_ids, positive_class=positive_class, sequences=batch.sequences)
    rows = []
    for r in range(len(batch.rows)):
        row = {k: _plain(v[r]) for k, v in scored.items()}
        row["top_token"] = batch.decode(int(row.pop("top_token_id")))
        if batch.unseen_mass is not None:
            row["unseen_mass"] = float(batch.unseen_mass[r])
        rows.append(row)
    return rows


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
