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
  when present, else by ``label``, seeded -- see `carve_validation`; every ``eval_steps`` steps the
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

This module holds the entry point and the training loop; the pieces live next door:
`confnb.finetune_config` (`FineTuneConfig`, `FineTuneResult`), `confnb.holdout` (`carve_validation`,
the training-rows check), `confnb.batching` (`encode_examples`, the padded batches and the forward
pass) and `confnb.adapters` (the adapter folder, written here, read by `confnb.load_model`).

Out of scope: full fine-tuning (only LoRA adapters are trained), multi-GPU or distributed training,
gradient checkpointing and long documents (the prefix cache needs ``use_cache``; our prompts are short),
answers that span several tokens in scoring (training accepts them, `confnb.classify` scores the first
token), merging adapters into the base weights, and hyper-parameter search.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import tasks as _tasks
from .adapters import (
    attach_adapter,
    build_adapter_info,
    check_output_dir,
    holds_adapter,
    read_adapter_info,
    save_adapter,
    training_key,
    tuned_key,
    weights_key,
)
from .batching import TrainingExamples, answer_ids, encode_examples, evaluate_examples, forward_examples
from .finetune_config import FineTuneConfig, FineTuneResult
from .holdout import UngroupedValidationWarning, carve_validation, check_training_frame
from .identity import kernel_signature
from .models import LanguageModel
from ._progress import want_progress

__all__ = [
    "FineTuneConfig",
    "FineTuneResult",
    "answer_ids",
    "carve_validation",
    "encode_examples",
    "UngroupedValidationWarning",
    "finetune",
]

# ------------------------------------------------------------------------------------------- model


def _prepare_model(model_or_name, config: FineTuneConfig) -> LanguageModel:
    """A LanguageModel that training may change: loaded here, or a copy of the caller's."""
    from .models import disable_cpu_repacking, load_model, resolve_device

    if isinstance(model_or_name, LanguageModel):
        lm = model_or_name
        if lm.adapter or hasattr(lm.model, "peft_config"):
            raise ValueError(
                "this model already carries a LoRA adapter; fine-tune a base model "
                "(load_model(name) without adapter=...)"
            )
        if lm.dtype == "bfloat16" and not lm.device.startswith("cuda"):
            raise ValueError(
                "this model was loaded in bfloat16 for fast scoring on CPU; its rounded weights are not the "
                "base to train on. Pass the model's name (finetune loads float32 on CPU) or "
                "load_model(name, dtype='float32')"
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
        # on CPU, LoRA trains on float32 weights whatever load_model's default; on a GPU in its compute dtype
        device = resolve_device(config.device)
        dtype = "float32" if not config.quantization and not device.startswith("cuda") else "auto"
        lm = load_model(model_or_name, quantization=config.quantization, device=device, dtype=dtype)
    if lm.quantization == "4bit" and not lm.device.startswith("cuda"):
        disable_cpu_repacking(lm.model)  # else LoRA on bitsandbytes' CPU path silently gets no gradient
    return lm


def _reused_result(lm: LanguageModel, folder: Path, info: dict, task, config: FineTuneConfig) -> FineTuneResult:
    """The recorded result of the adapter in `folder`, attached to (a copy of) the base model."""
    from .models import quiet_transformers

    with quiet_transformers():
        net = attach_adapter(lm.model, folder, lm.name)
    net.eval()
    tuned = dataclasses.replace(lm, model=net, adapter=str(folder), key=tuned_key(lm.key, folder))
    return FineTuneResult.from_adapter_info(info, model=tuned, task=task, config=config)


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
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
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


# ---------------------------------------------------------------------------------------- training


class _TrainingLoop:
    """One run's optimizer steps, validation passes, best adapter state and stopping rule.

    Built inside `finetune`'s forked, seeded torch RNG, after the LoRA layers are attached; `run`
    takes the steps, then `net` holds the kept state (the lowest validation loss, or the last step
    without validation) in eval mode. The curves and timings are left on the object for
    `FineTuneResult`.
    """

    def __init__(
        self,
        net,
        config: FineTuneConfig,
        train: TrainingExamples,
        validation: TrainingExamples | None,
        task,
        token_ids,
        pad_id: int,
        device,
        *,
        rng: np.random.Generator,
        bar=None,
        callback: Callable[[int, Any], None] | None = None,
    ) -> None:
        import torch

        self.net, self.config, self.train, self.validation = net, config, train, validation
        self.task, self.token_ids, self.pad_id, self.device = task, token_ids, pad_id, device
        self.rng, self.bar, self.callback = rng, bar, callback
        self.params = [p for p in net.parameters() if p.requires_grad]
        self.best_state = self._snapshot()
        self.best_step, self.best_loss, self.since_best = 0, math.inf, 0
        self.optimizer = torch.optim.AdamW(self.params, lr=config.learning_rate, weight_decay=config.weight_decay)
        self.warmup = int(round(config.warmup_ratio * config.max_steps))
        self.order: list[int] = []  # row positions left in the current shuffled pass
        self.train_loss: list[float] = []
        self.learning_rates: list[float] = []
        self.val_step: list[int] = []
        self.val_loss: list[float] = []
        self.val_acc: list[float] = []
        self.train_seconds = self.eval_seconds = self.train_cpu_seconds = 0.0
        self.stopped_early = False

    def _snapshot(self) -> dict:
        return {n: p.detach().clone() for n, p in self.net.named_parameters() if p.requires_grad}

    def learning_rate(self, step: int) -> float:
        """Linear warm-up to the peak over ``warmup`` steps, then linear decay to 0 at ``max_steps``."""
        peak, steps, warmup = self.config.learning_rate, self.config.max_steps, self.warmup
        return peak * (step / warmup if step <= warmup else max(0.0, (steps - step + 1) / (steps - warmup + 1)))

    def step(self, step: int) -> None:
        """One optimizer step on the next `batch_size` rows of the shuffled order."""
        import torch

        config = self.config
        start, start_cpu = time.perf_counter(), time.process_time()
        if len(self.order) < config.batch_size:  # a fresh shuffled pass over the rows
            self.order += self.rng.permutation(len(self.train)).tolist()
        rows, self.order = self.order[: config.batch_size], self.order[config.batch_size :]
        lr = self.learning_rate(step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        row_loss, _ = forward_examples(self.net, self.train, rows, self.pad_id, self.device)
        loss = row_loss.mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if step == 1 and any(p.grad is None for p in self.params):
            raise RuntimeError(
                "the LoRA weights received no gradient: the base layers lost their autograd path "
                "(bitsandbytes' CPU repacking, see confnb.models.disable_cpu_repacking)"
            )
        if config.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.params, config.max_grad_norm)
        self.optimizer.step()
        self.train_loss.append(float(loss.detach()))
        self.learning_rates.append(lr)
        self.train_seconds += time.perf_counter() - start
        self.train_cpu_seconds += time.process_time() - start_cpu
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{self.train_loss[-1]:.3f}", refresh=False)

    def evaluate(self, step: int) -> None:
        """Measure the validation slice, keep the state if it is the best so far, call the callback."""
        start = time.perf_counter()
        loss, accuracy = evaluate_examples(
            self.net, self.validation, self.task, self.token_ids, self.pad_id, self.device, self.config.eval_batch_size
        )
        self.eval_seconds += time.perf_counter() - start
        self.val_step.append(step)
        self.val_loss.append(loss)
        self.val_acc.append(accuracy)
        self.keep_if_best(step, loss)
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{self.train_loss[-1]:.3f}" if self.train_loss else "-", val_acc=f"{accuracy:.3f}")
        if self.callback is not None:
            self._report(step)

    def keep_if_best(self, step: int, loss: float) -> None:
        """Remember the adapter state of the lowest validation loss; count evaluations since."""
        if loss < self.best_loss:
            self.best_loss, self.best_step, self.since_best = loss, step, 0
            self.best_state = self._snapshot()
        else:
            self.since_best += 1

    def _report(self, step: int) -> None:
        import torch

        was_training = self.net.training
        self.net.eval()
        try:
            with torch.no_grad():
                self.callback(step, self.net)
        finally:
            self.net.train(was_training)

    def should_stop(self) -> bool:
        """Whether `early_stopping_patience` evaluations have passed without a lower validation loss."""
        patience = self.config.early_stopping_patience
        return patience is not None and self.since_best >= patience

    def restore_best(self) -> None:
        """Put the kept state into `net` (the last step's when there is no validation) and eval mode."""
        import torch

        if self.validation is None:
            self.best_step = len(self.train_loss)
        else:
            with torch.no_grad():
                for n, p in self.net.named_parameters():
                    if p.requires_grad:
                        p.copy_(self.best_state[n])
        self.net.eval()

    def run(self) -> None:
        """Evaluate at step 0, then step until `max_steps` or the stopping rule; keep the best state."""
        config = self.config
        try:
            if self.validation is not None:
                self.evaluate(0)
            self.net.train()
            for step in range(1, config.max_steps + 1):
                self.step(step)
                if self.validation is not None and (step % config.eval_steps == 0 or step == config.max_steps):
                    self.evaluate(step)
                    self.net.train()
                    if self.should_stop():
                        self.stopped_early = step < config.max_steps
                        break
        finally:
            if self.bar is not None:
                self.bar.close()
        self.restore_best()


def finetune(
    model_or_name: LanguageModel | str | os.PathLike | None,
    train_df: pd.DataFrame,
    *,
    task=None,
    config: FineTuneConfig | None = None,
    output_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    reuse: bool = False,
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
        and ``config.device``; a `confnb.models.LanguageModel` is copied first, so the caller's model stays the base.
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
    reuse : bool
        If `output_dir` already holds an adapter trained by the same recipe -- the same base model
        weights, task, configuration (seed and device included), training and validation rows, and
        torch/transformers/peft versions (`confnb.adapters.training_key`) -- load it and return that
        run's recorded result (``reused=True``) instead of training. A folder trained by another recipe
        is trained again, which needs `overwrite`.
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

    task = task if task is not None else _tasks.SENTIMENT
    if reuse and output_dir is None:
        raise ValueError("reuse=True needs output_dir: the folder whose adapter may be reused")
    reusable = reuse and holds_adapter(output_dir)
    out_path = check_output_dir(output_dir, overwrite or reusable)
    frame = check_training_frame(train_df, task, text_column, label_column)
    if config is None:
        cuda = torch.cuda.is_available() and not (
            isinstance(model_or_name, LanguageModel) and not model_or_name.device.startswith("cuda")
        )
        config = FineTuneConfig.for_gpu() if cuda else FineTuneConfig.for_cpu()
    train_rows, validation_rows = carve_validation(
        frame, fraction=config.validation_fraction, max_rows=config.max_validation_rows, rng=config.rng
    )
    missing = [c for c in task.class_names if c not in set(train_rows["label"])]
    if missing:
        raise ValueError(f"after carving the validation slice no training row is labelled {missing}; add rows")

    lm = _prepare_model(model_or_name, config)
    recipe_key = training_key(
        base_key=lm.key, quantization=lm.quantization, task=task, config=config,
        rows={"train": train_rows, "validation": validation_rows}, kernels=kernel_signature(str(lm.model.device)),
    )
    if reusable:
        info = read_adapter_info(out_path)
        if info.get("training_key") == recipe_key:  # written with its curves and timings
            return _reused_result(lm, out_path, info, task, config)
        if not overwrite:
            raise ValueError(
                f"output folder {str(out_path)!r} holds an adapter trained by another recipe (base model, "
                "task, configuration, training rows or library versions differ); pass overwrite=True "
                "(--overwrite) to train and replace it, or choose another folder"
            )
    device = lm.model.device
    pad_id = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else 0
    train = encode_examples(lm, train_rows["text"], train_rows["label"], task)
    validation = encode_examples(lm, validation_rows["text"], validation_rows["label"], task) if len(validation_rows) else None
    token_ids = task.token_ids(lm)
    if lm.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()

    rng = np.random.default_rng(config.rng)
    fork_devices = [torch.cuda.current_device()] if lm.device.startswith("cuda") else []
    bar = None
    if want_progress(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=config.max_steps, desc=f"fine-tuning {lm.name}", unit="step")

    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(config.rng)
        net = _attach_lora(lm, config)
        loop = _TrainingLoop(
            net, config, train, validation, task, token_ids, pad_id, device, rng=rng, bar=bar, callback=callback
        )
        loop.run()

    tuned = dataclasses.replace(lm, model=net, adapter=None, key=f"{lm.key}-lora-{weights_key(net)}")
    result = FineTuneResult(
        model=tuned,
        adapter_path=None,
        task=task,
        config=config,
        train_loss=tuple(loop.train_loss),
        learning_rate=tuple(loop.learning_rates),
        validation_step=tuple(loop.val_step),
        validation_loss=tuple(loop.val_loss),
        validation_accuracy=tuple(loop.val_acc),
        best_step=loop.best_step,
        stopped_early=loop.stopped_early,
        n_train=len(train),
        n_validation=len(validation) if validation is not None else 0,
        train_seconds=loop.train_seconds,
        eval_seconds=loop.eval_seconds,
        train_cpu_seconds=loop.train_cpu_seconds,
        peak_memory_mb=_peak_memory_mb(lm.device),
    )
    if out_path is not None:
        info = build_adapter_info(
            base_model=lm.name,
            quantization=lm.quantization,
            task=task,
            config=config,
            training=result.summary(),
            label_counts={c: int(v) for c, v in train_rows["label"].value_counts().sort_index().items()},
            curves=result.curves(),
            timings=result.timings(),
            recipe_key=recipe_key,
        )
        save_adapter(net, out_path, info)
        tuned = dataclasses.replace(tuned, adapter=str(out_path), key=tuned_key(lm.key, out_path))
        result = dataclasses.replace(result, model=tuned, adapter_path=str(out_path))
    return result
