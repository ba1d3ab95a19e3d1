"""The settings of a LoRA fine-tuning run and the record of what it produced.

`FineTuneConfig` holds the hyper-parameters, with two recipes (`FineTuneConfig.for_cpu` for the
embedded model, `FineTuneConfig.for_gpu` for QLoRA on an 8B model); `FineTuneResult` holds the tuned
model, the loss and validation curves, the kept step, timings and memory. Both are plain frozen
records: `confnb.finetune` fills them in.

Out of scope: training itself (`confnb.finetune`), carving the validation slice (`confnb.holdout`),
and the adapter folder's files and their JSON info (`confnb.adapters`).
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .models import LanguageModel

__all__ = ["FineTuneConfig", "FineTuneResult"]


@dataclass(frozen=True)
class FineTuneConfig:
    """Hyper-parameters of a LoRA fine-tuning run.

    Start from a recipe -- `for_cpu` or `for_gpu` -- and override what you need:
    ``FineTuneConfig.for_cpu(max_steps=50)`` or ``dataclasses.replace(config, rng=1)``. The defaults
    are the CPU recipe; its steps and learning rate were chosen on the validation slice carved from
    ``train`` only, never on test-split numbers (see `for_cpu`). The field names follow peft's
    ``LoraConfig`` and transformers' ``TrainingArguments`` (``lora_alpha``, ``max_steps``,
    ``eval_steps``, ...); randomness is `rng`, as everywhere in confnb. Adapter folders written before
    the rename store the older names (``alpha``, ``steps``, ``seed``, ...);
    `confnb.adapters.read_adapter_info` reads them under the new ones.

    Parameters
    ----------
    r : int
        LoRA rank.
    lora_alpha : float
        LoRA scaling numerator (the update is scaled by ``lora_alpha / r``).
    lora_dropout : float
        Dropout on the LoRA branch's input during training.
    target_modules : tuple of str or "all-linear"
        Names of the linear layers that get an adapter.
    learning_rate : float
        Peak AdamW learning rate, reached after the warm-up.
    weight_decay : float
        AdamW weight decay on the LoRA weights.
    batch_size : int
        Training rows per optimizer step.
    max_steps : int
        Optimizer steps (an upper bound when `early_stopping_patience` is set).
    warmup_ratio : float
        Share of `max_steps` over which the learning rate rises linearly from 0; it then decays
        linearly to 0 at `max_steps`.
    max_grad_norm : float or None
        Clip the gradients' global norm to this value; None: no clipping.
    eval_steps : int
        Measure the validation slice every this many steps (and before the first step).
    early_stopping_patience : int or None
        Stop after this many evaluations without a lower validation loss (2 in both recipes); None:
        run all `max_steps`.
    validation_fraction : float
        Share of the training rows held out for validation, as whole sentence frames (see
        `confnb.holdout.carve_validation`), in [0, 0.5). 0: no validation, the adapter after the last step is kept.
    max_validation_rows : int or None
        Cap on the validation slice (evaluation time grows with it); held-out rows beyond it are
        used for neither training nor validation.
    eval_batch_size : int
        Rows per forward pass when evaluating.
    rng : int
        Seeds the LoRA initialisation, dropout, the validation slice (`confnb.holdout.carve_validation`'s ``rng``)
        and the data order. An int, not a Generator: it also seeds torch and is saved with the
        adapter.
    quantization : {None, "4bit"}
        Used when `confnb.finetune.finetune` loads the model by name: ``"4bit"`` loads an NF4 base (QLoRA).
    device : {"auto", "cpu", "cuda"}
        Used when `confnb.finetune.finetune` loads the model by name.

    Examples
    --------
    >>> FineTuneConfig.for_cpu(max_steps=40).max_steps
    40
    >>> FineTuneConfig.for_gpu().quantization
    '4bit'
    """

    r: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] | str = "all-linear"
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 16
    max_steps: int = 100
    warmup_ratio: float = 0.1
    max_grad_norm: float | None = 1.0
    eval_steps: int = 20
    early_stopping_patience: int | None = 2
    validation_fraction: float = 0.1
    max_validation_rows: int | None = 300
    eval_batch_size: int = 64
    rng: int = 0
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
        for name in ("r", "batch_size", "max_steps", "eval_steps", "eval_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if not 0 <= self.validation_fraction < 0.5:
            raise ValueError(f"validation_fraction must be in [0, 0.5), got {self.validation_fraction}")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ValueError(
                f"early_stopping_patience must be at least 1 or None, got {self.early_stopping_patience}"
            )
        if isinstance(self.rng, bool) or not isinstance(self.rng, numbers.Integral):
            raise TypeError(f"rng must be an int (it seeds torch and is saved with the adapter), got {self.rng!r}")
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
        35 whole sentence frames held out of ``train`` (`confnb.holdout.carve_validation`) -- from two runs of
        ``benchmarks/finetune.py`` (default prompt, rng 0, no test rows scored):

        * learning rate 1e-3: validation loss 0.589 before training, lowest 0.311 at step 20
          (accuracy 0.733 -> 0.880); accuracy stays 0.88-0.90 from step 20 to 100 while the loss,
          noisy, rises after step 70 (0.62 at step 100);
        * learning rate 5e-4: lowest validation loss 0.398 at step 70 (accuracy 0.877); accuracy
          0.80-0.88 along the way.

        The higher rate reaches a lower validation loss sooner, so it stays. `confnb.finetune.finetune` keeps the
        adapter state of the lowest validation loss (here step 20's), so steps after it cost time but
        not quality: with ``early_stopping_patience=2`` the run stops after two evaluations without a
        lower validation loss (at step 60: 0.433 at step 40, 0.391 at step 60), keeps the same step-20
        state a full 100-step run keeps (the learning-rate schedule still spans ``max_steps``), and
        saves 40 steps. No test-split number entered any of these choices.
        Cost: about 4 s per step on two idle CPU cores (6-10 s on a shared machine), peak resident
        memory under 4 GB.
        """
        return cls(**overrides)

    @classmethod
    def for_gpu(cls, **overrides: Any) -> "FineTuneConfig":
        """The QLoRA recipe for an 8B model on a CUDA GPU: NF4 base, bf16 compute, every linear layer.

        Rank 16, lora_alpha 32, learning rate 2e-4 -- the usual QLoRA settings; an 8B model learns the
        task in fewer steps than the 135M one needs.
        """
        recipe = dict(
            r=16,
            lora_alpha=32.0,
            lora_dropout=0.05,
            target_modules="all-linear",
            learning_rate=2e-4,
            batch_size=16,
            max_steps=200,
            eval_steps=25,
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
        Whether ``config.early_stopping_patience`` ended the run before ``config.max_steps``.
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
    reused : bool
        True when ``finetune(..., reuse=True)`` found an adapter trained by the same recipe in its
        output folder and trained nothing: the curves, timings and memory are that earlier run's.
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
    reused: bool = False

    @classmethod
    def from_adapter_info(cls, info: dict, *, model: LanguageModel, task: Any, config: FineTuneConfig) -> "FineTuneResult":
        """The recorded result of the run that wrote an adapter folder (`confnb.read_adapter_info`).

        Needs the per-step curves and timings that `confnb.finetune` has saved since adapters became
        reusable; raises KeyError for an older folder.
        """
        training, curves, timings = info["training"], info["curves"], info["timings"]
        full = curves["validation"]
        return cls(
            model=model,
            adapter_path=model.adapter,
            task=task,
            config=config,
            train_loss=tuple(curves["train_loss"]),
            learning_rate=tuple(curves["learning_rate"]),
            validation_step=tuple(int(p["step"]) for p in full),
            validation_loss=tuple(float(p["loss"]) for p in full),
            validation_accuracy=tuple(float(p["accuracy"]) for p in full),
            best_step=int(training["best_step"]),
            stopped_early=bool(training["stopped_early"]),
            n_train=int(training["n_train"]),
            n_validation=int(training["n_validation"]),
            train_seconds=float(timings["train_seconds"]),
            eval_seconds=float(timings["eval_seconds"]),
            train_cpu_seconds=float(timings["train_cpu_seconds"]),
            peak_memory_mb=float(timings["peak_memory_mb"]),
            reused=True,
        )

    def curves(self) -> dict:
        """Every step's training loss and learning rate and the unrounded validation curve (JSON-ready)."""
        return {
            "train_loss": [float(v) for v in self.train_loss],
            "learning_rate": [float(v) for v in self.learning_rate],
            "validation": [
                {"step": int(s), "loss": float(lo), "accuracy": float(a)}
                for s, lo, a in zip(self.validation_step, self.validation_loss, self.validation_accuracy)
            ],
        }

    def timings(self) -> dict:
        """Seconds spent and peak memory (JSON-ready)."""
        return {
            "train_seconds": float(self.train_seconds),
            "eval_seconds": float(self.eval_seconds),
            "train_cpu_seconds": float(self.train_cpu_seconds),
            "peak_memory_mb": float(self.peak_memory_mb),
        }

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
