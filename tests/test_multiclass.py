"""K classes: metrics (confnb.multiclass), scalers (confnb.scaling), prediction sets (confnb.conformal), charts.

Every metric is checked against a second implementation: scikit-learn where it has one,
a hand computation or a transliteration of the paper's code otherwise.
"""

from __future__ import annotations

import functools
import json
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn import metrics as skm  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from confnb import plots  # noqa: E402
from confnb.conformal import (ConformalClassifier, coverage, load_conformal, min_calibration_rows,  # noqa: E402
                              set_size_table, set_sizes, sets_to_labels)
from confnb.intervals import bootstrap_ci  # noqa: E402
from confnb.metrics import expected_calibration_error, log_loss  # noqa: E402
from confnb.multiclass import (class_reliability, class_report, classwise_ece, confusion_matrix,  # noqa: E402
                               debiased_calibration_error, debiased_top_label_ece, multiclass_accuracy,
                               multiclass_bootstrap_ci, multiclass_brier_score, multiclass_log_loss,
                               smooth_calibration_error, smooth_top_label_ece, top_label, top_label_ece)
from confnb.scaling import (TemperatureScaler, TopLabelCalibrator, VectorScaler, load_scaler,  # noqa: E402
                            softmax)
from confnb.thresholds import choose_threshold  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def draw_labels(gen, probs):
    """One label per row drawn from the row's probabilities (the probabilities are then calibrated)."""
    return (probs.cumsum(1) > gen.uniform(size=(probs.shape[0], 1))).argmax(1)


def overconfident(gen, n, k=4, *, sharpen=2.5, tilt=None, scale=2.0):
    """True logits N(0, scale**2); observed logits ``sharpen`` times as sharp (+ ``tilt``); labels from the truth."""
    z = gen.normal(0, scale, (n, k))
    truth = softmax(z)
    observed = np.asarray(sharpen) * z + (0 if tilt is None else np.asarray(tilt))
    return observed, draw_labels(gen, truth), truth


@pytest.fixture(scope="module")
def sample():
    gen = np.random.default_rng(12)
    logits, y, _ = overconfident(gen, 3000, k=5, sharpen=2.0)
    return y, softmax(logits)


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------
def test_inputs_are_checked_with_messages_that_say_what_to_do():
    with pytest.raises(ValueError, match="2-D"):
        top_label([0, 1], [0.2, 0.8])
    with pytest.raises(ValueError, match="do not sum to 1"):
        top_label([0, 1], [[0.2, 0.7], [0.5, 0.5]])
    with pytest.raises(ValueError, match="outside"):
        top_label([0, 1], [[2.0, -1.0], [0.5, 0.5]])
    with pytest.raises(ValueError, match="NaN"):
        top_label([0, 1], [[np.nan, 1.0], [0.5, 0.5]])
    with pytest.raises(ValueError, match="class indices 0..1"):
        top_label([0, 2], [[0.2, 0.8], [0.5, 0.5]])
    with pytest.raises(ValueError, match="not in classes"):
        top_label(["a", "c"], [[0.2, 0.8], [0.5, 0.5]], classes=["a", "b"])
    with pytest.raises(ValueError, match="3 rows but probs has 2"):
        top_label([0, 1, 1], [[0.2, 0.8], [0.5, 0.5]])
    with pytest.raises(ValueError, match="one name per column"):
        top_label([0, 1], [[0.2, 0.8], [0.5, 0.5]], classes=["a"])


def test_a_scored_table_gives_its_p_columns_and_class_names():
    frame = pd.DataFrame({"text": ["x", "y"], "p_cat": [0.7, 0.2], "p_dog": [0.3, 0.8], "label": ["dog", "dog"]})
    cm = confusion_matrix(frame["label"], frame)
    assert cm.classes == ("cat", "dog") and cm.counts.tolist() == [[0, 0], [1, 1]]
    assert cm.to_frame().loc["dog", "cat"] == 1
    # with classes given, the p_ columns are taken in that order; a missing one is an error
    swapped = confusion_matrix(frame["label"], frame, classes=["dog", "cat"])
    assert swapped.counts.tolist() == [[1, 1], [0, 0]]
    with pytest.raises(ValueError, match="p_fox"):
        confusion_matrix(frame["label"], frame, classes=["cat", "fox"])


# ---------------------------------------------------------------------------
# metrics against a second implementation
# ---------------------------------------------------------------------------
def test_top_label_pair_and_accuracy(sample):
    y, p = sample
    correct, confidence = top_label(y, p)
    np.testing.assert_array_equal(correct, p.argmax(1) == y)
    np.testing.assert_allclose(confidence, p.max(1))
    assert multiclass_accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p.argmax(1)))


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_top_label_ece_for_two_classes_is_the_binary_ece(strategy):
    gen = np.random.default_rng(3)
    p1 = gen.uniform(size=800)
    y = (gen.uniform(size=800) < p1 ** 1.5).astype(int)
    probs = np.c_[1 - p1, p1]
    correct = (probs.argmax(1) == y).astype(int)
    confidence = probs.max(1)
    expected = expected_calibration_error(correct, confidence, n_bins=10, strategy=strategy)
    assert top_label_ece(y, probs, n_bins=10, strategy=strategy) == expected


def _hand_ece(t, p, edges):
    """Equal-width ECE by loops, bins [lo, hi) and the last one closed."""
    total = 0.0
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        last = i == len(edges) - 2
        inside = [j for j in range(len(p)) if lo <= p[j] < hi or (last and p[j] == hi)]
        if inside:
            total += len(inside) * abs(np.mean([t[j] for j in inside]) - np.mean([p[j] for j in inside]))
    return total / len(p)


def test_top_label_and_classwise_ece_by_hand(sample):
    y, p = sample
    edges = np.round(np.linspace(0, 1, 11), 12)
    c, conf = (p.argmax(1) == y).astype(int), p.max(1)
    assert top_label_ece(y, p, n_bins=10) == pytest.approx(_hand_ece(c, conf, edges), abs=1e-12)
    per_class = [_hand_ece((y == k).astype(int), p[:, k], edges) for k in range(p.shape[1])]
    assert classwise_ece(y, p, n_bins=10) == pytest.approx(np.mean(per_class), abs=1e-12)
    rel = class_reliability(y, p, n_bins=10)
    np.testing.assert_allclose(rel.ece, per_class, atol=1e-12)
    assert rel.classwise_ece == pytest.approx(classwise_ece(y, p, n_bins=10))
    # overconfident by construction: the top-label error is large
    assert top_label_ece(y, p) > 0.1


def test_proper_scores_match_scikit_learn(sample):
    y, p = sample
    assert multiclass_log_loss(y, p) == pytest.approx(skm.log_loss(y, p, labels=range(p.shape[1])), rel=1e-9)
    hand = np.mean([np.sum((p[i] - np.eye(p.shape[1])[y[i]]) ** 2) for i in range(len(y))])
    assert multiclass_brier_score(y, p) == pytest.approx(hand, rel=1e-12)
    try:
        sk = skm.brier_score_loss(y, p, labels=list(range(p.shape[1])), scale_by_half=False)
    except TypeError:  # scikit-learn before 1.7: binary only
        sk = None
    if sk is not None:
        assert multiclass_brier_score(y, p) == pytest.approx(sk, rel=1e-9)
    # K = 2: twice the binary Brier score (both columns carry the error), log loss = the binary one
    y2 = (p[:, 0] > 0.1).astype(int)
    p2 = np.c_[1 - p[:, 0], p[:, 0]]
    assert multiclass_brier_score(y2, p2) == pytest.approx(2 * skm.brier_score_loss(y2, p2[:, 1]), rel=1e-12)
    assert multiclass_log_loss(y2, p2) == pytest.approx(log_loss(y2, p2[:, 1]), rel=1e-9)


def test_confusion_matrix_and_class_report_match_scikit_learn(sample):
    y, p = sample
    k = p.shape[1]
    names = ["pos", "neg", "neutral", "mixed", "other"]
    cm = confusion_matrix(y, p, classes=names)
    np.testing.assert_array_equal(cm.counts, skm.confusion_matrix(y, p.argmax(1), labels=range(k)))
    assert cm.n == len(y) and cm.accuracy == pytest.approx(multiclass_accuracy(y, p))
    assert list(cm.to_frame().columns) == names and cm.to_frame().index.name == "true"
    np.testing.assert_allclose(cm.normalized().sum(1), 1.0)
    report = class_report(y, p, classes=names)
    prec, rec, f1, support = skm.precision_recall_fscore_support(y, p.argmax(1), labels=range(k), zero_division=0)
    np.testing.assert_allclose(report["precision"], prec)
    np.testing.assert_allclose(report["recall"], rec)
    np.testing.assert_allclose(report["f1"], f1)
    np.testing.assert_array_equal(report["support"], support)
    assert report["class"].tolist() == names
    # a class never predicted: precision undefined (NaN), not 0
    never = class_report([0, 1, 2], [[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1]])
    assert np.isnan(never["precision"][2]) and never["recall"][2] == 0 and np.isnan(never["f1"][2])


def _kumar_debiased_square_ce(probs, labels, num_bins):
    """Transliteration of ``unbiased_square_ce`` with ``get_equal_prob_bins`` from Kumar et al.'s
    ``calibration`` package (github.com/p-lambda/verified_calibration), for one binary column."""
    import bisect

    bins = [i * 1.0 / num_bins for i in range(1, num_bins + 1)]
    binned = [[] for _ in bins]
    for prob, label in zip(probs, labels):
        binned[bisect.bisect_left(bins, prob)].append((prob, label))
    total, n = 0.0, len(probs)
    for data in binned:
        if len(data) < 2:
            continue
        mean_label = np.mean([lab for _, lab in data])
        biased = (np.mean([pr for pr, _ in data]) - mean_label) ** 2
        total += len(data) / n * (biased - mean_label * (1.0 - mean_label) / (len(data) - 1.0))
    return total


def test_debiased_error_matches_the_papers_code_and_removes_the_bias():
    gen = np.random.default_rng(5)
    p = gen.uniform(0.3, 1.0, 700)
    y = (gen.uniform(size=700) < p - 0.08).astype(int)
    ref = _kumar_debiased_square_ce(p, y, 10)
    assert debiased_calibration_error(y, p, n_bins=10, strategy="uniform", squared=True) == pytest.approx(ref, abs=1e-12)
    assert debiased_calibration_error(y, p, n_bins=10, strategy="uniform") == pytest.approx(np.sqrt(ref))
    # calibrated scores: the plug-in squared error sits above 0 on average, the debiased one at 0
    plugin, debiased = [], []
    for _ in range(200):
        q = gen.uniform(0.5, 1.0, 300)
        t = (gen.uniform(size=300) < q).astype(int)
        debiased.append(debiased_calibration_error(t, q, squared=True))
        plugin.append(debiased_calibration_error(t, q, squared=True) + _bias_term(t, q))
    se = np.std(debiased) / np.sqrt(len(debiased))
    assert abs(np.mean(debiased)) < 3 * se + 1e-4
    assert np.mean(plugin) > 10 * se
    # a 10-point gap everywhere: the root estimate finds it
    q = gen.uniform(0.5, 1.0, 5000)
    t = (gen.uniform(size=5000) < q - 0.1).astype(int)
    assert debiased_calibration_error(t, q) == pytest.approx(0.1, abs=0.02)


def _bias_term(t, q, n_bins=15):
    """What the debiased estimator subtracts (same equal-mass bins), to rebuild the plug-in estimate."""
    from confnb.metrics import reliability_table

    table = reliability_table(t, q, n_bins=n_bins, strategy="quantile")
    use = table.counts >= 2
    a = table.accuracy[use]
    return float(np.sum(table.counts[use] * a * (1 - a) / (table.counts[use] - 1)) / table.n)


def test_debiased_top_label_is_the_binary_estimator_on_the_top_label(sample):
    y, p = sample
    c, conf = top_label(y, p)
    assert debiased_top_label_ece(y, p) == debiased_calibration_error(c, conf)
    from confnb.metrics import reliability_table

    table = reliability_table(c, conf, n_bins=15, strategy="quantile")
    plugin = float(np.sum(table.counts * table.gaps ** 2) / table.n)
    squared = debiased_top_label_ece(y, p, squared=True)
    assert 0 < squared < plugin
    assert debiased_top_label_ece(y, p) == pytest.approx(np.sqrt(squared))


def test_smooth_ece_through_relplot(sample):
    relplot = pytest.importorskip("relplot", reason="optional: pip install relplot")
    y, p = sample
    c, conf = top_label(y, p)
    assert smooth_top_label_ece(y, p) == pytest.approx(float(relplot.smECE(conf, c)))
    gen = np.random.default_rng(1)
    q = gen.uniform(0.5, 1, 4000)
    assert smooth_calibration_error((gen.uniform(size=4000) < q).astype(int), q) < 0.03
    assert smooth_calibration_error((gen.uniform(size=4000) < q - 0.1).astype(int), q) == pytest.approx(0.1, abs=0.03)


def test_smooth_ece_without_relplot_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "relplot", None)
    with pytest.raises(ImportError, match="pip install relplot"):
        smooth_calibration_error([1, 0], [0.9, 0.2])


def test_intervals_for_k_class_metrics(sample):
    y, p = sample
    c, conf = top_label(y, p)
    # binary metrics of the top label go through confnb.intervals.bootstrap_ci unchanged
    ci = bootstrap_ci(functools.partial(debiased_calibration_error, n_bins=10), c, conf, n_boot=100, rng=0)
    assert ci.low <= ci.estimate <= ci.high
    assert ci.estimate == debiased_top_label_ece(y, p, n_bins=10)
    ece_ci = bootstrap_ci(expected_calibration_error, c, conf, n_boot=100, rng=0)
    assert ece_ci.estimate == top_label_ece(y, p)
    # K-class metrics resample rows with multiclass_bootstrap_ci
    brier = multiclass_bootstrap_ci(multiclass_brier_score, y, p, n_boot=100, rng=0)
    assert brier.low < brier.estimate < brier.high and brier.estimate == multiclass_brier_score(y, p)
    again = multiclass_bootstrap_ci(multiclass_brier_score, y, p, n_boot=100, rng=0)
    assert (again.low, again.high) == (brier.low, brier.high)
    cw = multiclass_bootstrap_ci(functools.partial(classwise_ece, n_bins=10), y, p, n_boot=50, rng=1)
    assert cw.low <= cw.high


def test_choose_threshold_works_on_the_k_class_top_label():
    gen = np.random.default_rng(8)
    logits, y, _ = overconfident(gen, 4000, k=4, sharpen=1.0)  # calibrated
    correct, confidence = top_label(y, softmax(logits))
    choice = choose_threshold(correct, confidence, target_accuracy=0.9)
    assert choice.threshold is not None
    kept = confidence >= choice.threshold
    assert correct[kept].mean() >= 0.9 - 0.02


# ---------------------------------------------------------------------------
# scaling
# ---------------------------------------------------------------------------
def test_temperature_scaling_recovers_a_known_temperature():
    gen = np.random.default_rng(21)
    logits, y, _ = overconfident(gen, 20000, k=4, sharpen=2.5)
    shifted = logits + gen.normal(0, 3, (20000, 1))  # unnormalised log-masses: a row shift changes nothing
    scaler = TemperatureScaler().fit(shifted, y)
    assert scaler.temperature_ == pytest.approx(2.5, rel=0.05)
    assert scaler.classes_ == [0, 1, 2, 3] and scaler.n_classes_ == 4 and scaler.n_fit_ == 20000


def test_temperature_scaling_lowers_held_out_log_loss_and_keeps_predictions():
    gen = np.random.default_rng(22)
    fit_l, fit_y, _ = overconfident(gen, 1000, k=3, sharpen=3.0)
    test_l, test_y, _ = overconfident(gen, 5000, k=3, sharpen=3.0)
    scaler = TemperatureScaler().fit(fit_l, fit_y)
    raw, scaled = softmax(test_l), scaler.predict_proba(test_l)
    assert multiclass_log_loss(test_y, scaled) < multiclass_log_loss(test_y, raw) - 0.1
    assert top_label_ece(test_y, scaled) < top_label_ece(test_y, raw) / 2
    np.testing.assert_array_equal(scaled.argmax(1), raw.argmax(1))
    np.testing.assert_allclose(scaled.sum(1), 1.0)


def test_a_class_with_no_mass_keeps_the_fit_finite():
    with np.errstate(divide="ignore"):
        logm = np.log([[0.7, 0.3, 0.0], [0.1, 0.9, 0.0], [0.5, 0.2, 0.3], [0.6, 0.3, 0.1]] * 10)  # -inf column
    y = np.array([0, 1, 2, 2] * 10)
    y[0] = 2  # a label on a class with no mass
    for scaler in (TemperatureScaler(), VectorScaler()):
        probs = scaler.fit(logm, y).predict_proba(logm)
        assert np.isfinite(probs).all() and np.allclose(probs.sum(1), 1.0)
        assert np.isfinite(multiclass_log_loss(y, probs))
    with pytest.raises(ValueError, match="every class is -inf"):
        TemperatureScaler().fit([[-np.inf, -np.inf], [0.0, -1.0]], [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        TemperatureScaler().fit([[np.nan, 0.0], [0.0, -1.0]], [0, 1])


def _compare_scalers(seed, sharpen, tilt):
    gen = np.random.default_rng(seed)
    fit_l, fit_y, _ = overconfident(gen, 2000, sharpen=sharpen, tilt=tilt)
    test_l, test_y, truth = overconfident(gen, 20000, sharpen=sharpen, tilt=tilt)
    temp = TemperatureScaler().fit(fit_l, fit_y).predict_proba(test_l)
    vec = VectorScaler().fit(fit_l, fit_y).predict_proba(test_l)
    return {name: (multiclass_log_loss(test_y, q), multiclass_accuracy(test_y, q))
            for name, q in [("raw", softmax(test_l)), ("temperature", temp), ("vector", vec), ("true", truth)]}


def test_vector_scaling_earns_its_place_only_with_class_dependent_miscalibration():
    # the numbers quoted in VectorScaler's docstring
    tilted = _compare_scalers(7, [2.5, 2.5, 1.0, 1.0], [1.5, 0.0, 0.0, 0.0])
    assert tilted["raw"][0] == pytest.approx(1.278, abs=2e-3)
    assert tilted["temperature"][0] == pytest.approx(0.926, abs=2e-3)
    assert tilted["vector"][0] == pytest.approx(0.842, abs=2e-3)
    assert tilted["vector"][1] > tilted["temperature"][1] + 0.03  # it also moves predictions
    shared = _compare_scalers(7, 2.5, None)
    assert shared["vector"][0] == pytest.approx(shared["temperature"][0], abs=5e-3)
    assert shared["temperature"][0] == pytest.approx(shared["true"][0], abs=5e-3)


def test_scalers_save_and_load(tmp_path):
    gen = np.random.default_rng(4)
    logm, y, _ = overconfident(gen, 500, k=3)
    names = ["a", "b", "c"]
    labels = np.array(names)[y]
    for scaler in (TemperatureScaler(classes=names), VectorScaler(l2=0.01, classes=names)):
        scaler.fit(logm, labels)
        path = scaler.save(tmp_path / f"{scaler.kind}.json")
        data = json.loads(path.read_text())
        assert data["kind"] == scaler.kind and data["classes"] == names and data["n_fit"] == 500
        back = load_scaler(path)
        assert type(back) is type(scaler) and back.classes_ == names
        np.testing.assert_allclose(back.predict_proba(logm), scaler.predict_proba(logm))
        assert type(scaler).from_dict(scaler.to_dict()).n_fit_ == 500
    assert load_scaler(tmp_path / "vector.json").l2 == 0.01
    data = json.loads((tmp_path / "vector.json").read_text())
    data["params"]["scale_"] = [1.0]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="damaged"):
        load_scaler(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "confnb.calibrator"}))
    with pytest.raises(ValueError, match="not a confnb scaler"):
        load_scaler(tmp_path / "other.json")
    with pytest.raises(ValueError, match="kind"):
        TemperatureScaler.from_dict(VectorScaler().fit(logm, y).to_dict())
    with pytest.raises(NotFittedError):
        TemperatureScaler().predict_proba(logm)
    with pytest.raises(ValueError, match="fit on 3"):
        TemperatureScaler().fit(logm, y).predict_proba(logm[:, :2])


def test_top_label_calibrator_learns_p_correct():
    gen = np.random.default_rng(9)
    fit_l, fit_y, _ = overconfident(gen, 3000, k=4, sharpen=2.5)
    test_l, test_y, _ = overconfident(gen, 5000, k=4, sharpen=2.5)
    raw = softmax(test_l)
    correct, confidence = top_label(test_y, raw)
    for method in ("platt", "isotonic"):
        cal = TopLabelCalibrator(method).fit(softmax(fit_l), fit_y)
        calibrated = cal.predict_confidence(raw)
        assert cal.calibrator_.target == "confidence"
        assert expected_calibration_error(correct, calibrated) < expected_calibration_error(correct, confidence) / 2
    with pytest.raises(NotFittedError):
        TopLabelCalibrator().predict_confidence(raw)
    with pytest.raises(ValueError, match="method"):
        TopLabelCalibrator("beta")


# ---------------------------------------------------------------------------
# conformal prediction sets
# ---------------------------------------------------------------------------
def test_qhat_is_the_corrected_order_statistic():
    gen = np.random.default_rng(2)
    p = gen.dirichlet(np.ones(3), 50)
    y = draw_labels(gen, p)
    conf = ConformalClassifier(alpha=0.1).fit(p, y)
    scores = np.sort(1 - p[np.arange(50), y])
    assert conf.qhat_ == scores[int(np.ceil(51 * 0.9)) - 1]  # the 46th smallest of 50
    sets = conf.predict_sets(p)
    np.testing.assert_array_equal(sets, 1 - p <= conf.qhat_)
    assert min_calibration_rows(0.1) == 9
    ConformalClassifier(alpha=0.1).fit(p[:9], y[:9])
    with pytest.raises(ValueError, match="at least 9"):
        ConformalClassifier(alpha=0.1).fit(p[:8], y[:8])
    with pytest.raises(ValueError, match="alpha"):
        ConformalClassifier(alpha=1.5)
    with pytest.raises(ValueError, match="method=.aps. only"):
        ConformalClassifier(method="lac", randomized=True)
    with pytest.raises(NotFittedError):
        ConformalClassifier().predict_sets(p)


def test_aps_scores_add_up_the_more_probable_classes():
    conf = ConformalClassifier(alpha=0.5, method="aps")
    conf.qhat_, conf.n_calibration_, conf.classes_, conf.n_classes_ = 0.8, 10, [0, 1, 2], 3
    # scores of [0.5, 0.2, 0.3]: 0.5, 1.0, 0.8 -> set {0, 2}; ties share a score
    assert conf.predict_sets([[0.5, 0.2, 0.3], [0.4, 0.4, 0.2]]).tolist() == [[True, False, True],
                                                                               [True, True, False]]


@pytest.mark.parametrize("method,randomized", [("lac", False), ("aps", False), ("aps", True)])
def test_marginal_coverage_over_repeated_splits(method, randomized):
    alpha, n_cal, n_test, k, splits = 0.1, 500, 500, 5, 200
    gen = np.random.default_rng(2026)
    per_split, sizes = [], []
    for i in range(splits):
        p = gen.dirichlet(np.full(k, 0.8), n_cal + n_test)
        y = draw_labels(gen, p)
        conf = ConformalClassifier(alpha, method, randomized=randomized, rng=i).fit(p[:n_cal], y[:n_cal])
        sets = conf.predict_sets(p[n_cal:])
        per_split.append(coverage(sets, y[n_cal:]))
        sizes.append(set_sizes(sets).mean())
    per_split = np.array(per_split)
    se = per_split.std(ddof=1) / np.sqrt(splits)
    # E[coverage] lies in [1 - alpha, 1 - alpha + 1/(n+1)]; allow 3 standard errors of Monte Carlo noise
    assert per_split.mean() >= 1 - alpha - 3 * se
    assert per_split.mean() <= 1 - alpha + 1 / (n_cal + 1) + 3 * se
    # per split: Beta(l, n + 1 - l) coverage given the calibration rows, plus binomial noise of the test rows
    l_rank = np.ceil((n_cal + 1) * (1 - alpha))
    beta_var = l_rank * (n_cal + 1 - l_rank) / ((n_cal + 1) ** 2 * (n_cal + 2))
    expected_sd = np.sqrt(beta_var + alpha * (1 - alpha) / n_test)
    assert 0.7 * expected_sd < per_split.std(ddof=1) < 1.3 * expected_sd
    assert np.quantile(per_split, 0.02) > 1 - alpha - 0.06
    assert 1 < np.mean(sizes) < k


def test_two_classes_give_single_double_and_named_sets(tmp_path):
    gen = np.random.default_rng(6)
    p1 = gen.uniform(size=600)
    probs = np.c_[1 - p1, p1]
    y = np.where(gen.uniform(size=600) < p1, "b", "a")
    conf = ConformalClassifier(alpha=0.1, classes=["a", "b"]).fit(probs[:300], y[:300])
    labels = conf.predict_labels(probs[300:])
    assert set(labels) == {"a", "b", "a|b"}
    sets = conf.predict_sets(probs[300:])
    assert sets_to_labels(sets, ["a", "b"]) == labels
    assert coverage(sets, y[300:], classes=["a", "b"]) > 0.85
    table = set_size_table(sets, y[300:], classes=["a", "b"])
    assert table.counts.sum() == 300 and table.sizes.tolist() == [0, 1, 2]
    assert table.covered[2] == table.counts[2]  # a set of both classes always covers
    assert table.to_frame().columns.tolist() == ["size", "count", "covered", "coverage"]
    # save / load
    back = load_conformal(conf.save(tmp_path / "sets.json"))
    saved = json.loads((tmp_path / "sets.json").read_text())
    assert {k: saved[k] for k in ("method", "alpha", "classes", "n_calibration")} == {
        "method": "lac", "alpha": 0.1, "classes": ["a", "b"], "n_calibration": 300}
    assert back.qhat_ == conf.qhat_ and back.predict_labels(probs[300:]) == labels
    saved["qhat"] = "many"
    (tmp_path / "bad.json").write_text(json.dumps(saved))
    with pytest.raises(ValueError):
        load_conformal(tmp_path / "bad.json")


def test_randomized_aps_is_reproducible_with_rng():
    gen = np.random.default_rng(0)
    p = gen.dirichlet(np.ones(4), 400)
    y = draw_labels(gen, p)
    a = ConformalClassifier(0.2, "aps", randomized=True, rng=5).fit(p[:200], y[:200]).predict_sets(p[200:])
    b = ConformalClassifier(0.2, "aps", randomized=True, rng=5).fit(p[:200], y[:200]).predict_sets(p[200:])
    np.testing.assert_array_equal(a, b)


def test_lac_agrees_with_mapie():
    pytest.importorskip("mapie", reason="optional cross-check: pip install mapie")
    from mapie.classification import SplitConformalClassifier
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Given(ClassifierMixin, BaseEstimator):
        """A 'model' whose predict_proba is its input: MAPIE then sees our probabilities."""

        def fit(self, X, y):
            self.classes_ = np.arange(np.asarray(X).shape[1])
            return self

        def predict_proba(self, X):
            return np.asarray(X, dtype=float)

        def predict(self, X):
            return np.asarray(X).argmax(1)

    gen = np.random.default_rng(11)
    p = gen.dirichlet(np.full(4, 0.7), 1000)
    y = draw_labels(gen, p)
    ours = ConformalClassifier(alpha=0.1).fit(p[:500], y[:500])
    mapie = SplitConformalClassifier(estimator=Given().fit(p, y), confidence_level=0.9, conformity_score="lac",
                                     prefit=True).conformalize(p[:500], y[:500])
    _, mapie_sets = mapie.predict_set(p[500:])
    np.testing.assert_array_equal(set_sizes(ours.predict_sets(p[500:])), mapie_sets[:, :, 0].sum(1))
    np.testing.assert_array_equal(ours.predict_sets(p[500:]), mapie_sets[:, :, 0])
    quantile = getattr(getattr(getattr(mapie, "_mapie_classifier", None), "conformity_score_function_", None),
                       "quantiles_", None)
    if quantile is not None:  # private in MAPIE 1.x
        assert ours.qhat_ == pytest.approx(float(np.ravel(quantile)[0]))


# ---------------------------------------------------------------------------
# charts
# ---------------------------------------------------------------------------
def _png_dpi(data: bytes) -> float:
    at = data.index(b"pHYs") + 4
    return int.from_bytes(data[at:at + 4], "big") * 0.0254


def _saved_ok(display, path):
    path = display.savefig(path)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert _png_dpi(data) == pytest.approx(150, abs=0.5)
    renderer = display.figure_.canvas.get_renderer()
    saved = display.figure_.get_tightbbox(renderer)
    inv = display.figure_.dpi_scale_trans.inverted()
    for ax in display.axes_:
        labels = ax.get_xticklabels() + ax.get_yticklabels() + [ax.title, ax.xaxis.label, ax.yaxis.label]
        xlo, xhi = sorted(ax.get_xlim())
        ylo, yhi = sorted(ax.get_ylim())
        for t in labels:
            x, y = t.get_position()
            off_axis = (t in ax.get_xticklabels() and not xlo <= x <= xhi) or (
                t in ax.get_yticklabels() and not ylo <= y <= yhi)
            if t.get_visible() and t.get_text() and not off_axis:
                box = t.get_window_extent(renderer).transformed(inv)
                assert saved.x0 - 0.01 <= box.x0 and box.x1 <= saved.x1 + 0.01, t.get_text()
                assert saved.y0 - 0.01 <= box.y0 and box.y1 <= saved.y1 + 0.01, t.get_text()


def test_class_reliability_panels(sample, tmp_path):
    y, p = sample
    names = ["positive", "negative", "neutral", "mixed", "off-topic"]
    d = plots.plot_class_reliability(y, p, classes=names)
    assert d.kind == "class_reliability" and len(d.axes_) == 5
    assert [ax.get_title() for ax in d.axes_] == names
    big = max(t.counts.max() for t in d.data.tables)
    for table, dots in zip(d.data.tables, d.artists_["dots"]):
        filled = table.counts > 0
        np.testing.assert_allclose(dots.get_offsets(), np.c_[table.mean_confidence[filled], table.accuracy[filled]])
        np.testing.assert_allclose(dots.get_sizes(), plots.marker_areas(table.counts[filled], max_count=big))
    assert all(ax.get_xlim() == (0.0, 1.0) for ax in d.axes_)
    _saved_ok(d, tmp_path / "rel.png")
    fig, axes = plt.subplots(1, 5)
    given = plots.plot_class_reliability(data=class_reliability(y, p), axes=axes, suptitle=None)
    assert given.figure_ is fig
    with pytest.raises(ValueError, match="class_reliability"):
        plots.plot_class_reliability(y)


@pytest.mark.parametrize("normalize", [False, True])
def test_confusion_heatmap(sample, tmp_path, normalize):
    y, p = sample
    names = ["positive", "negative", "neutral", "mixed", "a rather long class name"]
    d = plots.plot_confusion_matrix(y, p, classes=names, normalize=normalize)
    cm = d.data
    values = cm.normalized() if normalize else cm.counts
    np.testing.assert_allclose(np.asarray(d.artists_["mesh"].get_array()).reshape(5, 5), values)
    texts = [t.get_text() for t in d.artists_["cell_labels"]]
    expected = [f"{v:.0%}" for v in values.ravel()] if normalize else [str(v) for v in cm.counts.ravel()]
    assert texts == expected
    assert [t.get_text() for t in d.ax_.get_xticklabels()] == names
    assert d.ax_.get_xticklabels()[0].get_rotation() == 45
    _saved_ok(d, tmp_path / f"cm{normalize}.png")


def test_set_size_histogram(tmp_path):
    gen = np.random.default_rng(3)
    p = gen.dirichlet(np.ones(4), 1000)
    y = draw_labels(gen, p)
    conf = ConformalClassifier(0.1, "aps").fit(p[:500], y[:500])
    sets = conf.predict_sets(p[500:])
    d = plots.plot_set_sizes(sets, y[500:], target=0.9)
    heights = [bar.get_height() for bar in d.artists_["bars"]]
    assert heights == d.data.counts.tolist() and d.data.sizes.tolist() == [0, 1, 2, 3, 4]
    first = next(t.get_text() for t, c in zip(d.artists_["bar_labels"], d.data.counts) if c)
    assert "covered" in first
    assert any("coverage" in t.get_text() and "target 90%" in t.get_text() for t in d.ax_.texts)
    _saved_ok(d, tmp_path / "sets.png")
    plain = plots.plot_set_sizes(data=set_size_table(sets))
    assert all("covered" not in t.get_text() for t in plain.artists_["bar_labels"])
    with pytest.raises(ValueError, match="sets"):
        plots.plot_set_sizes()
