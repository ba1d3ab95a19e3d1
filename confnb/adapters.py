"""The LoRA adapter folder, both ways: write it after fine-tuning, read and attach it when loading.

An adapter folder holds peft's own files (``adapter_config.json`` and the weights) plus
``confnb_adapter.json`` (`ADAPTER_INFO`): the base model it was trained on, the task (prompt and
answers), the training configuration, a summary of the run, the training rows per label and the
package versions. `save_adapter` writes a folder atomically, `build_adapter_info` lays out its JSON,
`check_output_dir` refuses to overwrite anything that is not an adapter; `read_adapter_info` reads the
JSON back (upgrading the older configuration names), `attach_adapter` wraps a base model with the
adapter after checking it was trained on that base (or folds the adapter into its weights),
`adapter_parameter_count` counts the adapter's weights, and `adapter_key` / `tuned_key` /
`weights_key` name the tuned weights in cache keys. `training_key` names the recipe of a run (base model, task, configuration,
training rows, library versions), so ``confnb.finetune(..., reuse=True)`` can keep an adapter trained by
the same recipe instead of training it again.

Out of scope: training (`confnb.finetune`), loading base models (`confnb.load_model`), merging an
adapter into quantized weights, and adapters stored anywhere but a local folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from .identity import library_versions, package_versions

__all__ = [
    "check_adapter_folder",
    "ADAPTER_INFO",
    "adapter_key",
    "adapter_parameter_count",
    "attach_adapter",
    "build_adapter_info",
    "check_output_dir",
    "holds_adapter",
    "package_versions",
    "read_adapter_info",
    "save_adapter",
    "training_key",
    "tuned_key",
    "weights_key",
]

#: Bumped when a change to the training code changes what the same recipe trains: adapters saved with
#: another value are trained again by ``finetune(..., reuse=True)``. ``tests/test_code_versions.py``
#: fails when that code changes, so a change cannot slip past this decision.
#: (2: the output layer sees the answer positions by index, which moves losses in the last digits.)
TRAINING_VERSION = 2

#: File written into every adapter folder by `confnb.finetune`; read back to check the base model.
ADAPTER_INFO = "confnb_adapter.json"

# Configuration names written by confnb before they followed peft / transformers (and ``rng``):
# old name -> current `confnb.finetune_config.FineTuneConfig` field. Applied when reading.
_RENAMED_CONFIG_KEYS = {
    "alpha": "lora_alpha",
    "dropout": "lora_dropout",
    "steps": "max_steps",
    "warmup_fraction": "warmup_ratio",
    "eval_every": "eval_steps",
    "patience": "early_stopping_patience",
    "seed": "rng",
}

# ------------------------------------------------------------------------------------------ writing


def check_output_dir(output_dir: str | os.PathLike | None, overwrite: bool) -> Path | None:
    """The folder to save an adapter into, refused early if that would destroy something.

    A missing or empty folder is fine; a non-empty one needs `overwrite` and must already hold an
    adapter (never deletes other files). None stays None (nothing is saved).

    Examples
    --------
    >>> check_output_dir(None, overwrite=False) is None
    True
    """
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


def build_adapter_info(
    *,
    base_model: str,
    quantization: str | None,
    task: Any,
    config: Any,
    training: dict,
    label_counts: dict[str, int],
    curves: dict,
    timings: dict,
    recipe_key: str,
) -> dict:
    """The content of `ADAPTER_INFO`: what a reader needs to load, score and judge the adapter.

    `task` and `config` are the run's `confnb.tasks.ClassificationTask` and `confnb.finetune_config.FineTuneConfig` (saved with their
    ``to_dict``), `training` the run's `confnb.finetune_config.FineTuneResult.summary`. ``rng`` repeats ``config["rng"]``
    at the top level; ``versions`` records confnb, torch, transformers and peft. `curves` (every step's
    training loss and learning rate), `timings` (seconds, peak memory) and `recipe_key` (see
    `training_key`) let a later run with the same recipe reuse the folder.
    """
    config_dict = config.to_dict()
    return {
        "base_model": base_model,
        "quantization": quantization,
        "task": task.to_dict(),
        "config": config_dict,
        "rng": config_dict["rng"],
        "training": training,
        "label_counts": label_counts,
        "versions": package_versions(),
        "curves": curves,
        "timings": timings,
        "training_key": recipe_key,
    }


def save_adapter(net, path: Path, info: dict) -> None:
    """Write the peft adapter of `net` and `info` into a temporary sibling folder, then move it into place."""
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


# ------------------------------------------------------------------------------------- identifying


def weights_key(net) -> str:
    """A short hash of the trainable weights, so an unsaved tuned model never shares a cache key."""
    digest = hashlib.sha1()
    for name, p in net.named_parameters():
        if p.requires_grad:
            digest.update(name.encode())
            digest.update(p.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:10]


def training_key(
    *,
    base_key: str,
    quantization: str | None,
    task: Any,
    config: Any,
    rows: dict[str, Any],
    kernels: str | None = None,
) -> str:
    """A content hash of everything that decides what a fine-tuning run trains.

    Parameters
    ----------
    base_key : str
        The base model's `confnb.models.LanguageModel.key` (its weights' content hash).
    quantization : str or None
    task : ClassificationTask
        Its prompt and answers (``to_dict``).
    config : FineTuneConfig
        Every field (``to_dict``), the device and the seed included.
    rows : dict of str to DataFrame
        The training and validation rows (``text`` and ``label`` columns, in order), by role.
    kernels : str, optional
        The machine the recipe trains on (`confnb.identity.kernel_signature` of its device): the same
        seeded recipe gives the same weights only on the same kind of processor, so an adapter
        trained elsewhere (a cache shared between machines) is trained again.

    The installed versions of torch, transformers and peft and `TRAINING_VERSION` are part of the key:
    an upgrade may change what the same recipe trains, so it trains again.

    Examples
    --------
    >>> import pandas as pd
    >>> from confnb import SENTIMENT, FineTuneConfig
    >>> rows = {"train": pd.DataFrame({"text": ["Great."], "label": ["positive"]})}
    >>> key = training_key(base_key="m", quantization=None, task=SENTIMENT, config=FineTuneConfig.for_cpu(), rows=rows)
    >>> len(key), key == training_key(base_key="m", quantization=None, task=SENTIMENT,
    ...                               config=FineTuneConfig.for_cpu(rng=1), rows=rows)
    (16, False)
    """
    digest = hashlib.sha256()
    head = {
        "base": base_key,
        "quantization": quantization,
        "task": task.to_dict(),
        "config": config.to_dict(),
        "versions": library_versions(),
        "training_version": TRAINING_VERSION,
        "kernels": kernels,
    }
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    for role in sorted(rows):
        frame = rows[role]
        digest.update(f"\x00{role}:{len(frame)}".encode())
        for text, label in zip(frame["text"], frame["label"]):
            digest.update(f"\x1e{text}\x1f{label}".encode())
    return digest.hexdigest()[:16]


def adapter_key(folder: Path) -> str:
    """A short content hash of the files in an adapter folder (``adapter-<10 hex digits>``)."""
    digest = hashlib.sha1()
    for path in sorted(folder.glob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return "adapter-" + digest.hexdigest()[:10]


def tuned_key(base_key: str, folder: Path, *, merged: bool = False) -> str:
    """The key of a base model's weights with the adapter in `folder`: the tuned model's
    `confnb.models.LanguageModel.key`, made of the base key, the adapter's content hash, and whether
    the adapter was merged.

    >>> tuned_key("base", Path("no-such-folder"), merged=True)
    'base-adapter-da39a3ee5e-merged'
    """
    return f"{base_key}-{adapter_key(folder)}" + ("-merged" if merged else "")


# ------------------------------------------------------------------------------------------ reading


def holds_adapter(folder: str | os.PathLike) -> bool:
    """Whether `folder` holds an adapter written by confnb (peft's config and `ADAPTER_INFO`).

    >>> holds_adapter("no-such-folder")
    False
    """
    path = Path(folder).expanduser()
    return (path / "adapter_config.json").is_file() and (path / ADAPTER_INFO).is_file()


def read_adapter_info(folder: str | os.PathLike) -> dict:
    """The confnb metadata of an adapter folder (base model, task, training config), or ``{}``.

    Folders written by earlier confnb versions name the configuration's fields ``alpha``,
    ``dropout``, ``steps``, ``warmup_fraction``, ``eval_every``, ``patience`` and ``seed``; they are
    returned under the current names (``lora_alpha``, ..., ``rng``), as is the top-level ``seed``.

    Examples
    --------
    >>> read_adapter_info("no-such-folder")
    {}
    """
    path = Path(folder) / ADAPTER_INFO
    if not path.exists():
        return {}
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); the adapter folder is damaged") from exc
    return _upgrade_info(info)


def _upgrade_info(info: dict) -> dict:
    """`info` with the older configuration names replaced by the current ones."""
    if not isinstance(info, dict):
        return info
    config = info.get("config")
    if isinstance(config, dict):
        upgraded = {}
        for key, value in config.items():
            new = _RENAMED_CONFIG_KEYS.get(key, key)
            upgraded[key if new in config else new] = value  # never overwrite a current name
        info["config"] = upgraded
    if "seed" in info and "rng" not in info:
        info["rng"] = info.pop("seed")
    return info


def check_adapter_folder(folder: Path, base_name: str) -> None:
    """Refuse a folder that is not an adapter, or one trained on another base model (before any load).

    Raises
    ------
    FileNotFoundError
        If `folder` holds no ``adapter_config.json``.
    ValueError
        If the folder's `ADAPTER_INFO` names a base model other than `base_name`.
    """
    if not (folder / "adapter_config.json").exists():
        raise FileNotFoundError(
            f"{str(folder)!r} is not a LoRA adapter folder (no adapter_config.json). "
            "Create one with `confnb finetune -o DIR`."
        )
    trained_on = read_adapter_info(folder).get("base_model")
    if trained_on and trained_on != base_name:
        raise ValueError(
            f"The adapter in {str(folder)!r} was trained on base model {trained_on!r}, "
            f"not {base_name!r}. Load it with load_model({trained_on!r}, adapter=...)."
        )


def attach_adapter(model, folder: Path, base_name: str, *, merge: bool = False):
    """Wrap the base `model` with the peft adapter in `folder`, refusing one trained on another base
    (see `check_adapter_folder`).

    With ``merge=True`` the adapter's update ``(lora_alpha / r) B A`` is added into the base weights
    (peft's ``merge_and_unload``) and the plain transformers model is returned: it computes what the
    wrapped model computes, up to rounding, at the cost of the base model alone.
    """
    check_adapter_folder(folder, base_name)
    from peft import PeftModel

    with warnings.catch_warnings():  # peft calls a transformers method that warns of its coming rename
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        net = PeftModel.from_pretrained(model, str(folder))
    return net.merge_and_unload() if merge else net


def adapter_parameter_count(folder: str | os.PathLike) -> int:
    """Number of weights stored in an adapter folder (its LoRA A and B matrices), read from the
    weights file's header without loading the model.

    Examples
    --------
    >>> adapter_parameter_count("adapter")    # r=8 on every linear layer of SmolLM2-135M   # doctest: +SKIP
    2442240
    """
    from safetensors import safe_open

    path = Path(folder).expanduser() / "adapter_model.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist: {str(folder)!r} is not a saved LoRA adapter folder")
    with safe_open(str(path), framework="np") as weights:
        return int(sum(math.prod(weights.get_slice(name).get_shape()) for name in weights.keys()))
