"""Drawing plumbing shared by the chart modules: axes, panels, stripes, draw-time label placement.

Package-internal (plain names for :mod:`confnb.diagrams` and :mod:`confnb.charts`); the
public chart helpers are in :mod:`confnb.figures`. Out of scope: any chart of its own.
"""

from __future__ import annotations

import numpy as np

from .figures import STYLE, percent_axis



def new_axes(ax, size=None):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=size or STYLE["figsize"], dpi=STYLE["dpi"])
    return fig, ax


def new_panels(axes, n, *, nrows=1, sharey=False):
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


def auto_xlim(xlim, *values):
    """(0.5, 1) when every value is at least 0.5, else (0, 1); or ``xlim`` if given."""
    if xlim is None or (isinstance(xlim, str) and xlim == "auto"):
        lows = [np.nanmin(v) for v in values if np.size(v) and not np.all(np.isnan(v))]
        return (0.5, 1.0) if lows and min(lows) >= 0.5 else (0.0, 1.0)
    lo, hi = (float(x) for x in xlim)
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"xlim must be 'auto' or (low, high) within [0, 1]; got {xlim!r}")
    return lo, hi


def stripes(ax, edges, xlim):
    color = STYLE["colors"]["stripe"]
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        if i % 2 == 0 and hi > xlim[0] + 1e-12 and lo < xlim[1] - 1e-12:
            ax.axvspan(lo, hi, color=color, zorder=0, lw=0)


def draw_histogram(ax, hist, xlim, color, label=None, annotate=False):
    """Bars of a :class:`confnb.diagrams.Histogram`, optionally with their counts; percent x axis."""
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


def overlaps(a, b, pad=0.5) -> bool:
    return a.x0 < b.x1 + pad and b.x0 < a.x1 + pad and a.y0 < b.y1 + pad and b.y0 < a.y1 + pad


DRAW_HOOK = []  # the Artist subclass below, made on first use (matplotlib is imported lazily)


def attach_draw_hook(ax, place, *, zorder):
    """Add an invisible artist that calls ``place(renderer)`` each time the figure is drawn.

    Label extents depend on the final layout (``tight_layout``, the notebook's figure size),
    so labels are placed at draw time, just before they are drawn (give ``zorder`` below
    theirs). Also places them once now, so the returned Display is already final.
    """
    if not DRAW_HOOK:
        from matplotlib.artist import Artist

        class DrawHook(Artist):
            def __init__(self, place):
                super().__init__()
                self.place = place
                self.set_in_layout(False)

            def draw(self, renderer):
                if self.get_visible():
                    self.place(renderer)

        DRAW_HOOK.append(DrawHook)
    hook = DRAW_HOOK[0](place)
    hook.set_zorder(zorder)
    ax.add_artist(hook)
    get_renderer = getattr(ax.figure.canvas, "get_renderer", None)
    if get_renderer is not None:
        hook.draw(get_renderer())
    return hook
