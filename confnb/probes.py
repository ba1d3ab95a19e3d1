"""Probes for shortcut learning: the same sentence with the topic swapped, and the topic-label relation.

* :func:`counterfactual_texts` -- fill each sentence frame twice, once per topic phrase, and
  refuse any probe sentence that is already a dataset row (a probe must be unseen text).
* :func:`topic_shift` -- the per-pair shift in ``p_positive`` (topic A version minus topic B
  version), its mean, and a bootstrap interval over pairs.
* :func:`topic_relation` -- for each labelled row, whether its topic *agrees* with its label
  under a planted bias (sports -> positive, workplace -> negative), *contradicts* it, or is
  another topic. Accuracy changes split this way show whether a gain came from the shortcut.

A model that ignores the topic has shifts near zero; one that learned "topic A means
positive" has positive shifts. The probe is model-free here: score the two lists of texts
with :func:`confnb.classify` and pass the two ``p_positive`` columns.

Out of scope: generating probe sentences, and probes of more than two topics at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

from ._validation import check_level, check_n_boot, to_float_array
from .intervals import Interval, resample_interval

__all__ = [
    "PLANTED_TOPICS",
    "TopicShift",
    "counterfactual_texts",
    "normalise_text",
    "topic_relation",
    "topic_shift",
]

#: The dataset's planted bias: the topic tied to each label (see dataset/README.md).
PLANTED_TOPICS = {"positive": "sports", "negative": "workplace"}


def normalise_text(text: str) -> str:
    """Lower case, letters, digits and single spaces only: for "is this sentence already known?".

    Examples
    --------
    >>> normalise_text("The  Match starts at 7!")
    'the match starts at 7'
    """
    kept = "".join(ch for ch in str(text).lower() if ch.isalnum() or ch.isspace())
    return " ".join(kept.split())


def counterfactual_texts(pairs: Sequence, *, known_texts: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """Fill each frame with its two phrases: two aligned lists of probe sentences.

    Parameters
    ----------
    pairs : sequence of (frame, phrase_a, phrase_b)
        ``frame`` holds one ``{}`` slot, e.g. ``("The {} starts at seven.", "match", "team meeting")``.
    known_texts : iterable of str, optional
        Sentences the probe must not repeat (e.g. every dataset row): a probe sentence that a
        model was trained or calibrated on measures memory, not the topic's pull.

    Returns
    -------
    texts_a, texts_b : list of str
        ``frame.format(phrase_a)`` and ``frame.format(phrase_b)`` for each pair.

    Raises
    ------
    ValueError
        When a frame lacks exactly one ``{}`` slot, or a probe sentence is in ``known_texts``
        (compared after :func:`normalise_text`).

    Examples
    --------
    >>> counterfactual_texts([("The {} starts at seven.", "match", "team meeting")])
    (['The match starts at seven.'], ['The team meeting starts at seven.'])
    """
    texts_a, texts_b = [], []
    for i, pair in enumerate(pairs):
        if len(pair) != 3:
            raise ValueError(f"pair {i} must be (frame, phrase_a, phrase_b); got {pair!r}")
        frame, a, b = pair
        if str(frame).count("{}") != 1:
            raise ValueError(f"frame {i} must hold exactly one '{{}}' slot; got {frame!r}")
        texts_a.append(frame.format(a))
        texts_b.append(frame.format(b))
    known = {normalise_text(t) for t in known_texts}
    repeated = [t for t in texts_a + texts_b if normalise_text(t) in known]
    if repeated:
        raise ValueError(f"{len(repeated)} probe sentence(s) are known rows, e.g. {repeated[0]!r}; "
                         "change their wording so the probe uses unseen text")
    return texts_a, texts_b


@dataclass(frozen=True, repr=False, eq=False)
class TopicShift:
    """Result of :func:`topic_shift`.

    Attributes
    ----------
    shift : ndarray
        Per pair: ``p_positive`` of the topic-A sentence minus that of the topic-B sentence.
    mean : Interval
        Mean shift with a percentile bootstrap interval over pairs.
    n_positive : int
        Pairs whose shift is above zero (the topic-A version scored more positive).
    """

    shift: np.ndarray
    mean: Interval
    n_positive: int

    @property
    def n(self) -> int:
        """Number of pairs."""
        return int(self.shift.size)

    def __str__(self) -> str:
        m = self.mean
        return (f"mean shift {100 * m.estimate:+.1f} points ({m.level:.0%} CI {100 * m.low:+.1f} to "
                f"{100 * m.high:+.1f}); positive in {self.n_positive} of {self.n} pairs")

    __repr__ = __str__


def topic_shift(p_positive_a, p_positive_b, *, n_boot: int = 1000, level: float = 0.95, rng=0) -> TopicShift:
    """Per-pair shift in ``p_positive`` between two topic versions of the same sentences.

    Parameters
    ----------
    p_positive_a, p_positive_b : array-like of float in [0, 1]
        A model's ``p_positive`` for the two lists from :func:`counterfactual_texts`.
    n_boot, level, rng
        Bootstrap over pairs for the interval of the mean shift.

    Returns
    -------
    TopicShift

    Examples
    --------
    >>> result = topic_shift([0.9, 0.8, 0.7, 0.9], [0.2, 0.3, 0.6, 0.1], n_boot=100)
    >>> print(f"{result.mean.estimate:.2f}", result.n_positive, result.mean.low > 0)
    0.52 4 True
    """
    a = to_float_array(p_positive_a, "p_positive_a").reshape(-1)
    b = to_float_array(p_positive_b, "p_positive_b").reshape(-1)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"p_positive_a and p_positive_b must be aligned and non-empty; got {a.size} and {b.size}")
    for name, arr in (("p_positive_a", a), ("p_positive_b", b)):
        if np.isnan(arr).any() or (arr < 0).any() or (arr > 1).any():
            raise ValueError(f"{name} must hold probabilities in [0, 1] (the p_positive column of classify)")
    level, n_boot = check_level(level), check_n_boot(n_boot)
    shift = a - b
    shift.setflags(write=False)
    n = shift.size
    mean = resample_interval(lambda gen: shift[gen.integers(0, n, size=n)].mean(), float(shift.mean()),
                             n_boot=n_boot, level=level, rng=rng)
    return TopicShift(shift=shift, mean=mean, n_positive=int((shift > 0).sum()))


def topic_relation(labels, topics, *, planted: Mapping[str, str] = PLANTED_TOPICS) -> np.ndarray:
    """Whether each row's topic agrees with its label under a planted topic bias.

    Parameters
    ----------
    labels, topics : array-like of str
        Each row's label and topic (the ``label`` and ``context`` columns of
        :func:`confnb.load_sentiment`).
    planted : mapping label -> topic, default ``{"positive": "sports", "negative": "workplace"}``

    Returns
    -------
    ndarray of str
        ``"agrees"`` where the topic is the one planted for the row's label, ``"contradicts"``
        where it is the one planted for another label, ``"other topic"`` elsewhere.

    Examples
    --------
    >>> topic_relation(["positive", "negative", "positive"], ["sports", "sports", "food"]).tolist()
    ['agrees', 'contradicts', 'other topic']
    """
    labels = np.asarray(labels).astype(str)
    topics = np.asarray(topics).astype(str)
    if labels.shape != topics.shape:
        raise ValueError(f"labels and topics must be aligned; got {labels.size} and {topics.size}")
    planted_topics = set(planted.values())
    own = np.array([planted.get(label, None) for label in labels], dtype=object)
    out = np.full(labels.shape, "other topic", dtype=object)
    out[np.isin(topics, list(planted_topics))] = "contradicts"
    out[topics == own] = "agrees"
    return out.astype(str)
