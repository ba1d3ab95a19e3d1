"""Does `confnb.choose_threshold` keep its promise? A simulation with a known truth.

A threshold choice makes a *false promise* when the threshold it returns has a TRUE expected
accuracy (computed from the known accuracy curve, not from the sample) below the target. At
``level=0.95`` that should happen in at most 5% of samples. Two procedures on the same samples:

* ``fixed-sequence`` -- `confnb.choose_threshold`: test from the highest threshold down, stop at
  the first failure (valid with no multiplicity correction, see `confnb.thresholds`);
* ``lowest-first scan`` -- the old rule: the lowest threshold whose lower bound meets the target
  (every threshold gets a chance to pass by luck).

Scenarios (confidences uniform on [0.5, 1], the 10 default thresholds 0.50 ... 0.95):

(a) ``flat 0.899``: true accuracy 0.899 at every confidence, target 0.90, 1,000 rows. Every
    threshold is a false promise, so the rate is the chance of promising anything.
(b) ``rising``: true accuracy = confidence, target 0.90, 1,000 rows. The automated share above
    ``t`` is ``(1 + t) / 2`` accurate: thresholds below 0.80 are false promises.
(c) ``slow rise``: true accuracy ``0.865 + 0.04 * confidence`` (0.885 to 0.905), target 0.90,
    1,000 rows: thresholds below 0.75 are false promises, those above barely true.

Prints one row per scenario and procedure: false-promise rate (with its standard error), the
nominal rate ``1 - level``, how often a threshold was chosen, and the mean true accuracy and share
of what was chosen. ``tests/test_thresholds.py`` runs the same `simulate` (2,000 samples).

    python benchmarks/threshold_guarantee.py [--n-sim 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from confnb.thresholds import DEFAULT_THRESHOLDS, clopper_pearson_lower


@dataclass(frozen=True)
class Scenario:
    """True accuracy ``intercept + slope * confidence``, confidences uniform on ``[low, high]``."""

    name: str
    intercept: float
    slope: float
    target_accuracy: float
    n_rows: int = 1000
    low: float = 0.5
    high: float = 1.0

    def accuracy_at(self, confidence):
        return self.intercept + self.slope * np.asarray(confidence, dtype=float)

    def accuracy_above(self, thresholds):
        """TRUE accuracy of the predictions with confidence >= each threshold (closed form)."""
        t = np.clip(np.asarray(thresholds, dtype=float), self.low, self.high)
        return self.intercept + self.slope * (t + self.high) / 2


SCENARIOS = (
    Scenario("(a) flat 0.899", intercept=0.899, slope=0.0, target_accuracy=0.90),
    Scenario("(b) rising: accuracy = confidence", intercept=0.0, slope=1.0, target_accuracy=0.90),
    Scenario("(c) slow rise: 0.865 + 0.04 * conf", intercept=0.865, slope=0.04, target_accuracy=0.90),
)


def draw_samples(scenario: Scenario, n_sim: int, rng=None):
    """``n_sim`` samples of ``scenario.n_rows`` rows: confidences and correctness, shape ``(n_sim, n_rows)``."""
    gen = np.random.default_rng(rng)
    conf = gen.uniform(scenario.low, scenario.high, size=(n_sim, scenario.n_rows))
    correct = gen.uniform(size=conf.shape) < scenario.accuracy_at(conf)
    return conf, correct


def choose_vectorised(conf, correct, *, target_accuracy, level=0.95, thresholds=DEFAULT_THRESHOLDS):
    """Both procedures on each row of ``conf, correct``: index of the chosen threshold (ascending), -1 = none.

    ``"fixed-sequence"`` equals `confnb.choose_threshold`; ``"lowest-first scan"`` is the old rule.
    """
    ths = np.sort(np.asarray(thresholds, dtype=float))
    T, n_sim = ths.size, conf.shape[0]
    # bin each row by the highest threshold it clears (0 = below all), then cumulate from the top
    bins = np.searchsorted(ths, conf, side="right")
    flat = (bins + (T + 1) * np.arange(n_sim)[:, None]).ravel()
    per_bin = np.bincount(flat, minlength=n_sim * (T + 1)).reshape(n_sim, T + 1)
    hits_bin = np.bincount(flat, weights=correct.ravel(), minlength=n_sim * (T + 1)).reshape(n_sim, T + 1)
    counts = np.cumsum(per_bin[:, ::-1], axis=1)[:, ::-1][:, 1:]  # (n_sim, T): rows >= ths[j]
    hits = np.cumsum(hits_bin[:, ::-1], axis=1)[:, ::-1][:, 1:]
    lower = np.nan_to_num(clopper_pearson_lower(hits, counts, level=level), nan=-1.0)
    passes = lower >= target_accuracy

    # old rule: the lowest threshold that passes
    scan = np.where(passes.any(axis=1), np.argmax(passes, axis=1), -1)

    # fixed sequence: from the top down, skip empty thresholds, stop at the first failure
    down = ((counts > 0) & ~passes)[:, ::-1]  # failures; position 0 = highest threshold
    first_fail = np.where(down.any(axis=1), np.argmax(down, axis=1), T)
    last_ok = T - first_fail  # ascending index of the threshold just above the first failure
    # it was passed unless it was skipped (empty), and then every threshold above it was empty too
    ok = (first_fail > 0) & (counts[np.arange(n_sim), np.clip(last_ok, 0, T - 1)] > 0)
    fixed = np.where(ok, last_ok, -1)
    return {"fixed-sequence": fixed, "lowest-first scan": scan}


def simulate(
    scenario: Scenario, *, n_sim: int = 2000, level: float = 0.95, thresholds=DEFAULT_THRESHOLDS, rng=None, chunk=2000
):
    """Run both procedures on ``n_sim`` simulated samples (vectorised, ``chunk`` samples at a time).

    Returns a dict: ``procedure -> chosen index array`` (shape ``(n_sim,)``, -1 = nothing chosen),
    ``"true_accuracy"`` and ``"share"`` (expected share automated) per threshold, and
    ``"thresholds"`` (ascending).
    """
    gen = np.random.default_rng(rng)
    ths = np.sort(np.asarray(thresholds, dtype=float))
    parts = []
    for start in range(0, n_sim, chunk):
        conf, correct = draw_samples(scenario, min(chunk, n_sim - start), gen)
        parts.append(choose_vectorised(conf, correct, target_accuracy=scenario.target_accuracy,
                                       level=level, thresholds=ths))
    width = scenario.high - scenario.low
    out = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    out.update(
        true_accuracy=scenario.accuracy_above(ths),
        share=(scenario.high - np.clip(ths, scenario.low, scenario.high)) / width,
        thresholds=ths,
    )
    return out


def false_promise_rate(chosen, true_accuracy, target_accuracy):
    """Share of samples whose chosen threshold has a true accuracy below the target, and its standard error."""
    chosen = np.asarray(chosen)
    bad = (chosen >= 0) & (true_accuracy[np.clip(chosen, 0, None)] < target_accuracy - 1e-12)
    rate = float(bad.mean())
    return rate, float(np.sqrt(max(rate * (1 - rate), 1e-12) / chosen.size))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sim", type=int, default=20000)
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    gen = np.random.default_rng(args.seed)
    print(f"{args.n_sim:,} simulated samples per scenario, level {args.level:g}, thresholds {DEFAULT_THRESHOLDS}")
    header = (
        f"{'scenario':<36} {'procedure':<18} {'false promise':>15} {'nominal':>8} "
        f"{'chose one':>9} {'true acc':>8} {'share':>6}"
    )
    print(header)
    print("-" * len(header))
    for scenario in SCENARIOS:
        out = simulate(scenario, n_sim=args.n_sim, level=args.level, rng=gen)
        for procedure in ("lowest-first scan", "fixed-sequence"):
            chosen = out[procedure]
            rate, se = false_promise_rate(chosen, out["true_accuracy"], scenario.target_accuracy)
            picked = chosen >= 0
            acc = out["true_accuracy"][chosen[picked]].mean() if picked.any() else float("nan")
            share = out["share"][chosen[picked]].mean() if picked.any() else float("nan")
            print(
                f"{scenario.name:<36} {procedure:<18} {rate:>8.2%} ±{se:.2%} {1 - args.level:>8.0%} "
                f"{picked.mean():>9.1%} {acc:>8.3f} {share:>6.1%}"
            )


if __name__ == "__main__":
    main()
