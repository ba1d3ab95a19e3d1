"""Exactly one BOS token at the start of every encoded prompt, also after a chat template that writes it.

Gemma 3's chat template renders ``<bos>`` itself; tokenizing that text again with the tokenizer's
special tokens used to start every chat prompt with two BOS tokens. The Gemma-3-270m tokenizer is
read from the GGUF file of the ``gemma-3-270m`` preset (no weights are loaded). That GGUF is the base
model and carries no chat template, so the instruction-tuned checkpoints' template (from their
tokenizer_config.json) is set on it, as loading ``google/gemma-3-270m-it`` from the hub would give.
"""

from __future__ import annotations

import importlib.util

import pytest

from confnb import identity, models
from confnb.models import LanguageModel
from confnb.batching import PromptEncoder, prompt_ids
from confnb.tasks import SENTIMENT, SENTIMENT_CHAT

pytestmark = pytest.mark.model  # Gemma's real tokenizer: converting it from the GGUF takes ~45 s the first time

TEXTS = ["I love this movie!", "Could be better"]

#: The chat template of the Gemma 3 instruction-tuned checkpoints (image items left out).
GEMMA3_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    "{%- set first_user_prefix = '' -%}"
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{%- endif -%}"
    "{%- if (message['role'] == 'assistant') -%}{%- set role = 'model' -%}"
    "{%- else -%}{%- set role = message['role'] -%}{%- endif -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
    "{{ message['content'] | trim }}"
    "{{ '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)


@pytest.fixture(scope="module")
def gemma():
    """A LanguageModel holding only Gemma-3-270m's real tokenizer (no weights: nothing here runs one)."""
    if importlib.util.find_spec(models.PRESETS["gemma-3-270m"]["package"]) is None:
        pytest.skip(f"gemma-3-270m is not installed ({models.PRESETS['gemma-3-270m']['pip']}; make setup installs it)")
    from transformers import AutoTokenizer

    path = models.preset_path("gemma-3-270m")
    saved = models.cache_dir() / "tokenizers" / identity.file_key(path)  # converting the GGUF's takes ~45 s
    with models.quiet_transformers():
        if not (saved / "tokenizer.json").exists():
            AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name).save_pretrained(saved)
        tokenizer = AutoTokenizer.from_pretrained(str(saved))
    assert tokenizer.bos_token == "<bos>" and tokenizer.bos_token_id == tokenizer.convert_tokens_to_ids("<bos>")
    tokenizer.chat_template = GEMMA3_CHAT_TEMPLATE
    return LanguageModel(model=None, tokenizer=tokenizer, name="gemma-3-270m", device="cpu", dtype="float32",
                         has_chat_template=True, max_length=2048)


def _one_bos(ids, bos_id: int) -> bool:
    return list(ids[:2]).count(bos_id) == 1 and ids[0] == bos_id


@pytest.mark.parametrize("task", [SENTIMENT, SENTIMENT_CHAT], ids=lambda t: t.name)
def test_scoring_prompts_start_with_one_bos(gemma, task):
    bos = gemma.tokenizer.bos_token_id
    if task.chat:
        assert task.prompt("x", gemma).startswith("<bos>")  # the template writes it
    encoder = PromptEncoder(gemma, task)
    assert _one_bos(encoder.prefix_ids, bos)
    for text in TEXTS:
        assert (encoder.prefix_ids + encoder.suffix_ids(text)).count(bos) == 1


def test_next_token_table_prompt_starts_with_one_bos(gemma):
    bos = gemma.tokenizer.bos_token_id
    chat = gemma.tokenizer.apply_chat_template(
        [{"role": "user", "content": "Knock knock."}], tokenize=False, add_generation_prompt=True
    )
    for prompt in (chat, "Knock knock."):  # next_token_table(chat=True) and (chat=False)
        ids = prompt_ids(gemma.tokenizer, prompt)
        assert _one_bos(ids, bos) and ids.count(bos) == 1


@pytest.mark.parametrize("task", [SENTIMENT, SENTIMENT_CHAT], ids=lambda t: t.name)
def test_finetuning_examples_start_with_one_bos(gemma, task):
    from confnb.finetune import answer_ids, encode_examples

    bos = gemma.tokenizer.bos_token_id
    examples = encode_examples(gemma, TEXTS, ["positive", "negative"], task)
    assert _one_bos(examples.prefix_ids, bos) and examples.prefix_ids.count(bos) == 1
    assert examples.prefix_ids == PromptEncoder(gemma, task).prefix_ids  # trained on what is scored
    assert all(ids and bos not in ids for ids in answer_ids(gemma, task).values())
