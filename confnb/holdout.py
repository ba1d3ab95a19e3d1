"""Hold out a validation slice from training rows: whole sentence frames, stratified, seeded.

`carve_validation` splits the rows a model is fine-tuned on into the rows trained on and a validation
slice that keeps whole groups (the ``frame`` column of `confnb.load_sentiment`) on one side, so early
stopping never rewards memorising a sentence template. `check_training_frame` is the boundary check
on the rows handed to `confnb.finetune`: training split only, texts present, every class labelled.

Out of scope: the calibration/test split of the course data (`confnb.load_sentiment`,
`confnb.sampling.split_rows`), cross-validation folds, and training itself (`confnb.finetune`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from .tasks import label_to_class

__all__ = ["UngroupedValidationWarning", "carve_validation", "check_training_frame"]


def check_training_frame(train_df: pd.DataFrame, task, text_column: str, label_column: str) -> pd.DataFrame:
    """Validate training rows once at the boundary; return a copy with class-name labels.

    Checks that `train_df` is a non-empty DataFrame with `text_column` and `label_column`, that a
    ``split`` column, if any, says ``train`` on every row (calibration and test rows must stay unseen),
    that no text is empty, and that every class of `task` has rows. The copy carries the texts as
    ``text`` and the labels, mapped to the task's class names (`confnb.tasks.label_to_class`), as
    ``label``.

    Examples
    --------
    >>> from confnb.tasks import SENTIMENT
    >>> rows = pd.DataFrame({"review": ["great", "awful"], "stars": [1, 0]})
    >>> check_training_frame(rows, SENTIMENT, "review", "stars")[["text", "label"]].values.tolist()
    [['great', 'positive'], ['awful', 'negative']]
    """
    if not isinstance(train_df, pd.DataFrame):
        raise TypeError(f"train_df must be a pandas DataFrame, not {type(train_df).__name__}")
    for name in (text_column, label_column):
        if name not in train_df.columns:
            raise ValueError(f"train_df has no {name!r} column; it has {list(train_df.columns)}")
    if "split" in train_df.columns:
        other = train_df["split"].astype(str)
        other = other[other != "train"]
        if len(other):
            counts = ", ".join(f"{k}: {v}" for k, v in other.value_counts().sort_index().items())
            raise ValueError(
                f"train_df holds {len(other)} rows whose split is not 'train' ({counts}). Fine-tune on "
                "training rows only, e.g. load_sentiment('train'): calibration and test rows must stay "
                "unseen to measure the tuned model honestly."
            )
    if len(train_df) == 0:
        raise ValueError("train_df has no rows")
    frame = train_df.copy()
    texts = frame[text_column]
    empty = texts.isna() | (texts.astype(str).str.strip() == "")
    if empty.any():
        raise ValueError(
            f"{int(empty.sum())} training rows have an empty {text_column!r} "
            f"(first at position {int(np.flatnonzero(empty.to_numpy())[0])}); remove them"
        )
    frame["text"] = texts.astype(str)
    frame["label"] = label_to_class(frame[label_column], task)
    missing = [c for c in task.class_names if c not in set(frame["label"])]
    if missing:
        found = sorted(set(frame["label"]))
        raise ValueError(
            f"training data has no rows labelled {missing} (only {found}); fine-tuning needs examples of "
            f"every class {task.class_names}"
        )
    return frame


class UngroupedValidationWarning(UserWarning):
    """The validation slice was carved row by row: it may share sentence templates with training rows."""


def _largest_remainder(total: int, sizes: dict[str, int]) -> dict[str, int]:
    """Split `total` over the keys of `sizes` in proportion to them (largest-remainder rounding).

    ``confnb.sampling`` allocates sample sizes over strata with a close cousin of this rule (it also
    gives every stratum at least one row and breaks ties differently); the two are kept apart because
    merging them would change the course notebooks' validation slices.
    """
    n = sum(sizes.values())
    quota = {g: total * s / n for g, s in sizes.items()}
    take = {g: int(math.floor(q)) for g, q in quota.items()}
    for g in sorted(quota, key=lambda g: (take[g] - quota[g], g))[: total - sum(take.values())]:
        take[g] += 1
    return take


def carve_validation(
    train_df: pd.DataFrame,
    *,
    fraction: float = 0.1,
    max_rows: int | None = None,
    rng: int | np.random.Generator | None = 0,
    stratify: str | None = None,
    groups: str | None = "frame",
    seed: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split training rows into the rows trained on and a validation slice: whole groups, stratified, seeded.

    Rows that share a sentence template (the ``frame`` column of `confnb.load_sentiment`) differ by a
    slot word or two; a validation row whose frame is also trained on is half memorised, and early
    stopping on such rows rewards memorising frames. So whole groups are held out:

    1. Held out: about ``fraction`` of the rows, as whole groups. Each stratum (``category``) gets its
       share of the rows (largest-remainder rounding); its groups are shuffled with `rng` and taken in
       that order while a group brings the stratum's count closer to its share. A group counts in the
       stratum of its most common value.
    2. Validation: the held-out rows, or, when there are more than `max_rows`, a sample of `max_rows`
       of them, stratified the same way. Held-out rows left out of that sample are used for neither
       part: they share frames with validation rows, so they may not be trained on either.

    Parameters
    ----------
    train_df : pandas.DataFrame
        Training rows (never calibration or test rows).
    fraction : float
        Share of rows held out of training (at least one group when positive). 0: no validation.
    max_rows : int, optional
        Cap on the validation slice (evaluation time grows with it).
    rng : int, numpy.random.Generator or None, default 0
        Seeds the choice of groups and rows (``np.random.default_rng(rng)``).
    stratify : str, optional
        Column whose values keep their proportions; default ``category`` if present, else ``label``.
    groups : str or None, default "frame"
        Column whose values name groups of rows that must stay on one side. If the default ``frame``
        column is missing (your own data), rows are carved one by one and an
        `confnb.holdout.UngroupedValidationWarning` says so; name your own column (e.g. a source document) to group
        by it, or pass None to carve rows without a warning. A column named here that does not exist
        (other than the default) is an error.
    seed : int, optional
        Older name of `rng`, kept for existing calls; give one of the two.

    Returns
    -------
    (train, validation) : tuple of DataFrame
        Disjoint, in the input's row order; with groups, no group appears in both.

    Raises
    ------
    ValueError
        If `groups` names a missing column, `rng` and `seed` are both given, or the rows are too few.

    Examples
    --------
    >>> df = pd.DataFrame({"text": list("abcdefghij"), "label": ["positive"] * 5 + ["negative"] * 5,
    ...                    "frame": list("aabbcddeef")})
    >>> train, validation = carve_validation(df, fraction=0.2, rng=0)
    >>> list(validation["text"]), set(train["frame"]) & set(validation["frame"])
    (['e', 'j'], set())
    """
    if seed is not None:
        if rng != 0:
            raise ValueError("give rng or its older name seed, not both")
        rng = seed
    n = len(train_df)
    if fraction <= 0 or n == 0:
        return train_df, train_df.iloc[:0]
    if groups is not None and groups not in train_df.columns:
        if groups != "frame":
            raise ValueError(f"groups={groups!r} is not a column of train_df; it has {list(train_df.columns)}")
        warnings.warn(
            "train_df has no 'frame' column, so the validation slice is carved row by row and may share "
            "sentence templates with the training rows, which flatters the validation score. Pass "
            "groups=<column> naming what rows share (a template, a source document), or groups=None to "
            "carve rows without this warning.",
            UngroupedValidationWarning,
            stacklevel=2,
        )
        groups = None
    if stratify is None:
        stratify = "category" if "category" in train_df.columns else "label"
    generator = np.random.default_rng(rng)
    strata = train_df[stratify].astype(str).to_numpy()
    target = max(1, int(round(fraction * n)))

    if groups is None:
        if max_rows is not None:
            target = min(target, int(max_rows))
        if target >= n:
            raise ValueError(f"{n} training rows are too few to carve a validation slice of {target}")
        held = _stratified_sample(np.arange(n), strata, target, generator)
        kept = np.setdiff1d(np.arange(n), held)
        return train_df.iloc[kept], train_df.iloc[held]

    keys = train_df[groups].astype(str).to_numpy()
    members = pd.Series(np.arange(n)).groupby(keys, sort=True).indices  # group -> row positions
    stratum_of = {g: pd.Series(strata[ix]).mode().iloc[0] for g, ix in members.items()}
    if len(members) < 2:
        raise ValueError(f"train_df has a single {groups!r} group; validation needs groups of its own")
    sizes: dict[str, int] = {}
    for g, ix in members.items():
        sizes[stratum_of[g]] = sizes.get(stratum_of[g], 0) + len(ix)
    share = _largest_remainder(target, sizes)
    held_groups: list[str] = []
    for stratum in sorted(sizes):
        names = sorted(g for g in members if stratum_of[g] == stratum)
        count = 0
        for i in generator.permutation(len(names)):
            size = len(members[names[i]])
            if size < 2 * (share[stratum] - count):  # taking it lands closer to the share
                held_groups.append(names[i])
                count += size
    if not held_groups:  # tiny data: hold out the smallest group rather than nothing
        held_groups = [min(members, key=lambda g: (len(members[g]), g))]
    held = np.sort(np.concatenate([members[g] for g in held_groups]))
    if len(held) >= n:
        raise ValueError(f"{n} training rows in {len(members)} groups are too few to carve a validation slice")
    validation = held
    if max_rows is not None and len(held) > max_rows:
        validation = _stratified_sample(held, strata[held], int(max_rows), generator)
    kept = np.setdiff1d(np.arange(n), held)
    return train_df.iloc[kept], train_df.iloc[validation]


def _stratified_sample(positions: np.ndarray, strata: np.ndarray, k: int, generator) -> np.ndarray:
    """`k` of `positions`, each stratum in proportion to its size, sorted."""
    by_stratum = pd.Series(np.arange(len(positions))).groupby(strata, sort=True).indices
    take = _largest_remainder(k, {s: len(ix) for s, ix in by_stratum.items()})
    chosen = [positions[generator.permutation(by_stratum[s])[: take[s]]] for s in sorted(by_stratum)]
    return np.sort(np.concatenate(chosen or [np.array([], dtype=int)]))
