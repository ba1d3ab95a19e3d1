"""LoRA fine-tuning of a classifier prompt: teach a model to answer the task's question well.

`finetune` trains a LoRA adapter (peft) so that, after the task's exact prompt, the model puts its
probability on the right class's answer token. The loss is the cross-entropy of the answer token(s)
only -- the prompt is context, never a target -- so the tuned model is scored by `confnb.classify`
exactly as the base model is, and its confidences can be compared and calibrated the same way.

How the training rows are used:

* only rows of the ``train`` split: a DataFrame with a ``split`` column holding anything else
  (``calibration``, ``test``) is refused, so tuning can never see the rows that later measure it;
* a validation slice is carved out of those training rows as whole sentence frames (the ``frame``
  column of `confnb.load_sentiment`; no validation frame is trained on), stratified by ``category``
  when present, else by ``label``, seeded -- see `carve_validation`; every ``eval_every`` steps the
  answer-token loss and the accuracy on it are measured, and the adapter state with the lowest
  validation loss is the one kept and saved.

Training is a plain torch loop: AdamW, linear warm-up then linear decay, gradient clipping, dropout as
configured. The prompt's shared prefix (instruction and few-shot demonstrations) is encoded once per
batch, with gradients, and its key/value cache reused by every row -- the same mechanics as
`confnb.classify`, so a row's training input is token for token what scoring feeds the model. On CPU
this is about four times faster than feeding every row its full prompt.

Two recipes come with the module: `FineTuneConfig.for_cpu` (full-precision LoRA on the embedded
SmolLM2-135M-Instruct, minutes on two cores) and `FineTuneConfig.for_gpu` (QLoRA: a 4-bit NF4 base with
bf16 compute, for 8B models on a CUDA GPU).

Out of scope: full fine-tuning (only LoRA adapters are trained), multi-GPU or distributed training,
gradient checkpointing and long documents (the prefix cache needs ``use_cache``; our prompts are short),
answers that span several tokens in scoring (training accepts them, `confnb.classify` scores the first
token), merging adapters into the base weights, and hyper-parameter search.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from . import tasks as _tasks
from .files import label_to_class
from .models import ADAPTER_INFO, LanguageModel

__all__ = [
    "FineTuneConfig",
    "FineTuneResult",
    "answer_ids",
    "carve_validation",
    "encode_examples",
    "UngroupedValidationWarning",
    "finetune",
]

# ------------------------------------------------------------------------------------------ config


@dataclass(frozen=True)
class FineTuneConfig:
    """Hyper-parameters of a LoRA fine-tuning run.

    Start from a recipe -- `for_cpu` or `for_gpu` -- and override what you need:
    ``FineTuneConfig.for_cpu(steps=50)`` or ``dataclasses.replace(config, seed=1)``. The defaults are
    the CPU recipe; its steps and learning rate were chosen on the validation slice carved from
    ``train`` only, never on test-split numbers (see `for_cpu`).

    Parameters
    ----------
    r : int
        LoRA rank.
    alpha : float
        LoRA scaling numerator (the update is scaled by ``alpha / r``).
    dropout : float
        Dropout on the LoRA branch's input during training.
    target_modules : tuple of str or "all-linear"
        Names of the linear layers that get an adapter.
    learning_rate : float
        Peak AdamW learning rate, reached after the warm-up.
    weight_decay : float
        AdamW weight decay on the LoRA weights.
    batch_size : int
        Training rows per optimizer step.
    steps : int
        Optimizer steps (an upper bound when `patience` is set).
    warmup_fraction : float
        Share of `steps` over which the learning rate rises linearly from 0; it then decays linearly
        to 0 at `steps`.
    max_grad_norm : float or None
        Clip the gradients' global norm to this value; None: no clipping.
    eval_every : int
        Measure the validation slice every this many steps (and before the first step).
    patience : int or None
        Stop after this many evaluations without a lower validation loss; None: run all `steps`.
    validation_fraction : float
        Share of the training rows held out for validation, as whole sentence frames (see
        `carve_validation`), in [0, 0.5). 0: no validation, the adapter after the last step is kept.
    max_validation_rows : int or None
        Cap on the validation slice (evaluation time grows with it); held-out rows beyond it are
        used for neither training nor validation.
    eval_batch_size : int
        Rows per forward pass when evaluating.
    seed : int
        Seeds the LoRA initialisation, dropout, the validation slice (its ``rng``) and the data order.
    quantization : {None, "4bit"}
        Used when `finetune` loads the model by name: ``"4bit"`` loads an NF4 base (QLoRA).
    device : {"auto", "cpu", "cuda"}
        Used when `finetune` loads the model by name.

    Examples
    --------
    >>> FineTuneConfig.for_cpu(steps=40).steps
    40
    >>> FineTuneConfig.for_gpu().quantization
    '4bit'
    """

    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.05
    target_modules: tuple[str, ...] | str = "all-linear"
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 16
    steps: int = 100
    warmup_fraction: float = 0.1
    max_grad_norm: float | None = 1.0
    eval_every: int = 20
    patience: int | None = None
    validation_fraction: float = 0.1
    max_validation_rows: int | None = 300
    eval_batch_size: int = 64
    seed: int = 0
    quantization: str | None = None
    device: str = "auto"

    def __post_init__(self) -> None:
        if isinstance(self.target_modules, str):
            if self.target_modules != "all-linear":
                raise ValueError(
                    f"target_modules must be a tuple of layer names or 'all-linear', got {self.target_modules!r}"
                )
        else:
            modules = tuple(str(m) for m in self.target_modules)
            if not modules:
                raise ValueError("target_modules is empty; name at least one linear layer, e.g. ('q_proj', 'v_proj')")
            object.__setattr__(self, "target_modules", modules)
        for name in ("r", "batch_size", "steps", "eval_every", "eval_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0 <= self.warmup_fraction < 1:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction}")
        if not 0 <= self.validation_fraction < 0.5:
            raise ValueError(f"validation_fraction must be in [0, 0.5), got {self.validation_fraction}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be at least 1 or None, got {self.patience}")
        if self.max_validation_rows is not None and self.max_validation_rows < 1:
            raise ValueError(f"max_validation_rows must be at least 1 or None, got {self.max_validation_rows}")
        if self.max_grad_norm is not None and self.max_grad_norm <= 0:
            raise ValueError(f"max_grad_norm must be positive or None, got {self.max_grad_norm}")
        if self.quantization not in (None, "4bit"):
            raise ValueError(f"quantization must be None or '4bit' (QLoRA), got {self.quantization!r}")

    @classmethod
    def for_cpu(cls, **overrides: Any) -> "FineTuneConfig":
        """The CPU recipe for the embedded model: full-precision LoRA (rank 8) on every linear layer.

        100 steps of 16 rows at learning rate 1e-3. Chosen on the validation slice only -- 300 rows of
        35 whole sentence frames held out of ``train`` (`carve_validation`) -- from two runs of
        ``benchmarks/finetune.py`` (default prompt, seed 0, no test rows scored):

        * learning rate 1e-3: validation loss 0.589 before training, lowest 0.311 at step 20
          (accuracy 0.733 -> 0.880); accuracy stays 0.88-0.90 from step 20 to 100 while the loss,
          noisy, rises after step 70 (0.62 at step 100);
        * learning rate 5e-4: lowest validation loss 0.398 at step 70 (accuracy 0.877); accuracy
          0.80-0.88 along the way.

        The higher rate reaches a lower validation loss sooner, so it stays. `finetune` keeps the
        adapter state of the lowest validation loss (here step 20's), so the later steps cost time but
        not quality; a shorter schedule was not measured. No test-split number entered the choice.
        Cost: about 4 s per step on two idle CPU cores (6-10 s on a shared machine), peak resident
        memory under 4 GB.
        """
        return cls(**overrides)

    @classmethod
    def for_gpu(cls, **overrides: Any) -> "FineTuneConfig":
        """The QLoRA recipe for an 8B model on a CUDA GPU: NF4 base, bf16 compute, every linear layer.

        Rank 16, alpha 32, learning rate 2e-4 -- the usual QLoRA settings; an 8B model learns the
        task in fewer steps than the 135M one needs.
        """
        recipe = dict(
            r=16,
            alpha=32.0,
            dropout=0.05,
            target_modules="all-linear",
            learning_rate=2e-4,
            batch_size=16,
            steps=200,
            eval_every=25,
            max_validation_rows=700,
            quantization="4bit",
            device="cuda",
        )
        recipe.update(overrides)
        return cls(**recipe)

    def to_dict(self) -> dict:
        """A JSON-ready copy (saved in the adapter folder)."""
        out = dataclasses.asdict(self)
        if isinstance(out["target_modules"], tuple):
            out["target_modules"] = list(out["target_modules"])
        return out


# ------------------------------------------------------------------------------------------ result


@dataclass(frozen=True, repr=False)
class FineTuneResult:
    """What a fine-tuning run produced and measured.

    Attributes
    ----------
    model : LanguageModel
        The tuned model (peft-wrapped, eval mode, best validation state), ready for `confnb.classify`.
    adapter_path : str or None
        The saved adapter folder; None when no `output_dir` was given.
    task : ClassificationTask
        The task (prompt and answers) the adapter was trained for.
    config : FineTuneConfig
    train_loss : tuple of float
        Mean answer-token loss of each step's batch.
    learning_rate : tuple of float
        Learning rate used at each step.
    validation_step, validation_loss, validation_accuracy : tuple
        The validation curve: step (0 = before training), mean answer-token loss, accuracy.
    best_step : int
        The step whose adapter state was kept (lowest validation loss).
    stopped_early : bool
        Whether `patience` ended the run before ``config.steps``.
    n_train, n_validation : int
        Rows trained on and rows in the validation slice.
    train_seconds, eval_seconds : float
        Wall-clock time in optimizer steps and in validation passes.
    train_cpu_seconds : float
        Process CPU time (all threads) in optimizer steps; on a machine shared with other jobs it
        inflates far less than wall-clock time.
    peak_memory_mb : float
        CPU: peak resident memory of the whole process so far (model loading included). CUDA: peak
        memory allocated by torch during the run.
    """

    model: LanguageModel
    adapter_path: str | None
    task: Any
    config: FineTuneConfig
    train_loss: tuple[float, ...]
    learning_rate: tuple[float, ...]
    validation_step: tuple[int, ...]
    validation_loss: tuple[float, ...]
    validation_accuracy: tuple[float, ...]
    best_step: int
    stopped_early: bool
    n_train: int
    n_validation: int
    train_seconds: float
    eval_seconds: float
    train_cpu_seconds: float
    peak_memory_mb: float

    @property
    def steps_run(self) -> int:
        """Number of optimizer steps taken."""
        return len(self.train_loss)

    @property
    def seconds_per_step(self) -> float:
        """Mean wall-clock seconds of one optimizer step (validation excluded)."""
        return self.train_seconds / max(self.steps_run, 1)

    def to_frame(self) -> pd.DataFrame:
        """The per-step curve: ``step, train_loss, learning_rate, validation_loss, validation_accuracy``.

        Validation columns are NaN at steps without an evaluation; step 0 is the base model.
        """
        frame = pd.DataFrame(
            {
                "step": np.arange(0, self.steps_run + 1),
                "train_loss": [np.nan, *self.train_loss],
                "learning_rate": [np.nan, *self.learning_rate],
            }
        )
        return frame.merge(self.validation_frame(), on="step", how="left")

    def validation_frame(self) -> pd.DataFrame:
        """The validation curve: ``step, validation_loss, validation_accuracy``."""
        return pd.DataFrame(
            {
                "step": list(self.validation_step),
                "validation_loss": list(self.validation_loss),
                "validation_accuracy": list(self.validation_accuracy),
            }
        )

    def summary(self) -> dict:
        """A JSON-ready summary of the run (written into the adapter folder's ``confnb_adapter.json``)."""
        losses = list(self.train_loss)
        tail = losses[-10:]
        best = self.validation_step.index(self.best_step) if self.best_step in self.validation_step else None
        return {
            "steps_run": self.steps_run,
            "best_step": self.best_step,
            "stopped_early": self.stopped_early,
            "n_train": self.n_train,
            "n_validation": self.n_validation,
            "train_loss_first": round(losses[0], 6) if losses else None,
            "train_loss_last10": round(float(np.mean(tail)), 6) if tail else None,
            "best_validation_loss": round(self.validation_loss[best], 6) if best is not None else None,
            "best_validation_accuracy": round(self.validation_accuracy[best], 6) if best is not None else None,
            "validation_curve": [
                {"step": s, "loss": round(lo, 6), "accuracy": round(a, 6)}
                for s, lo, a in zip(self.validation_step, self.validation_loss, self.validation_accuracy)
            ],
        }

    def __repr__(self) -> str:
        text = (
            f"FineTuneResult(steps_run={self.steps_run}, best_step={self.best_step}, "
            f"n_train={self.n_train}, n_validation={self.n_validation}"
        )
        if self.validation_step:
            i = self.validation_step.index(self.best_step) if self.best_step in self.validation_step else -1
            text += (
                f", validation_accuracy={self.validation_accuracy[0]:.3f}->{self.validation_accuracy[i]:.3f}"
                f", validation_loss={self.validation_loss[0]:.3f}->{self.validation_loss[i]:.3f}"
            )
        text += f", seconds_per_step={self.seconds_per_step:.2f}, adapter_path={self.adapter_path!r})"
        return text


# ------------------------------------------------------------------------------------ data handling


def _check_training_frame(train_df: pd.DataFrame, task, text_column: str, label_column: str) -> pd.DataFrame:
    """Validate the training rows once at the boundary; return a copy with class-name labels."""
    if not isinstance(train_df, pd.DataFrame):
        raise TypeError(f"train_df must be a pandas DataFrame, not {type(train_df).__name__}")
    for name in (text_column, label_column):
        if name not in train_df.columns:
            raise ValueError(f"train_df has no {name!r} column; it has {list(train_df.columns)}")
    if "split" in train_df.columns:
        other = train_df["split"].astype(str)
        other = other[other != "train"]
        if len(other):
            counts = ", ".join(f"{k}: {v}" for k, v in other.value_counts().sort_index().items())
            raise ValueError(
                f"train_df holds {len(other)} rows whose split is not 'train' ({counts}). Fine-tune on "
                "training rows only, e.g. load_sentiment('train'): calibration and test rows must stay "
                "unseen to measure the tuned model honestly."
            )
    if len(train_df) == 0:
        raise ValueError("train_df has no rows")
    frame = train_df.copy()
    texts = frame[text_column]
    empty = texts.isna() | (texts.astype(str).str.strip() == "")
    if empty.any():
        raise ValueError(
            f"{int(empty.sum())} training rows have an empty {text_column!r} "
            f"(first at position {int(np.flatnonzero(empty.to_numpy())[0])}); remove them"
        )
    frame["text"] = texts.astype(str)
    frame["label"] = label_to_class(frame[label_column], task)
    missing = [c for c in task.class_names if c not in set(frame["label"])]
    if missing:
        found = sorted(set(frame["label"]))
        raise ValueError(
            f"training data has no rows labelled {missing} (only {found}); fine-tuning needs examples of "
            f"every class {task.class_names}"
        )
    return frame


class UngroupedValidationWarning(UserWarning):
    """The validation slice was carved row by row: it may share sentence templates with training rows."""


def _largest_remainder(total: int, sizes: dict[str, int]) -> dict[str, int]:
    """Split `total` over the keys of `sizes` in proportion to them (largest-remainder rounding)."""
    n = sum(sizes.values())
    quota = {g: total * s / n for g, s in sizes.items()}
    take = {g: int(math.floor(q)) for g, q in quota.items()}
    for g in sorted(quota, key=lambda g: (take[g] - quota[g], g))[: total - sum(take.values())]:
        take[g] += 1
    return take


def carve_validation(
    train_df: pd.DataFrame,
    *,
    fraction: float = 0.1,
    max_rows: int | None = None,
    rng: int | np.random.Generator | None = 0,
    stratify: str | None = None,
    groups: str | None = "frame",
    seed: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split training rows into the rows trained on and a validation slice: whole groups, stratified, seeded.

    Rows that share a sentence template (the ``frame`` column of `confnb.load_sentiment`) differ by a
    slot word or two; a validation row whose frame is also trained on is half memorised, and early
    stopping on such rows rewards memorising frames. So whole groups are held out:

    1. Held out: about ``fraction`` of the rows, as whole groups. Each stratum (``category``) gets its
       share of the rows (largest-remainder rounding); its groups are shuffled with `rng` and taken in
       that order while a group brings the stratum's count closer to its share. A group counts in the
       stratum of its most common value.
    2. Validation: the held-out rows, or, when there are more than `max_rows`, a sample of `max_rows`
       of them, stratified the same way. Held-out rows left out of that sample are used for neither
       part: they share frames with validation rows, so they may not be trained on either.

    Parameters
    ----------
    train_df : pandas.DataFrame
        Training rows (never calibration or test rows).
    fraction : float
        Share of rows held out of training (at least one group when positive). 0: no validation.
    max_rows : int, optional
        Cap on the validation slice (evaluation time grows with it).
    rng : int, numpy.random.Generator or None, default 0
        Seeds the choice of groups and rows (``np.random.default_rng(rng)``).
    stratify : str, optional
        Column whose values keep their proportions; default ``category`` if present, else ``label``.
    groups : str or None, default "frame"
        Column whose values name groups of rows that must stay on one side. If the default ``frame``
        column is missing (your own data), rows are carved one by one and an
        `UngroupedValidationWarning` says so; name your own column (e.g. a source document) to group
        by it, or pass None to carve rows without a warning. A column named here that does not exist
        (other than the default) is an error.
    seed : int, optional
        Older name of `rng`, kept for existing calls; give one of the two.

    Returns
    -------
    (train, validation) : tuple of DataFrame
        Disjoint, in the input's row order; with groups, no group appears in both.

    Raises
    ------
    ValueError
        If `groups` names a missing column, `rng` and `seed` are both given, or the rows are too few.

    Examples
    --------
    >>> df = pd.DataFrame({"text": list("abcdefghij"), "label": ["positive"] * 5 + ["negative"] * 5,
    ...                    "frame": list("aabbcddeef")})
    >>> train, validation = carve_validation(df, fraction=0.2, rng=0)
    >>> list(validation["text"]), set(train["frame"]) & set(validation["frame"])
    (['e', 'j'], set())
    """
    if seed is not None:
        if rng != 0:
            raise ValueError("give rng or its older name seed, not both")
        rng = seed
    n = len(train_df)
    if fraction <= 0 or n == 0:
        return train_df, train_df.iloc[:0]
    if groups is not None and groups not in train_df.columns:
        if groups != "frame":
            raise ValueError(f"groups={groups!r} is not a column of train_df; it has {list(train_df.columns)}")
        warnings.warn(
            "train_df has no 'frame' column, so the validation slice is carved row by row and may share "
            "sentence templates with the training rows, which flatters the validation score. Pass "
            "groups=<column> naming what rows share (a template, a source document), or groups=None to "
            "carve rows without this warning.",
            UngroupedValidationWarning,
            stacklevel=2,
        )
        groups = None
    if stratify is None:
        stratify = "category" if "category" in train_df.columns else "label"
    generator = np.random.default_rng(rng)
    strata = train_df[stratify].astype(str).to_numpy()
    target = max(1, int(round(fraction * n)))

    if groups is None:
        if max_rows is not None:
            target = min(target, int(max_rows))
        if target >= n:
            raise ValueError(f"{n} training rows are too few to carve a validation slice of {target}")
        held = _stratified_sample(np.arange(n), strata, target, generator)
        kept = np.setdiff1d(np.arange(n), held)
        return train_df.iloc[kept], train_df.iloc[held]

    keys = train_df[groups].astype(str).to_numpy()
    members = pd.Series(np.arange(n)).groupby(keys, sort=True).indices  # group -> row positions
    stratum_of = {g: pd.Series(strata[ix]).mode().iloc[0] for g, ix in members.items()}
    if len(members) < 2:
        raise ValueError(f"train_df has a single {groups!r} group; validation needs groups of its own")
    sizes: dict[str, int] = {}
    for g, ix in members.items():
        sizes[stratum_of[g]] = sizes.get(stratum_of[g], 0) + len(ix)
    share = _largest_remainder(target, sizes)
    held_groups: list[str] = []
    for stratum in sorted(sizes):
        names = sorted(g for g in members if stratum_of[g] == stratum)
        count = 0
        for i in generator.permutation(len(names)):
            size = len(members[names[i]])
            if size < 2 * (share[stratum] - count):  # taking it lands closer to the share
                held_groups.append(names[i])
                count += size
    if not held_groups:  # tiny data: hold out the smallest group rather than nothing
        held_groups = [min(members, key=lambda g: (len(members[g]), g))]
    held = np.sort(np.concatenate([members[g] for g in held_groups]))
    if len(held) >= n:
        raise ValueError(f"{n} training rows in {len(members)} groups are too few to carve a validation slice")
    validation = held
    if max_rows is not None and len(held) > max_rows:
        validation = _stratified_sample(held, strata[held], int(max_rows), generator)
    kept = np.setdiff1d(np.arange(n), held)
    return train_df.iloc[kept], train_df.iloc[validation]


def _stratified_sample(positions: np.ndarray, strata: np.ndarray, k: int, generator) -> np.ndarray:
    """`k` of `positions`, each stratum in proportion to its size, sorted."""
    by_stratum = pd.Series(np.arange(len(positions))).groupby(strata, sort=True).indices
    take = _largest_remainder(k, {s: len(ix) for s, ix in by_stratum.items()})
    chosen = [positions[generator.permutation(by_stratum[s])[: take[s]]] for s in sorted(by_stratum)]
    return np.sort(np.concatenate(chosen or [np.array([], dtype=int)]))


def _answers(model: LanguageModel, task, text: str) -> dict[str, tuple[str, list[int]]]:
    """Per class: the answer string as the model would generate it after the prompt, and its ids."""
    from .scoring import prompt_ids as encode

    tokenizer = model.tokenizer
    prompt = task.prompt(text, model)
    prompt_ids = encode(tokenizer, prompt)
    scored = task.token_ids(model)
    out: dict[str, tuple[str, list[int]]] = {}
    for c in task.class_names:
        word = task.classes[c][0]
        answer = word if (prompt[-1:].isspace() or word.startswith(" ")) else " " + word
        full = encode(tokenizer, prompt + answer)
        alone = tokenizer(answer, add_special_tokens=False)["input_ids"]
        if full[: len(prompt_ids)] != prompt_ids or full[len(prompt_ids) :] != alone:
            raise ValueError(
                f"the answer {answer!r} merges with the end of the prompt when tokenized; end the "
                "template with a clear answer cue such as 'Answer:'"
            )
        if not alone or alone[0] not in scored[c]:
            raise ValueError(
                f"the answer {answer!r} does not start with a token the task scores for class {c!r}; "
                "the tuned model would learn an answer that classify() ignores"
            )
        out[c] = (answer, alone)
    return out


def answer_ids(model: LanguageModel, task=None, text: str = "Example text.") -> dict[str, list[int]]:
    """The token ids the model should produce right after the task's prompt, per class.

    The answer is each class's canonical word (``task.classes[c][0]``) as it would be generated:
    after a plain prompt ending in ``"Answer:"`` it carries a leading space (``" Yes"``), after a chat
    prompt (which ends with the assistant's turn header) it does not (``"Yes"``). The ids are the
    tokens of ``prompt + answer`` after the prompt's own tokens; they must be exactly the answer's
    own tokens and start with a token the task scores for that class.

    Examples
    --------
    >>> lm = confnb.load_model()                          # doctest: +SKIP
    >>> answer_ids(lm, confnb.SENTIMENT)                  # doctest: +SKIP
    {'positive': [7116], 'negative': [1771]}
    """
    task = task if task is not None else _tasks.SENTIMENT
    return {c: ids for c, (_, ids) in _answers(model, task, text).items()}


@dataclass(frozen=True)
class _Examples:
    """Token ids for training: the prompt's shared prefix, then per row its suffix and its answer."""

    prefix_ids: list[int]
    suffix_ids: list[list[int]]
    answer_ids: list[list[int]]
    labels: list[str]
    texts: list[str] = field(repr=False)

    def __len__(self) -> int:
        return len(self.labels)


def encode_examples(model: LanguageModel, texts: Sequence[str], labels: Sequence[str], task=None) -> _Examples:
    """Tokenize training rows the way `confnb.classify` does, with each row's answer appended.

    The prompt is split into the shared prefix and a per-text suffix with scoring's own encoder, so
    the tuned model sees exactly the tokens it is later scored on; each row's
    ``prefix + suffix + answer`` is checked to equal the tokenization of ``prompt + answer``.
    """
    from .scoring import _PromptEncoder, prompt_ids

    task = task if task is not None else _tasks.SENTIMENT
    texts, labels = list(texts), list(labels)
    answers = _answers(model, task, texts[0] if texts else "Example text.")
    encoder = _PromptEncoder(model, task)
    suffixes = [encoder.suffix_ids(t) for t in texts]
    if encoder.truncated:
        raise ValueError(
            f"{encoder.truncated} training text(s) do not fit {model.name}'s context of "
            f"{model.context_length} tokens; shorten or remove them"
        )
    tokenizer = model.tokenizer
    prompts = [task.prompt(t, model) + answers[y][0] for t, y in zip(texts, labels)]
    full = [prompt_ids(tokenizer, p) for p in prompts]  # one BOS, even after a chat template
    for i, (ids, suffix, y) in enumerate(zip(full, suffixes, labels)):
        if ids != encoder.prefix_ids + suffix + answers[y][1]:
            raise ValueError(
                f"training row {i} tokenizes differently as one prompt than as prefix + text + answer "
                f"(text {texts[i]!r}); this task's template cannot be trained with a shared prefix"
            )
    return _Examples(
        prefix_ids=list(encoder.prefix_ids),
        suffix_ids=suffixes,
        answer_ids=[answers[y][1] for y in labels],
        labels=labels,
        texts=texts,
    )


def _collate(examples: _Examples, rows: Sequence[int], pad_id: int):
    """Left-pad each row's ``suffix + answer`` so every answer ends at the last position.

    Returns input ids, attention mask (prefix included), position ids and labels (-100 everywhere but
    the answer tokens), the tensors `_forward` needs.
    """
    import torch

    seqs = [examples.suffix_ids[i] + examples.answer_ids[i] for i in rows]
    width = max(len(s) for s in seqs)
    n_prefix = len(examples.prefix_ids)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for r, (i, seq) in enumerate(zip(rows, seqs)):
        ids[r, width - len(seq) :] = torch.tensor(seq)
        mask[r, width - len(seq) :] = 1
        k = len(examples.answer_ids[i])
        labels[r, width - k :] = torch.tensor(examples.answer_ids[i])
    positions = (n_prefix + mask.cumsum(dim=1) - 1).clamp(min=n_prefix)
    attention = torch.cat([torch.ones((len(rows), n_prefix), dtype=torch.long), mask], dim=1)
    return {"input_ids": ids, "attention_mask": attention, "position_ids": positions, "labels": labels}


def _forward(net, examples: _Examples, rows: Sequence[int], pad_id: int, device):
    """Answer-token cross-entropy per row, and the log-probs after each row's prompt.

    The prefix is run once (batch of one) and its key/value cache repeated for the rows; gradients
    flow through both. Logits are computed only at the positions that predict answer tokens.

    Returns
    -------
    row_loss : tensor (n_rows,)
        Mean cross-entropy over each row's answer tokens.
    first_logprobs : tensor (n_rows, vocab)
        Log-softmax of the next token after the prompt (what `classify` scores).
    """
    import torch
    import torch.nn.functional as F

    batch = _collate(examples, rows, pad_id)
    k = max(len(examples.answer_ids[i]) for i in rows)
    prefix = torch.tensor([examples.prefix_ids], device=device)
    cache = net(input_ids=prefix, use_cache=True, logits_to_keep=1).cache
    if len(rows) > 1:
        cache.batch_repeat_interleave(len(rows))
    logits = net(
        input_ids=batch["input_ids"].to(device),
        attention_mask=batch["attention_mask"].to(device),
        position_ids=batch["position_ids"].to(device),
        cache=cache,
        use_cache=True,
        logits_to_keep=k + 1,
    ).logits[:, :-1].float()  # position j predicts token j + 1: the last k tokens are the answers
    targets = batch["labels"][:, -k:].to(device)
    token_loss = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100, reduction="none")
    counts = (targets != -100).sum(dim=1)
    row_loss = token_loss.sum(dim=1) / counts
    # the first answer token of a row sits at position width - len(answer): its predictor is k - len
    first = torch.tensor([k - len(examples.answer_ids[i]) for i in rows], device=device)
    first_logits = logits[torch.arange(len(rows), device=device), first]
    return row_loss, torch.log_softmax(first_logits, dim=-1)


def _evaluate(net, examples: _Examples, task, token_ids, pad_id: int, device, batch_size: int) -> tuple[float, float]:
    """Mean answer-token loss and accuracy (classify's prediction rule) on `examples`, no gradients."""
    import torch

    from .scoring import score_distribution

    was_training = net.training
    net.eval()
    losses, correct = [], 0
    order = sorted(range(len(examples)), key=lambda i: -len(examples.suffix_ids[i]))
    try:
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                row_loss, logprobs = _forward(net, examples, rows, pad_id, device)
                losses.append(row_loss.double().cpu().numpy())
                predicted = score_distribution(
                    logprobs.double().cpu().numpy(), token_ids, positive_class=task.positive_class
                )["prediction"]
                correct += int(sum(p == examples.labels[i] for p, i in zip(predicted, rows)))
    finally:
        net.train(was_training)
    return float(np.concatenate(losses).mean()), correct / len(examples)


# ------------------------------------------------------------------------------------------- model


def _prepare_model(model_or_name, config: FineTuneConfig) -> LanguageModel:
    """A LanguageModel that training may change: loaded here, or a copy of the caller's."""
    from .models import disable_cpu_repacking, load_model

    if isinstance(model_or_name, LanguageModel):
        lm = model_or_name
        if lm.adapter or hasattr(lm.model, "peft_config"):
            raise ValueError(
                "this model already carries a LoRA adapter; fine-tune a base model "
                "(load_model(name) without adapter=...)"
            )
        if lm.quantization not in (None, "4bit"):
            raise ValueError(f"fine-tuning supports full-precision or 4-bit (QLoRA) models, not {lm.quantization!r}")
        try:  # the caller's model must stay the base model: LoRA layers go into a copy
            lm = dataclasses.replace(lm, model=copy.deepcopy(lm.model))
        except Exception as exc:  # bitsandbytes' packed weights may refuse to be copied
            raise ValueError(
                f"could not copy this {lm.quantization or ''} model for training ({exc}); pass its name "
                "instead: finetune(name, ..., config=FineTuneConfig(quantization='4bit'))"
            ) from exc
    else:
        lm = load_model(model_or_name, quantization=config.quantization, device=config.device)
    if lm.quantization == "4bit" and not lm.device.startswith("cuda"):
        disable_cpu_repacking(lm.model)  # else LoRA on bitsandbytes' CPU path silently gets no gradient
    return lm


def _attach_lora(lm: LanguageModel, config: FineTuneConfig):
    from peft import LoraConfig, get_peft_model

    model = lm.model
    if lm.quantization:
        from peft import prepare_model_for_kbit_training

        # freezes the base, casts norms to float32; no gradient checkpointing (it turns the cache off)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    lora = LoraConfig(
        r=config.r,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target_modules)
        if isinstance(config.target_modules, tuple)
        else config.target_modules,
        bias="none",
        task_type="CAUSAL_LM",
    )
    with warnings.catch_warnings():  # peft calls a transformers method that warns of its rename
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        return get_peft_model(model, lora)


def _peak_memory_mb(device: str) -> float:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _check_output_dir(output_dir, overwrite: bool) -> Path | None:
    if output_dir is None:
        return None
    path = Path(output_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"output folder {str(path)!r} exists and is a file; choose a folder path")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise ValueError(
                f"output folder {str(path)!r} exists and is not empty; choose another folder or pass "
                "overwrite=True (--overwrite) to replace the adapter in it"
            )
        if not ((path / "adapter_config.json").exists() or (path / ADAPTER_INFO).exists()):
            raise ValueError(
                f"output folder {str(path)!r} is not empty and does not hold an adapter; refusing to "
                "delete it even with overwrite=True. Choose an empty or new folder."
            )
    return path


def _save_adapter(net, path: Path, info: dict) -> None:
    """Write the adapter into a temporary sibling folder, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}-"))
    try:
        net.save_pretrained(str(tmp))
        (tmp / ADAPTER_INFO).write_text(json.dumps(info, indent=2) + "\n")
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("confnb", "torch", "transformers", "peft"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


# ---------------------------------------------------------------------------------------- training


def finetune(
    model_or_name: LanguageModel | str | os.PathLike | None,
    train_df: pd.DataFrame,
    *,
    task=None,
    config: FineTuneConfig | None = None,
    output_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    text_column: str = "text",
    label_column: str = "label",
    callback: Callable[[int, Any], None] | None = None,
) -> FineTuneResult:
    """Train a LoRA adapter so the model answers `task`'s prompt with the right class.

    Parameters
    ----------
    model_or_name : LanguageModel, str, path or None
        The base model. A name (or None for the embedded default) is loaded with ``config.quantization``
        and ``config.device``; a `LanguageModel` is copied first, so the caller's model stays the base.
    train_df : pandas.DataFrame
        Labelled training rows with `text_column` and `label_column`. Labels are the task's class
        names or common spellings (1/0, yes/no, pos/neg). A ``split`` column, if present, must say
        ``train`` on every row: calibration and test rows are refused.
    task : ClassificationTask, optional
        The prompt and answers to train for; `confnb.SENTIMENT` by default. Score the tuned model with
        the same task.
    config : FineTuneConfig, optional
        Hyper-parameters; `FineTuneConfig.for_cpu()` on CPU and `FineTuneConfig.for_gpu()` on CUDA by
        default.
    output_dir : path, optional
        Save the adapter here: peft's files plus ``confnb_adapter.json`` (base model, task, config,
        curve summary, row counts, versions). Load it with ``load_model(name, adapter=output_dir)``.
    overwrite : bool
        Replace an adapter already in `output_dir`; without it a non-empty folder is an error. A
        non-empty folder that holds no adapter is never deleted.
    progress : bool, optional
        Show a tqdm bar with the running loss; by default only in a terminal or a notebook
        (``CONFNB_PROGRESS=0`` turns it off).
    text_column, label_column : str
        Column names in `train_df`.
    callback : callable, optional
        Called as ``callback(step, net)`` after each validation pass (and at step 0), with the
        peft-wrapped network in eval mode and no gradients. For *reporting* only, e.g. a benchmark that
        scores a held-out sample at each evaluation to show where accuracy levels off; its return value
        is ignored and it takes no part in choosing the kept step.

    Returns
    -------
    FineTuneResult
        The tuned model, the adapter path, the loss and validation curves, the kept step, timings
        and peak memory.

    Raises
    ------
    ValueError
        For rows outside the train split, a missing class, empty texts, a non-empty `output_dir`
        without `overwrite`, or a configuration the model cannot train with.

    Examples
    --------
    >>> result = finetune(None, load_sentiment("train"), output_dir="adapter")   # doctest: +SKIP
    >>> tuned = load_model(adapter="adapter")                                     # doctest: +SKIP
    """
    import torch

    from .scoring import _want_progress

    task = task if task is not None else _tasks.SENTIMENT
    out_path = _check_output_dir(output_dir, overwrite)
    frame = _check_training_frame(train_df, task, text_column, label_column)
    if config is None:
        cuda = torch.cuda.is_available() and not (
            isinstance(model_or_name, LanguageModel) and not model_or_name.device.startswith("cuda")
        )
        config = FineTuneConfig.for_gpu() if cuda else FineTuneConfig.for_cpu()
    train_rows, validation_rows = carve_validation(
        frame, fraction=config.validation_fraction, max_rows=config.max_validation_rows, seed=config.seed
    )
    missing = [c for c in task.class_names if c not in set(train_rows["label"])]
    if missing:
        raise ValueError(f"after carving the validation slice no training row is labelled {missing}; add rows")

    lm = _prepare_model(model_or_name, config)
    device = lm.model.device
    pad_id = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else 0
    train = encode_examples(lm, train_rows["text"], train_rows["label"], task)
    validation = encode_examples(lm, validation_rows["text"], validation_rows["label"], task) if len(validation_rows) else None
    token_ids = task.token_ids(lm)
    if lm.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()

    rng = np.random.default_rng(config.seed)
    fork_devices = [torch.cuda.current_device()] if lm.device.startswith("cuda") else []
    train_loss: list[float] = []
    learning_rates: list[float] = []
    val_step: list[int] = []
    val_loss: list[float] = []
    val_acc: list[float] = []
    train_seconds = eval_seconds = train_cpu_seconds = 0.0
    stopped_early = False
    bar = None
    if _want_progress(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=config.steps, desc=f"fine-tuning {lm.name}", unit="step")

    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(config.seed)
        net = _attach_lora(lm, config)
        params = [p for p in net.parameters() if p.requires_grad]
        best_state = {n: p.detach().clone() for n, p in net.named_parameters() if p.requires_grad}
        best_step, best_loss, since_best = 0, math.inf, 0

        def evaluate(step: int) -> None:
            nonlocal eval_seconds, best_state, best_step, best_loss, since_best
            start = time.perf_counter()
            loss, accuracy = _evaluate(net, validation, task, token_ids, pad_id, device, config.eval_batch_size)
            eval_seconds += time.perf_counter() - start
            val_step.append(step)
            val_loss.append(loss)
            val_acc.append(accuracy)
            if loss < best_loss:
                best_loss, best_step, since_best = loss, step, 0
                best_state = {n: p.detach().clone() for n, p in net.named_parameters() if p.requires_grad}
            else:
                since_best += 1
            if bar is not None:
                bar.set_postfix(loss=f"{train_loss[-1]:.3f}" if train_loss else "-", val_acc=f"{accuracy:.3f}")
            if callback is not None:
                was_training = net.training
                net.eval()
                try:
                    with torch.no_grad():
                        callback(step, net)
                finally:
                    net.train(was_training)

        optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
        warmup = int(round(config.warmup_fraction * config.steps))
        order: list[int] = []
        try:
            if validation is not None:
                evaluate(0)
            net.train()
            for step in range(1, config.steps + 1):
                start, start_cpu = time.perf_counter(), time.process_time()
                if len(order) < config.batch_size:  # a fresh shuffled pass over the rows
                    order += rng.permutation(len(train)).tolist()
                rows, order = order[: config.batch_size], order[config.batch_size :]
                lr = config.learning_rate * (
                    step / warmup if step <= warmup else max(0.0, (config.steps - step + 1) / (config.steps - warmup + 1))
                )
                for group in optimizer.param_groups:
                    group["lr"] = lr
                row_loss, _ = _forward(net, train, rows, pad_id, device)
                loss = row_loss.mean()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if step == 1 and any(p.grad is None for p in params):
                    raise RuntimeError(
                        "the LoRA weights received no gradient: the base layers lost their autograd path "
                        "(bitsandbytes' CPU repacking, see confnb.models.disable_cpu_repacking)"
                    )
                if config.max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
                optimizer.step()
                train_loss.append(float(loss.detach()))
                learning_rates.append(lr)
                train_seconds += time.perf_counter() - start
                train_cpu_seconds += time.process_time() - start_cpu
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{train_loss[-1]:.3f}", refresh=False)
                if validation is not None and (step % config.eval_every == 0 or step == config.steps):
                    evaluate(step)
                    net.train()
                    if config.patience is not None and since_best >= config.patience:
                        stopped_early = step < config.steps
                        break
        finally:
            if bar is not None:
                bar.close()
        if validation is None:
            best_step = len(train_loss)
        else:
            with torch.no_grad():
                for n, p in net.named_parameters():
                    if p.requires_grad:
                        p.copy_(best_state[n])
        net.eval()

    tuned = dataclasses.replace(lm, model=net, adapter=None, key=f"{lm.key}-lora-{_weights_key(net)}")
    result = FineTuneResult(
        model=tuned,
        adapter_path=None,
        task=task,
        config=config,
        train_loss=tuple(train_loss),
        learning_rate=tuple(learning_rates),
        validation_step=tuple(val_step),
        validation_loss=tuple(val_loss),
        validation_accuracy=tuple(val_acc),
        best_step=best_step,
        stopped_early=stopped_early,
        n_train=len(train),
        n_validation=len(validation) if validation is not None else 0,
        train_seconds=train_seconds,
        eval_seconds=eval_seconds,
        train_cpu_seconds=train_cpu_seconds,
        peak_memory_mb=_peak_memory_mb(lm.device),
    )
    if out_path is not None:
        from .models import _adapter_key

        info = {
            "base_model": lm.name,
            "quantization": lm.quantization,
            "task": task.to_dict(),
            "config": config.to_dict(),
            "seed": config.seed,
            "training": result.summary(),
            "label_counts": {c: int(v) for c, v in train_rows["label"].value_counts().sort_index().items()},
            "versions": _versions(),
        }
        _save_adapter(net, out_path, info)
        tuned = dataclasses.replace(tuned, adapter=str(out_path), key=f"{lm.key}-{_adapter_key(out_path)}")
        result = dataclasses.replace(result, model=tuned, adapter_path=str(out_path))
    return result


def _weights_key(net) -> str:
    """A short hash of the trainable weights, so an unsaved tuned model never shares a cache key."""
    digest = hashlib.sha1()
    for name, p in net.named_parameters():
        if p.requires_grad:
            digest.update(name.encode())
            digest.update(p.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:10]
