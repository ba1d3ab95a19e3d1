"""How scores behave off the data they were built on: checks for a change of domain.

A calibrator, a threshold or a fine-tune is built on one set of labelled rows. This module
measures what happens when the same pieces meet rows of another kind (a *distribution
shift*), always with labelled rows from the new domain:

* :class:`ScoredRows` / :func:`scored_rows` -- the arrays every check needs, taken from a
  :func:`confnb.classify` frame and its labelled rows.
* :func:`domain_metrics` and :func:`metrics_frame` -- accuracy, AUC and calibration error of
  one model on one domain, with bootstrap intervals, as a table row.
* :func:`domain_difference` / :func:`domain_differences` -- a metric on domain *a* minus the
  same metric on domain *b*, with a bootstrap interval that resamples the two (independent)
  samples separately. For two sets of scores on the **same** rows use
  :func:`confnb.metrics.paired_bootstrap_difference` (one ``y_true``) or
  :func:`confnb.comparison.paired_model_difference` (two models, each its own ``correct``).
* :func:`threshold_transfer` -- calibrate and choose a threshold on one domain's rows (on
  two disjoint parts of them), then check the promise on another domain's test rows.
* :func:`has_word`, :data:`SHORTCUT_CANDIDATES`, :func:`shortcut_words`,
  :func:`shortcut_probe`, :func:`probe_summary`, :func:`shift_gap` -- keyword probes: does
  a shortcut a fine-tune learned from topic words move texts of another domain?

Out of scope: detecting a shift without labels (two-sample tests on the inputs), and
correcting for one (importance weighting, domain adaptation). Every check here needs
labelled rows from the domain you care about; that is the point.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from .calibration import Calibrator, PlattCalibrator, make_calibrator
from .metrics import (Interval, _check_level, _check_pair, bootstrap_ci, expected_calibration_error,
                      roc_auc, share_correct)
from .thresholds import ThresholdChoice, choose_threshold, threshold_table

__all__ = [
    "SHORTCUT_CANDIDATES",
    "ScoredRows",
    "ShortcutWords",
    "ThresholdTransfer",
    "domain_difference",
    "domain_differences",
    "domain_metrics",
    "has_word",
    "metrics_frame",
    "probe_summary",
    "scored_rows",
    "shift_gap",
    "shortcut_probe",
    "shortcut_words",
    "threshold_transfer",
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


# ---------------------------------------------------------------------------
# arrays from a scored frame
# ---------------------------------------------------------------------------
@dataclass(frozen=True, repr=False, eq=False)
class ScoredRows:
    """One model's scores on labelled rows, as aligned arrays (see :func:`scored_rows`).

    Attributes
    ----------
    total_probability : ndarray of float
        Raw confidence of each prediction.
    correct : ndarray of bool
        Whether the prediction matched the label (``y_true`` for the confidence target).
    p_positive : ndarray of float
        Probability of the positive class.
    is_positive : ndarray of bool
        Whether the label is the positive class (``y_true`` for the class target).
    said_positive : ndarray of bool
        Whether the model predicted the positive class.
    """

    total_probability: np.ndarray
    correct: np.ndarray
    p_positive: np.ndarray
    is_positive: np.ndarray
    said_positive: np.ndarray

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.correct.shape[0])

    def take(self, idx) -> "ScoredRows":
        """The rows at positions ``idx`` (e.g. one part of :func:`confnb.split_rows`)."""
        idx = np.asarray(idx)
        return ScoredRows(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))

    def __repr__(self) -> str:
        return (f"ScoredRows(n={self.n}, accuracy={self.correct.mean():.3f}, "
                f"mean total_probability={self.total_probability.mean():.3f})")


def scored_rows(scored: pd.DataFrame, frame: pd.DataFrame, *, label_column: str = "label",
                positive: str = "positive") -> ScoredRows:
    """Arrays for the shift checks from a :func:`confnb.classify` frame and its labelled rows.

    Rows are matched by position, not by index: ``scored`` must be the result of
    classifying ``frame[text]`` in order.

    Parameters
    ----------
    scored : pandas.DataFrame
        With columns ``prediction``, ``total_probability`` and ``p_positive``.
    frame : pandas.DataFrame
        The labelled rows that were scored.
    label_column : str, default "label"
    positive : str, default "positive"
        The positive class.

    Returns
    -------
    ScoredRows

    Examples
    --------
    >>> s = pd.DataFrame({"prediction": ["positive", "negative"], "total_probability": [0.9, 0.6],
    ...                   "p_positive": [0.9, 0.4]})
    >>> rows = scored_rows(s, pd.DataFrame({"label": ["positive", "positive"]}))
    >>> rows.correct.tolist(), rows.said_positive.tolist()
    ([True, False], [True, False])
    """
    if len(scored) != len(frame):
        raise ValueError(f"scored has {len(scored)} rows but frame has {len(frame)}; pass the "
                         "classify() output of exactly these rows, in the same order")
    for column in ("prediction", "total_probability", "p_positive"):
        if column not in scored.columns:
            raise ValueError(f"scored has no column {column!r}; pass the frame returned by confnb.classify")
    if label_column not in frame.columns:
        raise ValueError(f"frame has no column {label_column!r}; name the label column with label_column=")
    prediction = scored["prediction"].to_numpy()
    label = frame[label_column].to_numpy()
    return ScoredRows(
        total_probability=scored["total_probability"].to_numpy(dtype=float),
        correct=prediction == label,
        p_positive=scored["p_positive"].to_numpy(dtype=float),
        is_positive=label == positive,
        said_positive=prediction == positive,
    )


# ---------------------------------------------------------------------------
# one model on one domain, and two domains compared
# ---------------------------------------------------------------------------
def domain_metrics(rows: ScoredRows, *, calibration: ScoredRows | None = None, n_boot: int = 500,
                   rng=0) -> dict:
    """Accuracy, AUC and calibration error of one model on one domain, as a table row.

    Parameters
    ----------
    rows : ScoredRows
        The domain's test rows.
    calibration : ScoredRows, optional
        The same domain's calibration rows. When given, a Platt scaler (confidence target) is
        fit on them and its ECE on ``rows`` is added as ``"Platt ECE"``.
    n_boot : int, default 500
        Bootstrap resamples for each interval.
    rng : int, numpy.random.Generator or None, default 0
        Seed of every bootstrap (the same seed for each metric).

    Returns
    -------
    dict
        ``"accuracy"``, ``"AUC"``, ``"raw ECE"`` (and ``"Platt ECE"``) are
        :class:`~confnb.metrics.Interval`; ``"mean raw confidence"``, ``"labelled positive"``
        and ``"said positive"`` are floats (shares). AUC ranks ``p_positive`` against the
        label, so no calibration changes it.

    Examples
    --------
    >>> rows = ScoredRows(*(np.tile(a, 10) for a in ([0.9, 0.6, 0.8, 0.7], [True, False, True, True],
    ...                   [0.9, 0.4, 0.2, 0.7], [True, True, False, True], [True, False, False, True])))
    >>> row = domain_metrics(rows, n_boot=50)
    >>> row["accuracy"].estimate, row["mean raw confidence"]
    (0.75, 0.75)
    """
    def ci(metric, y_true, y_prob):
        return bootstrap_ci(metric, y_true, y_prob, n_boot=n_boot, rng=rng)

    row = {
        "accuracy": ci(share_correct, rows.correct, rows.total_probability),
        "AUC": ci(roc_auc, rows.is_positive, rows.p_positive),
        "raw ECE": ci(expected_calibration_error, rows.correct, rows.total_probability),
    }
    if calibration is not None:
        platt = PlattCalibrator(target="confidence").fit(calibration.total_probability, calibration.correct)
        row["Platt ECE"] = ci(expected_calibration_error, rows.correct, platt.predict_proba(rows.total_probability))
    row["mean raw confidence"] = float(rows.total_probability.mean())
    row["labelled positive"] = float(rows.is_positive.mean())
    row["said positive"] = float(rows.said_positive.mean())
    return row


def metrics_frame(rows: Mapping) -> pd.DataFrame:
    """A display table of :func:`domain_metrics` rows: intervals as ``.3f``, shares as ``.1%``.

    Parameters
    ----------
    rows : mapping
        Row name (str or tuple, e.g. ``("real", "tuned")``) to a :func:`domain_metrics` dict.

    Examples
    --------
    >>> metrics_frame({"a": {"ECE": Interval(0.05, 0.04, 0.06, 0.95), "said positive": 0.5}})
                                 ECE said positive
    a  0.050 (95% CI 0.040 to 0.060)         50.0%
    """
    def shown(value):
        return f"{value:.3f}" if isinstance(value, Interval) else f"{value:.1%}"

    return pd.DataFrame({name: {k: shown(v) for k, v in row.items()} for name, row in rows.items()}).T


def _two_sample_interval(draw: Callable, estimate: float, n_boot, level, rng) -> Interval:
    """Percentile interval of ``draw(gen)`` (one resampled difference) over ``n_boot`` rounds."""
    level = _check_level(level)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise ValueError(f"n_boot must be an integer >= 10 (1000 is typical); got {n_boot!r}")
    gen = np.random.default_rng(rng)
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(int(n_boot)):
            try:
                values.append(float(draw(gen)))
            except ValueError:
                continue
    if len(values) < 0.9 * n_boot:
        raise ValueError(f"the metric failed on {n_boot - len(values)} of {n_boot} resamples (e.g. a "
                         "single class); use more rows or a metric defined on every resample")
    alpha = 1 - level
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return Interval(estimate=float(estimate), low=float(low), high=float(high), level=level)


def domain_difference(metric: Callable, y_true_a, y_prob_a, y_true_b, y_prob_b, *, n_boot: int = 1000,
                      level: float = 0.95, rng=None) -> Interval:
    """``metric`` on sample *a* minus ``metric`` on sample *b*, two independent samples.

    Each bootstrap round resamples the rows of *a* and, separately, the rows of *b* (they
    are different rows, e.g. a synthetic and a real test set), and recomputes the
    difference. Whether two separate intervals overlap is a weaker, conservative test; this
    interval answers the question directly. For two sets of scores on the **same** rows use
    :func:`confnb.metrics.paired_bootstrap_difference`.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_prob) -> float``, e.g. :func:`confnb.metrics.roc_auc`.
    y_true_a, y_prob_a, y_true_b, y_prob_b : array-like
        The two samples, as for the metrics in :mod:`confnb.metrics`.
    n_boot : int, default 1000
    level : float, default 0.95
    rng : int, numpy.random.Generator or None

    Returns
    -------
    Interval
        ``excludes_zero`` says whether the sign of the difference is settled at ``level``.

    Examples
    --------
    >>> a = domain_difference(share_correct, [1] * 90 + [0] * 10, [0.5] * 100,
    ...                       [1] * 60 + [0] * 40, [0.5] * 100, n_boot=200, rng=0)
    >>> round(a.estimate, 2), a.excludes_zero
    (0.3, True)
    """
    ta, pa = _check_pair(y_true_a, y_prob_a, true_name="y_true_a", prob_name="y_prob_a")
    tb, pb = _check_pair(y_true_b, y_prob_b, true_name="y_true_b", prob_name="y_prob_b")

    def draw(gen):
        ia, ib = gen.integers(0, ta.size, ta.size), gen.integers(0, tb.size, tb.size)
        return float(metric(ta[ia], pa[ia])) - float(metric(tb[ib], pb[ib]))

    estimate = float(metric(ta, pa)) - float(metric(tb, pb))
    return _two_sample_interval(draw, estimate, n_boot, level, rng)


def domain_differences(rows_a: ScoredRows, rows_b: ScoredRows, *, n_boot: int = 1000, level: float = 0.95,
                       rng=0) -> dict:
    """Accuracy, AUC and raw ECE on domain *a* minus the same on domain *b* (:func:`domain_difference`).

    Parameters
    ----------
    rows_a, rows_b : ScoredRows
        One model's rows on two domains (different rows).
    n_boot, level, rng
        As for :func:`domain_difference`; every metric uses the same ``rng`` seed.

    Returns
    -------
    dict of str to Interval
        Keys ``"accuracy"``, ``"AUC"`` and ``"raw ECE"``, as in :func:`domain_metrics`.

    Examples
    --------
    >>> gen = np.random.default_rng(0)
    >>> conf = gen.uniform(0.5, 1, 400)
    >>> correct, is_pos = gen.uniform(size=400) < conf, gen.uniform(size=400) < 0.5
    >>> rows = ScoredRows(conf, correct, np.where(correct == is_pos, conf, 1 - conf), is_pos, correct == is_pos)
    >>> diffs = domain_differences(rows, rows, n_boot=100)
    >>> sorted(diffs), diffs["accuracy"].estimate
    (['AUC', 'accuracy', 'raw ECE'], 0.0)
    """
    a, b = rows_a, rows_b
    specs = {
        "accuracy": (share_correct, a.correct, a.total_probability, b.correct, b.total_probability),
        "AUC": (roc_auc, a.is_positive, a.p_positive, b.is_positive, b.p_positive),
        "raw ECE": (expected_calibration_error, a.correct, a.total_probability, b.correct, b.total_probability),
    }
    return {name: domain_difference(*args, n_boot=n_boot, level=level, rng=rng) for name, args in specs.items()}


def shift_gap(values, reference, *, n_boot: int = 1000, level: float = 0.95, rng=None) -> Interval:
    """Mean of ``values`` minus mean of ``reference``, with an independent two-sample bootstrap.

    Used for a keyword probe: ``values`` is the change in ``p_positive`` (tuned minus base
    model) on texts with a topic word, ``reference`` the same change on texts without. A
    fine-tune may move *every* text; the shortcut is only the part beyond the reference.

    Parameters
    ----------
    values, reference : array-like of float
        Any real numbers (changes can be negative); at least one each, no NaN.
    n_boot : int, default 1000
    level : float, default 0.95
    rng : int, numpy.random.Generator or None

    Returns
    -------
    Interval
        ``low > 0``: the group moved further up than the reference; ``high < 0``: further down.

    Examples
    --------
    >>> gap = shift_gap([0.3, 0.25, 0.35, 0.3], [0.1, 0.05, 0.15, 0.1], n_boot=200, rng=0)
    >>> round(gap.estimate, 2), gap.low > 0
    (0.2, True)
    """
    a = _finite_array(values, "values")
    b = _finite_array(reference, "reference")

    def draw(gen):
        return gen.choice(a, a.size).mean() - gen.choice(b, b.size).mean()

    return _two_sample_interval(draw, a.mean() - b.mean(), n_boot, level, rng)


def _finite_array(values, name: str) -> np.ndarray:
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values, dtype=float).reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} is empty; the group needs at least one row")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; drop those rows first")
    return arr


# ---------------------------------------------------------------------------
# thresholds: chosen on one domain, checked on another
# ---------------------------------------------------------------------------
@dataclass(frozen=True, repr=False, eq=False)
class ThresholdTransfer:
    """Result of :func:`threshold_transfer`.

    Attributes
    ----------
    choice : ThresholdChoice
        Made on the choosing part of the calibration rows.
    calibrator : Calibrator
        Fit on the fitting part only.
    n_fit, n_choose, n_test : int
        Rows used to fit, to choose, and to check.
    share_automated : float
        Share of test rows at or above the threshold (0.0 when nothing was chosen).
    accuracy_achieved : float
        Accuracy of those test rows (NaN when there are none).
    """

    choice: ThresholdChoice
    calibrator: Calibrator
    n_fit: int
    n_choose: int
    n_test: int
    share_automated: float
    accuracy_achieved: float

    @property
    def threshold(self) -> float | None:
        """The chosen threshold, ``None`` when nothing could be promised."""
        return self.choice.threshold

    @property
    def target_accuracy(self) -> float:
        return self.choice.target_accuracy

    @property
    def promised(self) -> float:
        """The lower bound the choice promised (NaN when nothing was chosen)."""
        return self.choice.lower_bound if self.choice.met else float("nan")

    @property
    def outcome(self) -> str:
        """``"kept"``, ``"broken"`` (test accuracy below the target) or ``"nothing automated"``."""
        if not self.choice.met or np.isnan(self.accuracy_achieved):
            return "nothing automated"
        return "kept" if self.accuracy_achieved >= self.target_accuracy else "broken"

    def to_dict(self) -> dict:
        """Flat dict for a table: target, threshold, promised, share automated, accuracy, outcome."""
        return {"target": self.target_accuracy, "threshold": self.threshold, "promised": self.promised,
                "share automated": self.share_automated, "accuracy achieved": self.accuracy_achieved,
                "outcome": self.outcome}

    def __repr__(self) -> str:
        if not self.choice.met:
            return (f"ThresholdTransfer(target {self.target_accuracy:.0%}: no threshold promised on "
                    f"{self.n_choose} choosing rows)")
        return (f"ThresholdTransfer(target {self.target_accuracy:.0%}: threshold {self.threshold:.2f} "
                f"promised >= {self.promised:.1%} on {self.n_choose} choosing rows; on {self.n_test} test "
                f"rows automates {self.share_automated:.1%} at {self.accuracy_achieved:.1%} -> {self.outcome})")


def threshold_transfer(calibration: ScoredRows, test: ScoredRows, *, target_accuracy: float,
                       level: float = 0.95, method="platt", fraction: float = 0.5, rng=0) -> ThresholdTransfer:
    """Calibrate and choose a threshold on one domain, then check the promise on test rows.

    The procedure keeps the promise valid on the domain it was made on:

    1. :func:`confnb.split_rows` splits ``calibration`` into a fitting part (``fraction``)
       and a choosing part;
    2. a calibrator (``method``, confidence target) is fit on the fitting part only;
    3. :func:`confnb.thresholds.choose_threshold` (fixed-sequence testing at ``level``) picks
       the threshold on the choosing part, whose rows the calibrator never saw;
    4. the calibrator and threshold are applied to ``test``, which may come from another
       domain, and the accuracy there is compared with the target.

    The Clopper-Pearson promise of step 3 covers sampling luck on rows like the choosing
    part; step 4 measures whether it survives a change of domain.

    Parameters
    ----------
    calibration : ScoredRows
        Labelled rows to calibrate and choose on.
    test : ScoredRows
        Labelled rows to check on (never used to fit or choose).
    target_accuracy : float in (0, 1]
    level : float, default 0.95
    method : str or Calibrator, default "platt"
        As for :func:`confnb.make_calibrator`.
    fraction : float, default 0.5
        Share of ``calibration`` used for fitting; the rest is for choosing.
    rng : int, numpy.random.Generator or None, default 0
        Seed of the split.

    Returns
    -------
    ThresholdTransfer

    Examples
    --------
    >>> gen = np.random.default_rng(0)
    >>> conf = gen.uniform(0.5, 1.0, 2000)
    >>> correct = gen.uniform(size=2000) < conf
    >>> rows = ScoredRows(conf, correct, conf, correct, np.ones(2000, bool))
    >>> result = threshold_transfer(rows.take(range(1000)), rows.take(range(1000, 2000)),
    ...                             target_accuracy=0.8)
    >>> result.n_fit, result.n_choose, result.outcome
    (500, 500, 'kept')
    """
    from .sampling import split_rows

    fit_idx, choose_idx = split_rows(calibration.n, fraction=fraction, rng=rng)
    fit, choose = calibration.take(fit_idx), calibration.take(choose_idx)
    calibrator = make_calibrator(method, target="confidence").fit(fit.total_probability, fit.correct)
    choice = choose_threshold(choose.correct, calibrator.predict_proba(choose.total_probability),
                              target_accuracy=target_accuracy, level=level)
    share, achieved = 0.0, float("nan")
    if choice.met:
        check = threshold_table(test.correct, calibrator.predict_proba(test.total_probability),
                                thresholds=[choice.threshold], level=level)
        share, achieved = float(check.shares[0]), float(check.accuracy[0])
    return ThresholdTransfer(choice=choice, calibrator=calibrator, n_fit=fit.n, n_choose=choose.n,
                             n_test=test.n, share_automated=share, accuracy_achieved=achieved)


# ---------------------------------------------------------------------------
# keyword probes for a learned shortcut
# ---------------------------------------------------------------------------
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
                   label_column: str = "label", positive: str = "positive") -> ShortcutWords:
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
                   positive: str = "positive") -> pd.DataFrame:
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
    base_pos = base["prediction"].to_numpy() == positive
    tuned_pos = tuned["prediction"].to_numpy() == positive
    return frame.reset_index(drop=True).assign(
        is_positive=is_pos, base_positive=base_pos, tuned_positive=tuned_pos,
        shift=tuned["p_positive"].to_numpy(dtype=float) - base["p_positive"].to_numpy(dtype=float),
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
