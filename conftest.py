"""Shared fixtures, the test tiers, and how nbval runs the notebooks.

At the repository root so that it applies to every test path -- ``tests/``, the doctests in
``confnb/`` and ``notebooks/`` -- also when one of them is run alone (``pytest
notebooks/03_reliability_and_calibration.ipynb`` turns progress bars off and compares outputs by the
same rule as ``make test``).

Tiers (markers registered in pyproject.toml; ``make check`` runs ``-m unit``):

- ``unit``: no model, seconds. Assigned to every item that gets none of the markers below.
- ``model``: loads a model or a real tokenizer (the embedded SmolLM2, Gemma's tokenizer, ...).
- ``train``: fits LoRA adapters (also marked ``model``).
- ``notebook``: the nbval items (one per notebook cell).
- ``slow``: servers, a browser, minutes.

`pytest_collection_modifyitems` assigns them: nbval items get ``notebook``; items whose fixtures
(directly or through other fixtures) include one of `MODEL_FIXTURES` get ``model``, of `TRAIN_FIXTURES`
``train``; a doctest whose examples call one of `MODEL_CALLS` outside ``# doctest: +SKIP`` gets
``model``; what the rules cannot see (a test that calls ``load_model`` or ``finetune`` itself, or
runs the CLI on the default model) is marked in its file. A ``unit`` item that loads model weights
fails with `ModelLoadInUnitTest` (see `_UnitGuard` below), so a missing marker shows up
the first time ``make check`` runs.
"""

from __future__ import annotations

import contextlib
import doctest
import os
from typing import NamedTuple

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("CONFNB_PROGRESS", "0")
# No test reaches the Hugging Face hub. huggingface_hub reads this once, on import: set here, before
# anything imports it, a test's own monkeypatch.setenv("HF_HUB_OFFLINE", "1") would come too late
# (a hub id then waits ~45 s for the network timeout).
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TIERS = ("model", "train", "notebook", "slow")  # an item with none of these is a unit test
#: fixtures that load a model (items that use them, even through another fixture, are ``model``)
MODEL_FIXTURES = {"lm"}
#: fixtures that fit an adapter, as (test module, fixture name): ``train``
TRAIN_FIXTURES = {("test_finetune", "run")}
#: calls that load a model, looked for in the doctests' (not skipped) examples
MODEL_CALLS = ("load_model(", "finetune(")


# ----------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def lm():
    """The embedded default model (SmolLM2-135M-Instruct) in float32 on CPU.

    float32 is the default on CPU; it is named here because the tests that compare batched scoring
    with one text at a time, or exact multi-token answers with the chain rule, need its precision.
    `test_models.py` checks the ``dtype="bfloat16"`` option against it.
    """
    import confnb

    return confnb.load_model(dtype="float32", device="cpu")


class ScoreSample(NamedTuple):
    """Synthetic top-label scores: ``confidence`` in [0.5, high), ``correct`` as 0/1 ints."""

    confidence: np.ndarray
    correct: np.ndarray

    @property
    def y_and_p(self) -> tuple[np.ndarray, np.ndarray]:
        """``(correct, confidence)``: the order of the metrics' ``(y_true, y_prob)`` arguments."""
        return self.correct, self.confidence


def draw_overconfident(rng, n: int, *, slope: float = 1.0, gap: float = 0.0, high: float = 1.0) -> ScoreSample:
    """Draw `n` confidences ~ U(0.5, `high`), then whether each prediction is right.

    A prediction at confidence ``c`` is right with probability ``0.5 + slope * (c - 0.5) - gap``
    (clipped to [0, 1]): below ``c`` (overconfident) when ``slope < 1`` or ``gap > 0``. ``slope=1,
    gap=0`` is calibrated by construction. `rng` is a seed or a `numpy.random.Generator` (consumed:
    one draw of `n` confidences, then one of `n` uniforms).
    """
    gen = np.random.default_rng(rng)
    confidence = gen.uniform(0.5, high, n)
    accuracy = confidence - gap if slope == 1 else 0.5 + slope * (confidence - 0.5) - gap
    correct = (gen.uniform(size=n) < np.clip(accuracy, 0, 1)).astype(int)
    return ScoreSample(confidence, correct)


@pytest.fixture(scope="session")
def overconfident_sample():
    """`draw_overconfident`: ``overconfident_sample(rng, n, slope=..., gap=..., high=...)``."""
    return draw_overconfident


# ------------------------------------------------------------------------------------------- tiers


def _doctest_loads_model(item) -> bool:
    examples = getattr(getattr(item, "dtest", None), "examples", ())
    return any(any(call in ex.source for call in MODEL_CALLS) and not ex.options.get(doctest.SKIP) for ex in examples)


def _uses_train_fixture(item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    for name, defs in (info.name2fixturedefs.items() if info else ()):
        for fixturedef in defs:
            module = getattr(fixturedef.func, "__module__", "") or ""
            if (module.rpartition(".")[2], name) in TRAIN_FIXTURES:
                return True
    return False


def notebook_executed_on(path) -> str | None:
    """The `cpu_signature` that `tools/run_course.py` recorded in a notebook, if any."""
    import json

    with open(path, encoding="utf-8") as f:
        return json.load(f).get("metadata", {}).get("confnb", {}).get("executed_on")


#: Notebooks whose outputs nbval runs but does not compare (executed on another kind of CPU).
OUTPUTS_NOT_COMPARED: dict[str, str] = {}


def _compare_outputs_here(items) -> None:
    """nbval compares a notebook's outputs only on the kind of CPU that executed it.

    float32 scores differ by about 1e-6 between processors, enough to change a printed last digit
    somewhere in the course. Elsewhere every cell still runs, and the asserts that guard each
    finding still fail a flipped finding; only the digit-for-digit comparison is left out.
    """
    from confnb.models import cpu_signature

    here, recorded = None, {}
    for item in items:
        if item.path.suffix != ".ipynb" or not hasattr(item, "options"):
            continue
        if item.path not in recorded:
            recorded[item.path] = notebook_executed_on(item.path)
        if recorded[item.path] is None:
            continue  # not stamped: compare, as nbval does by default
        here = here or cpu_signature()
        if recorded[item.path] != here:
            item.options["check"] = False
            OUTPUTS_NOT_COMPARED[item.path.name] = recorded[item.path]


def pytest_collection_modifyitems(config, items):
    _compare_outputs_here(items)
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
            continue
        names = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("train") is None and _uses_train_fixture(item):
            item.add_marker(pytest.mark.train)
        if item.get_closest_marker("model") is None and (
            names & MODEL_FIXTURES or item.get_closest_marker("train") or _doctest_loads_model(item)
        ):
            item.add_marker(pytest.mark.model)
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            item.add_marker(pytest.mark.unit)


# ------------------------------------------------------------------------------------------- guard


class ModelLoadInUnitTest(RuntimeError):
    """A test in the ``unit`` tier tried to load model weights."""


@contextlib.contextmanager
def _no_model_loads(item):
    """While a ``unit`` item sets up, runs and tears down, loading model weights raises (and fails the
    item even where the code under test catches the error)."""
    if item.get_closest_marker("unit") is None:
        yield
        return
    from transformers import AutoModelForCausalLM, PreTrainedModel

    attempts: list[str] = []

    def refuse(what):
        def guard(*args, **kwargs):
            attempts.append(what)
            raise ModelLoadInUnitTest(
                f"{item.nodeid} loads a model ({what}) but is in the unit tier: mark it "
                "@pytest.mark.model (or use the `lm` fixture), see conftest.py"
            )

        return guard

    with pytest.MonkeyPatch.context() as mp:
        for cls in (AutoModelForCausalLM, PreTrainedModel):
            for method in ("from_pretrained", "from_config"):
                if hasattr(cls, method):
                    mp.setattr(cls, method, refuse(f"{cls.__name__}.{method}"))
        try:
            yield
        except ModelLoadInUnitTest:
            raise
        except BaseException as exc:  # the code under test caught the guard's error and raised another (a skip...)
            if attempts:
                raise ModelLoadInUnitTest(f"{item.nodeid} tried to load a model in the unit tier ({attempts[0]}): "
                                          "mark it @pytest.mark.model, see conftest.py") from exc
            raise
        if attempts:  # ... or caught it and carried on
            raise ModelLoadInUnitTest(f"{item.nodeid} tried to load a model in the unit tier ({attempts[0]}): "
                                      "mark it @pytest.mark.model, see conftest.py")


class _UnitGuard:
    """The runtest hooks, registered once as a plugin (see `pytest_configure`)."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        with _no_model_loads(item):  # also covers module- and session-scoped fixtures set up for this item
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        with _no_model_loads(item):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item, nextitem):
        with _no_model_loads(item):
            return (yield)


def pytest_terminal_summary(terminalreporter):
    if OUTPUTS_NOT_COMPARED:
        from confnb.models import cpu_signature

        terminalreporter.write_line(
            f"notebook outputs not compared (executed on another kind of CPU; this one: {cpu_signature()}): "
            + "; ".join(f"{name} ({cpu})" for name, cpu in sorted(OUTPUTS_NOT_COMPARED.items()))
        )


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("confnb-unit-guard"):
        config.pluginmanager.register(_UnitGuard(), "confnb-unit-guard")
