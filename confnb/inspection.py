"""Look at a model's answers one prompt or one text at a time.

Three small tools the course notebooks use to pick and explain their examples:

* `rank_in_table` / `token_rank` -- where a given token (say "Who", with or without its leading
  space) ranks among the most likely next tokens after a prompt;
* `most_uncertain` -- the scored texts a classifier is most torn on (``p_positive`` closest to one
  half), which make better teaching examples of uncertainty than texts chosen by a human;
* `top_k_scores` -- what scoring would report if only the ``k`` most likely next tokens were visible,
  as through an OpenAI-style API that returns at most 20 log-probabilities per position.

Out of scope: scoring many texts (`confnb.classify`), calibration and metrics. Nothing here draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .scoring import next_token_table, score_distribution, visible

__all__ = ["TokenRank", "most_uncertain", "rank_in_table", "token_rank", "top_k_scores"]


@dataclass(frozen=True)
class TokenRank:
    """Where a token ranks in a next-token table.

    Attributes
    ----------
    top_token : str
        The most likely next token, whitespace made visible (``"␣Who"``).
    top_percent : float
        Its probability, in percent.
    rank : int or None
        1-based rank of the best-ranked of the searched tokens; None when none is in the table.
    percent : float
        That token's probability in percent; NaN when none is in the table.
    k : int
        How many rows the table had (the search depth).
    """

    top_token: str
    top_percent: float
    rank: int | None
    percent: float
    k: int

    def to_dict(self) -> dict:
        """One table row: ``top token``, ``top %``, ``rank`` (``"> k"`` when not found), ``%``."""
        return {
            "top token": self.top_token,
            "top %": self.top_percent,
            "rank": self.rank if self.rank is not None else f"> {self.k}",
            "%": self.percent,
        }


def rank_in_table(table: pd.DataFrame, tokens: Sequence[str]) -> TokenRank:
    """Find the best-ranked of `tokens` in a table from `confnb.next_token_table`.

    Parameters
    ----------
    table : pandas.DataFrame
        With columns ``rank``, ``token`` (visible form) and ``percent``, best first.
    tokens : sequence of str
        Spellings to look for, e.g. ``["Who", " Who"]``; compared in their visible form
        (``" Who"`` matches the table's ``"␣Who"``).

    Returns
    -------
    TokenRank

    Examples
    --------
    >>> table = pd.DataFrame({"rank": [1, 2], "token": ["↵", "␣Who"], "percent": [25.5, 0.2]})
    >>> rank_in_table(table, ["Who", " Who"])
    TokenRank(top_token='↵', top_percent=25.5, rank=2, percent=0.2, k=2)
    """
    if isinstance(tokens, str):
        raise TypeError("tokens must be a list of spellings, not one string; wrap it: [token]")
    missing = {"rank", "token", "percent"} - set(table.columns)
    if missing:
        raise ValueError(f"table lacks the columns {sorted(missing)}; pass a table from confnb.next_token_table")
    if len(table) == 0:
        raise ValueError("table is empty; ask next_token_table for k >= 1 rows")
    wanted = {visible(t) for t in tokens}
    hits = table[table["token"].isin(wanted)]
    top = table.iloc[0]
    return TokenRank(
        top_token=str(top["token"]),
        top_percent=float(top["percent"]),
        rank=int(hits["rank"].iloc[0]) if len(hits) else None,
        percent=float(hits["percent"].iloc[0]) if len(hits) else float("nan"),
        k=len(table),
    )


def token_rank(model, prompt: str, tokens: Sequence[str], *, k: int = 500, chat: bool = False) -> TokenRank:
    """Where the best-ranked of `tokens` sits among the `k` most likely next tokens after `prompt`.

    ``rank_in_table(next_token_table(model, prompt, k=k, chat=chat), tokens)``.

    Examples
    --------
    >>> token_rank(load_model(), "Knock knock.", ["Who", " Who"])   # doctest: +SKIP
    TokenRank(top_token='↵', top_percent=25.5..., rank=54, percent=0.2..., k=500)
    """
    return rank_in_table(next_token_table(model, prompt, k=k, chat=chat), tokens)


def most_uncertain(scores: pd.DataFrame, *, n: int = 5) -> pd.DataFrame:
    """The `n` rows of a `confnb.classify` frame whose ``p_positive`` is closest to one half.

    These are the texts the model is most torn on: its "yes" and "no" masses nearly tie. The rows
    keep their original index (to look up labels), closest first, with a column
    ``distance_from_half`` = ``|p_positive - 0.5|``.

    Parameters
    ----------
    scores : pandas.DataFrame
        Output of `confnb.classify` (needs a ``p_positive`` column).
    n : int, default 5
        How many rows to return (fewer if `scores` is shorter).

    Examples
    --------
    >>> scores = pd.DataFrame({"text": ["a", "b", "c"], "p_positive": [0.9, 0.45, 0.52]})
    >>> most_uncertain(scores, n=2)
      text  p_positive  distance_from_half
    2    c        0.52                0.02
    1    b        0.45                0.05
    """
    if "p_positive" not in scores.columns:
        raise ValueError("scores has no p_positive column; pass the frame confnb.classify returns")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    distance = (scores["p_positive"].astype(float) - 0.5).abs().round(12)
    order = distance.sort_values(kind="stable").index[: int(n)]
    return scores.loc[order].assign(distance_from_half=distance.loc[order])


def top_k_scores(
    logprobs,
    token_ids: Mapping[str, Sequence[int]],
    *,
    k: int = 20,
    positive_class: str | None = None,
) -> pd.DataFrame:
    """Scores as a server that returns only the top-`k` next-token log-probabilities would give them.

    Every token outside each row's `k` most likely is treated as unseen (probability 0 for the
    class sums), exactly as `confnb`'s remote backend must. Class masses are therefore **lower
    bounds** of the full-distribution masses, and ``unseen_mass`` (the probability the server did not
    show) bounds how much they can miss: each class's full mass is at most its shown mass plus
    ``unseen_mass``. With ``k`` at least the vocabulary size the result equals full scoring.

    Parameters
    ----------
    logprobs : array of shape (n_vocab,) or (n_texts, n_vocab)
        Full next-token log-probabilities, e.g. from `confnb.scoring.next_token_logprobs`.
    token_ids : mapping of class name to token ids
        E.g. ``task.token_ids(model)``.
    k : int, default 20
        How many log-probabilities the server returns per position (OpenAI allows at most 20).
    positive_class : str, optional
        Class reported as ``p_positive``; defaults to the first class.

    Returns
    -------
    pandas.DataFrame
        One row per text: ``prediction, total_probability, p_positive, mass_<class>...,
        other_mass, no_class_token, unseen_mass``. ``other_mass`` includes ``unseen_mass``. Where no
        variant of any class is shown, ``no_class_token`` is True, ``prediction`` is None and
        ``total_probability`` and ``p_positive`` are NaN, as in a remote model's scores.

    Examples
    --------
    >>> lp = np.log([[0.50, 0.30, 0.15, 0.05]])             # tokens 0-1 say yes, 2-3 say no
    >>> served = top_k_scores(lp, {"positive": [0, 1], "negative": [2, 3]}, k=3)
    >>> served[["prediction", "mass_positive", "mass_negative", "unseen_mass"]].round(2)
      prediction  mass_positive  mass_negative  unseen_mass
    0   positive            0.8           0.15         0.05
    """
    lp = np.atleast_2d(np.asarray(logprobs, dtype=np.float64))
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer (OpenAI-style servers allow 1 to 20), got {k!r}")
    k = min(int(k), lp.shape[1])
    keep = np.argpartition(lp, -k, axis=1)[:, -k:]
    shown = np.full_like(lp, -np.inf)
    np.put_along_axis(shown, keep, np.take_along_axis(lp, keep, axis=1), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # a class with no shown variant has mass 0
        out = score_distribution(shown, token_ids, positive_class=positive_class)
    unseen = np.clip(1.0 - np.exp(shown).sum(axis=1), 0.0, 1.0)
    columns = ["prediction", "total_probability", "p_positive"] + [f"mass_{c}" for c in token_ids]
    columns += ["other_mass", "no_class_token"]
    frame = pd.DataFrame({c: out[c] for c in columns})
    frame["unseen_mass"] = unseen
    return frame
