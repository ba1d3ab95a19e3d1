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
def sample(overconfident_sample):
    """(correct, confidence): accuracy 10 points below the confidence."""
    return overconfident_sample(31, 1500, gap=0.1).y_and_p


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


# ---------------------------------------------------------------------------
# readability: what the saved figure shows, measured with the renderer
# ---------------------------------------------------------------------------
def _bunched_scores(n=2000, rng=7):
    """Isotonic-like scores: a few values, with big bins near 100% and strays at 0% and 100%."""
    gen = np.random.default_rng(rng)
    levels = np.array([0.0, 0.39, 0.43, 0.48, 0.57, 0.62, 0.76, 0.79, 0.84, 0.89, 0.93, 0.97, 1.0])
    weights = np.array([1, 1, 95, 1, 90, 2, 14, 96, 281, 14, 426, 993, 1], float)
    p = gen.choice(levels, n, p=weights / weights.sum())
    return (gen.uniform(size=n) < p).astype(int), p


def _visible_boxes(texts, renderer):
    return [t.get_window_extent(renderer) for t in texts if t.get_visible()]


def _assert_apart(boxes):
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)


def _inside(box, frame, tol=0.5):
    return (frame.x0 - tol <= box.x0 and box.x1 <= frame.x1 + tol
            and frame.y0 - tol <= box.y0 and box.y1 <= frame.y1 + tol)


@pytest.mark.parametrize("dpi", [None, 150])
def test_count_labels_never_overlap_and_stay_inside_the_axes(dpi):
    y, p = _bunched_scores()
    y2, p2 = _bunched_scores(rng=8)
    d = plots.plot_reliability_comparison([("Base", y, p), ("Tuned", y2, p2)], suptitle="isotonic")
    fig = d.figure_
    if dpi:
        fig.set_dpi(dpi)  # labels are placed again at draw time, for the size they are drawn at
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax, table, labels, dots in zip(d.axes_, d.data, d.artists_["count_labels"], d.artists_["dots"]):
        filled = table.counts > 0
        assert _texts(labels) == [str(c) for c in table.counts[filled]]  # one label per dot, its count
        np.testing.assert_allclose([t.xy for t in labels], dots.get_offsets())  # anchored at its dot
        boxes = _visible_boxes(labels, renderer)
        ece_note = [t for t in ax.texts if t.get_text().startswith("ECE")]
        _assert_apart(boxes + _visible_boxes(ece_note, renderer))
        assert all(_inside(b, ax.bbox) for b in boxes)
        assert all(_inside(b, fig.bbox) for b in boxes)
        shown = [t for t in labels if t.get_visible()]
        assert len(shown) >= len(labels) - 1  # crowding hides at most one label here
        biggest = labels[int(np.argmax(table.counts[filled]))]
        assert biggest.get_visible()


def test_count_labels_follow_the_layout_of_given_axes():
    y, p = _bunched_scores()
    fig, ax = plt.subplots(figsize=(2.5, 2.2))  # cramped: some labels cannot fit
    d = plots.plot_reliability_diagram(y, p, ax=ax)
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = _visible_boxes(d.artists_["count_labels"], renderer)
    assert boxes and all(_inside(b, ax.bbox) for b in boxes)
    _assert_apart(boxes)


def test_dots_at_the_edges_are_not_clipped():
    y, p = _bunched_scores()
    d = plots.plot_reliability_diagram(y, p)
    assert d.artists_["dots"].get_clip_on() is False  # dots at 0% and 100% show whole


def _assert_exact_ticks(axis):
    """Every tick label reads exactly its tick value, in percent, with one number of decimals."""
    axis.axes.figure.canvas.draw()
    lo, hi = sorted(axis.get_view_interval())
    ticks = [t for t in axis.get_major_ticks() if lo - 1e-9 <= t.get_loc() <= hi + 1e-9]
    labels = [t.label1.get_text() for t in ticks]
    assert labels and all(label.endswith("%") for label in labels), labels
    decimals = {len(label[:-1].partition(".")[2]) for label in labels}
    assert len(decimals) == 1, labels
    for tick, label in zip(ticks, labels):
        assert float(label[:-1]) == pytest.approx(tick.get_loc() * 100, abs=1e-9), (label, tick.get_loc())
    return labels


@pytest.mark.parametrize(
    "limits, expected",
    [
        ((0.78, 1.0), ["80%", "85%", "90%", "95%", "100%"]),  # was 80/82/85/88/90...: 2.5% steps
        ((0.785, 0.995), ["80%", "85%", "90%", "95%"]),
        ((0.99, 1.0), None),
        ((0.0, 1.0), ["0%", "20%", "40%", "60%", "80%", "100%"]),
    ],
)
def test_percent_axis_labels_are_exact(limits, expected):
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    ax.plot([0, 1], limits, "o-")
    ax.set_ylim(*limits)
    plots.percent_axis(ax.yaxis)
    labels = _assert_exact_ticks(ax.yaxis)
    if expected:
        assert labels == expected


def test_percent_axis_with_fixed_decimals_keeps_whole_steps():
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    ax.set_ylim(0.985, 0.995)
    plots.percent_axis(ax.yaxis, decimals=0)
    labels = _assert_exact_ticks(ax.yaxis)
    assert labels == ["99%"]
    ax.set_xticks([0.5, 0.925])
    plots.percent_axis(ax.xaxis)
    ax.set_xticks([0.5, 0.925])  # fixed ticks keep exact labels
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["50.0%", "92.5%"]


def test_every_percent_axis_of_the_charts_is_exact(sample):
    y, p = sample
    tuned = np.clip(p + 0.1, 0, 1)
    axes = [
        plots.plot_reliability_diagram(y, p).ax_.xaxis,
        plots.plot_reliability_diagram(y, p).ax_.yaxis,
        plots.plot_reliability_comparison([("A", y, p), ("B", y, tuned)]).ax_.yaxis,
        plots.plot_confidence_histogram(p).ax_.xaxis,
        plots.plot_confidence_shift(p, tuned).axes_[1].xaxis,
        plots.plot_metric_comparison({"A": 0.925, "B": 0.9}).ax_.yaxis,
    ]
    chart = plots.plot_threshold_chart(y, p, thresholds=[0.5, 0.6, 0.7, 0.8, 0.9, 0.925])
    axes += [chart.ax_.xaxis, chart.ax_.yaxis]
    for axis in axes:
        _assert_exact_ticks(axis)
    assert "92.5%" in [t.get_text() for t in chart.ax_.get_xticklabels()]


def test_threshold_counts_clear_the_accuracy_labels():
    gen = np.random.default_rng(7)
    raw = np.clip(gen.beta(6, 2, 2000), 0.5, 1.0)
    correct = (gen.uniform(size=raw.size) < raw - 0.08).astype(int)
    for seed in range(4):  # several charts whose accuracy line crosses the bar tops
        calibrated = np.clip(raw + np.random.default_rng(seed).normal(0, 0.05, raw.size), 0.5, 1)
        d = plots.plot_threshold_chart(correct, calibrated, show_lower_bound=True)
        d.figure_.canvas.draw()
        renderer = d.figure_.canvas.get_renderer()
        counts = d.artists_["count_labels"]
        assert _texts(counts) == [str(c) for c in d.data.counts]
        count_boxes = _visible_boxes(counts, renderer)
        accuracy_boxes = _visible_boxes(d.artists_["accuracy_labels"], renderer)
        assert len(count_boxes) == len(counts)
        _assert_apart(count_boxes + accuracy_boxes)
        assert all(_inside(b, d.axes_[1].bbox) for b in count_boxes)
        plt.close(d.figure_)


def _png_dpi(data: bytes) -> float:
    at = data.index(b"pHYs") + 4
    per_metre = int.from_bytes(data[at:at + 4], "big")
    return per_metre * 0.0254


def test_saved_figures_are_150_dpi_and_not_clipped(sample, tmp_path):
    y, p = sample
    d = plots.plot_reliability_comparison([("A", y, p), ("B", y, p)], suptitle="Two panels")
    path = d.savefig(tmp_path / "comparison.png")
    assert _png_dpi(path.read_bytes()) == pytest.approx(150, abs=0.5)
    assert d.figure_.get_dpi() == plots.STYLE["dpi"]  # on screen (notebooks) it stays small
    # tight bounding box: the saved image holds every visible text, nothing cut at the edges
    renderer = d.figure_.canvas.get_renderer()
    saved = d.figure_.get_tightbbox(renderer)
    texts = [t for ax in d.axes_ for t in ax.texts + [ax.title, ax.xaxis.label, ax.yaxis.label]] + [d.figure_._suptitle]
    for t in texts:
        if t.get_visible() and t.get_text():
            box = t.get_window_extent(renderer).transformed(d.figure_.dpi_scale_trans.inverted())
            assert _inside(box, saved, tol=0.01), t.get_text()
    with plots.use_style():
        assert plt.rcParams["savefig.dpi"] == 150
