import warnings

import pytest

from confnb.tasks import SENTIMENT, SENTIMENT_CHAT, ClassificationTask, MultiTokenVariantWarning


def test_resolution_on_the_real_tokenizer(lm):
    with pytest.warns(MultiTokenVariantWarning, match="'YES'"):
        res = SENTIMENT.resolve(lm)
    tok = lm.tokenizer
    assert set(res.token_ids) == {"positive", "negative"}
    # every kept variant is exactly one token, ids unique across classes
    for c, ids in res.token_ids.items():
        assert len(ids) == len(set(ids))
        for variant, i in zip(res.tokens[c], ids):
            assert tok.encode(variant, add_special_tokens=False) == [i]
    assert not set(res.token_ids["positive"]) & set(res.token_ids["negative"])
    assert {"Yes", " Yes", "yes", " yes", "Y", "y"} <= set(res.tokens["positive"])
    assert "YES" in res.skipped["positive"]  # two tokens for SmolLM2's tokenizer
    assert SENTIMENT.token_ids(lm) == res.token_ids


def test_duplicate_ids_are_collapsed_and_clashes_rejected(lm):
    task = ClassificationTask("Q?", {"a": ["Yes", "Yes", " Yes"], "b": ["No"]}, leading_space=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(task.token_ids(lm)["a"]) == 2
    clash = ClassificationTask("Q?", {"a": ["Yes"], "b": ["Yes"]})
    with pytest.raises(ValueError, match="stands for both"):
        clash.token_ids(lm)


def test_prompt_is_the_exact_string_and_split_keeps_the_space(lm):
    text = "I love this movie!"
    prompt = SENTIMENT.prompt(text, lm)
    prefix, suffix = SENTIMENT.split(lm)
    assert prefix + suffix.format(text=text) == prompt
    assert suffix.startswith(" {text}")
    chat_prefix, chat_suffix = SENTIMENT_CHAT.split(lm)
    assert chat_prefix + chat_suffix.format(text=text) == SENTIMENT_CHAT.prompt(text, lm)
    assert chat_suffix.endswith("assistant\n")


def test_bad_task_definitions():
    with pytest.raises(ValueError, match="two classes"):
        ClassificationTask("Q?", {"a": ["Yes"]})
    with pytest.raises(ValueError, match="{text}"):
        ClassificationTask("Q?", {"a": ["Yes"], "b": ["No"]}, template="no placeholder")
    with pytest.raises(ValueError, match="demonstration class"):
        ClassificationTask("Q?", {"a": ["Yes"], "b": ["No"]}, demonstrations=[("x", "c")])


def test_task_round_trips_through_dict():
    again = ClassificationTask.from_dict(SENTIMENT.to_dict())
    assert again == SENTIMENT and again.key == SENTIMENT.key
    assert SENTIMENT_CHAT.key != SENTIMENT.key
