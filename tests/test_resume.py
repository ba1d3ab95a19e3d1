"""`confnb score --resume`: a killed run continues where it stopped, without re-scoring or losing rows."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

import confnb
from confnb.files import score_file


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    df = confnb.load_sentiment("train").head(160)[["id", "text", "label"]]
    path = tmp_path_factory.mktemp("resume") / "rows.csv"
    df.to_csv(path, index=False)
    return df, path


def test_killed_run_resumes_without_rescoring_or_losing_rows(rows, tmp_path, lm):
    df, path = rows
    out = tmp_path / "scores.csv"
    state = tmp_path / "scores.csv.partial.json"
    cmd = [sys.executable, "-m", "confnb.cli", "score", str(path), "-o", str(out), "--label-column", "label", "--chunk-size", "20"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 300
    done = 0
    while time.time() < deadline and proc.poll() is None:
        if state.exists():
            done = json.loads(state.read_text())["counts"]["rows"]
            if done >= 40:
                break
        time.sleep(0.2)
    assert proc.poll() is None, "the scorer finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists() and done >= 40
    # a torn write after the last recorded chunk must not survive the resume
    with open(tmp_path / "scores.csv.partial", "ab") as f:
        f.write(b"s99999,half a row")
    result = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    resumed_after = json.loads("0" if "resumed after row" not in result.stderr else result.stderr.split("resumed after row ")[1].split(")")[0])
    assert resumed_after >= 40
    scored = pd.read_csv(out)
    assert list(scored["id"]) == list(df["id"])  # every row once, in order
    full = confnb.classify(lm, df["text"])
    assert (scored["prediction"] == full["prediction"]).all()
    assert (scored["p_positive"] - full["p_positive"]).abs().max() < 1e-4  # batches differ: float noise
    assert not state.exists() and not (tmp_path / "scores.csv.partial").exists()


def test_resume_refuses_a_partial_from_another_input(rows, tmp_path, lm):
    df, path = rows
    out = tmp_path / "o.csv"
    (tmp_path / "o.csv.partial").write_text("id,text\n")
    (tmp_path / "o.csv.partial.json").write_text(json.dumps({"identity": {"input": "elsewhere"}, "counts": {}}))
    with pytest.raises(ValueError, match="different input"):
        score_file(path, out, model=lm, resume=True, limit=5)
    # without --resume the stale partial is discarded and the run starts over
    assert "scored 5 of 5" in score_file(path, out, model=lm, limit=5)
    assert len(pd.read_csv(out)) == 5
