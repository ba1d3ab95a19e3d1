"""What a score depends on, in one place: content hashes of weights and the score cache's key.

A scored row is reused (from the score cache, or by ``confnb score --resume``) only when everything
that changes its numbers is the same: the weights' content (not their file name), the adapter's
content, quantization, dtype, device, the longest prompt scored, the scoring rule's version and the
task's prompt. Every backend describes itself through its ``identity`` method; `scoring_identity`
adds the scoring version and `scoring_key` hashes the lot, adding for the cache the machine that
computes (`kernel_signature`: the kind of processor or GPU) and the library versions.

Out of scope: loading models (`confnb.models`) and the cache's storage (`confnb.scoring`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "SCORING_VERSION",
    "cache_dir",
    "cpu_signature",
    "file_key",
    "file_sha256",
    "folder_key",
    "kernel_signature",
    "library_versions",
    "package_versions",
    "scoring_identity",
    "scoring_key",
]

#: Version of the rule that turns next-token log-probabilities into scored rows. It is part of every
#: score-cache key and resume check, and is raised whenever a change to confnb changes the numbers
#: (2: no doubled BOS after chat templates, the remote rule on visible tokens, ``no_class_token``).
#: ``tests/test_code_versions.py`` fails when the scoring code changes, so that each change is weighed.
SCORING_VERSION = 2


def cache_dir() -> Path:
    """Folder for confnb's caches: ``$CONFNB_CACHE`` if set, else ``~/.cache/confnb``.

    >>> cache_dir().is_absolute() or not cache_dir().parts[0].startswith("~")
    True
    """
    root = os.environ.get("CONFNB_CACHE")
    if root:
        return Path(root).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "confnb"


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


def file_key(path: Path) -> str:
    """Name of a weight file's identity: its stem and a prefix of its content hash."""
    return f"{path.stem}-{file_sha256(path)[:12]}"


def folder_key(folder: Path) -> str:
    """Identity of a model folder: content hashes of its files (weights, config, tokenizer)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        digest.update(f"{path.name}:{file_sha256(path)}\n".encode())
    return f"{folder.name}-{digest.hexdigest()[:12]}"


def cpu_signature() -> str:
    """What decides a CPU's last digits: vendor, model, vector units torch uses, torch's threads.

    float32 sums run in a different order on different processors (Intel's math library picks
    other kernels on AMD; AVX2 and AVX-512 split sums differently; more threads split them again),
    so scores agree across machines only to about 1e-6. Machines with the same signature run the
    same kernels and are expected to print the same digits (on this project's machine, clean runs
    reproduced every printed number); ``conftest.py`` compares notebook outputs exactly only
    on a machine whose signature matches the one `tools/run_course.py` recorded.

    >>> "threads=" in cpu_signature()
    True
    """
    import platform

    import torch

    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor describes them all
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:  # not Linux: the processor string is all there is
        pass
    vendor = info.get("vendor_id") or platform.machine()
    model = info.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in info:
        model += f" (family {info['cpu family']}, model {info.get('model', '?')})"
    flags = set(info.get("flags", "").split())
    units = [u for u in ("avx512f", "avx512_bf16", "amx_tile") if u in flags]
    capability = torch.backends.cpu.get_cpu_capability()
    return (f"{vendor} {model}; torch {capability}"
            f"{' ' + ' '.join(units) if units else ''}; threads={torch.get_num_threads()}")


def _installed(names: tuple[str, ...]) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def library_versions() -> dict:
    """Installed versions of torch, transformers and peft (None where missing): what a score or a
    trained weight may depend on besides confnb.

    Examples
    --------
    >>> sorted(library_versions())
    ['peft', 'torch', 'transformers']
    """
    return _installed(("torch", "transformers", "peft"))


def package_versions() -> dict:
    """Installed versions of confnb, torch, transformers and peft (None where missing).

    Examples
    --------
    >>> sorted(package_versions())
    ['confnb', 'peft', 'torch', 'transformers']
    """
    return _installed(("confnb", "torch", "transformers", "peft"))


def kernel_signature(device: str) -> str | None:
    """Which kernels compute on `device`: the last digits of a score or a trained weight depend on them.

    ``"cpu"``: `cpu_signature`. ``"cuda..."``: the GPU's name (``"cuda"`` alone where CUDA is not
    available to ask). ``"remote"`` (a server, whose kernels are not known here): None. Another
    local device (``"mps"``): its name.

    >>> kernel_signature("remote") is None, kernel_signature("mps")
    (True, 'mps')
    """
    if device == "cpu":
        return cpu_signature()
    if device.startswith("cuda"):
        import torch

        return f"cuda {torch.cuda.get_device_name(device)}" if torch.cuda.is_available() else "cuda"
    return None if device == "remote" else device


def scoring_identity(model) -> dict[str, Any]:
    """Everything about a loaded model that changes the numbers it scores.

    Used in one place for both the score cache (`scoring_key`) and ``confnb score --resume``,
    so that neither mixes rows scored under different setups.

    Parameters
    ----------
    model : LanguageModel or RemoteModel
        Any backend: its ``identity`` method names its weights, quantization, dtype, device and
        longest prompt.

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
    return {**model.identity(), "scoring_version": SCORING_VERSION}


def scoring_key(model, task=None) -> str:
    """A short hash of `scoring_identity` (and the task's prompt key): the score cache's key.

    For a local model it also covers the machine: `kernel_signature` of the model's device and the
    installed torch, transformers and peft (`library_versions`). The same weights in the same dtype
    agree across processors only to about 1e-6, so a cache folder shared between machines (a CI
    cache, a network home) never serves digits computed on another kind of processor or by another
    library version. ``confnb score --resume`` does not check these: rows of one output file may
    come from two machines, which differ far below any decision.

    >>> class Toy:  # any backend: it describes itself with identity()
    ...     def identity(self):
    ...         return {"weights": "w", "quantization": None, "dtype": "float32", "device": "cpu", "max_length": 512}
    >>> scoring_key(Toy()) == scoring_key(Toy())
    True
    """
    identity = scoring_identity(model)
    kernels = kernel_signature(str(getattr(model, "device", identity.get("device"))))
    if kernels is not None:  # a local model: its machine and libraries decide the last digits too
        identity["kernels"] = kernels
        identity["versions"] = library_versions()
    if task is not None:
        identity["task"] = task.key
    blob = json.dumps(identity, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:20]
