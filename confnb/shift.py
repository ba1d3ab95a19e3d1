"""How scores behave off the data they were built on: checks for a change of domain.

A calibrator, a threshold or a fine-tune is built on one set of labelled rows. This module
measures what happens when the same pieces meet rows of another kind (a *distribution
shift*), always with labelled rows from the new domain:

* :class:`ScoredRows` / :func:`scored_rows` -- the arrays every check needs, taken from a
  :func:`confnb.classify` frame and its labelled rows.
* :func:`domain_metrics` and :func:`metrics_frame` -- accuracy, AUC and calibration error of
  one model on one domain, with bootstrap intervals, as a table row.
* :func:`confnb.shift.domain_difference` / :func:`domain_differences` -- a metric on domain *a* minus the
  same metric on domain *b*, with a bootstrap interval that resamples the two (independent)
  samples separately. For two sets of scores on the **same** rows use
  :func:`confnb.metrics.paired_bootstrap_difference` (one ``y_true``) or
  :func:`confnb.comparison.paired_model_difference` (two models, each its own ``correct``).
* :func:`threshold_transfer` -- calibrate and choose a threshold on one domain's rows (on
  two disjoint parts of them), then check the promise on another domain's test rows.
* :func:`shift_gap` -- mean of one group's values minus a reference group's, with an
  independent two-sample bootstrap (e.g. the shift of a keyword probe's group).
* :func:`has_word`, :data:`SHORTCUT_CANDIDATES`, :func:`shortcut_words`,
  :func:`shortcut_probe`, :func:`probe_summary` -- keyword probes: does a shortcut a
  fine-tune learned from topic words move texts of another domain? Defined in
  :mod:`confnb.shortcuts` and re-exported here.

Out of scope: detecting a shift without labels (two-sample tests on the inputs), and
correcting for one (importance weighting, domain adaptation). Every check here needs
labelled rows from the domain you care about; that is the point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ._validation import check_pair, finite_array, unchecked
from .calibration import Calibrator, PlattCalibrator, make_calibrator
from .columns import P_POSITIVE, PREDICTION, TOTAL_PROBABILITY
from .intervals import resample_interval
from .metrics import Interval, bootstrap_ci, expected_calibration_error, roc_auc, share_correct
from .shortcuts import (SHORTCUT_CANDIDATES, ShortcutWords, has_word, probe_summary,  # noqa: F401  (re-exported)
                        shortcut_probe, shortcut_words)
from .tasks import SENTIMENT
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
                positive: str = SENTIMENT.positive_class) -> ScoredRows:
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
        The positive class (that of :data:`confnb.tasks.SENTIMENT`).

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
    for column in (PREDICTION, TOTAL_PROBABILITY, P_POSITIVE):
        if column not in scored.columns:
            raise ValueError(f"scored has no column {column!r}; pass the frame returned by confnb.classify")
    if label_column not in frame.columns:
        raise ValueError(f"frame has no column {label_column!r}; name the label column with label_column=")
    prediction = scored[PREDICTION].to_numpy()
    label = frame[label_column].to_numpy()
    return ScoredRows(
        total_probability=scored[TOTAL_PROBABILITY].to_numpy(dtype=float),
        correct=prediction == label,
        p_positive=scored[P_POSITIVE].to_numpy(dtype=float),
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
    n_boot, level, rng
        As in :func:`confnb.intervals.bootstrap_ci` (1000 resamples, 95% by default).

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
    ta, pa = check_pair(y_true_a, y_prob_a, true_name="y_true_a", prob_name="y_prob_a")
    tb, pb = check_pair(y_true_b, y_prob_b, true_name="y_true_b", prob_name="y_prob_b")

    fast = unchecked(metric)

    def draw(gen):
        ia, ib = gen.integers(0, ta.size, ta.size), gen.integers(0, tb.size, tb.size)
        return float(fast(ta[ia], pa[ia])) - float(fast(tb[ib], pb[ib]))

    estimate = float(metric(ta, pa)) - float(metric(tb, pb))
    return resample_interval(draw, estimate, n_boot=n_boot, level=level, rng=rng)


def domain_differences(rows_a: ScoredRows, rows_b: ScoredRows, *, n_boot: int = 1000, level: float = 0.95,
                       rng=0) -> dict:
    """Accuracy, AUC and raw ECE on domain *a* minus the same on domain *b* (:func:`confnb.shift.domain_difference`).

    Parameters
    ----------
    rows_a, rows_b : ScoredRows
        One model's rows on two domains (different rows).
    n_boot, level, rng
        As for :func:`confnb.shift.domain_difference`; every metric uses the same ``rng`` seed.

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
    n_boot, level, rng
        As in :func:`confnb.shift.domain_difference`.

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
    a = finite_array(values, "values")
    b = finite_array(reference, "reference")

    def draw(gen):
        return gen.choice(a, a.size).mean() - gen.choice(b, b.size).mean()

    return resample_interval(draw, a.mean() - b.mean(), n_boot=n_boot, level=level, rng=rng)


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
    from .draws import split_rows

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
