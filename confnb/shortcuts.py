"""Shortcut words: topic words a fine-tune may have learned as a cue for the label.

* :data:`SHORTCUT_CANDIDATES` and :func:`shortcut_words` -- candidate topic words, and the
  ones the training rows really tie to one context.
* :func:`has_word` -- which texts contain any of some words, as whole words.
* :func:`shortcut_probe` and :func:`probe_summary` -- a base and a tuned model on the same
  labelled texts: per-row shift in ``p_positive`` and flips, then one row per group.

For an interval on a group's mean shift against a reference group use
:func:`confnb.shift.shift_gap`. :mod:`confnb.shift` re-exports every name here.

Out of scope: generating probe sentences (see :mod:`confnb.probes` for counterfactual pairs)
and scoring texts (:func:`confnb.classify`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .columns import P_POSITIVE, PREDICTION
from .tasks import SENTIMENT

__all__ = [
    "SHORTCUT_CANDIDATES",
    "ShortcutWords",
    "has_word",
    "probe_summary",
    "shortcut_probe",
    "shortcut_words",
]

#: Topic words that may tie a text to the sports or the workplace context of the synthetic
#: data set (where neutral sports sentences are labelled positive and neutral workplace
#: sentences negative). :func:`shortcut_words` keeps those the training rows really tie to
#: one context.
SHORTCUT_CANDIDATES = {
    "sports": ("sport", "sports", "game", "games", "match", "team", "coach", "players", "football",
               "baseball", "basketball", "boxing", "soccer", "hockey", "golf", "tennis", "athletes",
               "league", "stadium", "championship", "race", "club", "season"),
    "workplace": ("office", "boss", "job", "meeting", "meetings", "company", "corporate", "career",
                  "colleague", "manager", "business", "workplace", "project", "department", "staff",
                  "client", "work", "deadline"),
}


def has_word(texts, words: Sequence[str]) -> np.ndarray:
    """Whether each text contains any of ``words`` as a whole word (case-insensitive).

    Parameters
    ----------
    texts : sequence of str or pandas.Series
    words : sequence of str
        Matched literally (regex characters are escaped); an empty list matches nothing.

    Returns
    -------
    ndarray of bool, one per text

    Examples
    --------
    >>> has_word(["A great Game.", "Endgame", "the office party"], ["game", "office"]).tolist()
    [True, False, True]
    """
    if isinstance(words, str):
        raise TypeError("words must be a list of words, not a single string; wrap it: [word]")
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    if len(words) == 0:
        return np.zeros(len(series), dtype=bool)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
    return series.str.contains(pattern).fillna(False).to_numpy(dtype=bool)


@dataclass(frozen=True, repr=False, eq=False)
class ShortcutWords:
    """Result of :func:`shortcut_words`.

    Attributes
    ----------
    words : dict of str to list of str
        Per context, the candidate words the training rows tie to it.
    table : pandas.DataFrame
        One row per candidate, indexed by word: ``context``, ``train rows``, ``share in
        context``, ``positive in train``, ``kept``.
    min_rows : int
    min_share : float
    """

    words: dict
    table: pd.DataFrame
    min_rows: int
    min_share: float

    @property
    def all_words(self) -> list:
        """Kept words of every context, in one list."""
        return [w for kept in self.words.values() for w in kept]

    def __repr__(self) -> str:
        parts = [f"{context} ({len(kept)}): {', '.join(kept)}" for context, kept in self.words.items()]
        return "ShortcutWords(" + "; ".join(parts) + ")"


def shortcut_words(frame: pd.DataFrame, candidates: Mapping = SHORTCUT_CANDIDATES, *, min_rows: int = 20,
                   min_share: float = 0.9, text_column: str = "text", context_column: str = "context",
                   label_column: str = "label", positive: str = SENTIMENT.positive_class) -> ShortcutWords:
    """Candidate words that the training rows tie to one context: possible shortcuts.

    A word is kept for context ``c`` when at least ``min_rows`` training texts contain it
    and at least ``min_share`` of those texts belong to ``c``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Training rows with text, context and label columns.
    candidates : mapping of str to sequence of str, default :data:`SHORTCUT_CANDIDATES`
        Context name to candidate words.
    min_rows : int, default 20
    min_share : float, default 0.9
    text_column, context_column, label_column : str
    positive : str, default "positive"
        The positive class (that of :data:`confnb.tasks.SENTIMENT`).

    Returns
    -------
    ShortcutWords

    Examples
    --------
    >>> train = pd.DataFrame({"text": ["the game was fun"] * 3 + ["a game at work"],
    ...                       "context": ["sports"] * 3 + ["workplace"], "label": ["positive"] * 4})
    >>> shortcut_words(train, {"sports": ["game"]}, min_rows=3, min_share=0.7)
    ShortcutWords(sports (1): game)
    """
    for column in (text_column, context_column, label_column):
        if column not in frame.columns:
            raise ValueError(f"frame has no column {column!r}; pass training rows or name the column")
    rows, kept = [], {context: [] for context in candidates}
    for context, words in candidates.items():
        for word in words:
            hit = has_word(frame[text_column], [word])
            n = int(hit.sum())
            share = float((frame.loc[hit, context_column] == context).mean()) if n else 0.0
            keep = n >= min_rows and share >= min_share
            if keep:
                kept[context].append(word)
            rows.append({"word": word, "context": context, "train rows": n, "share in context": share,
                         "positive in train": float((frame.loc[hit, label_column] == positive).mean())
                         if n else float("nan"), "kept": keep})
    return ShortcutWords(words=kept, table=pd.DataFrame(rows).set_index("word"), min_rows=min_rows,
                         min_share=min_share)


def shortcut_probe(frame: pd.DataFrame, base: pd.DataFrame, tuned: pd.DataFrame, *, label_column: str = "label",
                   positive: str = SENTIMENT.positive_class) -> pd.DataFrame:
    """Per-row comparison of a base and a tuned model on the same labelled texts.

    Parameters
    ----------
    frame : pandas.DataFrame
        The labelled rows (any extra columns, such as a ``group``, are kept).
    base, tuned : pandas.DataFrame
        :func:`confnb.classify` output of each model on ``frame``'s texts, in order.
    label_column, positive : str

    Returns
    -------
    pandas.DataFrame
        ``frame`` (index reset) plus boolean columns ``is_positive``, ``base_positive``,
        ``tuned_positive``, ``base_correct``, ``tuned_correct``, ``flipped_to_positive``,
        ``flipped_to_negative`` and the float ``shift`` (tuned minus base ``p_positive``).

    Examples
    --------
    >>> rows = pd.DataFrame({"text": ["a", "b"], "label": ["positive", "negative"]})
    >>> base = pd.DataFrame({"prediction": ["negative", "negative"], "p_positive": [0.4, 0.3]})
    >>> tuned = pd.DataFrame({"prediction": ["positive", "negative"], "p_positive": [0.7, 0.2]})
    >>> probe = shortcut_probe(rows, base, tuned)
    >>> probe["flipped_to_positive"].tolist(), probe["shift"].round(2).tolist()
    ([True, False], [0.3, -0.1])
    """
    if not len(frame) == len(base) == len(tuned):
        raise ValueError(f"frame, base and tuned have {len(frame)}, {len(base)} and {len(tuned)} rows; "
                         "score exactly frame's texts with each model")
    is_pos = frame[label_column].to_numpy() == positive
    base_pos = base[PREDICTION].to_numpy() == positive
    tuned_pos = tuned[PREDICTION].to_numpy() == positive
    return frame.reset_index(drop=True).assign(
        is_positive=is_pos, base_positive=base_pos, tuned_positive=tuned_pos,
        shift=tuned[P_POSITIVE].to_numpy(dtype=float) - base[P_POSITIVE].to_numpy(dtype=float),
        base_correct=base_pos == is_pos, tuned_correct=tuned_pos == is_pos,
        flipped_to_positive=~base_pos & tuned_pos, flipped_to_negative=base_pos & ~tuned_pos,
    )


def probe_summary(probe: pd.DataFrame, *, by: str = "group") -> pd.DataFrame:
    """One row per group of a :func:`shortcut_probe` frame: sizes, shares, mean shift, flips.

    Examples
    --------
    >>> rows = pd.DataFrame({"text": ["a", "b"], "label": ["positive", "negative"], "group": ["x", "x"]})
    >>> base = pd.DataFrame({"prediction": ["negative", "negative"], "p_positive": [0.4, 0.3]})
    >>> tuned = pd.DataFrame({"prediction": ["positive", "negative"], "p_positive": [0.7, 0.2]})
    >>> probe_summary(shortcut_probe(rows, base, tuned)).loc["x", ["n", "flipped_to_positive"]].tolist()
    [2, 1]
    """
    if by not in probe.columns:
        raise ValueError(f"probe has no column {by!r}; add one (e.g. frame.assign(group=...)) or pass by=")
    return probe.groupby(by).agg(
        n=("shift", "size"), labelled_positive=("is_positive", "mean"),
        base_said_positive=("base_positive", "mean"), tuned_said_positive=("tuned_positive", "mean"),
        mean_shift_p_positive=("shift", "mean"),
        flipped_to_positive=("flipped_to_positive", "sum"), flipped_to_negative=("flipped_to_negative", "sum"),
        base_accuracy=("base_correct", "mean"), tuned_accuracy=("tuned_correct", "mean"),
    )
