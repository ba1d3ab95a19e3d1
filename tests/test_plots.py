"""confnb.plots: every chart returns the numbers it drew, and they are the right numbers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from confnb import plots  # noqa: E402
from confnb.metrics import bootstrap_ci, reliability_table, share_correct  # noqa: E402
from confnb.sampling import sample_size_curve  # noqa: E402
from confnb.thresholds import threshold_table  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sample():
    gen = np.random.default_rng(31)
    conf = gen.uniform(0.5, 1, 1500)
    correct = (gen.uniform(size=conf.size) < conf - 0.1).astype(int)
    return correct, conf


def _texts(labels):
    return [t.get_text() for t in labels]


def test_reliability_diagram_draws_the_table(sample):
    y, p = sample
    d = plots.plot_reliability_diagram(y, p, show_intervals=True)
    table = d.data
    assert table.n == len(y) and table.n_bins == 20
    filled = table.counts > 0
    dots = d.artists_["dots"]
    np.testing.assert_allclose(dots.get_offsets(), np.c_[table.mean_confidence[filled], table.accuracy[filled]])
    np.testing.assert_allclose(dots.get_sizes(), plots.marker_areas(table.counts[filled]))
    assert _texts(d.artists_["count_labels"]) == [str(c) for c in table.counts[filled]]
    assert d.artists_["whiskers"] is not None
    np.testing.assert_allclose(d.artists_["diagonal"].get_xydata(), [[0, 0], [1, 1]])
    assert d.artists_["diagonal"].get_linestyle() == "--"
    assert d.ax_.get_xlim() == (0.5, 1.0)  # raw top-label confidence never goes below 0.5
    # 5% stripes: every other bin from 0.50 to 1.00 is shaded
    spans = [patch for patch in d.ax_.patches if patch.get_zorder() == 0]
    assert len(spans) == 5
    assert d.figure_ is d.ax_.figure and repr(d) == "<Display reliability_diagram: 1 axes>"


def test_reliability_diagram_from_table_into_given_axes(sample):
    y, p = sample
    calibrated = np.clip(p - 0.3, 0, 1)  # some values below 0.5: the axis widens to [0, 1]
    table = reliability_table(y, calibrated, n_bins=10)
    fig, ax = plt.subplots()
    d = plots.plot_reliability_diagram(table=table, ax=ax, show_counts=False)
    assert d.ax_ is ax and d.data is table
    assert d.ax_.get_xlim() == (0.0, 1.0)
    assert d.artists_["count_labels"] == [] and d.artists_["whiskers"] is None
    with pytest.raises(ValueError, match="y_true and y_prob"):
        plots.plot_reliability_diagram(y)
    with pytest.raises(ValueError, match="xlim"):
        plots.plot_reliability_diagram(y, p, xlim=(0.5, 1.5))


def test_reliability_comparison_shares_scales(sample):
    y, p = sample
    half = len(y) // 2
    d = plots.plot_reliability_comparison(
        [("Raw", y, p), ("Shifted", reliability_table(y[:half], np.clip(p[:half] - 0.2, 0, 1)))]
    )
    assert len(d.axes_) == 2 and [ax.get_title() for ax in d.axes_] == ["Raw", "Shifted"]
    big = max(t.counts.max() for t in d.data)
    for table, dots in zip(d.data, d.artists_["dots"]):
        filled = table.counts > 0
        np.testing.assert_allclose(dots.get_sizes(), plots.marker_areas(table.counts[filled], max_count=big))
    assert d.axes_[0].get_xlim() == d.axes_[1].get_xlim() == (0.0, 1.0)
    with pytest.raises(ValueError, match="panels"):
        plots.plot_reliability_comparison([])
    with pytest.raises(ValueError, match="each panel"):
        plots.plot_reliability_comparison([("only a title",)])


def test_threshold_chart_bars_right_line_left(sample):
    y, p = sample
    d = plots.plot_threshold_chart(y, p, show_lower_bound=True)
    table = d.data
    ax_acc, ax_vol = d.axes_
    assert [bar.get_height() for bar in d.artists_["bars"]] == table.counts.tolist()
    assert d.artists_["bars"].patches[0].axes is ax_vol
    np.testing.assert_allclose(d.artists_["line"].get_xdata(), table.thresholds)
    np.testing.assert_allclose(d.artists_["line"].get_ydata(), table.accuracy)
    assert d.artists_["line"].axes is ax_acc and d.artists_["line"].get_marker() == "o"
    np.testing.assert_allclose(d.artists_["lower_bound"].get_ydata(), table.lower_bound)
    assert _texts(d.artists_["count_labels"]) == [str(c) for c in table.counts]
    assert _texts(d.artists_["accuracy_labels"]) == [f"{a:.1%}" for a in table.accuracy]
    assert ax_vol.yaxis.get_label_position() == "right"
    assert ax_acc.get_zorder() > ax_vol.get_zorder()  # the line is drawn over the bars


def test_threshold_chart_from_table_with_an_empty_threshold():
    table = threshold_table([1, 0, 1], [0.6, 0.7, 0.8], thresholds=[0.5, 0.75, 0.9])
    d = plots.plot_threshold_chart(table=table)
    assert len(d.artists_["line"].get_xdata()) == 2  # nothing at or above 0.9: no dot
    assert _texts(d.artists_["count_labels"]) == ["3", "1", "0"]


@pytest.fixture(scope="module")
def curve(sample):
    y, p = sample
    return sample_size_curve(p[:500], y[:500], p[500:], y[500:], sizes=(50, 200, 500), n_draws=4, rng=0)


def test_sample_size_progression_one_panel_per_threshold(curve):
    d = plots.plot_sample_size_progression(curve)
    assert len(d.axes_) == 4 and d.data is curve
    for j, (ax, bars, labels) in enumerate(zip(d.axes_, d.artists_["bars"], d.artists_["accuracy_labels"])):
        np.testing.assert_allclose([b.get_height() for b in bars], curve.count_mean[:, j])
        expected = ["n/a" if np.isnan(a) else f"{a:.1%}" for a in curve.accuracy_mean[:, j]]
        assert _texts(labels) == expected
        assert ax.get_title() == f"Confidence \u2265 {curve.thresholds[j]:.0%}"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["50", "200", "500"]


def test_sample_size_ece(curve):
    d = plots.plot_sample_size_ece(curve)
    line = d.artists_["line"].lines[0]
    np.testing.assert_allclose(line.get_ydata(), curve.ece_mean)
    assert d.artists_["raw_line"].get_ydata()[0] == pytest.approx(curve.raw_ece)


def test_confidence_histogram_and_shift(sample):
    y, p = sample
    d = plots.plot_confidence_histogram(p, annotate=True)
    assert d.data.n == len(p)
    assert [b.get_height() for b in d.artists_["bars"]] == d.data.counts.tolist()
    assert d.ax_.get_xlim() == (0.5, 1.0)
    tuned = np.clip(p + 0.1, 0, 1)
    s = plots.plot_confidence_shift(p, tuned, labels=("Base", "Tuned"), threshold=0.9)
    assert s.data["counts_a"].tolist() == plots.confidence_histogram(p).counts.tolist()
    assert s.data["counts_b"].tolist() == plots.confidence_histogram(tuned).counts.tolist()
    assert s.data["share_above_b"] == pytest.approx(np.mean(tuned >= 0.9))
    assert [ax.get_title() for ax in s.axes_] == ["Base", "Tuned"]
    assert s.axes_[0].get_ylim() == s.axes_[1].get_ylim()
    with pytest.raises(ValueError, match="threshold"):
        plots.plot_confidence_shift(p, tuned, threshold=90)


def test_metric_comparison_with_intervals(sample):
    y, p = sample
    ci = bootstrap_ci(share_correct, y, p, n_boot=50, rng=0)
    d = plots.plot_metric_comparison({"Base": ci, "Tuned": 0.91}, title="Accuracy")
    assert d.data["Base"] == (ci.estimate, ci.low, ci.high)
    assert d.data["Tuned"][0] == 0.91 and np.isnan(d.data["Tuned"][1])
    assert [b.get_height() for b in d.artists_["bars"]] == [ci.estimate, 0.91]
    assert d.artists_["whiskers"] is not None
    assert _texts(d.artists_["value_labels"]) == [f"{ci.estimate:.1%}", "91.0%"]
    with pytest.raises(ValueError, match="empty"):
        plots.plot_metric_comparison({})
    with pytest.raises(ValueError, match="finite"):
        plots.plot_metric_comparison({"a": float("nan")})


def test_pngs_are_written_small_and_at_house_dpi(sample, curve, tmp_path):
    y, p = sample
    charts = {
        "hist": plots.plot_confidence_histogram(p),
        "reliability": plots.plot_reliability_diagram(y, p),
        "comparison": plots.plot_reliability_comparison([("A", y, p), ("B", y, p)]),
        "threshold": plots.plot_threshold_chart(y, p),
        "progression": plots.plot_sample_size_progression(curve),
        "shift": plots.plot_confidence_shift(p, p),
        "bars": plots.plot_metric_comparison({"A": 0.8, "B": 0.9}),
    }
    for name, display in charts.items():
        path = display.savefig(tmp_path / "png" / f"{name}.png")
        data = path.read_bytes()
        assert data[:8] == PNG_MAGIC
        assert len(data) < 150_000, name
        assert display.figure_.get_dpi() == plots.STYLE["dpi"]
        display.close()
        assert not plt.fignum_exists(display.figure_.number)


def test_marker_areas():
    np.testing.assert_allclose(plots.marker_areas([0, 10]), list(plots.STYLE["marker_area"]))
    np.testing.assert_allclose(plots.marker_areas([5], max_count=10), [np.mean(plots.STYLE["marker_area"])])
    assert plots.marker_areas([0, 0]).tolist() == [plots.STYLE["marker_area"][0]] * 2
