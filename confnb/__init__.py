"""confnb: trustworthy confidence scores from language-model classifications.

The names below cover the course's path: load a model, classify texts by total probability,
calibrate the scores on held-out labels, measure them, and pick thresholds. Plotting lives in
`confnb.plots` and fine-tuning in `confnb.finetune` (imported on demand: they pull in matplotlib and
peft).
"""

from .calibration import (
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
    reliability_table,
    roc_auc,
)
from .models import LanguageModel, load_model
from .scoring import classify, next_token_table
from .tasks import SENTIMENT, ClassificationTask
from .thresholds import choose_threshold, review_costs, threshold_table

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
    "expected_calibration_error",
    "load_calibrator",
    "load_model",
    "load_rotten_tomatoes",
    "load_sentiment",
    "log_loss",
    "make_calibrator",
    "next_token_table",
    "reliability_table",
    "review_costs",
    "roc_auc",
    "threshold_table",
]
