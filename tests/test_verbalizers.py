"""Choosing verbalizers by measurement, and first-token scoring (confnb.verbalizers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import confnb
from confnb.verbalizers import (answer_sequences, candidate_masses, choose_verbalizers, first_token_masses,
                                verbalizer_lift)


# ------------------------------------------------------------------------------------------- unit


def test_lift_is_own_minus_other_mean_log_probability():
    masses = pd.DataFrame({"x": [0.5, 0.25, 0.1, 0.1, 0.2], "y": [0.1, 0.1, 0.3, 0.3, 0.3]})
    labels = ["a", "a", "b", "b", "b"]
    table = verbalizer_lift(masses, labels, {"a": ["x"], "b": ["y"]})
    x = np.log([0.5, 0.25]).mean() - np.log([0.1, 0.1, 0.2]).mean()
    y = np.log([0.3, 0.3, 0.3]).mean() - np.log([0.1, 0.1]).mean()
    assert table.set_index("candidate")["lift"].to_dict() == pytest.approx({"x": x, "y": y})


def test_lift_floors_zero_probabilities_and_sorts_best_first():
    masses = pd.DataFrame({"p": [0.0, 0.0, 0.5], "q": [0.5, 0.4, 0.1]})
    table = verbalizer_lift(masses, ["a", "a", "b"], {"a": ["p", "q"]})
    assert table["candidate"].tolist() == ["q", "p"]
    assert np.isfinite(table["lift"]).all()


def test_lift_rejects_mismatched_labels_and_a_class_without_rows():
    masses = pd.DataFrame({"p": [0.1, 0.2]})
    with pytest.raises(ValueError, match="labels"):
        verbalizer_lift(masses, ["a"], {"a": ["p"]})
    with pytest.raises(ValueError, match="rows of its own"):
        verbalizer_lift(masses, ["b", "b"], {"a": ["p"]})


def test_choose_takes_classes_by_best_lift_and_skips_clashes():
    lift = pd.DataFrame({"class": ["a", "a", "a", "b", "b", "c"],
                         "candidate": ["lights", "lamp", "light", "lights off", "dark", "rain"],
                         "lift": [1.0, 0.9, 0.2, 3.0, 0.1, 2.0]})
    chosen = choose_verbalizers(lift, per_class=2)
    assert list(chosen) == ["b", "c", "a"]
    assert chosen == {"b": ["lights off", "dark"], "c": ["rain"], "a": ["lamp"]}
    assert choose_verbalizers(lift, n_classes=1) == {"b": ["lights off"]}


def test_choose_uses_the_given_token_sequences():
    lift = pd.DataFrame({"class": ["a", "b"], "candidate": ["one", "two"], "lift": [1.0, 2.0]})
    same = {"one": [(7, 8)], "two": [(7,)]}  # "two" is a token prefix of "one"
    assert choose_verbalizers(lift, tokenize=same.__getitem__) == {"b": ["two"]}
    with pytest.raises(ValueError):
        choose_verbalizers(lift, per_class=0)


# ------------------------------------------------------------------------------------------ model

TASK = confnb.ClassificationTask(
    "What should the assistant do with the lights?",
    {"off": ["lights off"], "on": ["lights on"], "dim": ["dimmer"]},
    template="Request: {text}\nAction:", name="lights-test")
TEXTS = ["turn the lights off please", "switch on the kitchen lights", "make it a bit darker in here"]


def test_candidate_masses_equal_classify_masses(lm):
    masses = candidate_masses(lm, TEXTS, TASK, ["lights off", "lights on", "dimmer", "lights"])
    scored = confnb.classify(lm, TEXTS, TASK)
    for c, name in (("off", "lights off"), ("on", "lights on"), ("dim", "dimmer")):
        np.testing.assert_allclose(masses[name], scored[f"mass_{c}"], rtol=1e-4)
    # " lights" starts two other candidates: scored apart from them, it holds at least their sum
    assert (masses["lights"] >= masses["lights off"] + masses["lights on"] - 1e-9).all()


def test_answer_sequences_give_both_space_forms(lm):
    seqs = answer_sequences(lm, "lights off")
    assert len(seqs) == 2 and all(len(s) >= 2 for s in seqs)
    assert answer_sequences(lm, "lights off", leading_space=False) == [seqs[0]]


def test_first_token_masses_tie_classes_that_share_a_first_token(lm):
    first = first_token_masses(lm, TEXTS, TASK)
    np.testing.assert_allclose(first["mass_off"], first["mass_on"])
    assert first["tied"].sum() >= 1 and set(first["prediction"]) <= {"off", "dim"}
    exact = confnb.classify(lm, TEXTS, TASK)
    assert not np.allclose(exact["mass_off"], exact["mass_on"])
