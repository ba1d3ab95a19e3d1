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
    cmd = [sys.executable, "-m", "confnb.cli", "score", str(path), "-o", str(out), "--label-column", "label", "--chunk-size", "20",
           "--dtype", "float32"]  # compared with the float32 `lm` below
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


@pytest.fixture()
def broken_run(tmp_path, lm):
    """A run stopped after its first chunk (row 8 has an empty text), leaving OUTPUT.partial behind."""
    df = confnb.load_sentiment("train").head(10)[["id", "text"]].copy()
    df.loc[7, "text"] = ""
    path = tmp_path / "rows.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "scores.csv"
    with pytest.raises(ValueError, match="row 8"):
        score_file(path, out, model=lm, chunksize=5)
    state = json.loads((tmp_path / "scores.csv.partial.json").read_text())
    assert state["counts"]["rows"] == 5 and state["setup"]["max_length"] == lm.context_length
    return path, out


def test_resume_refuses_a_partial_scored_with_another_setup(broken_run, lm):
    import dataclasses

    path, out = broken_run
    with pytest.raises(ValueError, match=rf"different model setup: max_length {lm.context_length} then, 512 now.*--max-length"):
        score_file(path, out, model=dataclasses.replace(lm, max_length=512), resume=True, limit=7)
    with pytest.raises(ValueError, match=r"quantization None then, '4bit' now.*--quantization"):
        score_file(path, out, model=dataclasses.replace(lm, quantization="4bit"), resume=True, limit=7)
    with pytest.raises(ValueError, match=r"weights \(or server\) changed"):
        score_file(path, out, model=dataclasses.replace(lm, key=lm.key + "-lora-0123456789"), resume=True, limit=7)
    # the same setup resumes as before, and the refusals left the partial output intact
    assert "scored 7 of 7" in (summary := score_file(path, out, model=lm, resume=True, limit=7))
    assert "resumed after row 5" in summary
    scored = pd.read_csv(out)
    assert len(scored) == 7 and scored["no_class_token"].eq(False).all()


def test_cli_resume_with_another_max_length_exits_2(broken_run, capsys):
    from confnb.cli import main

    path, out = broken_run
    float32 = ["--dtype", "float32"]  # broken_run scored with the float32 `lm`
    code = main(["score", str(path), "-o", str(out), "--resume", "--limit", "7", "--max-length", "512", *float32])
    err = capsys.readouterr().err
    assert code == 2 and "different model setup: max_length" in err and "--max-length" in err
    code = main(["score", str(path), "-o", str(out), "--resume", "--limit", "7", "--dtype", "bfloat16"])
    err = capsys.readouterr().err
    assert code == 2 and "dtype 'float32' then, 'bfloat16' now" in err and "--dtype" in err
    assert main(["score", str(path), "-o", str(out), "--resume", "--limit", "7"]) == 0  # auto: float32 on CPU
    assert "resumed after row 5" in capsys.readouterr().err
