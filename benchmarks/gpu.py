"""One command for anyone with a CUDA GPU: 4-bit scoring, a few QLoRA steps, peak GPU memory.

    python benchmarks/gpu.py                # on a CUDA GPU (Colab: Runtime > Change runtime type > GPU)
    python benchmarks/gpu.py --cpu-smoke    # anywhere: the same steps, tiny (8 texts, 2 steps), on CPU

For each preset -- the embedded SmolLM2-135M (``None``) and Gemma 3 270M (``"gemma-3-270m"``) -- it
loads the model as 4-bit NF4 (`confnb.load_model(..., quantization="4bit")`), scores test rows of the
course's dataset with `confnb.classify`, and runs a few QLoRA steps (`confnb.finetune` with
`FineTuneConfig.for_gpu(max_steps=...)`). Each line reports rows, seconds, throughput, the accuracy on
the scored rows (a sanity check, not a result: few rows, few steps) and the peak memory of that step:
``torch.cuda.max_memory_allocated`` on CUDA (reset before each step), the process's peak resident memory
on CPU. Without CUDA (and without ``--cpu-smoke``) it says so and exits 2. The expected output is in
the README ("Colab and GPU").
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import platform
import resource
import sys
import time
import warnings

os.environ.setdefault("CONFNB_PROGRESS", "0")

PRESETS = (None, "gemma-3-270m")


def _peak_mb(cuda: bool) -> float:
    import torch

    if cuda:
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _reset(cuda: bool) -> None:
    import torch

    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-smoke", action="store_true", help="tiny run on CPU (8 texts, 2 QLoRA steps): checks the script")
    parser.add_argument("--rows", type=int, default=None, help="test rows to score (default 1000 on GPU, 8 with --cpu-smoke)")
    parser.add_argument("--preset", action="append", choices=["embedded", "gemma-3-270m"],
                        help="only this preset (repeatable); default: both")
    parser.add_argument("--steps", type=int, default=None, help="QLoRA steps (default 5 on GPU, 2 with --cpu-smoke)")
    args = parser.parse_args(argv)

    import torch

    cuda = torch.cuda.is_available()
    if not cuda and not args.cpu_smoke:
        print("benchmarks/gpu.py needs a CUDA GPU: torch.cuda.is_available() is False on this machine "
              f"(torch {torch.__version__}). In Colab: Runtime > Change runtime type > a GPU. "
              "To check the script on CPU: python benchmarks/gpu.py --cpu-smoke", file=sys.stderr)
        return 2
    import confnb  # first: it quiets bitsandbytes' notices before anything imports bitsandbytes
    from confnb import FineTuneConfig

    if importlib.util.find_spec("bitsandbytes") is None:
        print("4-bit NF4 needs bitsandbytes: pip install 'confnb[gpu]' (or pip install bitsandbytes)", file=sys.stderr)
        return 2

    device = "cuda" if cuda else "cpu"
    rows = args.rows or (1000 if cuda else 8)
    steps = args.steps or (5 if cuda else 2)
    train_rows = 200 if cuda else 8
    batch = 16 if cuda else 4
    where = torch.cuda.get_device_name(0) if cuda else f"CPU ({os.cpu_count()} cores), --cpu-smoke"
    print(f"confnb {confnb.__version__} | torch {torch.__version__} | bitsandbytes {importlib.metadata.version('bitsandbytes')} | "
          f"Python {platform.python_version()} | {where}")

    test = confnb.load_sentiment("test").sample(n=rows, random_state=0)
    train = confnb.load_sentiment("train").sample(n=train_rows, random_state=0)
    memory = "peak GPU MiB" if cuda else "peak RSS MiB"
    print(f"{'model':<24}{'step':<22}{'rows':>6}{'seconds':>9}{'rows/s':>9}{'accuracy':>10}{memory:>14}")

    def line(model, step, n, seconds, accuracy):
        acc = f"{accuracy:.3f}" if accuracy is not None else "-"
        rate = f"{n / seconds:.1f}" if n else "-"
        print(f"{model:<24}{step:<22}{n or '-':>6}{seconds:>9.1f}{rate:>9}{acc:>10}{_peak_mb(cuda):>14.0f}", flush=True)

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(slow|CPU).*")  # 4-bit on CPU warns that it is slow: we know
        presets = [None if p == "embedded" else p for p in args.preset] if args.preset else PRESETS
        for preset in presets:
            _reset(cuda)
            start = time.perf_counter()
            lm = confnb.load_model(preset, quantization="4bit", device=device)
            name = lm.name
            line(name, "load 4-bit NF4", 0, time.perf_counter() - start, None)

            _reset(cuda)
            start = time.perf_counter()
            scores = confnb.classify(lm, test["text"], batch_size=32, progress=False)
            accuracy = float((scores["prediction"].to_numpy() == test["label"].to_numpy()).mean())
            line(name, "score 4-bit", rows, time.perf_counter() - start, accuracy)
            del lm, scores

            _reset(cuda)
            config = FineTuneConfig.for_gpu(max_steps=steps, batch_size=batch, eval_steps=steps, validation_fraction=0.0,
                                            device=device)
            start = time.perf_counter()
            result = confnb.finetune(preset, train, config=config, progress=False)
            seconds = time.perf_counter() - start
            line(name, f"QLoRA {steps} steps", steps * batch, seconds, None)
            print(f"{'':<24}  train loss {result.train_loss[0]:.3f} -> {result.train_loss[-1]:.3f}, "
                  f"{result.train_seconds:.1f} s in optimizer steps", flush=True)
            del result
    return 0


if __name__ == "__main__":
    sys.exit(main())
