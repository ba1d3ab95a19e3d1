"""Measure a LoRA fine-tuning recipe on the embedded model: speed, memory and the validation curve.

Runs `confnb.finetune.finetune` on the dataset's ``train`` split (its own validation slice is carved
from it) and prints seconds per step (wall clock and process CPU time), peak resident memory, and the
validation loss / accuracy every ``--eval-steps`` steps -- the curve the CPU recipe's steps and
learning rate were chosen from. The validation slice holds out whole sentence frames of ``train``
(`confnb.finetune.carve_validation`), so it measures unseen sentence shapes as the test split does.
Decisions are taken on the validation slice only. ``--test`` additionally scores the base and the
tuned model on the ``test`` split once, for the report; nothing is chosen from it.
``--test-curve N`` scores a stratified sample of N test rows at every evaluation (through
`finetune`'s reporting ``callback``) for reporting only: no default, step count or learning rate is
chosen from it, and the kept step is the validation slice's.

The machine may be shared: wall-clock time then overstates what the recipe costs on an idle machine.
Process CPU time per step with ``--threads 1`` is close to the idle single-core wall time, an upper
bound for the idle two-core time. Both are printed together with the load average.

    python benchmarks/finetune.py                       # the default CPU recipe
    python benchmarks/finetune.py --max-steps 300 --eval-steps 20 --threads 1 --json curve.json
    python benchmarks/finetune.py --lr 5e-4 --json lr5e-4.json  # the recipe at another learning rate
    python benchmarks/finetune.py --test-curve 600              # with a test curve (report only)
    python benchmarks/finetune.py --targets qv --max-steps 200  # LoRA on q/v only

Out of scope: GPU runs (the QLoRA recipe needs CUDA; see the notebook's guarded cell).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-steps", "--steps", type=int, default=None, help="optimizer steps (default: the recipe's)")
    parser.add_argument("--eval-steps", "--eval-every", type=int, default=None, help="evaluate every this many steps")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--r", type=int, default=None)
    parser.add_argument("--targets", choices=["qv", "all-linear"], default=None)
    parser.add_argument("--max-validation-rows", type=int, default=None)
    parser.add_argument("--rng", "--seed", type=int, default=0, help="seed of the LoRA initialisation, data order and validation slice")
    parser.add_argument("--full-curve", action="store_true",
                        help="run all max_steps (no early stopping), to see the whole validation curve")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--quantization", choices=["4bit"], default=None, help="QLoRA on CPU (slow; for checking)")
    parser.add_argument("--test", action="store_true", help="also score base and tuned on the test split (report only)")
    parser.add_argument("--test-curve", type=int, default=0, metavar="N",
                        help="score N stratified test rows at every evaluation, for reporting only: "
                             "no choice (steps, learning rate, kept step) is made from this curve")
    parser.add_argument("--json", default=None, help="write the measurements and curve to this JSON file")
    args = parser.parse_args()

    import pandas as pd
    import torch

    import confnb
    from confnb.finetune import FineTuneConfig, finetune

    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = {
        "max_steps": args.max_steps,
        "eval_steps": args.eval_steps,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "r": args.r,
        "max_validation_rows": args.max_validation_rows,
        "quantization": args.quantization,
        "rng": args.rng,
    }
    if args.r:
        overrides["lora_alpha"] = 2.0 * args.r
    if args.targets:
        overrides["target_modules"] = ("q_proj", "v_proj") if args.targets == "qv" else "all-linear"
    config = FineTuneConfig.for_cpu(**{k: v for k, v in overrides.items() if v is not None})
    if args.full_curve:
        config = FineTuneConfig.for_cpu(**{**config.to_dict(), "early_stopping_patience": None})
    train = confnb.load_sentiment("train")
    load_before = os.getloadavg()
    print(f"torch threads: {torch.get_num_threads()}, cpu count: {os.cpu_count()}, load average {load_before}")
    print("config:", json.dumps(config.to_dict()))

    test_curve: list[tuple[int, float, float]] = []
    callback = None
    if args.test_curve:
        from confnb.batching import encode_examples, evaluate_examples

        test = confnb.load_sentiment("test")
        sample = test.groupby("category", group_keys=False).sample(
            frac=min(1.0, args.test_curve / len(test)), random_state=0
        )
        state = {}

        def callback(step, net):
            if "examples" not in state:  # tokenized once, with the model's tokenizer
                lm = confnb.load_model()
                state["examples"] = encode_examples(lm, sample["text"], sample["label"])
                state["ids"] = confnb.SENTIMENT.token_ids(lm)
                state["pad"] = lm.tokenizer.pad_token_id
            loss, accuracy = evaluate_examples(net, state["examples"], confnb.SENTIMENT, state["ids"], state["pad"],
                                               net.device, config.eval_batch_size)
            test_curve.append((step, loss, accuracy))

    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        result = finetune(None, train, config=config, output_dir=Path(folder) / "adapter", progress=True,
                          callback=callback)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        load_after = os.getloadavg()
        steps = result.steps_run
        print()
        print(f"steps: {steps} (best step {result.best_step}), rows: {result.n_train} train / {result.n_validation} validation")
        if "frame" in train.columns:
            from confnb.finetune import carve_validation

            fit_rows, val_rows = carve_validation(train, fraction=config.validation_fraction,
                                                  max_rows=config.max_validation_rows, rng=config.rng)
            print(f"validation: {val_rows['frame'].nunique()} whole frames held out of training, "
                  f"{len(set(val_rows['frame']) & set(fit_rows['frame']))} shared with the training rows")
        print(f"wall clock: {result.seconds_per_step:.2f} s/step in training, {result.eval_seconds:.0f} s in validation, {wall:.0f} s in all (model load included)")
        print(f"process CPU time: {result.train_cpu_seconds / steps:.2f} s/step ({torch.get_num_threads()} threads), {cpu:.0f} s in all")
        print(f"peak resident memory: {result.peak_memory_mb:.0f} MB")
        print(f"load average before {load_before}, after {load_after}")
        print()
        print("validation curve (the slice carved from train; the step kept is the lowest loss):")
        print(result.validation_frame().to_string(index=False, float_format="{:.4f}".format))
        if test_curve:
            print()
            print(f"test curve on {len(sample)} stratified test rows (report only, nothing is chosen from it; "
                  "wall time above includes it):")
            frame = pd.DataFrame(test_curve, columns=["step", "test_loss", "test_accuracy"])
            print(frame.to_string(index=False, float_format="{:.4f}".format))

        report = {
            "config": config.to_dict(),
            "threads": torch.get_num_threads(),
            "load_before": load_before,
            "load_after": load_after,
            "steps_run": steps,
            "best_step": result.best_step,
            "n_train": result.n_train,
            "n_validation": result.n_validation,
            "wall_seconds_per_step": result.seconds_per_step,
            "cpu_seconds_per_step": result.train_cpu_seconds / steps,
            "eval_seconds": result.eval_seconds,
            "total_wall_seconds": wall,
            "total_cpu_seconds": cpu,
            "peak_memory_mb": result.peak_memory_mb,
            "train_loss": list(result.train_loss),
            "validation": result.validation_frame().to_dict(orient="list"),
            "test_curve": [{"step": s, "loss": lo, "accuracy": a} for s, lo, a in test_curve],
        }
        if args.test:
            test = confnb.load_sentiment("test")
            tuned = confnb.load_model(adapter=result.adapter_path)
            base = confnb.load_model()
            print()
            print("test split, scored once for the report (no decision is taken on it):")
            for name, lm in (("base", base), ("tuned", tuned)):
                scored = confnb.classify(lm, test["text"].tolist(), result.task, progress=False)
                accuracy = float((scored["prediction"] == test["label"]).mean())
                mean_conf = float(scored["total_probability"].mean())
                report[f"test_accuracy_{name}"] = accuracy
                report[f"test_mean_total_probability_{name}"] = mean_conf
                by_category = (scored["prediction"] == test["label"]).groupby(test["category"]).mean()
                report[f"test_accuracy_by_category_{name}"] = {k: float(v) for k, v in by_category.items()}
                print(f"  {name:>5}: accuracy {accuracy:.4f}, mean total_probability {mean_conf:.3f}")
            print(
                dataclasses.asdict(result.config)["target_modules"],
                "per-category test accuracy (base -> tuned):",
            )
            for k in report["test_accuracy_by_category_base"]:
                print(f"  {k:>17}: {report['test_accuracy_by_category_base'][k]:.3f} -> {report['test_accuracy_by_category_tuned'][k]:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"measurements written to {args.json}")


if __name__ == "__main__":
    main()
