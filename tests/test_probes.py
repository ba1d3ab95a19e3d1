"""confnb.probes: counterfactual topic-swap probe and the topic-label relation (model-free)."""

import numpy as np
import pytest

from confnb.probes import counterfactual_texts, normalise_text, topic_relation, topic_shift

PAIRS = [("The {} starts at seven.", "match", "team meeting"),
         ("The {} is on Friday.", "relay race", "budget review")]


def test_counterfactual_texts_fill_each_frame_twice():
    a, b = counterfactual_texts(PAIRS)
    assert a == ["The match starts at seven.", "The relay race is on Friday."]
    assert b == ["The team meeting starts at seven.", "The budget review is on Friday."]


def test_counterfactual_texts_refuse_known_sentences_after_normalising():
    with pytest.raises(ValueError, match="known rows.*team meeting"):
        counterfactual_texts(PAIRS, known_texts=["the TEAM meeting starts at seven"])
    assert normalise_text("  It's   GOOD! ") == "its good"


@pytest.mark.parametrize("bad", [[("No slot here.", "a", "b")], [("Two {} {}.", "a", "b")], [("{}", "a")]])
def test_counterfactual_texts_reject_bad_frames(bad):
    with pytest.raises(ValueError, match="frame|pair"):
        counterfactual_texts(bad)


def test_topic_shift_sign_and_interval():
    gen = np.random.default_rng(0)
    base = gen.uniform(0.2, 0.8, 20)
    biased = topic_shift(np.clip(base + 0.3, 0, 1), base, n_boot=300)
    assert biased.mean.low > 0 and biased.n_positive == 20 and biased.n == 20
    neutral = topic_shift(base, base[::-1], n_boot=300)
    assert neutral.mean.low < 0 < neutral.mean.high
    assert "positive in 20 of 20 pairs" in str(biased)


def test_topic_shift_rejects_non_probabilities():
    with pytest.raises(ValueError, match="aligned"):
        topic_shift([0.5, 0.6], [0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        topic_shift([1.5], [0.5])


def test_topic_relation_follows_the_planted_bias():
    labels = ["positive", "positive", "negative", "negative", "positive"]
    topics = ["sports", "workplace", "workplace", "sports", "music"]
    assert topic_relation(labels, topics).tolist() == [
        "agrees", "contradicts", "agrees", "contradicts", "other topic"]
    flipped = topic_relation(labels, topics, planted={"positive": "music"})
    assert flipped.tolist() == ["other topic"] * 4 + ["agrees"]
