"""Tasks with K classes and multi-token answers: the trie, the prefix rules and exact scoring."""

from __future__ import annotations

import numpy as np
import pytest

import confnb
from confnb.batching import VerbalizerTrie, prompt_ids
from confnb.distributions import score_distribution
from confnb.tasks import SENTIMENT, ClassificationTask

TOPICS = ClassificationTask(
    "What is the topic of this request?",
    {
        "card arrival": ["card arrival", "card delivery"],
        "card linking": ["card linking"],
        "balance": ["balance", "account balance"],
        "weather": ["weather", "Weather"],
    },
    template="Request: {text}\nTopic:",
    name="topics",
)
TEXTS = ["Where is my new card?", "How much money do I have?", "Will it rain tomorrow in Paris?",
         "link my card to the app please", "hello"]


def test_trie_shares_first_tokens_and_reads_each_answer_token_once():
    trie = VerbalizerTrie.build([(1, 2), (1, 3), (1, 3, 4), (5, 6)])
    assert trie.tokens == (1, 3, 5) and trie.parents == (-1, 0, -1) and trie.depths == (1, 2, 1)
    assert trie.steps[2] == ((-1, 1), (0, 3), (1, 4))
    allowed = trie.ancestry().numpy()
    assert allowed.tolist() == [[True, False, False], [True, True, False], [False, False, True]]
    with pytest.raises(ValueError, match="two or more tokens"):
        VerbalizerTrie.build([(7,)])


def test_multi_token_mass_and_the_greedy_rule():
    # vocabulary of 6; class a: token 0 and answer (1, 2); class b: answer (1, 3); class c: token 4
    lp = np.log(np.array([[0.05, 0.60, 1e-300, 1e-300, 0.30, 0.05]]))
    answers = {"a": ([1], np.log([[0.60 * 0.5]])), "b": ([1], np.log([[0.60 * 0.4]]))}
    out = score_distribution(lp, {"a": [0], "b": [], "c": [4]}, sequences=answers)
    assert out["mass_a"][0] == pytest.approx(0.35) and out["mass_b"][0] == pytest.approx(0.24)
    # the top token (1) starts answers of two classes: the largest mass decides
    assert out["prediction"][0] == "a" and out["total_probability"][0] == pytest.approx(0.35)
    shares = np.array([out[f"p_{c}"][0] for c in "abc"])
    assert shares.sum() == pytest.approx(1.0) and shares[0] == pytest.approx(0.35 / 0.89)
    assert "p_positive" not in out and "margin" not in out
    assert out["other_mass"][0] == pytest.approx(1 - 0.89)


def test_within_a_class_the_shorter_answer_is_kept_and_across_classes_a_prefix_is_refused(lm):
    with pytest.warns(confnb.MultiTokenVariantWarning, match="card arrival"):
        res = ClassificationTask("Q?", {"a": ["card", "card arrival"], "b": ["balance"]}).resolve(lm)
    assert res.skipped["a"] == ["card arrival", " card arrival"] and not res.sequences["a"]
    with pytest.raises(ValueError, match="'card' of class 'a'.*prefix of 'card arrival' of class 'b'"):
        ClassificationTask("Q?", {"a": ["card"], "b": ["card arrival"]}).resolve(lm)
    with pytest.raises(ValueError, match="stands for both"):
        ClassificationTask("Q?", {"a": ["Yes"], "b": ["Yes"]}).resolve(lm)


def test_bad_labels_are_refused_early():
    with pytest.raises(TypeError, match="list of verbalizers"):
        ClassificationTask("Q?", {"a": "yes", "b": ["no"]})
    with pytest.raises(ValueError, match="must not contain"):
        ClassificationTask("Q?", {"a|b": ["yes"], "c": ["no"]})
    with pytest.raises(ValueError, match="non-empty variant"):
        ClassificationTask("Q?", {"a": [" "], "b": ["no"]})


def _answer_logprob(lm, prompt: str, ids) -> float:
    """One plain forward pass over prompt + answer: the sum of the answer tokens' log-probs."""
    import torch

    p = prompt_ids(lm.tokenizer, prompt)
    with torch.inference_mode():
        lp = torch.log_softmax(lm.model(input_ids=torch.tensor([p + list(ids)])).logits[0].double(), -1)
    return sum(float(lp[len(p) - 1 + k, t]) for k, t in enumerate(ids))


def test_multi_token_answers_are_scored_exactly(lm):
    scores = confnb.classify(lm, TEXTS, TOPICS, batch_size=3)
    answers = TOPICS.verbalizer_ids(lm)
    assert any(len(ids) > 1 for pairs in answers.values() for _, ids in pairs)
    for r, text in enumerate(TEXTS):
        prompt = TOPICS.prompt(text, lm)
        for c, pairs in answers.items():
            expected = np.log(np.exp([_answer_logprob(lm, prompt, ids) for _, ids in pairs]).sum())
            assert np.log(scores.loc[r, f"mass_{c}"]) == pytest.approx(expected, abs=1e-4), (text, c)
    shares = scores[[f"p_{c}" for c in TOPICS.class_names]].to_numpy()
    assert np.allclose(shares.sum(axis=1), 1.0)
    best = np.array(TOPICS.class_names)[shares.argmax(axis=1)]
    assert list(scores.columns[:3]) == ["text", "prediction", "total_probability"]
    assert (scores["prediction"].isin(TOPICS.class_names)).all() and len(best) == len(TEXTS)


def test_binary_sentiment_has_no_multi_token_answers_for_this_tokenizer(lm):
    # SmolLM2 spells YES as Y + ES: Y is kept, YES is covered by it, so the numbers stay single-token
    res = SENTIMENT.resolved(lm)
    assert not res.multi_token and res.skipped["positive"]
    scores = confnb.classify(lm, TEXTS[:2])
    assert {"p_positive", "margin"} <= set(scores.columns) and "p_negative" not in scores.columns
