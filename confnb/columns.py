"""The columns of a scored table, named once.

`confnb.classify`, `confnb.files.score_file`, ``report`` and the command line all read and write these names; a
module that needs one imports it from here instead of typing the string. Out of scope: how the
values are computed (``distributions`` and ``scoring``) and how they are read back from a file
(``files``).
"""

from __future__ import annotations

PREDICTION = "prediction"
TOTAL_PROBABILITY = "total_probability"
P_POSITIVE = "p_positive"
MARGIN = "margin"
OTHER_MASS = "other_mass"
NO_CLASS_TOKEN = "no_class_token"
TOP_TOKEN = "top_token"
UNSEEN_MASS = "unseen_mass"
CORRECT = "correct"
CALIBRATED_PREDICTION = "calibrated_prediction"
CONFIDENCE = "confidence"
MASS_PREFIX = "mass_"
CALIBRATED_P_PREFIX = "calibrated_p_"
PREDICTION_SET = "prediction_set"
SET_SIZE = "set_size"

#: Every column that scoring or calibration writes (besides ``mass_<class>``), in output order.
SCORE_COLUMNS = (PREDICTION, TOTAL_PROBABILITY, P_POSITIVE, MARGIN, OTHER_MASS, NO_CLASS_TOKEN, TOP_TOKEN,
                 UNSEEN_MASS, CORRECT, CALIBRATED_PREDICTION, CONFIDENCE, PREDICTION_SET, SET_SIZE)

#: The score each calibration target reads: P(correct) from the total probability, P(positive) from p_positive.
TARGET_SCORE_COLUMN = {"confidence": TOTAL_PROBABILITY, "class": P_POSITIVE}


def mass_column(class_name: str) -> str:
    """The column holding a class's summed token probability.

    >>> mass_column("positive")
    'mass_positive'
    """
    return f"{MASS_PREFIX}{class_name}"


def is_score_column(name: str) -> bool:
    """Whether ``name`` is a column that scoring writes (so an input file must not already have it).

    >>> is_score_column("p_positive"), is_score_column("mass_negative"), is_score_column("label")
    (True, True, False)

    A K-class task also writes ``p_<class>`` for each of its classes: check those names against the
    task's classes (``files`` does).
    """
    return name in SCORE_COLUMNS or name.startswith((MASS_PREFIX, CALIBRATED_P_PREFIX))
