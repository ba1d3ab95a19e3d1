"""Scoring a fine-tuned model: the LoRA adapter merged into the weights, or kept as a separate branch?

`confnb.load_model(adapter=...)` keeps the adapter separate unless ``merge_adapter=True``. This script
measures what merging gains and changes, side by side in one run on the same real Rotten Tomatoes
snippets (this machine is noisy: compare the ratios, not the absolute speeds):

- float32 (the CPU default), adapter separate (``merge_adapter=False``, the default): the reference
  every other row is compared with;
- float32, merged;
- ``dtype="bfloat16"`` (bfloat16 products; fast on a CPU that has them natively), adapter separate;
- ``dtype="bfloat16"``, merged.

Prints examples/s, the merged/separate speed ratio per dtype, and for each setup how often its
prediction agrees with the reference and the median / 95th percentile / largest |p_positive| change.
Why merging is not the default: run it twice and compare the "bfloat16, merged" lines. With
bfloat16 products, merged scores were seen to differ between processes (see `confnb.load_model`).

    python benchmarks/adapter_merge.py [--adapter FOLDER] [--rows 1000] [--batch-size 32]

The default adapter is the one notebook 06 writes (``<confnb cache>/adapters/course-sentiment-cpu``);
``confnb finetune -o FOLDER`` writes another.

Out of scope: quantized bases (an adapter over 4-bit or 8-bit weights is never merged).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

import confnb
from confnb import cache_dir
from confnb.adapters import holds_adapter


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", default=str(cache_dir() / "adapters" / "course-sentiment-cpu"))
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    if not holds_adapter(args.adapter):
        print(f"no confnb adapter in {args.adapter!r}: run notebook 06, or `confnb finetune -o FOLDER` and "
              "pass --adapter FOLDER", file=sys.stderr)
        return 2

    texts = confnb.load_rotten_tomatoes()["text"].sample(args.rows, random_state=1).tolist()
    setups = {
        "float32, separate (default)": dict(dtype="float32", merge_adapter=False),
        "float32, merged": dict(dtype="float32", merge_adapter=True),
        "bfloat16, separate": dict(dtype="bfloat16", merge_adapter=False),
        "bfloat16, merged": dict(dtype="bfloat16", merge_adapter=True),
    }
    scores, speed = {}, {}
    for name, options in setups.items():
        with warnings.catch_warnings():  # peft calls a transformers method that warns of its rename
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
            lm = confnb.load_model(adapter=args.adapter, **options)
        confnb.classify(lm, texts[:64], batch_size=args.batch_size, progress=False)  # warm-up
        start = time.perf_counter()
        scores[name] = confnb.classify(lm, texts, batch_size=args.batch_size, progress=False)
        speed[name] = len(texts) / (time.perf_counter() - start)
        print(f"{name:>27} ({lm.dtype}): {speed[name]:6.1f} examples/s", flush=True)
    for dtype in ("float32", "bfloat16"):
        separate = next(v for k, v in speed.items() if k.startswith(f"{dtype}, separate"))
        print(f"{dtype:>8}: merged / separate = {speed[f'{dtype}, merged'] / separate:.2f}x")

    reference = scores["float32, separate (default)"]
    print(f"\nagainst float32 with the adapter separate, {len(texts)} rows:")
    for name, frame in scores.items():
        change = np.abs(frame["p_positive"].to_numpy() - reference["p_positive"].to_numpy())
        agree = np.mean(frame["prediction"].to_numpy() == reference["prediction"].to_numpy())
        print(f"{name:>27}: predictions agree {agree:.2%}; |p_positive change| median {np.median(change):.4f}, "
              f"95th percentile {np.quantile(change, 0.95):.4f}, max {change.max():.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
