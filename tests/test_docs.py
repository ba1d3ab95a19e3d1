"""The API reference builds, with every cross-reference in a docstring resolved (what `make docs` runs)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # pdoc renders every module: a few seconds, kept out of `make check`


def test_the_api_reference_builds_without_broken_references(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "build_docs.py"), "--output", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "confnb.html").exists() and (tmp_path / "confnb" / "multiclass.html").exists()
