"""The cache versions keep up with the code: a change to scoring or training code must be weighed.

Scores are cached by `confnb.identity.scoring_key` and adapters reused by
`confnb.adapters.training_key`. Neither key can see confnb's own code, so each carries a version,
`SCORING_VERSION` and `TRAINING_VERSION`, raised by hand when a change moves the numbers. A change
that forgot to raise it leaves every existing cache serving the old numbers: a CI run once reused an
adapter trained before a change to `confnb.batching.forward_examples`, and notebook 06 printed the
old adapter's last digits.

These tests fingerprint the code that decides the numbers (its syntax tree without docstrings or
comments, so rewording or reformatting does not count) and compare it with the fingerprint recorded
for the current version. When one fails, decide:

- the change can move a score or a trained weight, even in the last digit: raise the version, then
  record the new fingerprint under it;
- it cannot (an error message, a rename): record the new fingerprint under the same version.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import textwrap

import pytest

from confnb.adapters import TRAINING_VERSION
from confnb.identity import SCORING_VERSION

#: What turns texts into scored rows, as "module:qualified name".
SCORING_CODE = (
    "confnb.models:LanguageModel.next_token_batches",
    "confnb.models:LanguageModel._decode",
    "confnb.batching:adds_bos",
    "confnb.batching:prompt_ids",
    "confnb.batching:PromptEncoder",
    "confnb.batching:left_pad",
    "confnb.batching:after_prefix",
    "confnb.batching:VerbalizerTrie",
    "confnb.batching:_answer_logprobs",
    "confnb.batching:iter_logprob_batches",
    "confnb.distributions:visible",
    "confnb.distributions:logsumexp",
    "confnb.distributions:score_distribution",
    "confnb.distributions:NextTokens",
    "confnb.distributions:from_top_k",
    "confnb.distributions:score_next_tokens",
    "confnb.scoring:classify",
    "confnb.scoring:_score_rows",
    "confnb.tasks:VariantResolution",
    "confnb.tasks:ClassificationTask.body",
    "confnb.tasks:ClassificationTask.render",
    "confnb.tasks:ClassificationTask.prompt",
    "confnb.tasks:ClassificationTask.split",
    "confnb.tasks:ClassificationTask.variants",
    "confnb.tasks:ClassificationTask.resolve",
    "confnb.tasks:ClassificationTask.token_ids",
    "confnb.tasks:ClassificationTask.verbalizer_ids",
    "confnb.remote:RemoteModel.top_next_tokens",
    "confnb.remote:RemoteModel._request",
    "confnb.remote:RemoteModel.next_token_batches",
)

#: What decides the weights a fine-tuning recipe trains.
TRAINING_CODE = (
    "confnb.finetune:_prepare_model",
    "confnb.finetune:_attach_lora",
    "confnb.finetune:_TrainingLoop",
    "confnb.finetune:finetune",
    "confnb.batching:adds_bos",
    "confnb.batching:prompt_ids",
    "confnb.batching:PromptEncoder",
    "confnb.batching:left_pad",
    "confnb.batching:_answers",
    "confnb.batching:answer_ids",
    "confnb.batching:TrainingExamples",
    "confnb.batching:encode_examples",
    "confnb.batching:collate_examples",
    "confnb.batching:forward_examples",
    "confnb.batching:evaluate_examples",
    "confnb.holdout:check_training_frame",
    "confnb.holdout:_largest_remainder",
    "confnb.holdout:carve_validation",
    "confnb.holdout:_stratified_sample",
    "confnb.adapters:save_adapter",
)

#: version -> fingerprint of the code above at that version (the latest is the one checked).
SCORING_FINGERPRINTS = {2: "01ca808f82c425bc"}
TRAINING_FINGERPRINTS = {2: "74d459ab8808ab4d"}


def _resolve(name: str):
    module, _, qualname = name.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


def code_fingerprint(names) -> str:
    """A hash of the named functions' and classes' syntax trees, docstrings and comments left out."""
    digest = hashlib.sha256()
    for name in names:
        source = textwrap.dedent(inspect.getsource(_resolve(name)))
        # unparse, not dump: dump's layout changes between Python versions (3.13 leaves out empty fields)
        digest.update(name.encode() + b"\0" + ast.unparse(_without_docstrings(ast.parse(source))).encode() + b"\0")
    return digest.hexdigest()[:16]


def _advice(kind: str, constant: str, module: str, version: int, fingerprint: str, table: str) -> str:
    return (
        f"the {kind} code changed since {constant} = {version} was recorded (fingerprint now {fingerprint!r}). "
        f"If the change can move any {'score' if kind == 'scoring' else 'trained weight'}, even in the last "
        f"digit, raise {module}.{constant} to {version + 1} (with a line saying why) and record "
        f"{{{version + 1}: {fingerprint!r}}} in {table}; otherwise record {{{version}: {fingerprint!r}}}. "
        "Without the raise, existing caches keep serving the old numbers."
    )


@pytest.mark.parametrize(
    "kind, names, version, table, constant, module",
    [
        ("scoring", SCORING_CODE, SCORING_VERSION, SCORING_FINGERPRINTS, "SCORING_VERSION", "confnb.identity"),
        ("training", TRAINING_CODE, TRAINING_VERSION, TRAINING_FINGERPRINTS, "TRAINING_VERSION", "confnb.adapters"),
    ],
)
def test_code_that_decides_the_numbers_matches_its_recorded_version(kind, names, version, table, constant, module):
    assert max(table) == version, f"{constant} is {version} but the newest recorded fingerprint is for {max(table)}"
    fingerprint = code_fingerprint(names)
    name = f"{kind.upper()}_FINGERPRINTS"
    assert table[version] == fingerprint, _advice(kind, constant, module, version, fingerprint, name)


def test_the_fingerprint_ignores_docstrings_and_comments_but_not_code():
    plain = "def f(x):\n    return x + 1\n"
    documented = 'def f(x):\n    """Add one."""\n    # the step\n    return x + 1  # one\n'
    changed = "def f(x):\n    return x + 2\n"

    def dump(src):
        return ast.unparse(_without_docstrings(ast.parse(src)))

    assert dump(plain) == dump(documented)
    assert dump(plain) != dump(changed)
