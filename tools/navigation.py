"""Write the Colab badge (first cell) and the "next notebook" link (last cell) of every notebook.

Idempotent: a notebook whose navigation is already right is left untouched. `--check` changes
nothing and exits 1 if any notebook's navigation is out of date (the tests run it).

    python tools/navigation.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from confnb.course import COLAB_REPO  # noqa: E402

TOP = "<!-- nav:top -->"
BOTTOM = "<!-- nav:bottom -->"
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


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
    return f"https://colab.research.google.com/github/{COLAB_REPO}/blob/main/notebooks/{path.name}"


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


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = notebooks()
    stale = []
    for i, path in enumerate(paths):
        nb = nbformat.read(path, as_version=4)
        changed = _set(nb, TOP, top_cell(path), first=True)
        changed |= _set(nb, BOTTOM, bottom_cell(paths, i), first=False)
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
