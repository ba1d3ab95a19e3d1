"""The package's shape: no import loop (lazy imports included), no module reaching into another's privates."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "confnb"
MODULES = {p.stem: p for p in sorted(PACKAGE.glob("*.py")) if p.stem != "__init__"}


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(imported confnb module, names taken from it, line) for every relative import, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.append((node.module.split(".")[0], [a.name for a in node.names], node.lineno))
            else:  # from . import tasks
                found += [(a.name, [], node.lineno) for a in node.names]
    return [(m, names, line) for m, names, line in found if m in MODULES]


GRAPH = {name: sorted({m for m, _, _ in _imports(path)} - {name}) for name, path in MODULES.items()}


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert _cycle({"a": ["b"], "b": []}) is None


def test_no_import_loop_even_through_imports_inside_functions():
    cycle = _cycle(GRAPH)
    assert cycle is None, "import loop: " + " -> ".join(cycle)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_another_modules_private_names(name):
    private = [(m, n, line) for m, names, line in _imports(MODULES[name]) for n in names
               if n.startswith("_") and not n.startswith("__") and not m.startswith("_")]
    assert not private, f"confnb/{name}.py imports private names: {private}"


def test_the_pure_modules_import_no_model_code():
    # the arithmetic of scores must be usable (and testable) without torch or a backend
    for name in ("distributions", "columns", "identity"):
        assert not set(GRAPH[name]) & {"models", "remote", "scoring", "finetune", "batching"}, name


def _module_map() -> dict[str, set[str] | None]:
    """README's module map: module -> the confnb modules it may import (None: not restricted)."""
    text = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("### Module map", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0] != "module":
            allowed = cells[2]
            names = {n.strip() for n in allowed.split(",")} - {"—"}
            table[cells[0].strip("`")] = None if "above" in allowed or "below" in allowed else names
    return table, section


def test_the_readme_module_map_lists_every_module_and_what_it_imports():
    table, section = _module_map()
    assert set(table) == set(MODULES) | {"__init__"}, "README module map and confnb/ disagree"
    for name, allowed in table.items():
        if allowed is not None and name in GRAPH:
            extra = set(GRAPH[name]) - allowed
            assert not extra, f"confnb/{name}.py imports {sorted(extra)}, which README's module map does not allow"
    for name, path in MODULES.items():
        if len(path.read_text().splitlines()) > 500:
            assert f"`{name}` (about" in section, f"confnb/{name}.py is over 500 lines: say why in README's module map"
