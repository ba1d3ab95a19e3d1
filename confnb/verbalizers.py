"""Choosing verbalizers by measurement, and scoring answers by their first token only.

A verbalizer is the text a model should write for a class (" smart home" for HWU64's ``iot``
scenario). Which words to use is a choice that moves accuracy and calibration, so the course makes
it by a rule written down and applied in code, on training rows only:

* :func:`candidate_masses` -- the exact probability of every candidate answer after a prompt, one
  batched pass (multi-token candidates through the answer trie of :mod:`confnb.batching`);
* :func:`verbalizer_lift` -- per candidate, how much more likely it is on its own class's rows than
  on the other rows (mean log-probability, own minus other);
* :func:`choose_verbalizers` -- the greedy rule: classes in order of their best lift, each keeping
  its best candidates that clash with no answer kept so far;
* :func:`first_token_masses` -- what a scorer that reads only the first token of each answer would
  see: the contrast to exact multi-token scoring when answers share a first token.

Out of scope: scoring a whole data set (:func:`confnb.classify`, cached), prompt wording and
demonstrations (:mod:`confnb.tasks`), and metrics (:mod:`confnb.multiclass`).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .batching import iter_logprob_batches
from .scoring import classify
from .tasks import ClassificationTask

__all__ = ["answer_sequences", "candidate_masses", "choose_verbalizers", "first_token_masses", "verbalizer_lift"]


def _forms(text: str, leading_space: bool) -> list[str]:
    return [text, " " + text] if leading_space and not text.startswith(" ") else [text]


def _sequences(encode: Callable[[str], Sequence[int]], text: str, leading_space: bool) -> list[tuple[int, ...]]:
    """Distinct token sequences of a candidate's forms; a form that extends another is left out."""
    found: list[tuple[int, ...]] = []
    for form in _forms(text, leading_space):
        ids = tuple(int(i) for i in encode(form))
        if not ids:
            raise ValueError(f"candidate {text!r} has no tokens for this tokenizer")
        if ids not in found:
            found.append(ids)
    return [s for s in found if not any(len(o) < len(s) and s[: len(o)] == o for o in found)]


def _encoder(model: Any) -> Callable[[str], Sequence[int]]:
    tokenizer = model.tokenizer
    return lambda text: tokenizer.encode(text, add_special_tokens=False)


def _groups(seqs: Sequence[list[tuple[int, ...]]]) -> list[list[int]]:
    """Candidates dealt into groups in which no two clash (first group with room, in order)."""
    groups: list[list[int]] = []
    for j, mine in enumerate(seqs):
        for group in groups:
            if not any(_clash(s, o) for k in group for o in seqs[k] for s in mine):
                group.append(j)
                break
        else:
            groups.append([j])
    return groups


def candidate_masses(model: Any, texts: Sequence[str], task: Any, candidates: Sequence[str], *,
                     cache: bool | str = False, batch_size: int = 32) -> pd.DataFrame:
    """Exact probability of each candidate answer after `task`'s prompt, for every text.

    Each candidate is scored as the only verbalizer of a class of its own, through
    :func:`confnb.classify`: its probability is summed over its forms (with and without a leading
    space when ``task.leading_space``), each form counted exactly (the product of its tokens'
    conditional probabilities). Candidates may start one another (" alarm" and " alarm clock"):
    they are dealt into groups without such clashes, one `confnb.classify` pass per group. Only
    `task`'s prompt is used (instruction, template, chat, leading space), not its classes or
    demonstrations.

    Parameters
    ----------
    model : LanguageModel
    texts : sequence of str
    task : ClassificationTask
        Supplies the prompt.
    candidates : sequence of str
        Distinct candidate answers.
    cache : bool or path
        Passed to :func:`confnb.classify` (the on-disk score cache).
    batch_size : int

    Returns
    -------
    pandas.DataFrame
        One row per text, one column per candidate, probabilities in [0, 1].
    """
    texts = list(texts)
    candidates = list(candidates)
    if len(set(candidates)) != len(candidates):
        raise ValueError("candidates must be distinct")
    encode = _encoder(model)
    seqs = [_sequences(encode, c, task.leading_space) for c in candidates]
    out = pd.DataFrame(index=range(len(texts)), columns=candidates, dtype=float)
    for number, group in enumerate(_groups(seqs)):
        names = [candidates[j] for j in group]
        if len(names) == 1:  # a task needs two classes: pair the last one with a clash-free filler
            names = names + [next(f for f in ("@@@", "###", "%%%") if f not in candidates
                                  and not any(_clash(s, o) for s in _sequences(encode, f, False)
                                              for o in seqs[group[0]]))]
        probe = ClassificationTask(task.instruction, {n: [n] for n in names}, template=task.template,
                                   chat=task.chat, leading_space=task.leading_space,
                                   name=f"{task.name}-candidates-{number}")
        scored = classify(model, texts, probe, batch_size=batch_size, progress=False, cache=cache)
        for j in group:
            out[candidates[j]] = scored[f"mass_{candidates[j]}"].to_numpy(dtype=float)
    return out


def verbalizer_lift(masses: pd.DataFrame, labels: Sequence[str],
                    candidates: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """How much more likely each candidate is on its own class's rows than on the other rows.

    ``lift = mean log p(candidate | own-class rows) - mean log p(candidate | other rows)``, in nats
    (probabilities floored at ``1e-12``). A high lift means the model tends to say this word for
    this class and not for the others: a candidate that is likely everywhere ("question") or
    nowhere scores low.

    Parameters
    ----------
    masses : DataFrame
        From :func:`candidate_masses`: one column per candidate.
    labels : sequence of str
        The class of each row of `masses`.
    candidates : mapping of class -> sequence of str
        Which class each candidate stands for.

    Returns
    -------
    pandas.DataFrame
        Columns ``class, candidate, own, other, lift`` (``own``, ``other``: the mean
        log-probabilities), sorted by class (in `candidates` order) and lift, best first.

    Examples
    --------
    >>> masses = pd.DataFrame({"cat": [0.5, 0.5, 0.01, 0.01], "pet": [0.2, 0.2, 0.2, 0.2],
    ...                        "dog": [0.01, 0.01, 0.4, 0.4]})
    >>> table = verbalizer_lift(masses, ["c", "c", "d", "d"], {"c": ["pet", "cat"], "d": ["dog"]})
    >>> table[["class", "candidate"]].values.tolist(), table["lift"].round(2).tolist()
    ([['c', 'cat'], ['c', 'pet'], ['d', 'dog']], [3.91, 0.0, 3.69])
    """
    labels = np.asarray(labels, dtype=object)
    if len(labels) != len(masses):
        raise ValueError(f"{len(labels)} labels for {len(masses)} rows of masses")
    rows = []
    for order, (cls, names) in enumerate(candidates.items()):
        own = labels == cls
        if not own.any() or own.all():
            raise ValueError(f"class {cls!r} needs rows of its own and rows of other classes")
        for name in names:
            logp = np.log(np.clip(masses[name].to_numpy(dtype=float), 1e-12, None))
            rows.append((order, cls, name, logp[own].mean(), logp[~own].mean()))
    table = pd.DataFrame(rows, columns=["order", "class", "candidate", "own", "other"])
    table["lift"] = table["own"] - table["other"]
    table = table.sort_values(["order", "lift"], ascending=[True, False], kind="stable")
    return table.drop(columns="order").reset_index(drop=True)


def _clash(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def answer_sequences(model: Any, text: str, *, leading_space: bool = True) -> list[tuple[int, ...]]:
    """The token sequences an answer is scored as: with and without a leading space, distinct.

    A form whose tokens start with another form's tokens is left out, as
    :meth:`confnb.tasks.ClassificationTask.resolve` does within a class.
    """
    return _sequences(_encoder(model), text, leading_space)


def choose_verbalizers(lift: pd.DataFrame, *, n_classes: int | None = None, per_class: int = 1,
                       model: Any = None,
                       tokenize: Callable[[str], Sequence[Sequence[int]]] | None = None) -> dict[str, list[str]]:
    """The greedy rule: best-separated classes first, each keeping its best non-clashing candidates.

    Classes are taken in order of their best candidate's lift, highest first. Each keeps up to
    `per_class` of its candidates, in lift order, skipping a candidate whose token sequences equal
    or start (or are started by) a sequence of a candidate kept so far, in any class: such a pair
    could not be told apart, or would be dropped by :meth:`confnb.tasks.ClassificationTask.resolve`. A class
    left with no candidate is skipped. Stops after `n_classes` classes.

    Parameters
    ----------
    lift : DataFrame
        From :func:`verbalizer_lift`.
    n_classes : int, optional
        How many classes to keep (default: all that keep a candidate).
    per_class : int, default 1
    model : LanguageModel, optional
        Compare candidates by their tokens (:func:`confnb.verbalizers.answer_sequences`, both space forms).
    tokenize : callable, optional
        Instead of `model`: ``tokenize(candidate)`` -> its token sequences. With neither,
        candidates clash when one string starts another.

    Returns
    -------
    dict
        Class -> kept candidates, classes in the order they were chosen.

    Examples
    --------
    >>> lift = pd.DataFrame({"class": ["a", "a", "b", "b", "c"],
    ...                      "candidate": ["alarm", "wake up", "alarm clock", "clock", "weather"],
    ...                      "lift": [2.0, 1.0, 3.0, 0.5, 1.5]})
    >>> choose_verbalizers(lift, n_classes=2)
    {'b': ['alarm clock'], 'a': ['wake up']}
    """
    if per_class < 1:
        raise ValueError("per_class must be at least 1")
    if tokenize is None and model is not None:
        tokenize = lambda text: answer_sequences(model, text)  # noqa: E731
    if tokenize is None:
        tokenize = lambda text: [tuple(text)]  # noqa: E731  (characters: a string prefix clashes)
    best = lift.groupby("class", sort=False)["lift"].max().sort_values(ascending=False, kind="stable")
    kept_seqs: list[tuple[int, ...]] = []
    chosen: dict[str, list[str]] = {}
    for cls in best.index:
        if n_classes is not None and len(chosen) >= n_classes:
            break
        rows = lift[lift["class"] == cls].sort_values("lift", ascending=False, kind="stable")
        keep: list[str] = []
        for name in rows["candidate"]:
            seqs = [tuple(s) for s in tokenize(name)]
            if any(_clash(s, k) for s in seqs for k in kept_seqs):
                continue
            keep.append(name)
            kept_seqs += seqs
            if len(keep) == per_class:
                break
        if keep:
            chosen[cls] = keep
    return chosen


def first_token_masses(model: Any, texts: Sequence[str], task: Any, *, batch_size: int = 32) -> pd.DataFrame:
    """Class masses as a scorer that reads only each answer's first token would compute them.

    For each class, the sum of the next-token probabilities of the distinct first tokens of its
    verbalizers (``task.verbalizer_ids``). When two classes' answers start with the same token
    (" lights off", " lights on") they get the same mass, and such a scorer cannot tell them apart.

    Returns
    -------
    pandas.DataFrame
        ``mass_<class>`` per class; ``prediction``: the class of largest mass (the first such class
        on a tie, as ``argmax`` breaks ties); ``tied``: True where another class has the same
        largest mass.
    """
    texts = list(texts)
    ids = task.verbalizer_ids(model)
    classes = list(task.class_names)
    firsts = {c: sorted({seq[0] for _, seq in ids[c]}) for c in classes}
    out = np.zeros((len(texts), len(classes)))
    for rows, first, _ in iter_logprob_batches(model, task, texts, batch_size):
        first = np.exp(first.numpy())
        for k, c in enumerate(classes):
            out[rows, k] = first[:, firsts[c]].sum(axis=1)
    frame = pd.DataFrame(out, columns=[f"mass_{c}" for c in classes])
    top = out.max(axis=1, keepdims=True)
    frame["prediction"] = [classes[k] for k in out.argmax(axis=1)]
    frame["tied"] = (out == top).sum(axis=1) > 1
    return frame
