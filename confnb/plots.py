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

The charts live in modules by job, all re-exported here: :mod:`confnb.figures` (style,
:class:`Display`, :func:`percent_axis`, :func:`marker_areas`), :mod:`confnb.diagrams`
(histograms and reliability diagrams), :mod:`confnb.charts` (thresholds, sample size,
model comparisons) and :mod:`confnb.class_charts` (K classes: per-class reliability, confusion
matrix, prediction-set sizes).

Out of scope: interactive charts and styling beyond the one house style (seaborn draws only the
confusion-matrix heatmap of `confnb.class_charts`).
"""

from __future__ import annotations

from .charts import (plot_confidence_shift, plot_metric_comparison, plot_sample_size_ece,
                     plot_sample_size_progression, plot_threshold_chart)
from .class_charts import plot_class_reliability, plot_confusion_matrix, plot_set_sizes
from .diagrams import (Histogram, confidence_histogram, plot_confidence_histogram, plot_reliability_comparison,
                       plot_reliability_diagram)
from .figures import STYLE, Display, marker_areas, percent_axis, use_style
# importable from here before the split
from .metrics import Interval, ReliabilityTable, reliability_table  # noqa: F401
from .thresholds import DEFAULT_THRESHOLDS, ThresholdTable, threshold_table  # noqa: F401

__all__ = [
    "STYLE",
    "Display",
    "Histogram",
    "confidence_histogram",
    "marker_areas",
    "percent_axis",
    "plot_class_reliability",
    "plot_confidence_histogram",
    "plot_confidence_shift",
    "plot_confusion_matrix",
    "plot_metric_comparison",
    "plot_reliability_comparison",
    "plot_reliability_diagram",
    "plot_sample_size_ece",
    "plot_sample_size_progression",
    "plot_set_sizes",
    "plot_threshold_chart",
    "use_style",
]
