"""Scoring through an OpenAI-compatible server vs the local backend, and memory of streaming `score`.

1. rows/s of `confnb.classify` through llama.cpp's server (serving an F32 copy of the embedded model)
   at concurrency 1, 4 and 16, and of the local transformers backend, on the same train rows, measured
   side by side in one run. With 2 cores the server has little to parallelise; the point of concurrency
   is a real deployment (vLLM with several GPUs or replicas), where requests in flight set throughput.
2. Peak memory of `confnb score` on a 200,000-row CSV, streamed. Scoring 200k rows on 2 CPU cores would
   take hours, so the file is mostly rows the scorer must still read, carry and write but not score
   (empty texts with --skip-empty); a 2,000-row file of real texts scored end to end gives the model's
   share. Peak RSS of the two (and of a 20,000-row version) shows whether memory grows with the file.

    python benchmarks/server.py [--rows 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import confnb
from confnb.models import cache_dir, embedded_model_path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    import httpx

    sys.path.insert(0, str(ROOT / "tools"))
    from f32_gguf import to_f32

    f32 = cache_dir() / "gguf" / (embedded_model_path().stem + ".F32.gguf")
    if not f32.exists():
        to_f32(embedded_model_path(), f32)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(f32), "--model_alias", "smollm2", "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "1024", "--n_threads", "2", "--logits_all", "true", "--verbose", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/v1"
    for _ in range(240):
        try:
            if httpx.get(base + "/models", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("llama.cpp server did not start")


def peak_rss_of(cmd: list[str]) -> float:
    """Peak resident memory (MB) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200)
    args = parser.parse_args(argv)
    texts = confnb.load_sentiment("train").sample(args.rows, random_state=2)["text"].tolist()

    import importlib.util

    print("| backend | concurrency | rows/s |\n|---|---|---|")
    lm = confnb.load_model()
    start = time.perf_counter()
    confnb.classify(lm, texts, progress=False)
    print(f"| local transformers (batched, prefix cache) | - | {len(texts) / (time.perf_counter() - start):.1f} |")
    if importlib.util.find_spec("llama_cpp") is None:
        print("| llama.cpp server | - | not installed (pip install 'llama-cpp-python[server]') |")
    else:
        proc, base = start_server()
        try:
            for concurrency in (1, 4, 16):
                remote = confnb.load_model("openai:smollm2", base_url=base, concurrency=concurrency)
                start = time.perf_counter()
                confnb.classify(remote, texts, progress=False)
                print(f"| llama.cpp server, F32 GGUF | {concurrency} | {len(texts) / (time.perf_counter() - start):.1f} |", flush=True)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)

    print("\n| file | rows | rows scored | peak RSS (MB) |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        real = confnb.load_sentiment("train").head(2000)[["id", "text"]]
        for n in (20_000, 200_000):
            path = Path(tmp) / f"rows{n}.csv"
            filler = pd.DataFrame({"id": [f"x{i}" for i in range(n - 2000)], "text": ""})
            pd.concat([real, filler]).to_csv(path, index=False)
            mb = peak_rss_of([sys.executable, "-m", "confnb.cli", "score", str(path), "-o", str(Path(tmp) / "out.csv"), "--skip-empty"])
            print(f"| {path.name} | {n:,} | 2,000 | {mb:.0f} |", flush=True)


if __name__ == "__main__":
    main()
