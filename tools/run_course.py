"""Execute every course notebook in place on the embedded model (what `make course` runs).

Notebooks write their figures into images/ as they run. Prints the wall time per notebook; the
README's timing table is a copy of this output.

    python tools/run_course.py [notebooks/03_*.ipynb ...]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path, timeout: int = 1800) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for cell in nb.cells:  # keep diffs small: execution counts are renumbered, metadata trimmed
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    os.environ.setdefault("CONFNB_PROGRESS", "0")
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        print("no notebooks yet")
        return 0
    total = 0.0
    print("| notebook | seconds |\n|---|---|")
    for path in paths:
        seconds = run(path)
        total += seconds
        print(f"| {path.name} | {seconds:.0f} |", flush=True)
    print(f"| total | {total:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
