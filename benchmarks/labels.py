"""Scoring K classes with multi-token answers: one trie pass per batch vs one forward pass per answer.

On the same rows of HWU64's test split (18 home-assistant scenarios, answers such as "smart home" or
"general question" that are several tokens long), measured side by side in one run (this machine is
noisy: compare the ratio, not the absolute speeds):

(a) the obvious way: for every (text, answer) pair, one forward pass over prompt + answer, summing the
    answer tokens' log-probabilities;
(b) ``confnb.classify``: batched texts, the prompt's shared prefix cached once, and every multi-token
    answer scored in one more pass over a token trie that reuses each text's key/value cache.

Prints rows/s of each, the ratio (target: (b)/(a) >= 5x) and the largest difference between the
two in any class's log-mass (target: < 1e-4).

    python benchmarks/labels.py [--rows 16] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import confnb
from confnb.batching import prompt_ids
from confnb.data import load_intents
from confnb.tasks import ClassificationTask

#: A first draft of readable answers for the 18 scenarios (notebook 08 picks its own on train rows).
SCENARIOS = ClassificationTask(
    "Which area of a home assistant does this request belong to?",
    {
        "alarm": ["alarm"], "audio": ["audio volume"], "calendar": ["calendar"], "cooking": ["cooking recipe"],
        "datetime": ["date and time"], "email": ["email"], "general": ["general chat"], "iot": ["smart home"],
        "lists": ["lists"], "music": ["music"], "news": ["news"], "play": ["play media"],
        "qa": ["question answering"], "recommendation": ["recommendation"], "social": ["social media"],
        "takeaway": ["takeaway food"], "transport": ["transport"], "weather": ["weather"],
    },
    template="Request: {text}\nArea:",
    name="hwu-scenarios-draft",
)


def one_pass_per_answer(lm, task, texts) -> np.ndarray:
    """Log-mass of every class for every text, one forward pass per (text, answer)."""
    answers = task.verbalizer_ids(lm)
    out = np.empty((len(texts), len(task.class_names)))
    with torch.inference_mode():
        for r, text in enumerate(texts):
            prompt = prompt_ids(lm.tokenizer, task.prompt(text, lm))
            for j, c in enumerate(task.class_names):
                values = []
                for _, ids in answers[c]:
                    logits = lm.model(input_ids=torch.tensor([prompt + list(ids)])).logits[0].double()
                    lp = torch.log_softmax(logits, -1)
                    values.append(sum(float(lp[len(prompt) - 1 + k, t]) for k, t in enumerate(ids)))
                out[r, j] = np.logaddexp.reduce(values)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    torch.manual_seed(0)
    lm = confnb.load_model(dtype="float32")  # agreement to ~1e-5 needs float32 products
    texts = load_intents("test").sample(args.rows, random_state=0)["text"].tolist()
    answers = SCENARIOS.verbalizer_ids(lm)
    n_answers = sum(len(v) for v in answers.values())
    n_multi = sum(len(ids) > 1 for v in answers.values() for _, ids in v)
    print(f"{args.rows} rows, {len(SCENARIOS.class_names)} classes, {n_answers} answers ({n_multi} of several tokens)")

    confnb.classify(lm, texts[:2], SCENARIOS, progress=False)  # warm-up
    start = time.perf_counter()
    fast = confnb.classify(lm, texts, SCENARIOS, batch_size=args.batch_size, progress=False)
    t_fast = time.perf_counter() - start
    start = time.perf_counter()
    slow = one_pass_per_answer(lm, SCENARIOS, texts)
    t_slow = time.perf_counter() - start

    fast_log = np.log(fast[[f"mass_{c}" for c in SCENARIOS.class_names]].to_numpy())
    diff = float(np.abs(fast_log - slow).max())
    print(f"(a) one pass per answer : {args.rows / t_slow:7.2f} rows/s ({t_slow:.1f} s)")
    print(f"(b) confnb.classify     : {args.rows / t_fast:7.2f} rows/s ({t_fast:.1f} s)")
    print(f"ratio (b)/(a): {t_slow / t_fast:.1f}x (target >= 5x)")
    print(f"largest |log-mass difference|: {diff:.2e} (target < 1e-4)")


if __name__ == "__main__":
    main()
