"""Every notebook's navigation: Colab badge first, link to the next notebook last, all targets exist."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_navigation_is_up_to_date():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "navigation.py"), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_links_point_at_files_that_exist(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0].source
    assert first.startswith("<!-- nav:top -->") and "colab.research.google.com/github/" in first
    assert first.rstrip(")").endswith(f"notebooks/{path.name}")
    assert nb.cells[-1].source.startswith("<!-- nav:bottom -->")
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for target in LINK.findall(cell.source):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            local = (path.parent / target.split("#")[0]).resolve()
            assert local.exists(), f"{path.name} links to missing {target}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_small_and_quiet(path):
    assert path.stat().st_size < 2_000_000
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr", f"{path.name} has stderr output: {output.get('text', '')[:200]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_records_the_cpu_that_executed_it(path):
    from conftest import notebook_executed_on

    assert notebook_executed_on(path), f"{path.name}: run it with tools/run_course.py, which records the CPU"


def test_outputs_are_compared_only_on_the_cpu_kind_that_executed_them(tmp_path):
    from types import SimpleNamespace

    from conftest import OUTPUTS_NOT_COMPARED, _compare_outputs_here

    from confnb.models import cpu_signature

    def notebook(name, executed_on):
        nb = nbformat.v4.new_notebook()
        if executed_on:
            nb.metadata["confnb"] = {"executed_on": executed_on}
        nbformat.write(nb, tmp_path / name)
        return SimpleNamespace(path=tmp_path / name, options={"check": True})

    here, other, unstamped = notebook("a.ipynb", cpu_signature()), notebook("b.ipynb", "GenuineIntel Xeon"), notebook("c.ipynb", None)
    try:
        _compare_outputs_here([here, other, unstamped])
        assert here.options["check"] and unstamped.options["check"] and not other.options["check"]
        assert OUTPUTS_NOT_COMPARED["b.ipynb"] == "GenuineIntel Xeon" and "a.ipynb" not in OUTPUTS_NOT_COMPARED
    finally:
        OUTPUTS_NOT_COMPARED.pop("b.ipynb", None)
