import random

import numpy as np
import pytest
import torch

from espnet2.train.reporter import Reporter
from espnet2.train.trainer import amp_settings, atomic_save, get_rng_state, set_rng_state


def test_reporter_weighted_averages_best_epochs_and_state(tmp_path):
    r = Reporter()
    for epoch, valid in [(1, 3.0), (2, 1.0), (3, 2.0)]:
        r.set_epoch(epoch)
        with r.observe("train") as sub:
            sub.register({"loss": 1.0}, weight=1)
            sub.next()
            sub.register({"loss": 4.0}, weight=3)
            sub.next()
            assert sub.log_message(-1).startswith(f"{epoch}epoch:train:2-2batch: loss=4")
        with r.observe("valid") as sub:
            sub.register({"loss": valid, "si_snr": -valid}, weight=2)
            sub.next()
    assert r.get_value("train", "loss", 1) == pytest.approx((1 + 12) / 4)
    assert r.sort_epochs_and_values("valid", "loss", "min") == [(2, 1.0), (3, 2.0), (1, 3.0)]
    assert r.get_best_epoch("valid", "si_snr", "max") == 2
    assert r.check_early_stopping(0, "valid", "loss", "min") is True
    assert r.check_early_stopping(1, "valid", "loss", "min") is False
    state = r.state_dict()
    torch.save(state, tmp_path / "r.pth")
    r2 = Reporter()
    r2.load_state_dict(torch.load(tmp_path / "r.pth", weights_only=True))
    assert r2.get_epoch() == 3 and r2.sort_epochs("valid", "loss", "min") == [2, 3, 1]
    r2.matplotlib_plot(tmp_path / "images")
    assert (tmp_path / "images" / "loss.png").stat().st_size > 1000


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pth"
    atomic_save({"a": torch.ones(2)}, path)

    def broken_save(obj, f):
        with open(f, "wb") as fh:
            fh.write(b"half a checkpoint")
        raise KeyboardInterrupt  # killed while writing

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        atomic_save({"a": torch.zeros(2)}, path)
    monkeypatch.undo()
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.ones(2))


def test_rng_state_roundtrip_with_weights_only(tmp_path):
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    torch.save(get_rng_state(), tmp_path / "rng.pth")
    a = (torch.rand(3), np.random.rand(3), random.random())
    set_rng_state(torch.load(tmp_path / "rng.pth", weights_only=True))
    b = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]


def test_amp_dtype_per_device():
    assert amp_settings(False, None, "cpu") == (None, False)
    assert amp_settings(True, None, "cpu") == (dict(device_type="cpu", dtype=torch.bfloat16), False)
    assert amp_settings(True, None, "cuda") == (dict(device_type="cuda", dtype=torch.float16), True)
    assert amp_settings(True, "bfloat16", "cuda") == (dict(device_type="cuda", dtype=torch.bfloat16), False)
    with pytest.raises(ValueError, match="on CPU use bfloat16"):
        amp_settings(True, "float16", "cpu")
