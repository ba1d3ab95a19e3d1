"""The output layer in a fine-tuning step: answer positions gathered by index, or sliced?

`confnb.batching.forward_examples` needs logits only where a row's answer tokens are predicted: the
positions just before the answers, which sit at the end of every (left-padded) row. It names them by
index (``logits_to_keep=tensor``), so the model gathers those hidden states into a contiguous tensor
and the output layer (49,152 x 576 for SmolLM2) runs as one matrix product. The slice it replaced
(``logits_to_keep=k + 1``, then dropping the last position) leaves the hidden states strided; with
gradients on, torch's ``matmul`` then multiplies by a batch-expanded copy of the whole output matrix
instead, several times slower for that product.

This script runs both on the same batches of train rows, interleaved (this machine is noisy: compare
the ratios), with the CPU recipe's LoRA layers attached and dropout off so both compute the same
thing:

- a training step's forward and backward pass (``batch_size`` rows);
- a validation pass's forward pass without gradients (``eval_batch_size`` rows).

It prints seconds per batch, the slice/index ratio and the largest difference between the two row
losses (float32 rounding: the two products accumulate in different orders).

    python benchmarks/training_step.py [--batches 6] [--threads N]

Out of scope: the optimizer, dropout and evaluation bookkeeping (`benchmarks/finetune.py` times
whole runs), GPUs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class Sliced:
    """`net` as `forward_examples` called it before: asked for the last k + 1 positions by slice.

    Wraps the model so that the benchmark runs `forward_examples` itself both ways: an index of
    answer positions becomes ``logits_to_keep=k + 1``, and the extra last position is dropped from
    the logits, as the old code did.
    """

    def __init__(self, net):
        self.net = net

    def __call__(self, **kwargs):
        import torch

        keep = kwargs.get("logits_to_keep")
        if not isinstance(keep, torch.Tensor):
            return self.net(**kwargs)
        out = self.net(**{**kwargs, "logits_to_keep": len(keep) + 1})
        out.logits = out.logits[:, :-1]
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=6, help="batches per method and pass (default 6)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0, help="which train rows form the batches")
    args = parser.parse_args()

    import warnings

    import numpy as np
    import torch

    import confnb  # first: it quiets bitsandbytes' import-time notice, which peft's import triggers
    from peft import LoraConfig, get_peft_model
    from confnb.batching import encode_examples, forward_examples
    from confnb.finetune import FineTuneConfig

    if args.threads:
        torch.set_num_threads(args.threads)
    config = FineTuneConfig.for_cpu()
    lm = confnb.load_model(dtype="float32", device="cpu")
    train = confnb.load_sentiment("train")
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(train), size=min(len(train), args.batches * config.eval_batch_size), replace=False)
    examples = encode_examples(lm, list(train["text"].iloc[pick]), list(train["label"].iloc[pick]))
    with warnings.catch_warnings():  # peft calls a transformers method that warns of its coming rename
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        net = get_peft_model(lm.model, LoraConfig(r=config.r, lora_alpha=config.lora_alpha, lora_dropout=0.0,
                                                  target_modules=config.target_modules))
    pad, device = lm.tokenizer.pad_token_id, net.device
    methods = {"index (confnb)": net, "slice (before)": Sliced(net)}

    def run(size: int, train_mode: bool) -> dict[str, tuple[float, torch.Tensor]]:
        seconds = {name: 0.0 for name in methods}
        losses: dict[str, list] = {name: [] for name in methods}
        for b in range(args.batches):
            rows = list(range(b * size, (b + 1) * size))
            for name, model in methods.items():  # interleaved: both see the same load
                start = time.perf_counter()
                with torch.set_grad_enabled(train_mode):
                    loss, _ = forward_examples(model, examples, rows, pad, device)
                    if train_mode:
                        loss.mean().backward()
                        net.zero_grad(set_to_none=True)
                seconds[name] += time.perf_counter() - start
                losses[name].append(loss.detach())
        return {name: (seconds[name] / args.batches, torch.cat(losses[name])) for name in methods}

    print(f"{lm.name}, float32, LoRA r={config.r} on {config.target_modules}, {torch.get_num_threads()} threads; "
          f"{args.batches} batches per method, interleaved")
    for title, size, train_mode in (("training step (forward + backward)", config.batch_size, True),
                                    ("validation pass (forward, no gradients)", config.eval_batch_size, False)):
        net.train(train_mode)
        result = run(size, train_mode)
        (_, (a_s, a_loss)), (_, (b_s, b_loss)) = result.items()
        print(f"\n{title}, {size} rows per batch:")
        for name, (s, _) in result.items():
            print(f"  {name:>15}: {s:.3f} s per batch")
        print(f"  slice / index: {b_s / a_s:.2f}x; largest |row loss difference|: "
              f"{float((a_loss - b_loss).abs().max()):.1e}")


if __name__ == "__main__":
    main()
