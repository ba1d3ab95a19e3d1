"""confnb.shift: domain checks on synthetic arrays (no model)."""

import numpy as np
import pandas as pd
import pytest

from confnb.metrics import Interval, bootstrap_ci, expected_calibration_error, roc_auc, share_correct
from confnb.sampling import split_rows
from confnb.shift import (
    SHORTCUT_CANDIDATES,
    ScoredRows,
    domain_difference,
    domain_differences,
    domain_metrics,
    has_word,
    metrics_frame,
    probe_summary,
    scored_rows,
    shift_gap,
    shortcut_probe,
    shortcut_words,
    threshold_transfer,
)


def make_rows(n, *, rng, skew=0.0):
    """Rows whose true accuracy at raw confidence c is c + skew (clipped)."""
    gen = np.random.default_rng(rng)
    conf = gen.uniform(0.5, 1.0, n)
    correct = gen.uniform(size=n) < np.clip(conf + skew, 0, 1)
    is_pos = gen.uniform(size=n) < 0.5
    said_pos = np.where(correct, is_pos, ~is_pos)
    p_pos = np.where(said_pos, conf, 1 - conf)
    return ScoredRows(conf, correct, p_pos, is_pos, said_pos)


# --- scored_rows -----------------------------------------------------------
def test_scored_rows_matches_by_position_not_index():
    scored = pd.DataFrame({"prediction": ["positive", "negative", "negative"],
                           "total_probability": [0.9, 0.7, 0.6], "p_positive": [0.9, 0.3, 0.4]})
    labels = pd.DataFrame({"label": ["positive", "positive", "negative"]}, index=[10, 11, 12])
    rows = scored_rows(scored, labels)
    assert rows.correct.tolist() == [True, False, True]
    assert rows.is_positive.tolist() == [True, True, False]
    assert rows.said_positive.tolist() == [True, False, False]
    assert rows.n == 3 and rows.take([2]).total_probability.tolist() == [0.6]


def test_scored_rows_rejects_misaligned_inputs():
    scored = pd.DataFrame({"prediction": ["positive"], "total_probability": [0.9], "p_positive": [0.9]})
    with pytest.raises(ValueError, match="same order"):
        scored_rows(scored, pd.DataFrame({"label": ["positive", "negative"]}))
    with pytest.raises(ValueError, match="label_column"):
        scored_rows(scored, pd.DataFrame({"y": ["positive"]}))


# --- domain metrics ----------------------------------------------------------
def test_domain_metrics_agree_with_the_metric_functions():
    rows, cal = make_rows(800, rng=1, skew=0.05), make_rows(800, rng=2, skew=0.05)
    row = domain_metrics(rows, calibration=cal, n_boot=50, rng=3)
    assert row["accuracy"].estimate == pytest.approx(rows.correct.mean())
    assert row["AUC"].estimate == pytest.approx(roc_auc(rows.is_positive, rows.p_positive))
    assert row["raw ECE"] == bootstrap_ci(expected_calibration_error, rows.correct, rows.total_probability,
                                          n_boot=50, rng=3)
    assert row["Platt ECE"].estimate < row["raw ECE"].estimate  # a systematic skew is what Platt removes
    assert row["said positive"] == pytest.approx(rows.said_positive.mean())
    assert "Platt ECE" not in domain_metrics(rows, n_boot=50)


def test_metrics_frame_formats_intervals_and_shares():
    frame = metrics_frame({("real", "base"): {"ECE": Interval(0.1, 0.05, 0.2, 0.95), "said positive": 0.25}})
    assert frame.loc[("real", "base"), "ECE"] == "0.100 (95% CI 0.050 to 0.200)"
    assert frame.loc[("real", "base"), "said positive"] == "25.0%"


def test_domain_difference_separates_different_accuracies_and_not_equal_ones():
    a, b, c = make_rows(1500, rng=4, skew=0.0), make_rows(1500, rng=5, skew=-0.15), make_rows(1500, rng=6)
    apart = domain_difference(share_correct, a.correct, a.total_probability, b.correct, b.total_probability,
                              n_boot=300, rng=0)
    same = domain_difference(share_correct, a.correct, a.total_probability, c.correct, c.total_probability,
                             n_boot=300, rng=0)
    assert apart.estimate == pytest.approx(a.correct.mean() - b.correct.mean())
    assert apart.low > 0 and apart.excludes_zero
    assert same.low < 0 < same.high


def test_domain_difference_coverage_is_near_nominal():
    # both samples from the same process: the 90% interval should cover 0 about 90% of the time
    covered = 0
    for seed in range(60):
        a, b = make_rows(300, rng=100 + seed), make_rows(300, rng=200 + seed)
        d = domain_difference(share_correct, a.correct, a.total_probability, b.correct, b.total_probability,
                              n_boot=200, level=0.9, rng=seed)
        covered += d.low <= 0 <= d.high
    assert 45 <= covered <= 60


def test_domain_difference_is_reproducible_and_checks_inputs():
    a, b = make_rows(200, rng=7), make_rows(200, rng=8)
    args = (roc_auc, a.is_positive, a.p_positive, b.is_positive, b.p_positive)
    assert domain_difference(*args, n_boot=50, rng=1) == domain_difference(*args, n_boot=50, rng=1)
    with pytest.raises(ValueError, match="y_prob_b"):
        domain_difference(share_correct, [1, 0], [0.5, 0.5], [1, 0], [0.5, 1.5])
    with pytest.raises(ValueError, match="n_boot"):
        domain_difference(*args, n_boot=5)


# --- shift_gap ---------------------------------------------------------------
def test_shift_gap_sign_and_estimate():
    gen = np.random.default_rng(0)
    reference = gen.normal(0.12, 0.2, 2000)
    pushed = gen.normal(0.22, 0.2, 200)
    alike = gen.normal(0.12, 0.2, 200)
    gap = shift_gap(pushed, reference, n_boot=500, rng=0)
    assert gap.estimate == pytest.approx(pushed.mean() - reference.mean())
    assert gap.low > 0
    assert shift_gap(-pushed, reference, n_boot=500, rng=0).high < 0
    none = shift_gap(alike, reference, n_boot=500, rng=0)
    assert none.low < 0 < none.high and not none.excludes_zero


def test_shift_gap_rejects_empty_or_nan():
    with pytest.raises(ValueError, match="values is empty"):
        shift_gap([], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        shift_gap([0.1, np.nan], [0.1, 0.2])


# --- threshold_transfer --------------------------------------------------------
def test_threshold_transfer_fits_and_chooses_on_disjoint_parts():
    cal, test = make_rows(1000, rng=9), make_rows(2000, rng=10)
    result = threshold_transfer(cal, test, target_accuracy=0.85, rng=0)
    fit_idx, choose_idx = split_rows(1000, fraction=0.5, rng=0)
    assert (result.n_fit, result.n_choose, result.n_test) == (len(fit_idx), len(choose_idx), 2000)
    # the calibrator is the one fit on the fitting part only
    fit = cal.take(fit_idx)
    expected = type(result.calibrator)(target="confidence").fit(fit.total_probability, fit.correct)
    grid = np.linspace(0.5, 1, 11)
    assert np.allclose(result.calibrator.predict_proba(grid), expected.predict_proba(grid))
    # the share and accuracy are measured on the test rows
    prob = result.calibrator.predict_proba(test.total_probability)
    above = prob >= result.threshold
    assert result.share_automated == pytest.approx(above.mean())
    assert result.accuracy_achieved == pytest.approx(test.correct[above].mean())
    assert result.outcome == "kept"  # same domain: the promise holds


def test_threshold_transfer_breaks_when_the_domain_is_harder():
    # calibrated on an easy domain, used on one where every confidence is 20 points too high
    cal, harder = make_rows(1000, rng=11, skew=0.05), make_rows(3000, rng=12, skew=-0.2)
    result = threshold_transfer(cal, harder, target_accuracy=0.85, rng=0)
    assert result.choice.met and result.outcome == "broken"
    assert result.accuracy_achieved < 0.85 <= result.promised


def test_threshold_transfer_nothing_automated_for_an_unreachable_target():
    cal, test = make_rows(400, rng=13, skew=-0.3), make_rows(400, rng=14)
    result = threshold_transfer(cal, test, target_accuracy=0.99, rng=0)
    assert result.threshold is None and result.outcome == "nothing automated"
    assert result.share_automated == 0.0 and np.isnan(result.promised)
    assert result.to_dict()["outcome"] == "nothing automated"


# --- keyword probes ------------------------------------------------------------
def test_has_word_matches_whole_words_case_insensitively():
    texts = pd.Series(["Great GAME tonight", "endgame", "games", "a c++ fan"], index=[5, 6, 7, 8])
    assert has_word(texts, ["game"]).tolist() == [True, False, False, False]
    assert has_word(texts, ["game", "games"]).tolist() == [True, False, True, False]
    assert has_word(["a.b"], ["a.b"]).tolist() == [True] and has_word(["axb"], ["a.b"]).tolist() == [False]
    assert has_word(texts, []).tolist() == [False] * 4
    with pytest.raises(TypeError, match="wrap it"):
        has_word(texts, "game")


def test_shortcut_words_keeps_words_tied_to_one_context():
    train = pd.DataFrame({
        "text": ["the match was fun"] * 25 + ["the team met at the office"] * 25 + ["office party"] * 30,
        "context": ["sports"] * 25 + ["workplace"] * 25 + ["workplace"] * 30,
        "label": ["positive"] * 25 + ["negative"] * 55,
    })
    found = shortcut_words(train, {"sports": ["match", "team", "golf"], "workplace": ["office"]})
    assert found.words == {"sports": ["match"], "workplace": ["office"]}
    assert found.all_words == ["match", "office"]
    assert found.table.loc["team", "share in context"] == 0.0 and not found.table.loc["team", "kept"]
    assert found.table.loc["match", "positive in train"] == 1.0
    assert found.table.loc["golf", "train rows"] == 0
    assert set(SHORTCUT_CANDIDATES) == {"sports", "workplace"}


def test_shortcut_probe_and_summary():
    frame = pd.DataFrame({"text": list("abcd"), "label": ["positive", "negative", "negative", "positive"],
                          "group": ["x", "x", "y", "y"]}, index=[9, 8, 7, 6])
    base = pd.DataFrame({"prediction": ["negative", "positive", "negative", "positive"],
                         "p_positive": [0.4, 0.6, 0.2, 0.8]})
    tuned = pd.DataFrame({"prediction": ["positive", "negative", "positive", "positive"],
                          "p_positive": [0.7, 0.3, 0.6, 0.9]})
    probe = shortcut_probe(frame, base, tuned)
    assert probe["shift"].round(2).tolist() == [0.3, -0.3, 0.4, 0.1]
    assert probe["tuned_correct"].tolist() == [True, True, False, True]
    summary = probe_summary(probe)
    assert summary.loc["x", "flipped_to_positive"] == 1 and summary.loc["x", "flipped_to_negative"] == 1
    assert summary.loc["y", "base_accuracy"] == 1.0 and summary.loc["y", "tuned_accuracy"] == 0.5
    with pytest.raises(ValueError, match="rows"):
        shortcut_probe(frame.iloc[:2], base, tuned)


# --- domain_differences ------------------------------------------------------------
def test_domain_differences_match_domain_difference():
    a, b = make_rows(600, rng=20), make_rows(600, rng=21, skew=-0.1)
    diffs = domain_differences(a, b, n_boot=100, rng=3)
    assert diffs["AUC"] == domain_difference(roc_auc, a.is_positive, a.p_positive, b.is_positive, b.p_positive,
                                             n_boot=100, rng=3)
    assert diffs["accuracy"].estimate == pytest.approx(a.correct.mean() - b.correct.mean())
    assert diffs["accuracy"].low > 0  # b is ten points less accurate
