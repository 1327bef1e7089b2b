from math import inf
from typing import List, Union

import torch

from espnet2.schedulers.abs_scheduler import AbsBatchStepScheduler, AbsValEpochStepScheduler


class WarmupReduceLROnPlateau(AbsBatchStepScheduler, AbsValEpochStepScheduler):
    """Linear warm-up, then ReduceLROnPlateau (ESPnet `warmupreducelronplateau`).

    - `step()` (after every update): while step <= warmup_steps, `lr = optimizer.lr * step / warmup_steps`.
      As in ESPnet, the warm-up starts with the first call, so the very first update uses optimizer.lr.
    - `step(val)` (after every epoch, with the value of `--val_scheduler_criterion`): torch's
      ReduceLROnPlateau rule: after more than `patience` epochs without improvement (relative/absolute
      `threshold`), multiply the lr by `factor` (not below `min_lr`), then wait `cooldown` epochs.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_steps: Union[int, float] = 25000,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: Union[float, List[float]] = 0,
        eps: float = 1e-8,
        verbose: bool = False,
    ):
        if factor >= 1.0:
            raise ValueError(f"scheduler_conf.factor must be < 1.0, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"scheduler_conf.mode must be min or max, got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"scheduler_conf.threshold_mode must be rel or abs, got {threshold_mode!r}")
        self.optimizer = optimizer
        self.warmup_steps = warmup_steps
        self.step_num = 0
        self.lr_scale = warmup_steps**-1
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.factor = factor
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}")
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.eps = eps
        self.verbose = verbose
        self.last_epoch = 0
        self.mode_worse = inf if mode == "min" else -inf
        self.best = self.mode_worse
        self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(warmup_steps={self.warmup_steps}, mode={self.mode}, "
            f"factor={self.factor}, patience={self.patience})"
        )

    def step(self, metrics=None, epoch=None):
        if metrics is None:
            # warm-up, once per update
            self.step_num += 1
            if self.step_num <= self.warmup_steps:
                for param_group, lr in zip(self.optimizer.param_groups, self.base_lrs):
                    param_group["lr"] = lr * self.lr_scale * self.step_num
        else:
            self._step_plateau(float(metrics), epoch)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _step_plateau(self, current: float, epoch=None):
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # ignore bad epochs in cooldown
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

    def _reduce_lr(self):
        for i, param_group in enumerate(self.optimizer.param_groups):
            old_lr = float(param_group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                param_group["lr"] = new_lr

    def is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def get_last_lr(self) -> List[float]:
        return self._last_lr

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
