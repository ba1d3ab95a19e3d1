"""Execute every course notebook in place on the embedded model (what `make course` runs).

Notebooks write their figures into images/ as they run. Prints the wall time per notebook; the
README's timing table is a copy of this output.

A notebook that writes anything to stderr (a warning, a log line, a progress bar) fails the run:
nbval and ``tests/test_notebooks_nav.py`` would otherwise fail later, after the outputs were
committed. The notebook is still written, so the offending cell can be inspected.

    python tools/run_course.py [--retrain] [notebooks/03_*.ipynb ...]

Notebook 06 keeps the adapter it trained on an earlier run when the recipe (model, task, configuration,
rows, library versions) is unchanged; ``--retrain`` (``make course RETRAIN=1``) sets
``CONFNB_RETRAIN=1`` so that it trains again.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets.config import Config

from confnb.models import cpu_signature

ROOT = Path(__file__).resolve().parents[1]


def stderr_outputs(nb) -> list[str]:
    """``"cell N: first line"`` for every stderr stream output in an executed notebook."""
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = output.get("text", "").strip().splitlines() or [""]
                found.append(f"cell {index}: {text[0][:160]}")
    return found


def kernel_config() -> Config:
    """Configuration for the course's kernel: its local traffic encrypted where both sides can.

    ipykernel 7.3+ logs "Kernel is running over TCP without encryption" on every start without it.
    ``transport_encryption="auto"`` (jupyter_client 8.9+) provisions CurveZMQ keys only when the
    kernelspec declares support, so older versions keep working unencrypted.
    """
    if "transport_encryption" not in KernelManager.class_trait_names():
        return Config()
    return Config({"KernelManager": {"transport_encryption": "auto"}})


def run(path: Path, timeout: int = 1800) -> tuple[float, list[str]]:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, config=kernel_config(), kernel_name="python3", timeout=timeout, resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:
        for cell in nb.cells:  # keep diffs small: execution counts are renumbered, metadata trimmed
            cell.get("metadata", {}).pop("execution", None)
        # float32 digits depend on the processor: nbval compares outputs exactly only on a machine
        # like this one (conftest.py)
        nb.metadata["confnb"] = {"executed_on": cpu_signature()}
        nbformat.write(nb, path)
    return time.perf_counter() - start, stderr_outputs(nb)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Execute course notebooks in place; print seconds per notebook.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: every course notebook)")
    parser.add_argument("--retrain", action="store_true", help="notebook 06 trains its adapter again")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    os.environ.setdefault("CONFNB_PROGRESS", "0")
    if args.retrain:
        os.environ["CONFNB_RETRAIN"] = "1"  # the kernels inherit it; notebook 06 reads it
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        print("no notebooks yet")
        return 0
    total = 0.0
    noisy: dict[str, list[str]] = {}
    failed: dict[str, str] = {}
    print("| notebook | seconds |\n|---|---|")
    for path in paths:
        start = time.perf_counter()
        try:
            seconds, stderr = run(path)
        except CellExecutionError as exc:  # go on with the others; the notebook shows the failing cell
            seconds, stderr = time.perf_counter() - start, []
            failed[path.name] = str(exc).strip().splitlines()[-1][:300]
        total += seconds
        print(f"| {path.name} | {seconds:.0f} |", flush=True)
        if stderr:
            noisy[path.name] = stderr
    print(f"| total | {total:.0f} |")
    for name, message in failed.items():
        print(f"FAILED: {name}: {message}", file=sys.stderr)
    if noisy:
        print("\nFAILED: these notebooks wrote to stderr (silence the source, then re-run them):", file=sys.stderr)
        for name, lines in noisy.items():
            for line in lines:
                print(f"  {name} {line}", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
