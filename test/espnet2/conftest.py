"""A tiny TISDiSS model (random weights) written as config.yaml + model .pth, for the inference tests
(espnet2/enh/inference.py and the entry points in espnet2/bin)."""

import argparse

import pytest
import torch
import yaml

TINY_CONFIG = {
    "encoder": "stft",
    "encoder_conf": {"n_fft": 128, "hop_length": 64, "default_fs": 8000},
    "decoder": "stft",
    "decoder_conf": {"n_fft": 128, "hop_length": 64},
    "separator": "tisdiss",
    "separator_conf": {  # the flagship's structure, every option explicit, 8 channels wide
        "num_spk": 2,
        "emb_dim": 8,
        "attention_dim": 8,
        "n_heads": 2,
        "num_groups": 2,
        "norm_type": "rmsgroupnorm",
        "tf_order": "ft",
        "ffn_type": ["swiglu_conv1d", "swiglu_conv1d"],
        "ffn_hidden_dim": [8, 8],
        "conv1d_kernel": 4,
        "conv1d_shift": 1,
        "dropout": 0.0,
        "eps": 1.0e-5,
        "encoder_n_layers": 1,
        "encoder_repeat_times": 2,
        "reconstructor_n_layers": 1,
        "reconstructor_repeat_times": 3,
        "repeat_residual_module": True,
        "reconstructor_repeat_residual_module": False,
        "encoder_decoder": False,
        "encoder_multi_decoder": False,
        "encoder_n_layers_multi_decoder": False,
        "reconstructor_multi_decoder": True,
        "reconstructor_n_layers_multi_decoder": True,
        "spliter_loss": True,
    },
    "model_conf": {"normalize_variance": True},
    "criterions": [
        {
            "name": "si_snr",
            "conf": {"eps": 1.0e-7},
            "wrapper": "pit",
            "wrapper_conf": {"weight": 1.0, "independent_perm": True},
        }
    ],
}


def write_model(directory, config=None, seed=0, name="valid.loss.ave_5best.pth"):
    """Build a model from `config`, save config.yaml and its state_dict; returns (config path, model path)."""
    from espnet2.tasks.enh import EnhancementTask

    config = config or TINY_CONFIG
    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = EnhancementTask.build_model(argparse.Namespace(**config))
    config_path = directory / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    model_path = directory / name
    torch.save(model.state_dict(), model_path)
    return config_path, model_path


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a shared, busy CPU, two spinning OpenMP threads run these tiny models
    an order of magnitude slower than one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """(config.yaml, model .pth) of the tiny model, shared by the tests."""
    return write_model(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture
def tiny_config():
    """The tiny model's config as a dict (a copy)."""
    return yaml.safe_load(yaml.safe_dump(TINY_CONFIG))


@pytest.fixture
def model_writer():
    """`write_model(directory, config=None, seed=0, name=...)` for tests that need other model files."""
    return write_model
