"""How much faster is `confnb.classify` than the obvious ways of getting next-token probabilities?

On the same texts from the dataset's train split, measured side by side in one run (this machine is
noisy, so compare the ratios, not the absolute speeds):

(a) the reference article's method: ``model.generate(max_new_tokens=1, output_logits=True)``, one
    text at a time;
(b) a plain forward pass, one text at a time, full logits;
(c) ``confnb.classify``: batched, the prompt's shared prefix encoded once and its KV cache reused,
    last-position logits only.

Prints examples/s, the ratios (target: (c)/(a) >= 10x on 2 cores) and the largest log-probability
difference between (c) and (b). If llama-cpp-python is installed, (d) scores the same prompts with
llama.cpp on the embedded GGUF file and reports its agreement with transformers.

    python benchmarks/scoring.py [--rows 200] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np
import torch

import confnb
from confnb.scoring import next_token_logprobs, score_distribution
from confnb.tasks import SENTIMENT


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def generate_one_at_a_time(lm, prompts):
    out = []
    with torch.inference_mode():
        for prompt in prompts:
            ids = lm.tokenizer(prompt, return_tensors="pt")
            gen = lm.model.generate(
                **ids, max_new_tokens=1, do_sample=False, output_logits=True, return_dict_in_generate=True,
                pad_token_id=lm.tokenizer.pad_token_id,
            )
            out.append(torch.log_softmax(gen.logits[0][0].double(), -1).numpy())
    return np.stack(out)


def forward_one_at_a_time(lm, prompts):
    out = []
    with torch.inference_mode():
        for prompt in prompts:
            ids = lm.tokenizer(prompt, return_tensors="pt")
            logits = lm.model(**ids).logits[0, -1]
            out.append(torch.log_softmax(logits.double(), -1).numpy())
    return np.stack(out)


def llama_cpp_logprobs(prompts, token_ids):
    from llama_cpp import Llama

    llm = Llama(model_path=str(confnb.models.embedded_model_path()), n_ctx=1024, logits_all=False, n_threads=2, verbose=False)
    out = []
    for prompt in prompts:
        llm.reset()
        llm.eval(llm.tokenize(prompt.encode(), add_bos=False, special=True))
        logits = np.array(llm.eval_logits[-1], dtype=np.float64)
        out.append(logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max())
    return np.stack(out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="confnb scoring speed")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    lm = confnb.load_model()
    texts = confnb.load_sentiment("train").sample(args.rows, random_state=0)["text"].tolist()
    prompts = [SENTIMENT.prompt(t, lm) for t in texts]
    print(f"{lm.name} on {torch.get_num_threads()} threads, {len(texts)} train texts, "
          f"prompt ~{np.mean([len(lm.tokenizer(p)['input_ids']) for p in prompts]):.0f} tokens\n")

    a, t_a = timed(lambda: generate_one_at_a_time(lm, prompts))
    b, t_b = timed(lambda: forward_one_at_a_time(lm, prompts))
    c, t_c = timed(lambda: next_token_logprobs(lm, texts, SENTIMENT, batch_size=args.batch_size))
    _, t_cls = timed(lambda: confnb.classify(lm, texts, batch_size=args.batch_size, progress=False))

    rows = [
        ("(a) generate(max_new_tokens=1), one at a time", t_a),
        ("(b) forward pass, one at a time", t_b),
        ("(c) confnb.classify (batched, prefix KV cache)", t_cls),
    ]
    print("| method | examples/s |\n|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {len(texts) / seconds:.1f} |")
    print(f"\n(c)/(a) = {t_a / t_cls:.1f}x   (c)/(b) = {t_b / t_cls:.1f}x   (target (c)/(a) >= 10x)")
    print(f"max |log-prob| difference, (c) vs (b): {np.abs(c - b).max():.2e}; (a) vs (b): {np.abs(a - b).max():.2e}")

    if importlib.util.find_spec("llama_cpp") is not None:
        token_ids = SENTIMENT.token_ids(lm)
        d, t_d = timed(lambda: llama_cpp_logprobs(prompts, token_ids))
        ours, theirs = score_distribution(b, token_ids), score_distribution(d, token_ids)
        top = [token_ids[c][0] for c in token_ids]  # "Yes" and "No": the variants that carry the mass
        print(f"\n(d) llama.cpp on the Q4_1 GGUF, one at a time: {len(texts) / t_d:.1f} examples/s "
              f"({len(texts) / t_d / (len(texts) / t_cls):.2f}x confnb.classify)")
        print("llama.cpp (Q4_1 kernels) vs transformers (the same weights de-quantized to float32):")
        print(f"  same prediction on {np.mean(ours['prediction'] == theirs['prediction']):.1%} of rows; "
              f"|p_positive| difference median {np.median(np.abs(ours['p_positive'] - theirs['p_positive'])):.3f}, "
              f"max {np.abs(ours['p_positive'] - theirs['p_positive']).max():.3f}")
        print(f"  max |log-prob| difference on {lm.tokenizer.convert_ids_to_tokens(top)}: {np.abs(d[:, top] - b[:, top]).max():.3f} "
              "(rare variants such as 'YES' sit far in the tail, where relative errors are larger but the mass is negligible)")
    else:
        print("\n(d) llama-cpp-python is not installed: skipped (pip install llama-cpp-python compiles llama.cpp, ~11 min)")


if __name__ == "__main__":
    main()
