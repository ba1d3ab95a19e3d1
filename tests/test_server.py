"""Scoring through a real OpenAI-compatible server: llama.cpp's, serving an F32 copy of the embedded model.

llama-cpp-python[server] compiles llama.cpp (about 11 minutes on 2 cores; `make test` builds it once and
pip caches the wheel). Where it is not installed these tests skip and say so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import confnb
from confnb.models import cache_dir, embedded_model_path

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama-cpp-python[server] is not installed (make setup builds it: pip install 'llama-cpp-python[server]', ~11 min)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """A llama.cpp server on 127.0.0.1 serving an F32 GGUF of the embedded model."""
    import httpx

    sys.path.insert(0, str(ROOT / "tools"))
    from f32_gguf import to_f32

    f32 = cache_dir() / "gguf" / (embedded_model_path().stem + ".F32.gguf")
    if not f32.exists():
        to_f32(embedded_model_path(), f32)
    port = _free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(f32), "--model_alias", "smollm2",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--n_threads", "2",
        "--logits_all", "true", "--verbose", "false",
    ]
    log = open(cache_dir() / "llama_server.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama.cpp server exited ({proc.returncode}); see {log.name}")
        try:
            if httpx.get(base + "/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("llama.cpp server did not answer within 120 s")
    yield base
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="module")
def rows():
    return confnb.load_sentiment("train").sample(200, random_state=1).reset_index(drop=True)


def test_classify_through_the_server_agrees_with_transformers(server, rows, lm):
    remote = confnb.load_model("openai:smollm2", base_url=server, concurrency=2)
    assert "api_key" in repr(remote) and "secret" not in repr(remote)
    local = confnb.classify(lm, rows["text"])
    far = confnb.classify(remote, rows["text"])
    same = float((local["prediction"] == far["prediction"]).mean())
    assert same >= 0.95, f"predictions agree on only {same:.1%}"
    # masses from the top-20 are lower bounds; on an F32 copy they match within a small tolerance
    for column in ("mass_positive", "mass_negative"):
        diff = (local[column] - far[column]).abs()
        assert diff.median() < 0.01 and diff.quantile(0.95) < 0.03, f"{column}: {diff.describe()}"
    assert (far["unseen_mass"] >= 0).all() and far["unseen_mass"].median() < 0.2
    # the remote rule is the local rule on the visible tokens: wherever the server's top token is the
    # local top token, the prediction is the local one (no unseen pseudo-token can outvote it)
    assert far["no_class_token"].dtype == bool and not far["no_class_token"].any()
    class_top = (far["top_token"] == local["top_token"]) & local["top_token"].str.strip().str.lower().isin(["yes", "no", "y", "n"])
    assert class_top.sum() > 100 and (far["prediction"] == local["prediction"])[class_top].all()


def test_next_token_table_through_the_server(server, lm):
    remote = confnb.load_model("openai:smollm2", base_url=server)
    prompt = confnb.SENTIMENT.prompt("I love this movie!", lm)
    far = confnb.next_token_table(remote, prompt, k=5)
    near = confnb.next_token_table(lm, prompt, k=5)
    assert far["token"].iloc[0] == near["token"].iloc[0]
    assert abs(far["logprob"].iloc[0] - near["logprob"].iloc[0]) < 0.05


def test_cli_resume_through_the_server_survives_a_kill(server, rows, tmp_path):
    path = tmp_path / "rows.csv"
    rows.head(120)[["id", "text", "label"]].to_csv(path, index=False)
    out = tmp_path / "scores.csv"
    state = tmp_path / "scores.csv.partial.json"
    cmd = [sys.executable, "-m", "confnb.cli", "score", str(path), "-o", str(out), "--label-column", "label",
           "--model", "openai:smollm2", "--base-url", server, "--chunk-size", "10", "--concurrency", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text())["counts"]["rows"] >= 30:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the scorer finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    result = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "resumed after row" in result.stderr
    scored = pd.read_csv(out)
    assert list(scored["id"]) == list(rows.head(120)["id"])
    assert scored["unseen_mass"].notna().all()


def test_a_server_without_logprobs_gets_a_clear_error(server):
    # asking the chat endpoint of a completion-only alias still returns log-probs; an unknown path does not
    remote = confnb.load_model("openai:smollm2", base_url=server + "/nowhere", max_retries=0)
    with pytest.raises(confnb.remote.RemoteError):
        confnb.classify(remote, ["hello"])
