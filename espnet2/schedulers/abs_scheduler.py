"""Scheduler kinds, by when the trainer calls `step()` (ESPnet convention).

- `AbsBatchStepScheduler`: after every optimizer update (warm-up schedules).
- `AbsEpochStepScheduler`: once per epoch (StepLR).
- `AbsValEpochStepScheduler`: once per epoch with the validation value of `--val_scheduler_criterion`.
A scheduler may be several kinds at once (WarmupReduceLROnPlateau: batch steps, then validation steps).
"""

from abc import ABC, abstractmethod

import torch.optim.lr_scheduler as L


class AbsScheduler(ABC):
    @abstractmethod
    def step(self, epoch: int = None):
        pass

    @abstractmethod
    def state_dict(self):
        pass

    @abstractmethod
    def load_state_dict(self, state):
        pass


class AbsBatchStepScheduler(AbsScheduler):
    @abstractmethod
    def step(self, epoch: int = None):
        pass


class AbsEpochStepScheduler(AbsScheduler):
    @abstractmethod
    def step(self, epoch: int = None):
        pass


class AbsValEpochStepScheduler(AbsEpochStepScheduler):
    @abstractmethod
    def step(self, val, epoch: int = None):
        pass


# torch's own schedulers, classified for the trainer
AbsValEpochStepScheduler.register(L.ReduceLROnPlateau)
for s in [L.StepLR, L.MultiStepLR, L.ExponentialLR, L.CosineAnnealingLR, L.LambdaLR]:
    AbsEpochStepScheduler.register(s)
