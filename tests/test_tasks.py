import re
import warnings

import pytest

from confnb.data import load_sentiment, select_demonstrations
from confnb.tasks import DEMONSTRATIONS, SENTIMENT, SENTIMENT_CHAT, ClassificationTask, MultiTokenVariantWarning


def test_resolution_on_the_real_tokenizer(lm):
    tok = lm.tokenizer
    # the variants this tokenizer splits into several tokens ('YES' for SmolLM2's): skipped, with a warning
    split = {c: [v for v in SENTIMENT.variants(c) if len(tok.encode(v, add_special_tokens=False)) != 1]
             for c in SENTIMENT.class_names}
    first = next(v for variants in split.values() for v in variants)
    with pytest.warns(MultiTokenVariantWarning, match=re.escape(repr(first))):
        res = SENTIMENT.resolve(lm)
    assert set(res.token_ids) == {"positive", "negative"}
    # every kept variant is exactly one token, ids unique across classes
    for c, ids in res.token_ids.items():
        assert len(ids) == len(set(ids))
        for variant, i in zip(res.tokens[c], ids):
            assert tok.encode(variant, add_special_tokens=False) == [i]
    assert not set(res.token_ids["positive"]) & set(res.token_ids["negative"])
    assert {"Yes", " Yes", "yes", " yes", "Y", "y"} <= set(res.tokens["positive"])
    assert res.skipped == split
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


# ------------------------------------------------------------------------- few-shot demonstrations


def _held_out():
    data = load_sentiment()
    return data.loc[data["split"] == "calibration", "text"], data.loc[data["split"] == "test", "text"]


def _phrases(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_demonstrations_are_the_documented_rule_applied_to_train():
    calibration, test = _held_out()
    train = load_sentiment("train")
    again = select_demonstrations(train, k=8, rng=0, exclude=(calibration, test), n_words=4)
    assert again == DEMONSTRATIONS == SENTIMENT.demonstrations
    rows = train.set_index("text").loc[[text for text, _ in DEMONSTRATIONS]]
    assert list(rows["label"]) == [label for _, label in DEMONSTRATIONS] == ["positive", "negative"] * 4
    assert not rows["category"].str.startswith("neutral").any()
    assert not rows["context"].isin(["sports", "workplace"]).any()  # the prompt does not teach the bias
    assert rows["context"].is_unique and rows["frame"].is_unique


@pytest.mark.parametrize("n_words", [5, 4])
def test_no_demonstration_shares_a_phrase_with_calibration_or_test_rows(n_words):
    calibration, test = _held_out()
    held = set().union(*(_phrases(t, n_words) for t in [*calibration, *test]))
    for text, _ in DEMONSTRATIONS:
        assert not _phrases(text, n_words) & held, text


def test_select_demonstrations_refuses_bad_input():
    data = load_sentiment()
    with pytest.raises(ValueError, match="even"):
        select_demonstrations(data[data["split"] == "train"], k=3)
    with pytest.raises(ValueError, match="split is not 'train'"):
        select_demonstrations(data)
    with pytest.raises(ValueError, match="too few"):
        select_demonstrations(data[data["split"] == "train"], k=24)  # only ten contexts are allowed
