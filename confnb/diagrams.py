"""Reliability diagrams and confidence histograms: what the scores promise against what happened.

* :func:`confidence_histogram` / :func:`plot_confidence_histogram` -- how the scores are
  spread over the same 5% bins as the diagrams.
* :func:`plot_reliability_diagram` / :func:`plot_reliability_comparison` -- observed
  accuracy against mean confidence per bin (dots sized by count, Wilson intervals), one
  panel or several side by side. Count labels beside the dots are placed, at draw time,
  where they overlap nothing and stay inside the axes.

Compute, then draw: the numbers come from :func:`confnb.metrics.reliability_table`; every
function returns a :class:`confnb.figures.Display`. Re-exported by :mod:`confnb.plots`.

Out of scope: threshold, sample-size and model-comparison charts (:mod:`confnb.charts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ._axes import attach_draw_hook, auto_xlim, draw_histogram, new_axes, new_panels, overlaps, stripes
from ._validation import as_prob, bin_index, check_n_bins, uniform_edges
from .figures import STYLE, Display, marker_areas, percent_axis, use_style
from .metrics import ReliabilityTable, reliability_table

__all__ = [
    "Histogram",
    "confidence_histogram",
    "plot_confidence_histogram",
    "plot_reliability_comparison",
    "plot_reliability_diagram",
]



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
    p = as_prob(y_prob)
    n_bins = check_n_bins(n_bins)
    edges = uniform_edges(n_bins)
    counts = np.bincount(bin_index(p, edges), minlength=n_bins)
    return Histogram(edges=edges, counts=counts)


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
        fig, ax = new_axes(ax)
        lim = auto_xlim(xlim, as_prob(y_prob))
        bars, texts = draw_histogram(ax, hist, lim, color or STYLE["colors"]["main"], annotate=annotate)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Predictions")
        if title:
            ax.set_title(title)
    return Display("confidence_histogram", fig, [ax], hist, bars=bars, count_labels=texts)


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
                if any(overlaps(box, other) for other in taken):
                    continue
                if avoid_dots and any(overlaps(box, dot, pad=0) for j, dot in enumerate(dot_boxes) if j != i):
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


def _draw_reliability(ax, table: ReliabilityTable, *, xlim, max_count, show_counts, show_intervals,
                      color, title, xlabel, ylabel, show_ece):
    filled = table.counts > 0
    x = table.mean_confidence[filled]
    y = table.accuracy[filled]
    counts = table.counts[filled]
    areas = marker_areas(counts, max_count=max_count)
    stripes(ax, table.edges, xlim)
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
        attach_draw_hook(ax, lambda renderer: _place_count_labels(ax, texts, x, y, radii, renderer), zorder=3.5)
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
        the scatter (offsets = (mean confidence, accuracy), sizes = :func:`confnb.figures.marker_areas`).
    """
    table = _as_table(y_true, y_prob, table, n_bins)
    with use_style():
        fig, ax = new_axes(ax, size=STYLE["square_size"])
        lim = auto_xlim(xlim, table.edges[:-1][table.counts > 0])
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
    lim = auto_xlim(xlim, *[t.edges[:-1][t.counts > 0] for t in tables])
    with use_style():
        fig, axs = new_panels(axes, len(tables), sharey=True)
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
