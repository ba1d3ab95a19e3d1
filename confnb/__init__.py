"""confnb: trustworthy confidence scores from language-model classifications.

The names below cover the course's path: load a model, classify texts by total probability,
calibrate the scores on held-out labels, measure them, and pick thresholds. Plotting lives in
`confnb.plots` and fine-tuning in `confnb.finetune` (imported on demand: they pull in matplotlib and
peft).
"""

from ._notices import silence_known_notices

silence_known_notices()  # before anything can import bitsandbytes

from .calibration import (  # noqa: E402
    ContextualCalibrator,
    IsotonicCalibrator,
    PlattCalibrator,
    TemperatureCalibrator,
    cross_calibrate,
    load_calibrator,
    make_calibrator,
)
from .data import load_rotten_tomatoes, load_sentiment
from .metrics import (
    bootstrap_ci,
    brier_score,
    expected_calibration_error,
    log_loss,
    paired_bootstrap_difference,
    reliability_table,
    roc_auc,
)
from .models import LanguageModel, load_model
from .scoring import classify, next_token_table
from .tasks import SENTIMENT, ClassificationTask
from .sampling import sample_size_curve, smallest_sufficient_size, split_rows
from .thresholds import choose_threshold, decision_summary, review_costs, threshold_table

__version__ = "0.1.0"

__all__ = [
    "SENTIMENT",
    "ClassificationTask",
    "ContextualCalibrator",
    "IsotonicCalibrator",
    "LanguageModel",
    "PlattCalibrator",
    "TemperatureCalibrator",
    "bootstrap_ci",
    "brier_score",
    "choose_threshold",
    "classify",
    "cross_calibrate",
    "decision_summary",
    "expected_calibration_error",
    "load_calibrator",
    "load_model",
    "load_rotten_tomatoes",
    "load_sentiment",
    "log_loss",
    "make_calibrator",
    "next_token_table",
    "paired_bootstrap_difference",
    "reliability_table",
    "review_costs",
    "roc_auc",
    "sample_size_curve",
    "smallest_sufficient_size",
    "split_rows",
    "threshold_table",
]
