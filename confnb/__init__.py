"""confnb: trustworthy confidence scores from language-model classifications.

The names below are what the course's notebooks and the README use: load a model, classify texts by
total probability, calibrate the scores on held-out labels, measure them with honest intervals, pick
thresholds and review tiers, study sample size, fine-tune with LoRA and check a model on real data.
Plotting lives in `confnb.plots` (it imports matplotlib on demand), K-class metrics in `confnb.multiclass`; the course's
setup helpers in `confnb.course`. ``README.md`` has a module map.
"""

from ._notices import silence_known_notices

silence_known_notices()  # before anything can import bitsandbytes

from ._version import __version__
from .calibration import (
    ContextualCalibrator,
    IsotonicCalibrator,
    PlattCalibrator,
    TemperatureCalibrator,
    cross_calibrate,
    load_calibrator,
    make_calibrator,
)
from .comparison import CONFIDENCE_METHODS, calibrated_outcomes
from .conformal import ConformalClassifier, coverage, set_size_table, sets_to_labels
from .data import load_intents, load_rotten_tomatoes, load_sentiment
from .draws import random_draw, split_rows
from .finetune import FineTuneConfig, carve_validation, finetune
from .identity import cache_dir
from .adapters import read_adapter_info
from .inspection import most_uncertain, token_rank, top_k_scores
from .intervals import (
    bootstrap_ci,
    clopper_pearson_lower,
    paired_bootstrap_difference,
    paired_model_difference,
    wilson_interval,
)
from .metrics import (
    accuracy,
    brier_score,
    expected_calibration_error,
    log_loss,
    reliability_table,
    roc_auc,
    share_correct,
)
from .models import LanguageModel, load_model
from .predictions import class_to_confidence
from .probes import counterfactual_texts, normalise_text, topic_relation, topic_shift
from .review import review_costs, tier_table
from .sampling import sample_size_curve, smallest_sufficient_size
from .scaling import TemperatureScaler, VectorScaler
from .scoring import classify, next_token_logprobs, next_token_table, visible
from .shift import domain_differences, domain_metrics, metrics_frame, scored_rows, shift_gap, threshold_transfer
from .shortcuts import has_word, probe_summary, shortcut_probe, shortcut_words
from .task_files import load_task
from .tasks import SENTIMENT, SENTIMENT_CHAT, SENTIMENT_ZERO_SHOT, ClassificationTask, MultiTokenVariantWarning
from .thresholds import DEFAULT_THRESHOLDS, choose_threshold, decision_summary, threshold_table
from .verbalizers import candidate_masses, choose_verbalizers, first_token_masses, verbalizer_lift

__all__ = [
    "__version__",
    # models and scoring
    "LanguageModel",
    "cache_dir",
    "classify",
    "load_model",
    "next_token_logprobs",
    "next_token_table",
    "read_adapter_info",
    "visible",
    # tasks and data
    "SENTIMENT",
    "SENTIMENT_CHAT",
    "SENTIMENT_ZERO_SHOT",
    "ClassificationTask",
    "MultiTokenVariantWarning",
    "load_task",
    "load_intents",
    "load_rotten_tomatoes",
    "load_sentiment",
    # looking inside scores
    "most_uncertain",
    "token_rank",
    "top_k_scores",
    # calibration
    "ContextualCalibrator",
    "IsotonicCalibrator",
    "PlattCalibrator",
    "TemperatureCalibrator",
    "class_to_confidence",
    "cross_calibrate",
    "load_calibrator",
    "make_calibrator",
    # metrics and intervals
    "accuracy",
    "bootstrap_ci",
    "brier_score",
    "clopper_pearson_lower",
    "expected_calibration_error",
    "log_loss",
    "paired_bootstrap_difference",
    "paired_model_difference",
    "reliability_table",
    "roc_auc",
    "share_correct",
    "wilson_interval",
    # comparing confidence methods
    "CONFIDENCE_METHODS",
    "calibrated_outcomes",
    # thresholds and review
    "DEFAULT_THRESHOLDS",
    "choose_threshold",
    "decision_summary",
    "review_costs",
    "threshold_table",
    "tier_table",
    # sample size
    "random_draw",
    "sample_size_curve",
    "smallest_sufficient_size",
    "split_rows",
    # fine-tuning and probes
    "FineTuneConfig",
    "carve_validation",
    "counterfactual_texts",
    "finetune",
    "normalise_text",
    "topic_relation",
    "topic_shift",
    # real data: shift and shortcuts
    "domain_differences",
    "domain_metrics",
    "has_word",
    "metrics_frame",
    "probe_summary",
    "scored_rows",
    "shift_gap",
    "shortcut_probe",
    "shortcut_words",
    "threshold_transfer",
    # many classes: answers, scaling, prediction sets (metrics: confnb.multiclass)
    "ConformalClassifier",
    "TemperatureScaler",
    "VectorScaler",
    "candidate_masses",
    "choose_verbalizers",
    "coverage",
    "first_token_masses",
    "set_size_table",
    "sets_to_labels",
    "verbalizer_lift",
]
