import pytest
import torch

from espnet2.schedulers.abs_scheduler import AbsBatchStepScheduler, AbsEpochStepScheduler, AbsValEpochStepScheduler
from espnet2.schedulers.warmup_lr import WarmupLR
from espnet2.schedulers.warmup_reducelronplateau import WarmupReduceLROnPlateau


def optimizer(lr=1.0):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def test_warmup_lr_noam_shape():
    opt = optimizer(1.0)
    s = WarmupLR(opt, warmup_steps=4)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(7):
        opt.step()
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
    # step n: 4**0.5 * min(n**-0.5, n * 4**-1.5): linear up to 1.0 at n=4, then 2/sqrt(n)
    assert lrs[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert lrs[4:] == pytest.approx([2 / 5**0.5, 2 / 6**0.5, 2 / 7**0.5, 2 / 8**0.5])
    assert isinstance(s, AbsBatchStepScheduler)


def test_warmup_reducelronplateau_warmup_then_plateau_and_state():
    opt = optimizer(1.0)
    s = WarmupReduceLROnPlateau(opt, warmup_steps=4, factor=0.5, patience=1)
    assert isinstance(s, AbsBatchStepScheduler) and isinstance(s, AbsValEpochStepScheduler)
    lrs = []
    for _ in range(6):
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])
    for v in [3.0, 2.0, 2.5]:  # improving, then one bad epoch (patience 1: no change yet)
        s.step(v)
    assert opt.param_groups[0]["lr"] == 1.0
    state = s.state_dict()
    s.step(2.5)  # second bad epoch -> halve
    assert opt.param_groups[0]["lr"] == 0.5

    # a restored scheduler makes the same decision
    opt2 = optimizer(1.0)
    s2 = WarmupReduceLROnPlateau(opt2, warmup_steps=4, factor=0.5, patience=1)
    s2.load_state_dict(state)
    s2.step(2.5)
    assert opt2.param_groups[0]["lr"] == 0.5
    assert s2.best == 2.0 and s2.step_num == 6


def test_steplr_is_epoch_scheduler_and_bad_factor():
    assert isinstance(torch.optim.lr_scheduler.StepLR(optimizer(), 2), AbsEpochStepScheduler)
    with pytest.raises(ValueError, match="factor"):
        WarmupReduceLROnPlateau(optimizer(), factor=2.0)
