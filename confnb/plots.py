"""Charts of the course: reliability diagrams, thresholds, sample size, model comparisons.

Compute, then draw. Every chart is built from numbers computed elsewhere in confnb
(:func:`confnb.metrics.reliability_table`, :func:`confnb.thresholds.threshold_table`,
:func:`confnb.sampling.sample_size_curve`, ...) or by a small compute helper here
(:func:`confidence_histogram`). Every ``plot_*`` function

* takes ``ax=`` (or ``axes=`` for several panels) to draw into existing axes, or makes
  a new figure of the pinned style size;
* returns a :class:`Display` with ``figure_``, ``ax_`` / ``axes_``, the numbers it drew
  in ``data``, and the main artists in ``artists_`` -- so tests and notebooks can check
  what a chart shows without comparing images.

One style for every chart (:data:`STYLE`, :func:`use_style`): plain matplotlib, small
fixed figure sizes and a low screen dpi so that committed notebooks stay small; saved
figures use ``STYLE["savefig_dpi"]`` (150). Percent axes (:func:`percent_axis`) only
ever show exact tick labels (never "92%" for a tick at 92.5%), and count labels beside
reliability dots are placed where they overlap nothing and stay inside the axes.

Out of scope: interactive charts, seaborn, and styling beyond the one house style.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .metrics import Interval, ReliabilityTable, _as_prob, _bin_index, _check_n_bins, _uniform_edges, reliability_table
from .thresholds import DEFAULT_THRESHOLDS, ThresholdTable, threshold_table

__all__ = [
    "STYLE",
    "Display",
    "Histogram",
    "confidence_histogram",
    "marker_areas",
    "percent_axis",
    "plot_confidence_histogram",
    "plot_confidence_shift",
    "plot_metric_comparison",
    "plot_reliability_comparison",
    "plot_reliability_diagram",
    "plot_sample_size_ece",
    "plot_sample_size_progression",
    "plot_threshold_chart",
    "use_style",
]

#: The house style. ``figsize`` is for single charts, ``panel_size`` per panel of a
#: multi-panel chart; ``dpi`` applies on screen (notebooks), ``savefig_dpi`` to saved files.
STYLE = {
    "figsize": (6.4, 4.0),
    "panel_size": (4.0, 3.6),
    "square_size": (4.6, 4.2),  # single reliability diagram
    "dpi": 90,
    "savefig_dpi": 150,
    "colors": {
        "main": "#2f6db3",  # dots, bars of volume
        "accent": "#c0392b",  # accuracy line
        "second": "#e08a1e",  # model B
        "muted": "#8c96a0",  # whiskers, spread
        "stripe": "#eef1f5",  # 5% bin stripes
        "diagonal": "#555555",
    },
    "marker_area": (25.0, 500.0),  # smallest and largest dot area, points^2
    "rc": {
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "legend.frameon": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": False,
        "savefig.bbox": "tight",
        "font.family": "DejaVu Sans",
    },
}


@contextmanager
def use_style():
    """Context manager applying :data:`STYLE` (rcParams, screen and savefig dpi) to charts made inside it.

    Examples
    --------
    >>> with use_style():
    ...     pass
    """
    import matplotlib

    rc = dict(STYLE["rc"])
    rc["figure.dpi"] = STYLE["dpi"]
    rc["savefig.dpi"] = STYLE["savefig_dpi"]
    rc["figure.figsize"] = STYLE["figsize"]
    with matplotlib.rc_context(rc):
        try:
            yield
        finally:
            # The first figure may start a notebook's plotting backend, which turns interactive
            # mode on; rc_context would turn it off again on exit and stop later charts showing.
            interactive = matplotlib.is_interactive()
    matplotlib.interactive(interactive)


class Display:
    """What a ``plot_*`` function drew.

    Attributes
    ----------
    kind : str
        Name of the chart, e.g. ``"reliability_diagram"``.
    figure_ : matplotlib.figure.Figure
    ax_ : matplotlib.axes.Axes
        The main axes (the first panel).
    axes_ : tuple of Axes
        All axes drawn on.
    data
        The numbers drawn: a ReliabilityTable, ThresholdTable, Histogram, ...
    artists_ : dict
        Main artists by name (``"dots"``, ``"bars"``, ``"count_labels"``, ...).
    """

    def __init__(self, kind: str, figure, axes, data, **artists):
        self.kind = kind
        self.figure_ = figure
        self.axes_ = tuple(axes)
        self.ax_ = self.axes_[0]
        self.data = data
        self.artists_ = artists

    def savefig(self, path, **kwargs) -> Path:
        """Save the figure (``STYLE["savefig_dpi"]``, tight bounding box, unless given) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("dpi", STYLE["savefig_dpi"])
        kwargs.setdefault("bbox_inches", "tight")
        self.figure_.savefig(path, **kwargs)
        return path

    def close(self) -> None:
        """Close the figure (frees memory in loops and scripts)."""
        import matplotlib.pyplot as plt

        plt.close(self.figure_)

    def __repr__(self) -> str:
        return f"<Display {self.kind}: {len(self.axes_)} axes>"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _new_axes(ax, size=None):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=size or STYLE["figsize"], dpi=STYLE["dpi"])
    return fig, ax


def _new_panels(axes, n, *, nrows=1, sharey=False):
    import matplotlib.pyplot as plt

    if axes is not None:
        axes = list(np.ravel(axes))
        if len(axes) < n:
            raise ValueError(f"this chart needs {n} axes; got {len(axes)}")
        return axes[0].figure, axes[:n]
    ncols = int(np.ceil(n / nrows))
    w, h = STYLE["panel_size"]
    fig, grid = plt.subplots(
        nrows, ncols, figsize=(w * ncols, h * nrows), dpi=STYLE["dpi"], sharey=sharey, squeeze=False
    )
    flat = list(grid.ravel())
    for extra in flat[n:]:
        extra.set_visible(False)
    return fig, flat[:n]


def _percent_ticker():
    """Build the locator and formatter classes lazily (matplotlib is imported on first chart)."""
    from matplotlib.ticker import Formatter, MaxNLocator, MultipleLocator

    class PercentLocator(MaxNLocator):
        """Ticks in steps of 1, 2 or 5 times a power of ten percent (never 2.5%), no finer than
        ``10**-decimals`` percent when ``decimals`` is fixed."""

        def __init__(self, decimals=None):
            super().__init__(nbins="auto", steps=[1, 2, 5, 10])
            self.decimals = decimals

        def tick_values(self, vmin, vmax):
            ticks = super().tick_values(vmin, vmax)
            if self.decimals is not None and len(ticks) > 1:
                quantum = 10.0 ** -(self.decimals + 2)
                if np.min(np.diff(ticks)) < quantum * (1 - 1e-9):
                    ticks = MultipleLocator(quantum).tick_values(vmin, vmax)
            return ticks

    class PercentFormatter(Formatter):
        """Fractions as percentages with the fewest decimals that show every tick exactly."""

        def __init__(self, decimals=None):
            self.decimals = decimals
            self.tick_values = []

        def set_locs(self, locs):
            super().set_locs(locs)
            self.tick_values = list(locs)

        def digits(self) -> int:
            if self.decimals is not None:
                return int(self.decimals)
            values = np.asarray(self.tick_values, dtype=float) * 100
            values = values[np.isfinite(values)]
            for d in range(6):
                if np.all(np.abs(np.round(values, d) - values) < 1e-6):
                    return d
            return 6

        def __call__(self, x, pos=None):
            text = f"{x * 100:.{self.digits()}f}"
            if text.lstrip("-").strip("0.") == "":
                text = text.lstrip("-")  # no "-0%"
            return text + "%"

    return PercentLocator, PercentFormatter


def percent_axis(axis, *, decimals: int | None = None) -> None:
    """Label an axis of fractions as percentages, with exact tick labels only.

    Ticks fall on steps of 1, 2 or 5 times a power of ten percent (1%, 2%, 5%, 10%, 20%,
    ...; never the 2.5% steps that would print 92.5% as "92%"), and labels carry the
    fewest decimals that show every tick exactly. Ticks set later with ``set_xticks``
    keep the exact labels.

    Parameters
    ----------
    axis : matplotlib Axis
        E.g. ``ax.yaxis``.
    decimals : int, optional
        Fix the decimals shown; ticks are then never finer than ``10**-decimals`` percent.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax.set_ylim(0.78, 1.0)
    (0.78, 1.0)
    >>> percent_axis(ax.yaxis)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['75%', '80%', '85%', '90%', '95%', '100%']
    >>> plt.close(fig)
    """
    locator, formatter = _percent_ticker()
    axis.set_major_locator(locator(decimals))
    axis.set_major_formatter(formatter(decimals))


_percent_axis = percent_axis  # plot_metric_comparison has an argument of that name




def _auto_xlim(xlim, *values):
    """(0.5, 1) when every value is at least 0.5, else (0, 1); or ``xlim`` if given."""
    if xlim is None or (isinstance(xlim, str) and xlim == "auto"):
        lows = [np.nanmin(v) for v in values if np.size(v) and not np.all(np.isnan(v))]
        return (0.5, 1.0) if lows and min(lows) >= 0.5 else (0.0, 1.0)
    lo, hi = (float(x) for x in xlim)
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"xlim must be 'auto' or (low, high) within [0, 1]; got {xlim!r}")
    return lo, hi


def marker_areas(counts, *, max_count=None) -> np.ndarray:
    """Dot areas (points^2) for bin counts: linear in the count, between the style's bounds.

    ``max_count`` fixes the scale so that several panels size their dots alike.

    Examples
    --------
    >>> marker_areas([0, 50, 100]).tolist()
    [25.0, 262.5, 500.0]
    """
    counts = np.asarray(counts, dtype=float)
    top = float(max_count) if max_count is not None else float(np.max(counts, initial=0))
    lo, hi = STYLE["marker_area"]
    if top <= 0:
        return np.full(counts.shape, lo)
    return lo + (hi - lo) * counts / top


def _stripes(ax, edges, xlim):
    color = STYLE["colors"]["stripe"]
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        if i % 2 == 0 and hi > xlim[0] + 1e-12 and lo < xlim[1] - 1e-12:
            ax.axvspan(lo, hi, color=color, zorder=0, lw=0)


# ---------------------------------------------------------------------------
# confidence histogram
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Histogram:
    """Counts of scores in equal-width bins on [0, 1] (same bins as the reliability diagram)."""

    edges: np.ndarray
    counts: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts.sum())


def confidence_histogram(y_prob, *, n_bins: int = 20) -> Histogram:
    """Count scores per bin; bins as in :func:`confnb.metrics.reliability_table`.

    Examples
    --------
    >>> confidence_histogram([0.52, 0.97, 1.0, 0.4], n_bins=4).counts.tolist()
    [0, 1, 1, 2]
    """
    p = _as_prob(y_prob)
    n_bins = _check_n_bins(n_bins)
    edges = _uniform_edges(n_bins)
    counts = np.bincount(_bin_index(p, edges), minlength=n_bins)
    return Histogram(edges=edges, counts=counts)


def _draw_histogram(ax, hist: Histogram, xlim, color, label=None, annotate=False):
    widths = np.diff(hist.edges)
    bars = ax.bar(hist.edges[:-1], hist.counts, width=widths, align="edge", color=color,
                  edgecolor="white", linewidth=0.6, label=label)
    texts = []
    if annotate:
        for x, w, c in zip(hist.edges[:-1], widths, hist.counts):
            if c and x >= xlim[0] - 1e-12:
                texts.append(ax.annotate(f"{c}", (x + w / 2, c), xytext=(0, 2), textcoords="offset points",
                                         ha="center", va="bottom", fontsize=7))
    ax.set_xlim(*xlim)
    percent_axis(ax.xaxis)
    return bars, texts


def plot_confidence_histogram(
    y_prob,
    *,
    n_bins: int = 20,
    ax=None,
    xlim="auto",
    annotate: bool = False,
    title: str | None = "Confidence scores",
    xlabel: str = "Confidence (total probability)",
    color: str | None = None,
) -> Display:
    """Histogram of confidence scores in 5% bins (for ``n_bins=20``).

    Parameters
    ----------
    y_prob : array-like of float in [0, 1]
    n_bins : int, default 20
    ax : matplotlib Axes, optional
    xlim : "auto" or (low, high)
        "auto": [50%, 100%] when every score is at least 0.5, else [0%, 100%].
    annotate : bool, default False
        Write the count above each bar.
    title, xlabel, color : optional

    Returns
    -------
    Display
        ``data`` is a :class:`Histogram`; ``artists_["bars"]`` the bar container.
    """
    hist = confidence_histogram(y_prob, n_bins=n_bins)
    with use_style():
        fig, ax = _new_axes(ax)
        lim = _auto_xlim(xlim, _as_prob(y_prob))
        bars, texts = _draw_histogram(ax, hist, lim, color or STYLE["colors"]["main"], annotate=annotate)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Predictions")
        if title:
            ax.set_title(title)
    return Display("confidence_histogram", fig, [ax], hist, bars=bars, count_labels=texts)


# ---------------------------------------------------------------------------
# reliability diagrams
# ---------------------------------------------------------------------------
def _as_table(y_true, y_prob, table, n_bins) -> ReliabilityTable:
    if table is not None:
        if not isinstance(table, ReliabilityTable):
            raise ValueError("table must be a ReliabilityTable from confnb.metrics.reliability_table")
        return table
    if y_true is None or y_prob is None:
        raise ValueError("pass y_true and y_prob, or table=reliability_table(...)")
    return reliability_table(y_true, y_prob, n_bins=n_bins)


#: Where a count label may go around its dot, in order of preference: direction from the
#: dot's centre, then the label's horizontal and vertical alignment.
_LABEL_SPOTS = (
    ((0.71, 0.71), "left", "bottom"),
    ((1.0, 0.0), "left", "center"),
    ((-0.71, 0.71), "right", "bottom"),
    ((-1.0, 0.0), "right", "center"),
    ((0.0, 1.0), "center", "bottom"),
    ((0.0, -1.0), "center", "top"),
    ((0.71, -0.71), "left", "top"),
    ((-0.71, -0.71), "right", "top"),
)
_LABEL_GAP_PT = 1.5  # between a dot's edge and its label


def _overlaps(a, b, pad=0.5) -> bool:
    return a.x0 < b.x1 + pad and b.x0 < a.x1 + pad and a.y0 < b.y1 + pad and b.y0 < a.y1 + pad


def _place_count_labels(ax, texts, x, y, radii, renderer) -> None:
    """Put each count label beside its dot where it overlaps no other label, else hide it.

    Measures with ``renderer`` (display pixels). A label must lie inside the axes and clear
    the other visible texts of the axes (the ECE note) and the labels placed before
    (labels of bigger bins go first). Each label takes the first spot of
    :data:`_LABEL_SPOTS` that also clears every other dot; failing that, the first that
    may cover another dot, on a white backing so it stays legible. A label with no spot
    is hidden; its dot's area still shows the count.
    """
    from matplotlib.transforms import Bbox

    if not texts:
        return
    scale = renderer.points_to_pixels(1.0)
    centres = ax.transData.transform(np.c_[x, y])
    r_px = np.asarray(radii, dtype=float) * scale
    frame = ax.bbox
    taken = [t.get_window_extent(renderer) for t in ax.texts if t.get_visible() and not any(t is u for u in texts)]
    dot_boxes = [Bbox.from_extents(cx - r, cy - r, cx + r, cy + r) for (cx, cy), r in zip(centres, r_px)]
    order = sorted(range(len(texts)), key=lambda k: -int(texts[k].get_text() or 0))
    backing = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}
    for i in order:
        text = texts[i]
        text.set_visible(True)
        reach = radii[i] + _LABEL_GAP_PT
        spot = None
        for avoid_dots in (True, False):
            for (ux, uy), ha, va in _LABEL_SPOTS:
                text.xyann = (ux * reach, uy * reach)
                text.set_horizontalalignment(ha)
                text.set_verticalalignment(va)
                box = text.get_window_extent(renderer)
                if not (frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1):
                    continue
                if any(_overlaps(box, other) for other in taken):
                    continue
                if avoid_dots and any(_overlaps(box, dot, pad=0) for j, dot in enumerate(dot_boxes) if j != i):
                    continue
                spot = box
                break
            if spot is not None:
                break
        text.set_bbox(None if avoid_dots else backing)
        if spot is None:
            text.set_visible(False)
        else:
            taken.append(spot)


_DRAW_HOOK = []  # the Artist subclass below, made on first use (matplotlib is imported lazily)


def _attach_draw_hook(ax, place, *, zorder):
    """Add an invisible artist that calls ``place(renderer)`` each time the figure is drawn.

    Label extents depend on the final layout (``tight_layout``, the notebook's figure size),
    so labels are placed at draw time, just before they are drawn (give ``zorder`` below
    theirs). Also places them once now, so the returned Display is already final.
    """
    if not _DRAW_HOOK:
        from matplotlib.artist import Artist

        class DrawHook(Artist):
            def __init__(self, place):
                super().__init__()
                self.place = place
                self.set_in_layout(False)

            def draw(self, renderer):
                if self.get_visible():
                    self.place(renderer)

        _DRAW_HOOK.append(DrawHook)
    hook = _DRAW_HOOK[0](place)
    hook.set_zorder(zorder)
    ax.add_artist(hook)
    get_renderer = getattr(ax.figure.canvas, "get_renderer", None)
    if get_renderer is not None:
        hook.draw(get_renderer())
    return hook


def _draw_reliability(ax, table: ReliabilityTable, *, xlim, max_count, show_counts, show_intervals,
                      color, title, xlabel, ylabel, show_ece):
    filled = table.counts > 0
    x = table.mean_confidence[filled]
    y = table.accuracy[filled]
    counts = table.counts[filled]
    areas = marker_areas(counts, max_count=max_count)
    _stripes(ax, table.edges, xlim)
    (diag,) = ax.plot([0, 1], [0, 1], ls="--", lw=1, color=STYLE["colors"]["diagonal"], zorder=1,
                      label="perfect calibration")
    whiskers = None
    if show_intervals:
        lo = table.ci_low[filled]
        hi = table.ci_high[filled]
        whiskers = ax.errorbar(x, y, yerr=np.vstack([y - lo, hi - y]), fmt="none", ecolor=STYLE["colors"]["muted"],
                               elinewidth=1, capsize=2, zorder=2)
    # Unclipped, so that a dot at 0% or 100% shows whole rather than as a half disc.
    dots = ax.scatter(x, y, s=areas, color=color, alpha=0.85, edgecolors="white", linewidths=0.8, zorder=3,
                      clip_on=False)
    texts = []
    if show_counts:
        for xi, yi, c in zip(x, y, counts):
            texts.append(ax.annotate(f"{c}", (xi, yi), xytext=(0, 0), textcoords="offset points",
                                     fontsize=7, ha="left", va="bottom", zorder=4))
    ax.set_xlim(*xlim)
    ax.set_ylim(-0.03, 1.05)
    percent_axis(ax.xaxis)
    percent_axis(ax.yaxis)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if show_ece and table.n:
        ax.text(0.03, 0.97, f"ECE {table.ece:.3f}\nn = {table.n}", transform=ax.transAxes, va="top", ha="left",
                fontsize=8)
    if title:
        ax.set_title(title)
    if texts:
        radii = np.sqrt(areas) / 2
        _attach_draw_hook(ax, lambda renderer: _place_count_labels(ax, texts, x, y, radii, renderer), zorder=3.5)
    return {"dots": dots, "count_labels": texts, "whiskers": whiskers, "diagonal": diag}


def plot_reliability_diagram(
    y_true=None,
    y_prob=None,
    *,
    table: ReliabilityTable | None = None,
    n_bins: int = 20,
    ax=None,
    show_counts: bool = True,
    show_intervals: bool = False,
    show_ece: bool = True,
    xlim="auto",
    title: str | None = "Reliability diagram",
    xlabel: str = "Predicted confidence",
    ylabel: str = "Observed accuracy",
    color: str | None = None,
) -> Display:
    """Reliability diagram: does a 90% score come true 90% of the time?

    Shaded stripes mark the bins (5% wide for ``n_bins=20``). Each dot sits at a bin's
    mean predicted confidence (x) and observed accuracy (y); its area grows with the
    number of predictions in the bin, which is written beside it. Dots under the dashed
    diagonal are overconfident.

    Parameters
    ----------
    y_true, y_prob : array-like, optional
        Outcomes and probabilities; or pass ``table=``.
    table : ReliabilityTable, optional
        Precomputed by :func:`confnb.metrics.reliability_table`.
    n_bins : int, default 20
    ax : matplotlib Axes, optional
    show_counts : bool, default True
        Write each bin's count beside its dot.
    show_intervals : bool, default False
        Vertical Wilson-interval whiskers per dot.
    show_ece : bool, default True
        Write ECE and n in the top-left corner.
    xlim : "auto" or (low, high)
        "auto": [50%, 100%] when every non-empty bin starts at 0.5 or above (raw top-label
        confidence), else [0%, 100%] -- calibrated confidences can fall below 50%.
    title, xlabel, ylabel, color : optional
        For the class target use e.g. ``ylabel="Observed share positive"``.

    Returns
    -------
    Display
        ``data`` is the :class:`~confnb.metrics.ReliabilityTable`; ``artists_["dots"]``
        the scatter (offsets = (mean confidence, accuracy), sizes = :func:`marker_areas`).
    """
    table = _as_table(y_true, y_prob, table, n_bins)
    with use_style():
        fig, ax = _new_axes(ax, size=STYLE["square_size"])
        lim = _auto_xlim(xlim, table.edges[:-1][table.counts > 0])
        artists = _draw_reliability(ax, table, xlim=lim, max_count=None, show_counts=show_counts,
                                    show_intervals=show_intervals, color=color or STYLE["colors"]["main"],
                                    title=title, xlabel=xlabel, ylabel=ylabel, show_ece=show_ece)
    return Display("reliability_diagram", fig, [ax], table, **artists)


def plot_reliability_comparison(
    panels: Sequence,
    *,
    n_bins: int = 20,
    axes=None,
    show_counts: bool = True,
    show_intervals: bool = False,
    xlim="auto",
    suptitle: str | None = None,
    xlabel: str = "Predicted confidence",
    ylabel: str = "Observed accuracy",
) -> Display:
    """Reliability diagrams side by side (raw / Platt / isotonic, or model A / model B).

    Dot areas share one scale across panels, and so does the x-range, so panels compare
    directly.

    Parameters
    ----------
    panels : sequence of (title, y_true, y_prob) or (title, ReliabilityTable)
    n_bins : int, default 20
    axes : sequence of Axes, optional
        One per panel.
    show_counts, show_intervals, xlim, xlabel, ylabel
        As in :func:`plot_reliability_diagram`.
    suptitle : str, optional

    Returns
    -------
    Display
        ``data`` is the list of ReliabilityTables; ``artists_["dots"]`` a list of scatters.
    """
    if not panels:
        raise ValueError("panels is empty; pass e.g. [('Raw', y_true, raw), ('Platt', y_true, platt)]")
    titles, tables = [], []
    for item in panels:
        if len(item) == 2 and isinstance(item[1], ReliabilityTable):
            titles.append(str(item[0]))
            tables.append(item[1])
        elif len(item) == 3:
            titles.append(str(item[0]))
            tables.append(reliability_table(item[1], item[2], n_bins=n_bins))
        else:
            raise ValueError("each panel must be (title, y_true, y_prob) or (title, ReliabilityTable)")
    max_count = max(int(t.counts.max(initial=0)) for t in tables)
    lim = _auto_xlim(xlim, *[t.edges[:-1][t.counts > 0] for t in tables])
    with use_style():
        fig, axs = _new_panels(axes, len(tables), sharey=True)
        dots, labels = [], []
        for i, (ax, title, table) in enumerate(zip(axs, titles, tables)):
            art = _draw_reliability(ax, table, xlim=lim, max_count=max_count, show_counts=show_counts,
                                    show_intervals=show_intervals, color=STYLE["colors"]["main"], title=title,
                                    xlabel=xlabel, ylabel=ylabel if i == 0 else "", show_ece=True)
            dots.append(art["dots"])
            labels.append(art["count_labels"])
        if suptitle:
            fig.suptitle(suptitle)
        if axes is None:
            fig.tight_layout()
    return Display("reliability_comparison", fig, axs, tables, dots=dots, count_labels=labels)


# ---------------------------------------------------------------------------
# thresholds
# ---------------------------------------------------------------------------
def _place_bar_counts(ax, ax_vol, count_labels, line, accuracy_labels, renderer) -> None:
    """Move each bar's count where it clears the accuracy line's dots and labels and the legend.

    Tries, in order: just above the bar, just inside its top, just inside its base. A label
    with no free spot stays above the bar (the first choice).
    """
    from matplotlib.transforms import Bbox

    obstacles = [t.get_window_extent(renderer) for t in accuracy_labels if t.get_visible()]
    radius = renderer.points_to_pixels(line.get_markersize() / 2 + 1)
    for cx, cy in ax.transData.transform(np.c_[line.get_xdata(), line.get_ydata()]):
        obstacles.append(Bbox.from_extents(cx - radius, cy - radius, cx + radius, cy + radius))
    legend = ax.get_legend()
    if legend is not None:
        obstacles.append(legend.get_window_extent(renderer))
    frame = ax_vol.bbox
    gap = renderer.points_to_pixels(4.0)  # a visible gap between glyphs, beyond the text boxes
    placed = []
    for text in count_labels:
        t, n = text.xy[0], text.get_text()
        height = float(n)
        spots = [((t, height), (0, 2), "bottom"), ((t, height), (0, -2), "top"), ((t, 0.0), (0, 2), "bottom")]
        for xy, offset, va in spots + spots[:1]:
            text.xy, text.xyann = xy, offset
            text.set_verticalalignment(va)
            box = text.get_window_extent(renderer)
            if box.y0 < frame.y0 or box.y1 > frame.y1:
                continue
            if any(_overlaps(box, other, pad=gap) for other in obstacles + placed):
                continue
            break
        placed.append(text.get_window_extent(renderer))


def plot_threshold_chart(
    y_true=None,
    y_prob=None,
    *,
    table: ThresholdTable | None = None,
    thresholds=DEFAULT_THRESHOLDS,
    level: float = 0.95,
    ax=None,
    show_lower_bound: bool = False,
    title: str | None = "Accuracy and volume by confidence threshold",
) -> Display:
    """Accuracy (line with dots, left axis) and volume (bars, right axis) per threshold.

    Bars show how many predictions are at or above each threshold, with the count on each
    bar; the line shows their accuracy, with the percentage on each dot.

    Parameters
    ----------
    y_true, y_prob : array-like, optional
        Correctness and confidence; or pass ``table=``.
    table : ThresholdTable, optional
        From :func:`confnb.thresholds.threshold_table`.
    thresholds, level
        Used when computing the table here.
    ax : matplotlib Axes, optional
        The accuracy axis; the volume axis is created with ``ax.twinx()``.
    show_lower_bound : bool, default False
        Also draw the one-sided Clopper-Pearson lower bound as a dotted line.
    title : str, optional

    Returns
    -------
    Display
        ``ax_`` is the accuracy axis, ``axes_[1]`` the volume axis, ``data`` the
        ThresholdTable; artists ``bars``, ``line``, ``count_labels``, ``accuracy_labels``.
    """
    if table is None:
        if y_true is None or y_prob is None:
            raise ValueError("pass y_true and y_prob, or table=threshold_table(...)")
        table = threshold_table(y_true, y_prob, thresholds=thresholds, level=level)
    c = STYLE["colors"]
    ths = table.thresholds
    step = float(np.min(np.diff(np.sort(ths)))) if ths.size > 1 else 0.05
    with use_style():
        fig, ax = _new_axes(ax)
        ax_vol = ax.twinx()
        ax_vol.spines["right"].set_visible(True)
        bars = ax_vol.bar(ths, table.counts, width=0.7 * step, color=c["main"], alpha=0.35, label="predictions")
        top = max(int(table.counts.max(initial=0)), 1)
        ax_vol.set_ylim(0, top * 1.18)
        count_labels = [
            ax_vol.annotate(f"{n}", (t, n), xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                            fontsize=7, color=c["main"])
            for t, n in zip(ths, table.counts)
        ]
        ax_vol.set_ylabel("Predictions at or above threshold", color=c["main"])
        has = ~np.isnan(table.accuracy)
        (line,) = ax.plot(ths[has], table.accuracy[has], "-o", color=c["accent"], lw=1.6, ms=5, zorder=3,
                          label="accuracy")
        accuracy_labels = [
            ax.annotate(f"{a:.1%}", (t, a), xytext=(0, 7), textcoords="offset points", ha="center", va="bottom",
                        fontsize=7, color=c["accent"])
            for t, a in zip(ths[has], table.accuracy[has])
        ]
        lb_line = None
        lows = table.accuracy[has]
        if show_lower_bound:
            (lb_line,) = ax.plot(ths[has], table.lower_bound[has], ":", color=c["accent"], lw=1.2,
                                 label=f"{table.level:.0%} lower bound")
            lows = np.r_[lows, table.lower_bound[has]]
        low = float(np.min(lows)) if lows.size else 0.0
        ax.set_ylim(max(0.0, low - 0.08), 1.04)
        ax.set_zorder(ax_vol.get_zorder() + 1)
        ax.patch.set_visible(False)
        percent_axis(ax.yaxis)
        percent_axis(ax.xaxis)
        ax.set_xticks(ths)
        ax.set_xlim(ths.min() - step, ths.max() + step)
        ax.set_xlabel("Confidence threshold")
        ax.set_ylabel("Accuracy above threshold", color=c["accent"])
        if show_lower_bound:
            ax.legend(loc="lower left")
        if title:
            ax.set_title(title)
        _attach_draw_hook(ax_vol, lambda renderer: _place_bar_counts(ax, ax_vol, count_labels, line,
                                                                     accuracy_labels, renderer), zorder=0.5)
    return Display("threshold_chart", fig, [ax, ax_vol], table, bars=bars, line=line, lower_bound=lb_line,
                   count_labels=count_labels, accuracy_labels=accuracy_labels)


# ---------------------------------------------------------------------------
# sample size
# ---------------------------------------------------------------------------
def plot_sample_size_progression(curve, *, axes=None, show_spread: bool = True, suptitle: str | None = None) -> Display:
    """One panel per threshold: test predictions clearing it, by calibration-set size.

    Bars are the mean count over draws (whiskers: one standard deviation); the number
    above each bar is the mean accuracy of those predictions ("n/a" when no draw had any).

    Parameters
    ----------
    curve : SampleSizeCurve
        From :func:`confnb.sampling.sample_size_curve`.
    axes : sequence of Axes, optional
        One per threshold.
    show_spread : bool, default True
    suptitle : str, optional

    Returns
    -------
    Display
        ``data`` is the curve; ``artists_["bars"]`` a list of bar containers (one per
        threshold, heights = ``curve.count_mean[:, j]``), ``artists_["accuracy_labels"]``
        the texts per panel.
    """
    T = len(curve.thresholds)
    nrows = 2 if T == 4 else 1
    c = STYLE["colors"]
    cm, cs, am = curve.count_mean, curve.count_std, curve.accuracy_mean
    with use_style():
        fig, axs = _new_panels(axes, T, nrows=nrows, sharey=False)
        bars_all, labels_all = [], []
        xs = np.arange(len(curve.sizes))
        for j, ax in enumerate(axs):
            yerr = cs[:, j] if show_spread else None
            bars = ax.bar(xs, cm[:, j], yerr=yerr, color=c["main"], alpha=0.8, width=0.65,
                          error_kw={"ecolor": c["muted"], "elinewidth": 1, "capsize": 2})
            labels = []
            for x, h, e, a in zip(xs, cm[:, j], yerr if yerr is not None else np.zeros_like(xs, float), am[:, j]):
                text = "n/a" if np.isnan(a) else f"{a:.1%}"
                labels.append(ax.annotate(text, (x, h + (e if np.isfinite(e) else 0)), xytext=(0, 2),
                                          textcoords="offset points", ha="center", va="bottom", fontsize=7))
            ax.set_xticks(xs, [str(s) for s in curve.sizes])
            top = float(np.nanmax(cm[:, j] + (np.nan_to_num(cs[:, j]) if show_spread else 0), initial=0))
            ax.set_ylim(0, (top or 1.0) * 1.2)
            ax.set_title(f"Confidence \u2265 {curve.thresholds[j]:.0%}")
            ax.set_xlabel("Calibration rows")
            ax.set_ylabel(f"Test predictions (of {curve.n_test})")
            bars_all.append(bars)
            labels_all.append(labels)
        fig.suptitle(suptitle or f"{curve.method} calibration: mean of {curve.n_draws} draws per size")
        if axes is None:
            fig.tight_layout()
    return Display("sample_size_progression", fig, axs, curve, bars=bars_all, accuracy_labels=labels_all)


def plot_sample_size_ece(curve, *, ax=None, title: str | None = "Held-out calibration error by sample size") -> Display:
    """Mean held-out ECE (with one-standard-deviation whiskers) by calibration-set size.

    The dashed line is the ECE of the uncalibrated test scores.

    Returns
    -------
    Display
        ``artists_["line"]`` is the errorbar container (y = ``curve.ece_mean``).
    """
    c = STYLE["colors"]
    with use_style():
        fig, ax = _new_axes(ax)
        line = ax.errorbar(curve.sizes, curve.ece_mean, yerr=curve.ece_std, fmt="-o", color=c["main"], ms=4,
                           capsize=3, label=f"{curve.method} (held-out)")
        raw = ax.axhline(curve.raw_ece, ls="--", color=c["accent"], lw=1, label="uncalibrated")
        ax.set_xscale("log")
        ax.set_xticks(curve.sizes, [str(s) for s in curve.sizes])
        ax.minorticks_off()
        ax.set_ylim(0, max(float(np.max(curve.ece_mean + curve.ece_std)), curve.raw_ece) * 1.15)
        ax.set_xlabel("Calibration rows")
        ax.set_ylabel(f"ECE on {curve.n_test} test rows")
        ax.legend()
        if title:
            ax.set_title(title)
    return Display("sample_size_ece", fig, [ax], curve, line=line, raw_line=raw)


# ---------------------------------------------------------------------------
# model comparisons
# ---------------------------------------------------------------------------
def plot_confidence_shift(
    y_prob_a,
    y_prob_b,
    *,
    labels=("Model A", "Model B"),
    n_bins: int = 20,
    threshold: float | None = None,
    axes=None,
    xlim="auto",
    xlabel: str = "Confidence",
) -> Display:
    """Confidence histograms of two models side by side, on the same bins and y-scale.

    Parameters
    ----------
    y_prob_a, y_prob_b : array-like of float in [0, 1]
        Confidences of the two models (e.g. base and fine-tuned) on the same rows.
    labels : (str, str)
    n_bins : int, default 20
    threshold : float, optional
        Draw a vertical line there and write the share of predictions at or above it.
    axes : two Axes, optional
    xlim : "auto" or (low, high)

    Returns
    -------
    Display
        ``data`` is a dict with ``edges``, ``counts_a``, ``counts_b`` and, with a threshold,
        ``share_above_a``, ``share_above_b``.
    """
    pa, pb = _as_prob(y_prob_a, "y_prob_a"), _as_prob(y_prob_b, "y_prob_b")
    ha, hb = confidence_histogram(pa, n_bins=n_bins), confidence_histogram(pb, n_bins=n_bins)
    data = {"edges": ha.edges, "counts_a": ha.counts, "counts_b": hb.counts}
    if threshold is not None:
        threshold = float(threshold)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1]; got {threshold!r}")
        data["share_above_a"] = float(np.mean(pa >= threshold))
        data["share_above_b"] = float(np.mean(pb >= threshold))
    lim = _auto_xlim(xlim, pa, pb)
    c = STYLE["colors"]
    with use_style():
        fig, axs = _new_panels(axes, 2, sharey=True)
        bars = []
        for ax, hist, label, color, key in zip(axs, (ha, hb), labels, (c["main"], c["second"]), ("a", "b")):
            b, _ = _draw_histogram(ax, hist, lim, color)
            bars.append(b)
            ax.set_title(str(label))
            ax.set_xlabel(xlabel)
            if threshold is not None:
                ax.axvline(threshold, ls="--", color=c["diagonal"], lw=1)
                ax.text(0.03, 0.95, f"{data['share_above_' + key]:.0%} at or above {threshold:.0%}",
                        transform=ax.transAxes, va="top", fontsize=8)
        top = max(int(ha.counts.max(initial=0)), int(hb.counts.max(initial=0)), 1)
        axs[0].set_ylim(0, top * 1.15)
        axs[0].set_ylabel("Predictions")
        if axes is None:
            fig.tight_layout()
    return Display("confidence_shift", fig, axs, data, bars=bars)


def plot_metric_comparison(
    values: Mapping,
    *,
    ax=None,
    title: str | None = None,
    ylabel: str = "",
    fmt: str = "{:.1%}",
    percent_axis: bool = True,
    colors: Sequence[str] | None = None,
) -> Display:
    """Bars comparing one metric across models, with optional interval whiskers.

    Parameters
    ----------
    values : mapping of name -> float or Interval
        E.g. ``{"Base": bootstrap_ci(...), "Fine-tuned": bootstrap_ci(...)}``;
        :class:`~confnb.metrics.Interval` values get whiskers.
    ax : matplotlib Axes, optional
    title, ylabel : str
    fmt : str, default "{:.1%}"
        Format of the value written above each bar (e.g. "{:.3f}" for ECE).
    percent_axis : bool, default True
        Percent tick labels (turn off for ECE, Brier, log loss).
    colors : sequence of str, optional

    Returns
    -------
    Display
        ``data`` maps each name to ``(estimate, low, high)`` (low/high NaN without interval).
    """
    if not values:
        raise ValueError("values is empty; pass e.g. {'Base': 0.81, 'Fine-tuned': 0.88}")
    data = {}
    for name, v in values.items():
        if isinstance(v, Interval):
            data[str(name)] = (float(v.estimate), float(v.low), float(v.high))
        else:
            x = float(v)
            if not np.isfinite(x):
                raise ValueError(f"value for {name!r} is not a finite number: {v!r}")
            data[str(name)] = (x, float("nan"), float("nan"))
    names = list(data)
    est = np.array([data[n][0] for n in names])
    low = np.array([data[n][1] for n in names])
    high = np.array([data[n][2] for n in names])
    palette = list(colors) if colors else [STYLE["colors"]["main"], STYLE["colors"]["second"],
                                            STYLE["colors"]["accent"], STYLE["colors"]["muted"]]
    with use_style():
        fig, ax = _new_axes(ax, size=(max(3.2, 1.4 * len(names) + 1.5), 3.6))
        xs = np.arange(len(names))
        bars = ax.bar(xs, est, width=0.6, color=[palette[i % len(palette)] for i in range(len(names))])
        has_ci = ~np.isnan(low)
        whiskers = None
        if has_ci.any():
            whiskers = ax.errorbar(xs[has_ci], est[has_ci], yerr=np.vstack([est - low, high - est])[:, has_ci],
                                   fmt="none", ecolor="#333333", elinewidth=1, capsize=4)
        tops = np.where(has_ci, high, est)
        labels = [ax.annotate(fmt.format(e), (x, t), xytext=(0, 3), textcoords="offset points", ha="center",
                              va="bottom", fontsize=8) for x, e, t in zip(xs, est, tops)]
        ax.set_xticks(xs, names)
        ax.set_ylim(min(0.0, float(np.nanmin(est))), float(np.nanmax(tops)) * 1.18 or 1.0)
        if percent_axis:
            _percent_axis(ax.yaxis)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
    return Display("metric_comparison", fig, [ax], data, bars=bars, whiskers=whiskers, value_labels=labels)
