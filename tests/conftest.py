"""Shared fixtures: the embedded model is loaded once per test session."""

import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("CONFNB_PROGRESS", "0")


@pytest.fixture(scope="session")
def lm():
    """The embedded default model (SmolLM2-135M-Instruct), float32 on CPU."""
    import confnb

    return confnb.load_model()
