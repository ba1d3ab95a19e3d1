"""The ``confnb`` command line: next-token tables, predictions, scoring files, calibration, prediction sets, reports, task checks.

Every subcommand exits with status 0 on success, 2 on bad input (with a message that says what to do)
and 1 on an unexpected failure, which keeps its traceback. Bad input is a `UsageError`, or a
``ValueError``, ``OSError`` or ``ImportError`` raised by confnb's own input checks (the last frame of
its traceback is in the confnb package); the same types raised inside numpy, pandas, torch and the
rest, and every other exception (``KeyError``, ...), are bugs and propagate. Run
``confnb COMMAND --help`` for the options of each.

Out of scope: serving predictions over HTTP; the CLI scores files and fits calibrators offline.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Sequence

__all__ = ["UsageError", "build_parser", "main"]


class UsageError(Exception):
    """Bad input from the user: printed without a traceback, exit status 2."""


_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECK_TYPES = (ValueError, OSError, ImportError)


def _is_user_error(exc: BaseException) -> bool:
    """True for a UsageError, or a ValueError/OSError/ImportError raised by confnb's own code."""
    if isinstance(exc, UsageError):
        return True
    if not isinstance(exc, _CHECK_TYPES) or exc.__traceback__ is None:
        return False
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(_PACKAGE_DIR)


def _existing_file(path: str, what: str, hint: str) -> str:
    if not Path(path).is_file():
        raise UsageError(f"{what} {path!r} does not exist; {hint}")
    return path


# ----------------------------------------------------------------------------------------- helpers


def _add_model_options(p: argparse.ArgumentParser) -> None:
    from .models import DTYPES

    p.add_argument("--model", default=None, help="model: preset, .gguf path, folder or hub id (default: embedded SmolLM2-135M-Instruct)")
    p.add_argument("--quantization", choices=["4bit", "8bit"], default=None, help="bitsandbytes quantization (meant for CUDA)")
    p.add_argument("--adapter", default=None, help="LoRA adapter folder from `confnb finetune`")
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    p.add_argument("--dtype", choices=DTYPES, default="auto",
                   help="compute dtype of a full-precision model (default auto: float32 on CPU; see load_model)")
    p.add_argument("--base-url", default=None, help="for --model openai:<name>: the server's /v1 address (default $OPENAI_BASE_URL); the key is read from $OPENAI_API_KEY")
    p.add_argument("--concurrency", type=int, default=4, help="for openai: models, requests in flight (default 4)")
    p.add_argument("--max-length", type=int, default=None, help="cap on prompt length in tokens; longer texts are truncated (default: the model's context)")


def _add_task_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--prompt",
        choices=["default", "zero-shot", "chat"],
        default="default",
        help="prompt style: the default few-shot prompt, zero-shot, or the chat template",
    )
    p.add_argument(
        "--task",
        default=None,
        metavar="TASK",
        help="the task instead of --prompt: a .toml task file (see `confnb task check`) or a built-in name "
             "(sentiment, sentiment-zero-shot, sentiment-chat)",
    )


def _task(args):
    """The task of --task, else of an --adapter that records one (with the default --prompt), else of --prompt.

    Resolved before any model loads: a bad task file stops the command (exit 2) with nothing done.
    """
    from .task_files import load_task

    if args.task is not None:
        if args.prompt != "default":
            raise UsageError("--task and --prompt both choose the task; pass only one of them")
        return load_task(args.task)
    if getattr(args, "adapter", None):
        from . import tasks
        from .models import read_adapter_info

        info = read_adapter_info(args.adapter)
        if "task" in info and args.prompt == "default":
            return tasks.ClassificationTask.from_dict(info["task"])
    return load_task(args.prompt)


def _model_args(args) -> dict:
    if args.model and args.model.startswith("openai:"):
        if args.quantization or args.adapter or args.dtype != "auto":
            raise UsageError("--quantization, --adapter and --dtype apply to local models, not openai: servers")
        return dict(name=args.model, base_url=args.base_url, concurrency=args.concurrency)
    if args.base_url:
        raise UsageError("--base-url applies only to --model openai:<name>")
    return dict(name=args.model, quantization=args.quantization, device=args.device, adapter=args.adapter,
                max_length=args.max_length, dtype=args.dtype)


def _load(args):
    from .models import load_model

    return load_model(**_model_args(args))


def _add_label_options(p: argparse.ArgumentParser) -> None:
    from .tasks import SENTIMENT

    p.add_argument("--label-column", default="label", help="column of true labels (default: label): class names, or for "
                   "two classes also 1/0, true/false")
    p.add_argument("--positive-class", default=SENTIMENT.positive_class,
                   help=f"the task's positive class, the one p_positive is about (default: {SENTIMENT.positive_class})")
    p.add_argument("--text-column", default="text", help="column of texts, by which a calibrator's fit rows are recorded "
                   "and found again (default: text; scores are used when absent)")


def _print_frame(frame, floatfmt: str = "{:.4f}") -> None:
    import pandas as pd

    with pd.option_context("display.max_colwidth", 60, "display.width", 200):
        print(frame.to_string(index=False, float_format=floatfmt.format))


# ---------------------------------------------------------------------------------------- commands


def cmd_tokens(args) -> int:
    from .scoring import next_token_table

    lm = _load(args)
    table = next_token_table(lm, args.prompt_text, k=args.k, chat=args.chat)
    print(f"{lm.name}: next-token predictions after {args.prompt_text!r}" + (" (chat template)" if args.chat else ""))
    _print_frame(table)
    return 0


def cmd_predict(args) -> int:
    from . import columns as col
    from .scoring import classify

    texts = [t for t in args.texts]
    for i, t in enumerate(texts):
        if not t.strip():
            raise UsageError(f"text {i + 1} is empty; pass non-empty texts")
    task = _task(args)
    lm = _load(args)
    frame = classify(lm, texts, task, batch_size=args.batch_size, progress=False)
    masses = [c for c in frame if c.startswith(col.MASS_PREFIX)]
    shown = ["text", col.PREDICTION, col.TOTAL_PROBABILITY, col.P_POSITIVE, *masses, col.OTHER_MASS, col.TOP_TOKEN]
    shown = [c for c in shown if c in frame]  # a task of three or more classes has no p_positive
    frame = frame[shown].assign(**{col.TOP_TOKEN: frame[col.TOP_TOKEN].map(repr)})
    _print_frame(frame)
    return 0


def cmd_score(args) -> int:
    from .files import score_file

    _existing_file(args.input, "input file", "check the path")
    if args.calibrator:
        _existing_file(args.calibrator, "calibrator file", "create one with `confnb calibrate SCORES.csv -o CALIBRATOR.json`")
    if args.conformal:
        _existing_file(args.conformal, "prediction-set file",
                       "create one with `confnb conformal SCORES.csv --label-column label -o SETS.json`")
    task = _task(args)
    summary = score_file(
        args.input,
        args.output,
        text_column=args.text_column,
        label_column=args.label_column,
        model_args=_model_args(args),
        task=task,
        limit=args.limit,
        batch_size=args.batch_size,
        skip_empty=args.skip_empty,
        encoding=args.encoding,
        calibrator=args.calibrator,
        conformal=args.conformal,
        progress=True if args.progress else None,
        resume=args.resume,
        chunksize=args.chunk_size,
    )
    print(summary, file=sys.stderr)
    return 0


_CHECK_TEXT = "The delivery arrived two days late, but the phone works well."


def _load_tokenizer(args):
    """The model named by --model, on CPU (`task check` uses its tokenizer only; the embedded model loads in seconds)."""
    if args.model and args.model.startswith("openai:"):
        raise UsageError("task check needs a local model's tokenizer; an openai: server does not share its tokenizer")
    from .models import load_model

    return load_model(args.model, device="cpu")


def cmd_task_check(args) -> int:
    from .task_files import load_task, task_check_lines

    task = load_task(args.task_file)  # a bad file stops here, before any model loads
    if not args.text.strip():
        raise UsageError("--text is empty; pass a sample text")
    lm = _load_tokenizer(args)
    for line in task_check_lines(task, lm, getattr(lm, "name", args.model), args.text):
        print(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="confnb",
        description="Trustworthy confidence scores from language-model classifications.",
    )
    from ._version import __version__

    parser.add_argument("--version", action="version", version=f"confnb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("tokens", help="show the most likely next tokens after a prompt")
    p.add_argument("prompt_text", metavar="PROMPT")
    p.add_argument("-k", type=int, default=12, help="number of tokens (default 12)")
    p.add_argument("--chat", action="store_true", help="wrap the prompt in the model's chat template")
    _add_model_options(p)
    p.set_defaults(func=cmd_tokens)

    p = sub.add_parser("predict", help="classify a few texts and show class masses")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.add_argument("--batch-size", type=int, default=32)
    _add_model_options(p)
    _add_task_options(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("score", help="score a CSV or JSONL file; writes a CSV with every input row and column")
    p.add_argument("input", metavar="INPUT", help="CSV or JSONL (.jsonl / .ndjson) file")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="CSV file to write")
    p.add_argument("--text-column", default="text", help="column holding the texts (default: text)")
    p.add_argument("--label-column", default=None, help="optional column of true labels: kept, and a `correct` column is added")
    p.add_argument("--limit", type=int, default=None, help="score only the first N rows")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--skip-empty", action="store_true", help="keep empty texts in the output with blank scores instead of failing")
    p.add_argument("--encoding", default="utf-8", help="input encoding (default utf-8)")
    p.add_argument("--calibrator", default=None, help="calibrator JSON from `confnb calibrate`: adds `calibrated_prediction` and its calibrated `confidence` "
                        "(and `calibrated_p_<class>` for a K-class temperature or vector calibrator; warns, with a count, "
                        "about rows the calibrator was fit on)")
    p.add_argument("--conformal", default=None, metavar="SETS.json",
                   help="prediction sets from `confnb conformal`: adds `prediction_set` (classes joined by |) and `set_size`")
    p.add_argument("--progress", action="store_true", help="force the progress bar on stderr (default: shown in a terminal)")
    p.add_argument("--chunk-size", type=int, default=500, help="rows read, scored and written at a time (the unit --resume restarts from)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from OUTPUT.partial without re-scoring finished rows")
    _add_model_options(p)
    _add_task_options(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("calibrate", help="fit a calibrator on a scored CSV; prints held-out (cross-fitted) metrics")
    p.add_argument("scores", metavar="SCORES.csv", help="output of `confnb score --label-column ...`")
    p.add_argument("--method", choices=["platt", "isotonic", "temperature", "vector"], default="platt",
                   help="platt (default), isotonic, temperature; vector: three or more classes only. With three or more "
                        "classes temperature/vector scale the class log-masses, platt/isotonic calibrate P(top class is correct)")
    p.add_argument("--target", choices=["confidence", "class"], default=None,
                   help="two classes: confidence (default): total_probability -> P(correct); class: p_positive -> P(positive)")
    p.add_argument("--n-splits", type=int, default=5, help="folds for the held-out metrics (default 5)")
    _add_label_options(p)
    p.add_argument("-o", "--output", required=True, metavar="CALIBRATOR.json")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("conformal", help="fit prediction sets on a scored, labelled CSV (for `confnb score --conformal`)")
    p.add_argument("scores", metavar="SCORES.csv", help="output of `confnb score --label-column ...`, rows not used to fit "
                   "--calibrator")
    p.add_argument("--alpha", type=float, default=0.1, help="allowed miscoverage: sets hold the true class at least "
                   "1 - alpha of the time (default 0.1)")
    p.add_argument("--method", choices=["lac", "aps"], default="lac", help="lac (default: smallest sets) or aps (adaptive)")
    p.add_argument("--calibrator", default=None, help="build the sets from this calibrator's probabilities (K classes: "
                   "temperature or vector; two classes: --target class); `score --conformal` then needs the same one")
    p.add_argument("--allow-in-sample", action="store_true",
                   help="keep rows --calibrator was fit on (the sets may then cover new rows less often than promised)")
    _add_label_options(p)
    p.add_argument("-o", "--output", required=True, metavar="SETS.json")
    p.set_defaults(func=cmd_conformal)

    p = sub.add_parser("report", help="charts, metrics.json and summary.md for a scored, labelled CSV")
    p.add_argument("scores", metavar="SCORES.csv")
    p.add_argument("--calibrator", default=None,
                   help="a calibrator fit on OTHER rows; rows it was fit on are left out, and all of them "
                        "is refused. Without one, calibrated metrics are cross-fitted")
    p.add_argument("--allow-in-sample", action="store_true",
                   help="evaluate --calibrator on rows it was fit on; every calibrated number is labelled in-sample (optimistic)")
    p.add_argument("--method", choices=["platt", "isotonic", "temperature"], default="platt", help="method for cross-fitting when no --calibrator")
    p.add_argument("--target", choices=["confidence", "class"], default=None)
    _add_label_options(p)
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("finetune", help="train a LoRA adapter on labelled texts; writes an adapter folder for --adapter")
    p.add_argument("--data", default=None, metavar="FILE",
                   help="labelled CSV or JSONL (default: the course dataset). A file with a `split` column "
                        "contributes its train rows only; any other file is all training data")
    p.add_argument("-o", "--output", required=True, metavar="ADAPTER_DIR", help="folder to write the adapter into")
    p.add_argument("--max-steps", type=int, default=None, help="optimizer steps (default: the recipe's)")
    p.add_argument("--steps", dest="max_steps", type=int, default=argparse.SUPPRESS, help=argparse.SUPPRESS)  # older name
    p.add_argument("--batch-size", type=int, default=None, help="rows per step (default: the recipe's)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the recipe's)")
    p.add_argument("--rng", type=int, default=0, help="seed of the LoRA initialisation, data order and validation slice")
    p.add_argument("--seed", dest="rng", type=int, default=argparse.SUPPRESS, help=argparse.SUPPRESS)  # older name
    p.add_argument("--text-column", default="text", help="column holding the texts (default: text)")
    p.add_argument("--label-column", default="label", help="column holding the labels (default: label)")
    p.add_argument("--model", default=None, help="base model: preset, .gguf path, folder or hub id (default: embedded SmolLM2-135M-Instruct)")
    p.add_argument("--quantization", choices=["4bit"], default=None, help="QLoRA: 4-bit NF4 base (meant for CUDA)")
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    p.add_argument("--overwrite", action="store_true", help="replace an adapter trained by another recipe in ADAPTER_DIR")
    p.add_argument("--retrain", action="store_true",
                   help="train even if ADAPTER_DIR holds an adapter trained by this exact recipe (by default it is "
                        "kept: same base model, task, configuration, training rows and library versions)")
    p.add_argument("--progress", action="store_true", help="force a progress bar (default: only in a terminal)")
    _add_task_options(p)
    p.set_defaults(func=cmd_finetune)

    p = sub.add_parser("task", help="work with task files (TOML): `confnb task check TASK.toml`")
    actions = p.add_subparsers(dest="task_action", required=True, metavar="ACTION")
    c = actions.add_parser("check", help="show a task's prompt and each verbalizer's tokens for a model's tokenizer")
    c.add_argument("task_file", metavar="TASK", help="a .toml task file or a built-in name (sentiment, sentiment-zero-shot, sentiment-chat)")
    c.add_argument("--model", default=None, help="whose tokenizer: preset, .gguf path, folder or hub id (default: embedded SmolLM2-135M-Instruct)")
    c.add_argument("--text", default=_CHECK_TEXT, help="sample text shown in the prompt")
    c.set_defaults(func=cmd_task_check)
    return parser


def _read_scores(path: str):
    import pandas as pd

    _existing_file(path, "scores file", f"create it with `confnb score INPUT -o {path} --label-column LABEL`")
    try:
        return pd.read_csv(path)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UsageError(f"could not read {path!r} as a CSV written by `confnb score`: {exc}") from exc


def _print_skipped(metrics: dict) -> None:
    from .targets import skip_messages as _skip_message

    for line in _skip_message(metrics.get("skipped", {})):
        print(line)


def cmd_calibrate(args) -> int:
    from .class_scores import is_multiclass_scores
    from .report import calibrate_scores, format_metrics

    frame = _read_scores(args.scores)
    if is_multiclass_scores(frame):
        return _calibrate_classes(frame, args)
    if args.method == "vector":
        raise UsageError("--method vector needs three or more classes (a scale and a bias per class); these scores have "
                         "two (p_positive): use temperature, platt or isotonic")
    target = args.target or "confidence"
    calibrator, metrics = calibrate_scores(
        frame, method=args.method, target=target, n_splits=args.n_splits, positive=args.positive_class,
        label_column=args.label_column, text_column=args.text_column,
    )
    path = calibrator.save(args.output)
    _print_skipped(metrics)
    print(f"{args.method} calibrator ({target} target) fit on {metrics['n']} rows -> {path}")
    print(f"held-out metrics ({args.n_splits}-fold cross-fitting; 95% bootstrap intervals):")
    print(format_metrics(metrics))
    return 0


def _calibrate_classes(frame, args) -> int:
    """`confnb calibrate` on scores of three or more classes: fit, save, print held-out metrics."""
    from .class_calibration import CLASS_METRIC_NAMES, calibrate_classes, save_class_calibrator
    from .class_scores import class_skip_messages
    from .report import format_metrics

    if args.target == "class":
        raise UsageError("--target class is for two-class scores (p_positive); these scores have three or more classes: "
                         "leave out --target")
    calibrator, metrics = calibrate_classes(frame, method=args.method, n_splits=args.n_splits,
                                            label_column=args.label_column, text_column=args.text_column)
    path = save_class_calibrator(calibrator, args.output)
    for line in class_skip_messages(metrics["skipped"]):
        print(line)
    what = ("scaling of the class log-masses" if args.method in ("temperature", "vector")
            else "top-label calibrator: P(predicted class is correct)")
    print(f"{args.method} {what}, {len(metrics['classes'])} classes {metrics['classes']}, fit on {metrics['n']} rows "
          f"-> {path}")
    print(f"fitted: {metrics['calibrator']}")
    print(f"held-out metrics ({args.n_splits}-fold cross-fitting; 95% bootstrap intervals):")
    print(format_metrics(metrics, names=CLASS_METRIC_NAMES))
    if args.method not in ("temperature", "vector"):
        print("(n/a: a top-label calibrator changes only the confidence of the predicted class, not the class "
              "probabilities those metrics score)")
    return 0


def cmd_conformal(args) -> int:
    """`confnb conformal`: fit prediction sets (on calibrated probabilities with --calibrator), save, print qhat."""
    from .conformal_scores import fit_conformal_scores, save_conformal_scores

    frame = _read_scores(args.scores)
    calibrator = None
    if args.calibrator:
        from .class_calibration import read_calibrator

        _existing_file(args.calibrator, "calibrator file", "create one with `confnb calibrate SCORES.csv -o CALIBRATOR.json`")
        calibrator = read_calibrator(args.calibrator)
    elif args.allow_in_sample:
        raise UsageError("--allow-in-sample applies to rows a --calibrator was fit on; pass --calibrator or leave it out")
    conformal, summary = fit_conformal_scores(
        frame, alpha=args.alpha, method=args.method, calibrator=calibrator, calibrator_file=args.calibrator,
        positive=args.positive_class, label_column=args.label_column, text_column=args.text_column,
        allow_in_sample=args.allow_in_sample,
    )
    path = save_conformal_scores(conformal, args.output)
    _print_conformal_summary(summary, path)
    return 0


def _print_conformal_summary(summary: dict, path) -> None:
    """What `confnb conformal` prints: skipped rows, the calibrator's rows, n, alpha, qhat, expected coverage."""
    from .class_scores import class_skip_messages

    for line in class_skip_messages(summary["skipped"]):
        print(line)
    if summary["calibrator_rows"] is not None:
        print(f"calibrator: {summary['calibrator_rows']['description']}")
    source = "calibrated probabilities" if summary["source"] == "calibrated" else f"the {summary['source']} columns"
    print(f"{summary['method']} prediction sets over {len(summary['classes'])} classes {summary['classes']}, "
          f"from {source} -> {path}")
    print(f"n {summary['n']}, alpha {summary['alpha']:g}, qhat {summary['qhat']:.4f}")
    print(f"expected coverage on new rows drawn like these: at least {1 - summary['alpha']:.3f} "
          f"(on average {summary['expected_coverage']:.3f} = ceil((n+1)(1-alpha))/(n+1), without ties)")


def cmd_report(args) -> int:
    from .calibration import load_calibrator
    from .report import write_report

    frame = _read_scores(args.scores)
    calibrator = None
    if args.calibrator:
        _existing_file(args.calibrator, "calibrator file", "create one with `confnb calibrate SCORES.csv -o CALIBRATOR.json`")
        _refuse_class_calibrator(args.calibrator)
        calibrator = load_calibrator(args.calibrator)
    target = args.target or (calibrator.target if calibrator is not None and calibrator.target else "confidence")
    result = write_report(
        frame, args.output, calibrator=calibrator, target=target, method=args.method, positive=args.positive_class,
        label_column=args.label_column, text_column=args.text_column, allow_in_sample=args.allow_in_sample,
    )
    _print_skipped(result)
    print(f"calibration: {result['calibration']['description']}")
    print(f"report written to {args.output} ({result['n']} rows): metrics.json, summary.md and charts")
    return 0


def _refuse_class_calibrator(path: str) -> None:
    """`confnb report` evaluates two-class calibrators only: say so for a K-class file."""
    import json

    from .class_calibration import TOP_LABEL_FORMAT
    from .scaling import SCALER_FORMAT

    try:
        kind = json.loads(Path(path).read_text(encoding="utf-8", errors="replace")).get("format")
    except (ValueError, AttributeError):
        return  # not JSON, or not an object: load_calibrator names the fault
    if kind in (SCALER_FORMAT, TOP_LABEL_FORMAT):
        raise UsageError(f"{path} is a K-class calibrator; `confnb report` evaluates two-class calibrators only. "
                         "`confnb calibrate` printed its held-out metrics; `confnb score --calibrator` applies it")


def cmd_finetune(args) -> int:
    import pandas as pd

    from .finetune import FineTuneConfig, finetune
    from .models import resolve_device

    task = _task(args)
    if args.data is None:
        from .data import load_sentiment

        frame, source = load_sentiment("train"), "the course dataset's train split"
    else:
        from .files import read_chunks

        frame = pd.concat(list(read_chunks(args.data)), ignore_index=True)
        source = args.data
        if "split" in frame.columns:
            n_all = len(frame)
            frame = frame[frame["split"].astype(str) == "train"].reset_index(drop=True)
            if frame.empty:
                raise UsageError(f"{args.data} has a `split` column but no rows with split 'train'")
            source = f"{args.data} ({len(frame)} train rows of {n_all}; calibration and test rows left out)"
    device = resolve_device(args.device)
    recipe = FineTuneConfig.for_gpu if device.startswith("cuda") else FineTuneConfig.for_cpu
    overrides = {"max_steps": args.max_steps, "batch_size": args.batch_size, "learning_rate": args.lr}
    config = recipe(
        rng=args.rng,
        quantization=args.quantization,
        device=device,
        **{k: v for k, v in overrides.items() if v is not None},
    )
    print(f"fine-tuning on {source}: {config.max_steps} steps of {config.batch_size} rows, rng {config.rng}", file=sys.stderr)
    result = finetune(
        args.model,
        frame,
        task=task,
        config=config,
        output_dir=args.output,
        overwrite=args.overwrite or args.retrain,
        reuse=not args.retrain,
        progress=True if args.progress else None,
        text_column=args.text_column,
        label_column=args.label_column,
    )
    curve = result.validation_frame()
    if result.reused:
        print(f"kept the adapter in {result.adapter_path}: it was trained by this exact recipe ({result.steps_run} "
              "steps; nothing trained now; --retrain trains again)")
    else:
        print(f"adapter written to {result.adapter_path} ({result.steps_run} steps, {result.seconds_per_step:.2f} "
              f"s/step, peak memory {result.peak_memory_mb:.0f} MB)")
    if len(curve):
        best = curve[curve["step"] == result.best_step].iloc[0]
        print(f"validation slice ({result.n_validation} rows carved from the {result.n_train + result.n_validation} training rows):")
        _print_frame(curve)
        print(f"kept step {result.best_step}: validation accuracy {curve['validation_accuracy'].iloc[0]:.3f} -> "
              f"{best['validation_accuracy']:.3f}, loss {curve['validation_loss'].iloc[0]:.3f} -> {best['validation_loss']:.3f}")
    print(f"score with: confnb score INPUT.csv -o SCORES.csv --adapter {result.adapter_path}"
          + (f" --model {args.model}" if args.model else "")
          + (f" --quantization {args.quantization}" if args.quantization else ""))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``confnb`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings.simplefilter("default")
    warnings.filterwarnings("ignore", message=".*gemm_4bit_forward.*")
    warnings.formatwarning = lambda message, category, *a, **k: f"confnb: warning: {message}\n"
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        if not _is_user_error(exc):
            raise  # a bug, not bad input: keep the traceback (exit status 1)
        print(f"confnb: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("confnb: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
