"""A tiny TISDiSS model (random weights) written as config.yaml + model .pth, for the inference tests
(espnet2/enh/inference.py and the entry points in espnet2/bin)."""

import argparse

import pytest
import torch
import yaml

from test.espnet2.train.tiny_enh_data import tiny_model_config

TINY_CONFIG = tiny_model_config(n_fft=128, m_re=3)  # the flagship's structure, 8 channels wide
TINY_CONFIG["encoder_conf"]["default_fs"] = 8000


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
