import dataclasses

import numpy as np
import pandas as pd
import pytest

import confnb
from confnb.batching import PromptEncoder, prompt_ids
from confnb.distributions import from_top_k, score_next_tokens
from confnb.scoring import next_token_logprobs, score_distribution
from confnb.tasks import SENTIMENT, SENTIMENT_CHAT, SENTIMENT_ZERO_SHOT

TEXTS = [
    "I love this movie!",
    "Best worst thing ever",
    "Not bad",
    "The meeting was scheduled for Thursday afternoon in the conference room.",
    "Boxing practice sessions are sorted today.",
    "This is terrible!",
    "Could be better",
]


def _distribution(probs: dict[int, float], n_vocab: int = 50) -> np.ndarray:
    rest = (1.0 - sum(probs.values())) / (n_vocab - len(probs))
    p = np.full(n_vocab, rest)
    for i, v in probs.items():
        p[i] = v
    return np.log(p)


def test_not_bad_arithmetic_from_the_article():
    # yes 40.68, Yes 37.62, YES 0.01, y 0.00, Y 0.00 | no 13.63, No 8.01
    lp = _distribution({0: 0.4068, 1: 0.3762, 2: 0.0001, 3: 1e-6, 4: 1e-6, 5: 0.1363, 6: 0.0801})
    out = score_distribution(lp, {"positive": [0, 1, 2, 3, 4], "negative": [5, 6]})
    assert out["prediction"][0] == "positive"
    assert round(100 * out["total_probability"][0], 2) == 78.31
    pos, neg = out["mass_positive"][0], out["mass_negative"][0]
    assert out["p_positive"][0] == pytest.approx(pos / (pos + neg))
    assert out["margin"][0] == pytest.approx(np.log(pos) - np.log(neg))
    assert out["other_mass"][0] == pytest.approx(1 - pos - neg, abs=1e-6)


def test_top_token_decides_the_prediction_even_against_the_larger_mass():
    # the top token is a negative one, but the positive variants together weigh more
    lp = _distribution({0: 0.2, 1: 0.2, 2: 0.3, 9: 0.3})
    out = score_distribution(lp, {"positive": [0, 1], "negative": [2]})
    assert out["prediction"][0] == "negative"
    assert out["total_probability"][0] == pytest.approx(0.3, abs=1e-6)
    # when the top token is no class token, the larger class mass decides
    lp = _distribution({0: 0.2, 1: 0.15, 2: 0.1, 9: 0.55})
    out = score_distribution(lp, {"positive": [0, 1], "negative": [2]})
    assert out["prediction"][0] == "positive"
    assert out["total_probability"][0] == pytest.approx(0.35, abs=1e-6)


def _remote_row(top: dict) -> dict:
    """The row a top-k server's answer `top` gives for SENTIMENT."""
    variants = {c: SENTIMENT.variants(c) for c in SENTIMENT.class_names}
    (row,) = score_next_tokens(from_top_k(top, variants), positive_class=SENTIMENT.positive_class)
    return row


def test_remote_rule_is_the_local_rule_on_the_visible_tokens():
    # the server shows 60% of the mass; the unseen 40% is larger than any visible token, the most
    # likely visible token is " No", and the positive variants together outweigh it
    top = {" Yes": np.log(0.20), " yes": np.log(0.15), " No": np.log(0.25)}
    row = _remote_row(top)
    local = score_distribution(np.array(list(top.values())), {"positive": [0, 1], "negative": [2]})
    assert row["prediction"] == local["prediction"][0] == "negative"
    assert row["total_probability"] == pytest.approx(local["total_probability"][0]) == pytest.approx(0.25)
    assert row["p_positive"] == pytest.approx(local["p_positive"][0]) == pytest.approx(0.35 / 0.60)
    assert row["margin"] == pytest.approx(local["margin"][0])
    assert row["unseen_mass"] == pytest.approx(0.40) and row["other_mass"] == pytest.approx(0.40)
    assert row["top_token"] == " No" and row["no_class_token"] is False


def test_remote_row_without_a_visible_class_token_has_no_prediction():
    row = _remote_row({" Maybe": np.log(0.5), " Hmm": np.log(0.3)})
    assert row["no_class_token"] is True and row["prediction"] is None
    assert np.isnan(row["total_probability"]) and np.isnan(row["p_positive"]) and np.isnan(row["margin"])
    assert row["mass_positive"] == 0.0 and row["mass_negative"] == 0.0 and row["other_mass"] == 1.0
    assert row["top_token"] == " Maybe" and row["unseen_mass"] == pytest.approx(0.2)
    # one visible class token is enough for a prediction
    row = _remote_row({" Maybe": np.log(0.5), "no": np.log(0.1)})
    assert row["no_class_token"] is False and row["prediction"] == "negative"
    assert row["p_positive"] == 0.0 and row["total_probability"] == pytest.approx(0.1)


def _one_at_a_time(lm, prompt: str) -> np.ndarray:
    """Log-softmax after the whole prompt in one plain forward pass: no prefix cache, no padding."""
    import torch

    with torch.inference_mode():
        logits = lm.model(input_ids=torch.tensor([prompt_ids(lm.tokenizer, prompt)])).logits[0, -1]
    return torch.log_softmax(logits.double(), dim=-1).numpy()


@pytest.mark.parametrize("task", [SENTIMENT, SENTIMENT_ZERO_SHOT, SENTIMENT_CHAT], ids=lambda t: t.name)
def test_batched_equals_one_text_at_a_time(lm, task):
    batched = next_token_logprobs(lm, TEXTS, task, batch_size=4)
    single = np.stack([_one_at_a_time(lm, task.prompt(t, lm)) for t in TEXTS])
    assert batched.shape == single.shape
    assert np.abs(batched - single).max() < 1e-4


def test_prefix_split_does_not_change_tokenization(lm):
    enc = PromptEncoder(lm, SENTIMENT)
    for t in TEXTS:
        full = lm.tokenizer(SENTIMENT.prompt(t, lm), add_special_tokens=True)["input_ids"]
        assert enc.prefix_ids + enc.suffix_ids(t) == full


def test_classify_columns_order_and_consistency(lm):
    df = confnb.classify(lm, TEXTS, batch_size=3)
    assert list(df["text"]) == TEXTS
    for col in ["prediction", "total_probability", "p_positive", "margin", "mass_positive", "mass_negative", "other_mass", "no_class_token", "top_token"]:
        assert col in df
    assert df["no_class_token"].dtype == bool and not df["no_class_token"].any()
    assert set(df["prediction"]) <= {"positive", "negative"}
    masses = df[["mass_positive", "mass_negative"]].to_numpy()
    assert np.allclose(masses.sum(1) + df["other_mass"], 1, atol=1e-6)
    chosen = np.where(df["prediction"] == "positive", df["mass_positive"], df["mass_negative"])
    assert np.allclose(df["total_probability"], chosen)
    # the same texts one by one give the same rows
    again = pd.concat([confnb.classify(lm, [t]) for t in TEXTS[:3]], ignore_index=True)
    assert np.allclose(again["p_positive"], df["p_positive"][:3], atol=1e-5)


def test_score_cache_round_trip(lm, tmp_path):
    db = tmp_path / "scores.sqlite"
    first = confnb.classify(lm, TEXTS[:4], cache=db)
    assert db.exists()
    second = confnb.classify(lm, TEXTS[:4] + TEXTS[:2], cache=db)
    pd.testing.assert_frame_equal(second.iloc[:4].reset_index(drop=True), first, check_exact=False, atol=1e-12)
    assert list(second["text"]) == TEXTS[:4] + TEXTS[:2]


def test_score_cache_is_keyed_by_the_setup(lm, tmp_path):
    import sqlite3

    db = tmp_path / "scores.sqlite"
    confnb.classify(lm, TEXTS[:2], cache=db)
    confnb.classify(dataclasses.replace(lm, max_length=600), TEXTS[:2], cache=db)
    confnb.classify(dataclasses.replace(lm, dtype="bfloat16"), TEXTS[:2], cache=db)  # as if on a GPU
    with sqlite3.connect(db) as con:
        keys = con.execute("SELECT COUNT(DISTINCT model), COUNT(*) FROM scores").fetchone()
    assert keys == (3, 6)  # none of the three setups was served another's rows


def test_smollm2_prompt_ids_are_unchanged(lm):
    from confnb.scoring import prompt_ids

    for task in (SENTIMENT, SENTIMENT_CHAT):
        prompt = task.prompt("Not bad", lm)
        assert prompt_ids(lm.tokenizer, prompt) == lm.tokenizer(prompt, add_special_tokens=True)["input_ids"]


def test_bad_texts_are_named(lm):
    with pytest.raises(ValueError, match=r"texts\[1\] is empty"):
        confnb.classify(lm, ["fine", "   "])
    with pytest.raises(TypeError, match="single string"):
        confnb.classify(lm, "a string")


def test_too_long_text_is_truncated_with_a_warning(lm):
    short = dataclasses.replace(lm, max_length=400)  # same weights, a short context for speed
    long_text = "very " * 600 + "good"
    with pytest.warns(UserWarning, match="1 text\\(s\\) were longer"):
        df = confnb.classify(short, [long_text, "fine"])
    assert len(df) == 2 and df["text"][0] == long_text
    with pytest.raises(ValueError, match="prompt without the text is already"):
        confnb.classify(dataclasses.replace(lm, max_length=64), ["fine"])


def test_next_token_table(lm):
    table = confnb.next_token_table(lm, "Knock knock.", k=12)
    assert list(table.columns) == ["rank", "token", "token_id", "logprob", "probability", "percent"]
    assert len(table) == 12 and table["probability"].is_monotonic_decreasing
    assert np.allclose(table["percent"], 100 * np.exp(table["logprob"]))
    assert not any(" " in t for t in table["token"])  # whitespace made visible
    chat = confnb.next_token_table(lm, "Knock knock.", k=5, chat=True)
    assert len(chat) == 5
