"""Charts beyond the reliability diagram: thresholds, sample size, model comparisons.

* :func:`plot_threshold_chart` -- accuracy (and its guaranteed lower bound) and volume of
  the predictions at or above each confidence threshold.
* :func:`plot_sample_size_progression` / :func:`plot_sample_size_ece` -- what a
  :func:`confnb.sampling.sample_size_curve` found, by calibration-set size.
* :func:`plot_confidence_shift` / :func:`plot_metric_comparison` -- two models' confidence
  histograms, and one metric across models with interval whiskers.

Compute, then draw; every function returns a :class:`confnb.figures.Display`. Re-exported
by :mod:`confnb.plots`. Out of scope: reliability diagrams (:mod:`confnb.diagrams`).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ._axes import attach_draw_hook, auto_xlim, draw_histogram, new_axes, new_panels, overlaps
from ._validation import as_prob
from .diagrams import confidence_histogram
from .figures import STYLE, Display, percent_axis, use_style
from .figures import percent_axis as _percent_axis  # plot_metric_comparison has an argument of that name
from .intervals import Interval
from .thresholds import DEFAULT_THRESHOLDS, ThresholdTable, threshold_table

__all__ = [
    "plot_confidence_shift",
    "plot_metric_comparison",
    "plot_sample_size_ece",
    "plot_sample_size_progression",
    "plot_threshold_chart",
]



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
            if any(overlaps(box, other, pad=gap) for other in obstacles + placed):
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
        fig, ax = new_axes(ax)
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
        attach_draw_hook(ax_vol, lambda renderer: _place_bar_counts(ax, ax_vol, count_labels, line,
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
        fig, axs = new_panels(axes, T, nrows=nrows, sharey=False)
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
        fig, ax = new_axes(ax)
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
    pa, pb = as_prob(y_prob_a, "y_prob_a"), as_prob(y_prob_b, "y_prob_b")
    ha, hb = confidence_histogram(pa, n_bins=n_bins), confidence_histogram(pb, n_bins=n_bins)
    data = {"edges": ha.edges, "counts_a": ha.counts, "counts_b": hb.counts}
    if threshold is not None:
        threshold = float(threshold)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1]; got {threshold!r}")
        data["share_above_a"] = float(np.mean(pa >= threshold))
        data["share_above_b"] = float(np.mean(pb >= threshold))
    lim = auto_xlim(xlim, pa, pb)
    c = STYLE["colors"]
    with use_style():
        fig, axs = new_panels(axes, 2, sharey=True)
        bars = []
        for ax, hist, label, color, key in zip(axs, (ha, hb), labels, (c["main"], c["second"]), ("a", "b")):
            b, _ = draw_histogram(ax, hist, lim, color)
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
        fig, ax = new_axes(ax, size=(max(3.2, 1.4 * len(names) + 1.5), 3.6))
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
