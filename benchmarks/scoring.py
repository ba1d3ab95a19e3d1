"""How much faster is `confnb.classify` than the obvious ways of getting next-token probabilities?

On the same texts, measured side by side in one run (this machine is noisy, so compare the ratios, not
the absolute speeds): the dataset's synthetic train rows (``--texts synthetic``) or real Rotten Tomatoes
review snippets (``--texts real``, longer per-text suffixes, so the shared prefix saves less):

(a) the reference article's method: ``model.generate(max_new_tokens=1, output_logits=True)``, one
    text at a time;
(b) a plain forward pass, one text at a time, full logits;
(c) ``confnb.classify``: batched, the prompt's shared prefix encoded once and its KV cache reused,
    last-position logits only, float32 weights;
(e) the same with ``load_model(dtype="bfloat16")`` (on a CPU with native bfloat16: AVX512-BF16/AMX).

Prints examples/s, the ratios (targets on 2 cores: (c)/(a) >= 10x on synthetic rows, (e)/(a) >= 8x on
real sentences) and the largest log-probability difference between (c) and (b). Then the drift of
bfloat16 against float32 on ``--drift-rows`` real sentences (1,000 by default): how often the
prediction agrees (target >= 99%) and the median |p_positive| change (target < 0.01), the criteria
set for making bfloat16 the CPU default. bfloat16 meets them, and was the default from 2026-12-01 to
2026-12-06, but its digits differ between processors (README "Other models"), so float32 is the
default again and bfloat16 an option. If llama-cpp-python is installed, (d) scores the same prompts with
llama.cpp on the embedded GGUF file and reports its agreement with transformers.

    python benchmarks/scoring.py [--texts real|synthetic] [--rows 200] [--drift-rows 1000] [--batch-size 32]
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


def drift(lm, bf16, pool, n_rows, batch_size) -> None:
    """bfloat16 against float32 on `n_rows` real sentences, against the criteria for a CPU default."""
    texts = pool.sample(min(n_rows, len(pool)), random_state=1)["text"].tolist()
    ref = confnb.classify(lm, texts, batch_size=batch_size, progress=False)
    low = confnb.classify(bf16, texts, batch_size=batch_size, progress=False)
    agree = float(np.mean(ref["prediction"] == low["prediction"]))
    delta = np.abs(ref["p_positive"] - low["p_positive"])
    mass = np.abs(ref["total_probability"] - low["total_probability"])
    print(f"\nbfloat16 vs float32 on {len(texts)} real sentences:")
    print(f"  same prediction on {agree:.1%} of rows (target >= 99%)")
    print(f"  |p_positive| change: median {np.median(delta):.4f} (target < 0.01), 95th percentile "
          f"{np.quantile(delta, 0.95):.4f}, max {delta.max():.3f}")
    print(f"  |total probability| change: median {np.median(mass):.4f}")
    verdict = agree >= 0.99 and np.median(delta) < 0.01
    print(f"  criteria {'met' if verdict else 'NOT met'}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="confnb scoring speed")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--texts", choices=["real", "synthetic"], default="real")
    parser.add_argument("--drift-rows", type=int, default=1000, help="real sentences for the bfloat16 drift check (0: skip)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    lm = confnb.load_model(dtype="float32")
    bf16 = confnb.load_model(dtype="bfloat16") if confnb.models.cpu_supports_bfloat16() else None
    if args.texts == "real":
        pool, what = confnb.load_rotten_tomatoes(), "real review sentences (Rotten Tomatoes)"
    else:
        pool, what = confnb.load_sentiment("train"), "synthetic train texts"
    texts = pool.sample(args.rows, random_state=0)["text"].tolist()
    prompts = [SENTIMENT.prompt(t, lm) for t in texts]
    encoder = confnb.batching.PromptEncoder(lm, SENTIMENT)
    print(f"{lm.name} on {torch.get_num_threads()} threads, {len(texts)} {what}, "
          f"prompt ~{np.mean([len(lm.tokenizer(p)['input_ids']) for p in prompts]):.0f} tokens, of which the "
          f"text's own part ~{np.mean([len(encoder.suffix_ids(t)) for t in texts]):.0f}\n")

    a, t_a = timed(lambda: generate_one_at_a_time(lm, prompts))
    b, t_b = timed(lambda: forward_one_at_a_time(lm, prompts))
    c, t_c = timed(lambda: next_token_logprobs(lm, texts, SENTIMENT, batch_size=args.batch_size))
    _, t_cls = timed(lambda: confnb.classify(lm, texts, batch_size=args.batch_size, progress=False))
    t_bf16 = None
    if bf16 is not None:
        _, t_bf16 = timed(lambda: confnb.classify(bf16, texts, batch_size=args.batch_size, progress=False))

    rows = [
        ("(a) generate(max_new_tokens=1), one at a time", t_a),
        ("(b) forward pass, one at a time", t_b),
        ("(c) confnb.classify (batched, prefix KV cache), float32", t_cls),
    ]
    if t_bf16 is not None:
        rows.append(("(e) confnb.classify, dtype='bfloat16'", t_bf16))
    print("| method | examples/s |\n|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {len(texts) / seconds:.1f} |")
    print(f"\n(c)/(a) = {t_a / t_cls:.1f}x   (c)/(b) = {t_b / t_cls:.1f}x")
    if t_bf16 is not None:
        print(f"(e)/(a) = {t_a / t_bf16:.1f}x   (e)/(c) = {t_cls / t_bf16:.2f}x")
    else:
        print("(e) skipped: this CPU has no native bfloat16 (AVX512-BF16 or AMX)")
    print(f"max |log-prob| difference, (c) vs (b): {np.abs(c - b).max():.2e}; (a) vs (b): {np.abs(a - b).max():.2e}")
    if bf16 is not None and args.drift_rows:
        drift(lm, bf16, confnb.load_rotten_tomatoes(), args.drift_rows, args.batch_size)

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
