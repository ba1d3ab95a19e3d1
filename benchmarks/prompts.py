"""Which prompt should the embedded model use? Measured on rows of the dataset's train split only.

Prints, per model preset and prompt: accuracy, AUC of p_positive, the share of texts predicted
positive (a label-bias symptom), accuracy after a 0.5 cut on p_positive, load time and examples/s.
The README's prompt table is a copy of this script's output. Rows that are themselves few-shot
demonstrations (picked from train by `confnb.data.select_demonstrations`) are left out of the sample.

    python benchmarks/prompts.py [--rows 400] [--models smollm2-135m gemma-3-270m]
    python benchmarks/prompts.py --rows 200 --models smollm2-135m \
        --prompts "plain 8-shot, 'Positive:' cue (default)" "plain 8-shot, 'Positive:' cue, handwritten demonstrations"
"""

from __future__ import annotations

import argparse
import time

import confnb
from confnb.metrics import roc_auc
from confnb.tasks import DEMONSTRATIONS, SENTIMENT, SENTIMENT_CHAT, SENTIMENT_ZERO_SHOT, ClassificationTask

YES = ("Yes", "yes", "YES", "Y", "y")
NO = ("No", "no", "NO", "N", "n")

_QUESTION = "Is this text positive in sentiment? Answer yes or no."
_FOUR = DEMONSTRATIONS[:4]

#: The default prompt's demonstrations until they were picked from train by a rule: written by hand,
#: they shared phrases with calibration and test rows ("could have been better", labelled negative
#: here, appears in 35 positive calibration rows). Kept to measure the change.
HANDWRITTEN_DEMONSTRATIONS = (
    ("What a fantastic afternoon, I enjoyed every minute.", "positive"),
    ("This was a waste of money.", "negative"),
    ("The staff were friendly and the room was spotless.", "positive"),
    ("The update made everything slower.", "negative"),
    ("It was fine, better than I expected.", "positive"),
    ("Honestly, it could have been better.", "negative"),
    ("The new park is a lovely place to walk.", "positive"),
    ("I regret signing up for this course.", "negative"),
)

CANDIDATES = {
    "plain zero-shot": SENTIMENT_ZERO_SHOT,
    "plain 4-shot": ClassificationTask(_QUESTION, {"positive": YES, "negative": NO}, demonstrations=_FOUR),
    "plain 8-shot": ClassificationTask(_QUESTION, {"positive": YES, "negative": NO}, demonstrations=DEMONSTRATIONS),
    "chat zero-shot": SENTIMENT_CHAT,
    "chat 4-shot": ClassificationTask(
        _QUESTION, {"positive": YES, "negative": NO}, template="Text: {text}", chat=True, demonstrations=_FOUR
    ),
    "plain zero-shot, 'Positive:' cue": ClassificationTask(
        SENTIMENT.instruction, {"positive": YES, "negative": NO}, template=SENTIMENT.template
    ),
    "plain 4-shot, 'Positive:' cue": ClassificationTask(
        SENTIMENT.instruction, {"positive": YES, "negative": NO}, template=SENTIMENT.template, demonstrations=_FOUR
    ),
    "plain 8-shot, 'Positive:' cue (default)": SENTIMENT,
    "plain 8-shot, 'Positive:' cue, handwritten demonstrations": ClassificationTask(
        SENTIMENT.instruction, {"positive": YES, "negative": NO}, template=SENTIMENT.template,
        demonstrations=HANDWRITTEN_DEMONSTRATIONS,
    ),
    "plain 4-shot, positive/negative answers": ClassificationTask(
        "Classify the sentiment of each text as positive or negative.",
        {"positive": ("positive", "Positive"), "negative": ("negative", "Negative")},
        template="Text: {text}\nSentiment:", demonstrations=_FOUR,
    ),
}


def sample_train(n: int, seed: int = 0):
    """`n` train rows stratified by category, minus any row that is a few-shot demonstration."""
    train = confnb.load_sentiment("train")
    per = max(n // train["category"].nunique(), 1)
    rows = train.groupby("category", group_keys=False).sample(per, random_state=seed)
    demos = {text for text, _ in DEMONSTRATIONS}
    return rows[~rows["text"].isin(demos)].reset_index(drop=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--models", nargs="+", default=["smollm2-135m", "gemma-3-270m"])
    parser.add_argument("--prompts", nargs="+", default=list(CANDIDATES))
    args = parser.parse_args(argv)
    rows = sample_train(args.rows)
    y = (rows["label"] == "positive").to_numpy().astype(int)
    print(f"{len(rows)} train rows, {y.mean():.0%} positive, stratified by category\n")
    print("| model | prompt | accuracy | AUC | predicted positive | acc. at p_positive 0.5 | load s | ex/s |")
    print("|---|---|---|---|---|---|---|---|")
    for preset in args.models:
        try:
            t0 = time.perf_counter()
            lm = confnb.load_model(preset)
            load_s = time.perf_counter() - t0
        except (ModuleNotFoundError, FileNotFoundError) as exc:
            print(f"| {preset} | not installed: {exc} |")
            continue
        for name in args.prompts:
            task = CANDIDATES[name]
            if task.chat and not lm.has_chat_template:
                print(f"| {lm.name} | {name} | (no chat template) | | | | | |")
                continue
            t0 = time.perf_counter()
            df = confnb.classify(lm, rows["text"].tolist(), task, progress=False)
            speed = len(df) / (time.perf_counter() - t0)
            acc = float((df["prediction"] == rows["label"]).mean())
            auc = roc_auc(y, df["p_positive"].to_numpy())
            share = float((df["prediction"] == "positive").mean())
            acc_half = float(((df["p_positive"] >= 0.5).astype(int) == y).mean())
            print(f"| {lm.name} | {name} | {acc:.3f} | {auc:.3f} | {share:.2f} | {acc_half:.3f} | {load_s:.1f} | {speed:.1f} |", flush=True)
        del lm


if __name__ == "__main__":
    main()
