"""Charts for K classes: per-class reliability, the confusion matrix, prediction-set sizes.

* :func:`plot_class_reliability` -- one reliability panel per class: ``p_<class>`` against
  the observed share of that class, 5% bins, dot area = count, one dot scale for all panels
  (drawn by :func:`confnb.diagrams.plot_reliability_comparison`).
* :func:`plot_confusion_matrix` -- a seaborn heatmap of true against predicted class,
  cells annotated with counts (or row shares), class names rotated so none is clipped.
* :func:`plot_set_sizes` -- how many conformal prediction sets hold 0, 1, ..., K classes,
  and how often each size covers the true class.

Compute, then draw: the numbers come from :func:`confnb.multiclass.class_reliability`,
:func:`confnb.multiclass.confusion_matrix` and :func:`confnb.conformal.set_size_table`
(each function also accepts the raw arrays and computes them). Every function takes
``ax=`` (or ``axes=``) and returns a :class:`confnb.figures.Display`. Re-exported by
:mod:`confnb.plots`.

Out of scope: the binary charts (:mod:`confnb.diagrams`, :mod:`confnb.charts`) and
interactive charts.
"""

from __future__ import annotations

import numpy as np

from ._axes import new_axes, new_panels
from .conformal import SetSizes, set_size_table
from .diagrams import plot_reliability_comparison
from .figures import STYLE, Display, percent_axis, use_style
from .multiclass import ClassReliability, ConfusionMatrix, class_reliability, confusion_matrix

__all__ = ["plot_class_reliability", "plot_confusion_matrix", "plot_set_sizes"]


def plot_class_reliability(
    y_true=None,
    probs=None,
    *,
    data: ClassReliability | None = None,
    classes=None,
    n_bins: int = 20,
    axes=None,
    ncols: int | None = None,
    show_counts: bool = True,
    suptitle: str | None = "Reliability per class",
) -> Display:
    """Reliability small multiples: for each class, does ``p_<class> = 30%`` come true 30% of the time?

    Parameters
    ----------
    y_true, probs : optional
        Labels and (n, K) class probabilities (see :mod:`confnb.multiclass`); or pass ``data=``.
    data : ClassReliability, optional
        From :func:`confnb.multiclass.class_reliability`.
    classes : sequence, optional
        Class names (with ``y_true, probs``).
    n_bins : int, default 20
    axes : sequence of Axes, optional
        One per class.
    ncols : int, optional
        Panels per row (default: all in one row up to 4 classes, else 3 per row).
    show_counts : bool, default True
        Write each bin's count beside its dot.
    suptitle : str, optional

    Returns
    -------
    Display
        ``data`` is the :class:`~confnb.multiclass.ClassReliability`; ``artists_["dots"]`` one
        scatter per class.
    """
    if data is None:
        if y_true is None or probs is None:
            raise ValueError("pass y_true and probs, or data=class_reliability(...)")
        data = class_reliability(y_true, probs, classes=classes, n_bins=n_bins)
    elif not isinstance(data, ClassReliability):
        raise ValueError("data must be a ClassReliability from confnb.multiclass.class_reliability")
    k = len(data.classes)
    if ncols is None:
        ncols = k if k <= 4 else 3
    nrows = int(np.ceil(k / ncols))
    panels = [(str(name), table) for name, table in zip(data.classes, data.tables)]
    with use_style():
        fig, axs = new_panels(axes, k, nrows=nrows, sharey=True)
        shown = plot_reliability_comparison(panels, axes=axs, show_counts=show_counts, xlim=(0.0, 1.0),
                                            xlabel="Predicted probability of the class",
                                            ylabel="Observed share of the class")
        for i, ax in enumerate(axs):
            if i % ncols == 0:
                ax.set_ylabel("Observed share of the class")
        if suptitle:
            fig.suptitle(suptitle)
        if axes is None:
            fig.tight_layout()
    return Display("class_reliability", fig, axs, data, dots=shown.artists_["dots"],
                   count_labels=shown.artists_["count_labels"])


def plot_confusion_matrix(
    y_true=None,
    probs=None,
    *,
    data: ConfusionMatrix | None = None,
    classes=None,
    normalize: bool = False,
    ax=None,
    cmap: str = "Blues",
    title: str | None = "Confusion matrix",
) -> Display:
    """Heatmap of true class (rows) against predicted class (columns), counts written in the cells.

    Parameters
    ----------
    y_true, probs : optional
        Labels and (n, K) class probabilities; or pass ``data=``.
    data : ConfusionMatrix, optional
        From :func:`confnb.multiclass.confusion_matrix`.
    classes : sequence, optional
        Class names (with ``y_true, probs``).
    normalize : bool, default False
        Colour and annotate each row's shares (recall on the diagonal) instead of counts.
    ax : matplotlib Axes, optional
    cmap, title : optional

    Returns
    -------
    Display
        ``data`` is the :class:`~confnb.multiclass.ConfusionMatrix`; ``artists_["mesh"]`` the
        heatmap, ``artists_["cell_labels"]`` its annotations (row by row).
    """
    import seaborn as sns

    if data is None:
        if y_true is None or probs is None:
            raise ValueError("pass y_true and probs, or data=confusion_matrix(...)")
        data = confusion_matrix(y_true, probs, classes=classes)
    elif not isinstance(data, ConfusionMatrix):
        raise ValueError("data must be a ConfusionMatrix from confnb.multiclass.confusion_matrix")
    k = len(data.classes)
    names = [str(c) for c in data.classes]
    values = data.normalized() if normalize else data.counts
    side = max(STYLE["square_size"][0], 1.6 + 0.55 * k)
    created = ax is None
    with use_style():
        fig, ax = new_axes(ax, size=(side + 0.8, side))
        sns.heatmap(values, ax=ax, annot=True, fmt=".0%" if normalize else "d", cmap=cmap, cbar=True,
                    square=True, linewidths=0.5, linecolor="white", xticklabels=names, yticklabels=names,
                    vmin=0, vmax=1 if normalize else None, annot_kws={"fontsize": 8})
        if normalize and ax.collections[0].colorbar is not None:
            percent_axis(ax.collections[0].colorbar.ax.yaxis)
        long = max(len(n) for n in names) > 3 or k > 6
        ax.set_xticklabels(names, rotation=45 if long else 0, ha="right" if long else "center",
                           rotation_mode="anchor")
        ax.set_yticklabels(names, rotation=0)
        ax.set_xlabel("Predicted class")
        ax.set_ylabel("True class")
        if title:
            ax.set_title(f"{title} (share of each true class)" if normalize else title)
        if created:
            fig.tight_layout()
    mesh = ax.collections[0]
    cells = [t for t in ax.texts if t.get_text()]
    return Display("confusion_matrix", fig, [ax], data, mesh=mesh, cell_labels=cells)


def plot_set_sizes(
    sets=None,
    y_true=None,
    *,
    data: SetSizes | None = None,
    classes=None,
    show_coverage: bool = True,
    target: float | None = None,
    ax=None,
    title: str | None = "Prediction-set sizes",
    color: str | None = None,
) -> Display:
    """Bars for how many prediction sets hold 0, 1, ..., K classes; with labels, each size's coverage.

    Size 1 is a confident single answer, size K "could be anything", size 0 (LAC) "nothing
    plausible". With ``y_true`` each bar is labelled with its count and the share of those
    sets holding the true class; overall coverage and mean size go in the corner.

    Parameters
    ----------
    sets : boolean (n, K) array, optional
        From :meth:`confnb.conformal.ConformalClassifier.predict_sets`; or pass ``data=``.
    y_true : optional
        Labels of the rows, for coverage.
    data : SetSizes, optional
        From :func:`confnb.conformal.set_size_table`.
    classes : sequence, optional
        Class names (when ``y_true`` holds names).
    show_coverage : bool, default True
        Write each size's coverage under its count (needs labels).
    target : float, optional
        The promised coverage ``1 - alpha``, written beside the measured one.
    ax : matplotlib Axes, optional
    title, color : optional

    Returns
    -------
    Display
        ``data`` is the :class:`~confnb.conformal.SetSizes`; ``artists_["bars"]`` the bar
        container, ``artists_["bar_labels"]`` the texts above the bars.
    """
    if data is None:
        if sets is None:
            raise ValueError("pass sets (and optionally y_true), or data=set_size_table(...)")
        data = set_size_table(sets, y_true, classes=classes)
    elif not isinstance(data, SetSizes):
        raise ValueError("data must be a SetSizes from confnb.conformal.set_size_table")
    cover = data.coverage_by_size if show_coverage else None
    with use_style():
        fig, ax = new_axes(ax)
        bars = ax.bar(data.sizes, data.counts, width=0.7, color=color or STYLE["colors"]["main"],
                      edgecolor="white")
        labels = []
        for i, (size, count) in enumerate(zip(data.sizes, data.counts)):
            text = f"{count}"
            if cover is not None and count:
                text += f"\n{cover[i]:.0%} covered"
            labels.append(ax.annotate(text, (size, count), xytext=(0, 2), textcoords="offset points",
                                      ha="center", va="bottom", fontsize=7))
        ax.set_xticks(data.sizes)
        ax.set_xlabel("Classes in the prediction set")
        ax.set_ylabel("Rows")
        ax.set_ylim(0, max(1, int(data.counts.max())) * 1.45)
        note = [f"n = {data.n}", f"mean size {data.mean_size:.2f}"]
        if data.coverage is not None:
            note.insert(0, f"coverage {data.coverage:.1%}" + (f" (target {target:.{0 if round(target, 2) == target else 1}%})" if target else ""))
        ax.text(0.98, 0.97, "\n".join(note), transform=ax.transAxes, ha="right", va="top", fontsize=8)
        if title:
            ax.set_title(title)
    return Display("set_sizes", fig, [ax], data, bars=bars, bar_labels=labels)
