"""LoRA fine-tuning: answer-only loss, no leakage from calibration/test, learning, adapters, CLI.

Runs are tiny (64 rows, batches of 4-8, a few steps) and use the short zero-shot prompt, so the
whole file stays fast on two CPU cores.
"""

import importlib
import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

import confnb
from confnb.batching import collate_examples, evaluate_examples, forward_examples
from confnb.scoring import next_token_logprobs
from confnb.finetune import (
    FineTuneConfig,
    UngroupedValidationWarning,
    answer_ids,
    carve_validation,
    encode_examples,
    finetune,
)
from confnb.tasks import SENTIMENT, SENTIMENT_CHAT, SENTIMENT_ZERO_SHOT

TASK = SENTIMENT_ZERO_SHOT  # shortest prompt: fastest steps
TINY = dict(batch_size=8, eval_steps=4, eval_batch_size=16, learning_rate=2e-3, warmup_ratio=0.0)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Train on one torch thread here: these tiny batches gain nothing from a second thread, and on a
    machine shared with other jobs two OpenMP threads wait on each other at every op (5x slower)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _rows(n: int = 64, seed: int = 0) -> pd.DataFrame:
    return confnb.load_sentiment("train").sample(n, random_state=seed).reset_index(drop=True)


def _lora_b(net) -> dict[str, np.ndarray]:
    return {n: p.detach().float().cpu().numpy().copy() for n, p in net.named_parameters() if "lora_B" in n}


@pytest.fixture(scope="module")
def run(lm, tmp_path_factory):
    """One short fine-tuning run on 64 train rows: the result, every text handed to the encoder, and
    how the reporting callback was called."""
    ft = importlib.import_module("confnb.finetune")  # the module: confnb.finetune is the function

    seen: list[str] = []
    original = ft.encode_examples

    def spy(model, texts, labels, task=None):
        seen.extend(texts)
        return original(model, texts, labels, task)

    import torch

    calls: list[tuple[int, bool, bool]] = []

    def callback(step, net):  # the reporting hook: records how it was called
        calls.append((step, net.training, torch.is_grad_enabled()))

    folder = tmp_path_factory.mktemp("ft") / "adapter"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ft, "encode_examples", spy)
        result = finetune(lm, _rows(), task=TASK, config=FineTuneConfig.for_cpu(max_steps=8, **TINY), output_dir=folder,
                          progress=False, callback=callback)
    return result, seen, calls


# ------------------------------------------------------------------------------------ loss masking


def test_answer_tokens_follow_the_prompt_as_generated(lm):
    plain = answer_ids(lm, SENTIMENT)
    assert [lm.tokenizer.decode(plain[c]) for c in ("positive", "negative")] == [" Yes", " No"]
    chat = answer_ids(lm, SENTIMENT_CHAT)
    assert [lm.tokenizer.decode(chat[c]) for c in ("positive", "negative")] == ["Yes", "No"]
    for task, ids in ((SENTIMENT, plain), (SENTIMENT_CHAT, chat)):
        scored = task.token_ids(lm)
        assert all(ids[c][0] in scored[c] for c in task.class_names)


@pytest.mark.parametrize("task", [SENTIMENT, SENTIMENT_CHAT], ids=["plain", "chat"])
def test_labels_are_minus_100_everywhere_but_the_answer(lm, task):
    rows = _rows(6)
    examples = encode_examples(lm, rows["text"], rows["label"], task)
    answers = answer_ids(lm, task)
    for i, (text, label) in enumerate(zip(rows["text"], rows["label"])):  # same tokens as scoring + answer
        full = lm.tokenizer(task.prompt(text, lm) + lm.tokenizer.decode(answers[label]))["input_ids"]
        assert examples.prefix_ids + examples.suffix_ids[i] + examples.answer_ids[i] == full
    batch = collate_examples(examples, list(range(len(rows))), pad_id=lm.tokenizer.pad_token_id)
    labels, ids = batch["labels"].numpy(), batch["input_ids"].numpy()
    for r, label in enumerate(rows["label"]):
        k = len(answers[label])
        assert (labels[r, :-k] == -100).all()
        assert labels[r, -k:].tolist() == answers[label] == ids[r, -k:].tolist()
    assert ((labels != -100).sum(axis=1) == 1).all()


def test_shared_prefix_loss_equals_the_full_sequence_loss(lm):
    import torch

    rows = _rows(3, seed=3)
    examples = encode_examples(lm, rows["text"], rows["label"], SENTIMENT)
    with torch.no_grad():
        row_loss, _ = forward_examples(lm.model, examples, [0, 1, 2], lm.tokenizer.pad_token_id, lm.model.device)
        for i in range(3):
            ids = examples.prefix_ids + examples.suffix_ids[i] + examples.answer_ids[i]
            labels = [-100] * (len(ids) - 1) + examples.answer_ids[i]
            ref = lm.model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss
            assert float(row_loss[i]) == pytest.approx(float(ref), abs=1e-4)


def test_output_layer_sees_only_the_answer_positions_as_one_block(lm):
    """A strided slice of hidden states would make torch multiply by a batch-expanded copy of the output
    matrix whenever gradients are on (`benchmarks/training_step.py` measures the cost)."""
    import torch

    rows = _rows(3, seed=3)
    examples = encode_examples(lm, rows["text"], rows["label"], SENTIMENT)
    seen = []
    handle = lm.model.lm_head.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    try:
        with torch.no_grad():
            forward_examples(lm.model, examples, [0, 1, 2], lm.tokenizer.pad_token_id, lm.model.device)
    finally:
        handle.remove()
    k = max(len(examples.answer_ids[i]) for i in range(3))
    prefix_pass, answer_pass = seen
    assert tuple(prefix_pass.shape[:2]) == (1, 1)
    assert tuple(answer_pass.shape[:2]) == (3, k) and answer_pass.is_contiguous()


def test_validation_accuracy_is_classify_accuracy(lm):
    rows = _rows(8, seed=5)
    examples = encode_examples(lm, rows["text"], rows["label"], TASK)
    _, accuracy = evaluate_examples(lm.model, examples, TASK, TASK.token_ids(lm), lm.tokenizer.pad_token_id, lm.model.device, 3)
    scored = confnb.classify(lm, rows["text"].tolist(), TASK, progress=False)
    assert accuracy == pytest.approx(float((scored["prediction"] == rows["label"]).mean()))


# ------------------------------------------------------------------------------------------ leakage


def test_calibration_and_test_rows_are_refused(lm):
    with pytest.raises(ValueError, match=r"not 'train' \(calibration: 1000, test: 2000\)"):
        finetune(lm, confnb.load_sentiment(), task=TASK)
    mixed = pd.concat([_rows(10), confnb.load_sentiment("test").head(1)])
    with pytest.raises(ValueError, match="test: 1"):
        finetune(lm, mixed, task=TASK)


def test_no_calibration_or_test_row_reaches_the_trainer(run):
    result, seen, _ = run
    data = confnb.load_sentiment()
    held_out = set(data.loc[data["split"] != "train", "text"])
    train = set(data.loc[data["split"] == "train", "text"])
    assert len(seen) == result.n_train + result.n_validation == 64
    assert set(seen) <= train and not set(seen) & held_out


def test_validation_slice_holds_out_whole_frames_stratified_and_seeded():
    train = confnb.load_sentiment("train")
    fit, val = carve_validation(train, fraction=0.1, max_rows=300, rng=0)
    assert len(val) == 300 and not set(fit["id"]) & set(val["id"])
    assert not set(fit["frame"]) & set(val["frame"])  # no validation frame is trained on
    held = train[~train["id"].isin(set(fit["id"]))]  # held out: whole frames, about 10% of the rows
    assert set(val["id"]) <= set(held["id"]) and abs(len(held) - 700) <= 50
    assert not set(fit["frame"]) & set(held["frame"])  # rows beyond the cap are not trained on either
    assert val["frame"].nunique() >= 25 and set(val["category"]) == set(train["category"])
    shares = val["category"].value_counts(normalize=True).sort_index()
    assert np.allclose(shares, train["category"].value_counts(normalize=True).sort_index(), atol=0.01)
    assert carve_validation(train, fraction=0.1, max_rows=300, rng=0)[1]["id"].tolist() == val["id"].tolist()
    assert carve_validation(train, fraction=0.1, max_rows=300, seed=0)[1]["id"].tolist() == val["id"].tolist()
    assert carve_validation(train, fraction=0.1, max_rows=300, rng=1)[1]["id"].tolist() != val["id"].tolist()
    fit_all, val_all = carve_validation(train, fraction=0.1, rng=0)  # no cap: every held-out row validates
    assert len(fit_all) + len(val_all) == len(train) and not set(fit_all["frame"]) & set(val_all["frame"])


def test_validation_without_a_frame_column_falls_back_to_rows_and_says_so():
    train = confnb.load_sentiment("train").drop(columns="frame")
    with pytest.warns(UngroupedValidationWarning, match="row by row"):
        fit, val = carve_validation(train, fraction=0.1, rng=0)
    assert len(val) == 700 and len(fit) == 6300 and not set(fit["id"]) & set(val["id"])
    shares = val["category"].value_counts(normalize=True).sort_index()
    assert np.allclose(shares, train["category"].value_counts(normalize=True).sort_index(), atol=0.002)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(carve_validation(train, fraction=0.1, max_rows=400, rng=0, groups=None)[1]) == 400
    with pytest.raises(ValueError, match="'document' is not a column"):
        carve_validation(train, groups="document")
    with pytest.raises(ValueError, match="not both"):
        carve_validation(train, rng=1, seed=2)


# ------------------------------------------------------------------------------------------ learning


def test_a_few_steps_lower_the_loss_and_change_the_lora_weights(run, lm):
    result, _, _ = run
    assert result.steps_run == 8 and len(result.train_loss) == 8
    net = result.model.model
    weights = _lora_b(net)  # lora_B starts at zero: non-zero means gradients reached every layer
    assert len(weights) == 7 * 30  # all-linear: q, k, v, o, gate, up, down in 30 blocks; not lm_head
    assert all(np.abs(w).max() > 0 for w in weights.values())
    rows = _rows().head(16)  # rows it was trained on
    examples = encode_examples(lm, rows["text"], rows["label"], TASK)
    args = (examples, TASK, TASK.token_ids(lm), lm.tokenizer.pad_token_id, lm.model.device, 16)
    with net.disable_adapter():
        before, _ = evaluate_examples(net, *args)
    after, _ = evaluate_examples(net, *args)
    assert after < before - 0.05
    assert not hasattr(lm.model, "peft_config")  # the caller's model was copied, not wrapped


def test_callback_runs_after_each_validation_pass_in_eval_mode(run):
    result, _, calls = run
    assert [step for step, _, _ in calls] == list(result.validation_step) == [0, 4, 8]
    assert not any(training or grad for _, training, grad in calls)


def test_adapter_round_trips_through_load_model(run, lm):
    result, _, _ = run
    folder = result.adapter_path
    info = confnb.models.read_adapter_info(folder)
    assert info["base_model"] == lm.name == "SmolLM2-135M-Instruct"
    assert confnb.tasks.ClassificationTask.from_dict(info["task"]) == TASK
    assert info["training"]["n_train"] + info["training"]["n_validation"] == 64
    assert info["config"]["max_steps"] == 8 and info["training"]["best_step"] == result.best_step
    reloaded = confnb.load_model(adapter=folder, dtype="float32")  # the adapter stays a separate branch
    assert reloaded.key == result.model.key and not reloaded.adapter_merged
    texts = ["I love this movie!", "The meeting was scheduled for Thursday afternoon in the conference room."]
    saved = {n: p for n, p in reloaded.model.named_parameters() if "lora_" in n}
    trained = {n: p for n, p in result.model.model.named_parameters() if "lora_" in n}
    assert saved.keys() == trained.keys() and all(bool((saved[n] == trained[n]).all()) for n in saved)
    assert confnb.adapters.adapter_parameter_count(folder) == sum(p.numel() for p in saved.values())
    tuned = next_token_logprobs(result.model, texts, TASK)
    again = next_token_logprobs(reloaded, texts, TASK)
    base = next_token_logprobs(lm, texts, TASK)
    assert np.abs(tuned - again).max() < 1e-4  # float32 rounding over a 49k vocabulary
    assert np.abs(tuned - base).max() > 1e-2


def test_a_merged_adapter_scores_as_the_separate_one(run, lm):
    result, _, _ = run
    merged = confnb.load_model(adapter=result.adapter_path, dtype="float32", merge_adapter=True)
    assert merged.adapter_merged and not hasattr(merged.model, "peft_config")
    assert not any("lora_" in n for n, _ in merged.model.named_parameters())
    assert "adapter_merged=True" in repr(merged)
    # same adapter, other arithmetic: scored rows must not be mixed in the cache or on --resume
    assert confnb.models.scoring_key(merged) != confnb.models.scoring_key(result.model)
    texts = ["I love this movie!", "The meeting was scheduled for Thursday afternoon in the conference room."]
    tuned = next_token_logprobs(result.model, texts, TASK)
    assert np.abs(next_token_logprobs(merged, texts, TASK) - tuned).max() < 1e-4
    assert np.abs(next_token_logprobs(lm, texts, TASK) - tuned).max() > 1e-2  # lm (the base) is untouched


@pytest.mark.train
def test_same_seed_same_run_and_global_rng_untouched(lm, tmp_path):
    import torch

    config = FineTuneConfig.for_cpu(max_steps=2, validation_fraction=0.0, **TINY)
    state = torch.random.get_rng_state()
    first = finetune(lm, _rows(32), task=TASK, config=config, output_dir=tmp_path / "a", progress=False)
    assert torch.equal(torch.random.get_rng_state(), state)
    again = finetune(lm, _rows(32), task=TASK, config=config, output_dir=tmp_path / "a", overwrite=True, progress=False)
    assert first.train_loss == again.train_loss and first.best_step == 2
    other = finetune(lm, _rows(32), task=TASK, config=FineTuneConfig.for_cpu(**{**config.to_dict(), "rng": 1}), progress=False)
    assert other.train_loss != first.train_loss


@pytest.mark.train
def test_reuse_keeps_an_adapter_of_the_same_recipe_and_retrains_another(lm, tmp_path):
    config = FineTuneConfig.for_cpu(max_steps=2, validation_fraction=0.0, **TINY)
    folder = tmp_path / "adapter"
    first = finetune(lm, _rows(32), task=TASK, config=config, output_dir=folder, reuse=True, progress=False)
    assert not first.reused
    written = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}

    again = finetune(lm, _rows(32), task=TASK, config=config, output_dir=folder, reuse=True, progress=False)
    assert again.reused and {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == written  # nothing rewritten
    assert (again.train_loss, again.learning_rate, again.best_step) == (first.train_loss, first.learning_rate, first.best_step)
    assert (again.train_seconds, again.peak_memory_mb, again.model.key) == (first.train_seconds, first.peak_memory_mb, first.model.key)
    texts = _rows(4, seed=1)["text"]
    assert np.abs(next_token_logprobs(again.model, texts, TASK) - next_token_logprobs(first.model, texts, TASK)).max() < 1e-5
    assert lm.adapter is None and not hasattr(lm.model, "peft_config")  # the caller's base model is untouched

    other_rows = _rows(32, seed=1)  # another recipe: other training rows
    with pytest.raises(ValueError, match="trained by another recipe.*overwrite=True"):
        finetune(lm, other_rows, task=TASK, config=config, output_dir=folder, reuse=True, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == written
    other = finetune(lm, other_rows, task=TASK, config=config, output_dir=folder, reuse=True, overwrite=True, progress=False)
    assert not other.reused and other.train_loss != first.train_loss
    with pytest.raises(ValueError, match="reuse=True needs output_dir"):
        finetune(lm, _rows(32), task=TASK, config=config, reuse=True)


@pytest.mark.train
def test_qlora_on_cpu_changes_the_lora_weights():
    pytest.importorskip("bitsandbytes", reason="QLoRA needs bitsandbytes")
    import torch

    try:
        probe = confnb.load_model(quantization="4bit", device="cpu")
        with torch.no_grad():
            probe.model(input_ids=torch.tensor([[1, 2, 3]]))
    except Exception as exc:  # pragma: no cover - depends on the bitsandbytes build
        pytest.skip(f"bitsandbytes' CPU 4-bit path is unavailable here: {exc}")
    config = FineTuneConfig.for_cpu(max_steps=2, validation_fraction=0.0, **{**TINY, "batch_size": 4})
    result = finetune(probe, _rows(16), task=TASK, config=config, progress=False)  # trains a copy
    assert result.model.quantization == "4bit"
    weights = _lora_b(result.model.model)
    assert weights and all(np.abs(w).max() > 0 for w in weights.values())
    assert result.train_loss[1] < result.train_loss[0] + 0.5


# --------------------------------------------------------------------------------------- bad input


def test_adapter_for_another_base_model_is_refused(run, tmp_path):
    result, _, _ = run
    folder = tmp_path / "moved"
    shutil.copytree(result.adapter_path, folder)
    info = json.loads((folder / "confnb_adapter.json").read_text())
    info["base_model"] = "gemma-3-270m"
    (folder / "confnb_adapter.json").write_text(json.dumps(info))
    with pytest.raises(ValueError, match="trained on base model 'gemma-3-270m'"):
        confnb.load_model(adapter=folder)


def test_adapter_info_of_older_versions_reads_under_the_current_names(run, tmp_path):
    from confnb.adapters import ADAPTER_INFO, read_adapter_info

    result, _, _ = run
    folder = tmp_path / "old"
    shutil.copytree(result.adapter_path, folder)
    info = json.loads((folder / ADAPTER_INFO).read_text())
    assert info["rng"] == info["config"]["rng"] == 0
    renamed = {"lora_alpha": "alpha", "lora_dropout": "dropout", "max_steps": "steps", "warmup_ratio": "warmup_fraction",
               "eval_steps": "eval_every", "early_stopping_patience": "patience", "rng": "seed"}
    old = {("seed" if k == "rng" else k): v for k, v in info.items()}  # as written before the rename
    old["config"] = {renamed.get(k, k): v for k, v in info["config"].items()}
    (folder / ADAPTER_INFO).write_text(json.dumps(old))
    again = read_adapter_info(folder)
    assert again["config"] == result.config.to_dict() and again["rng"] == 0 and "seed" not in again
    assert FineTuneConfig(**again["config"]) == result.config
    assert confnb.models.read_adapter_info is read_adapter_info


def test_existing_output_folder_is_refused_unless_overwrite(lm, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="exists and is not empty.*overwrite"):
        finetune(lm, _rows(), task=TASK, output_dir=tmp_path)
    with pytest.raises(ValueError, match="does not hold an adapter; refusing to delete"):
        finetune(lm, _rows(), task=TASK, output_dir=tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_training_data_needs_both_labels_in_class_spellings(lm):
    rows = _rows()
    with pytest.raises(ValueError, match=r"no rows labelled \['negative'\]"):
        finetune(lm, rows[rows["label"] == "positive"], task=TASK)
    with pytest.raises(ValueError, match="not classes: 'maybe'"):
        finetune(lm, rows.assign(label=["maybe"] * len(rows)), task=TASK)
    with pytest.raises(ValueError, match="no 'label' column"):
        finetune(lm, rows.drop(columns="label"), task=TASK)


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="max_steps must be at least 1"):
        FineTuneConfig(max_steps=0)
    with pytest.raises(ValueError, match="early_stopping_patience"):
        FineTuneConfig(early_stopping_patience=0)
    with pytest.raises(TypeError, match="rng must be an int"):
        FineTuneConfig(rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="validation_fraction"):
        FineTuneConfig(validation_fraction=0.7)
    with pytest.raises(ValueError, match="QLoRA"):
        FineTuneConfig(quantization="8bit")
    assert FineTuneConfig.for_gpu().target_modules == "all-linear"
    assert FineTuneConfig.for_cpu(target_modules=["q_proj"]).target_modules == ("q_proj",)


# ---------------------------------------------------------------------------------------------- CLI


@pytest.mark.train
def test_cli_finetune_end_to_end(tmp_path, capsys):
    from confnb.cli import main

    data = confnb.load_sentiment()
    csv = tmp_path / "data.csv"
    pd.concat([data[data["split"] == "train"].sample(40, random_state=0), data[data["split"] == "test"].head(20)]).to_csv(csv, index=False)
    out = tmp_path / "adapter"
    argv = ["finetune", "--data", str(csv), "-o", str(out), "--max-steps", "2", "--batch-size", "4", "--prompt", "zero-shot", "--device", "cpu"]
    assert main(argv) == 0
    info = json.loads((out / "confnb_adapter.json").read_text())
    assert info["training"]["n_train"] + info["training"]["n_validation"] == 40  # test rows left out
    assert (out / "adapter_config.json").exists() and info["task"]["name"] == "sentiment-zero-shot"
    assert "adapter written to" in capsys.readouterr().out
    written = (out / "adapter_model.safetensors").stat().st_mtime_ns
    assert main(argv) == 0  # the same recipe again: the adapter is kept, nothing is trained
    assert "kept the adapter" in capsys.readouterr().out
    assert (out / "adapter_model.safetensors").stat().st_mtime_ns == written
    assert main([*argv, "--rng", "1"]) == 2  # another recipe: the folder is not replaced without --overwrite
    assert "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--retrain"]) == 0
    assert "adapter written to" in capsys.readouterr().out
    assert (out / "adapter_model.safetensors").stat().st_mtime_ns != written
    one_label = tmp_path / "one.csv"
    pd.DataFrame({"text": ["good", "great", "fine"], "label": [1, 1, 1]}).to_csv(one_label, index=False)
    assert main(["finetune", "--data", str(one_label), "-o", str(tmp_path / "x"), "--steps", "1"]) == 2
    assert "no rows labelled ['negative']" in capsys.readouterr().err
