"""The house style of confnb's charts, and the object every chart returns.

* :data:`STYLE` and :func:`use_style` -- one plain matplotlib style: small fixed figure
  sizes and a low screen dpi so that committed notebooks stay small; saved figures use
  ``STYLE["savefig_dpi"]`` (150).
* :class:`Display` -- what every ``plot_*`` function returns: the figure, its axes, the
  numbers drawn and the main artists, so that tests and notebooks can check what a chart
  shows without comparing images.
* :func:`percent_axis` -- an axis of fractions labelled as percentages, with exact tick
  labels only (never "92%" for a tick at 92.5%).
* :func:`marker_areas` -- dot areas for bin counts, on a scale shared across panels.

Out of scope: the charts themselves (:mod:`confnb.diagrams`, :mod:`confnb.charts`, all
re-exported by :mod:`confnb.plots`) and interactive charts.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = ["STYLE", "Display", "marker_areas", "percent_axis", "use_style"]

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
