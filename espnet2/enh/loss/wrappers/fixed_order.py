"""Fixed-order training (`wrapper: fixed_order`): estimate j is compared with reference j."""

from typing import Dict, List

import torch

from espnet2.enh.loss.criterions.abs_loss import AbsEnhLoss
from espnet2.enh.loss.wrappers.abs_wrapper import AbsLossWrapper


class FixedOrderSolver(AbsLossWrapper):
    """Mean over speakers and batch of criterion(ref[j], est[j])."""

    def __init__(self, criterion: AbsEnhLoss, weight: float = 1.0):
        super().__init__()
        self.criterion = criterion
        self.weight = weight

    def forward(self, ref: List[torch.Tensor], inf: List[torch.Tensor], others: Dict = None):
        if len(ref) != len(inf):
            raise ValueError(f"{len(ref)} references but {len(inf)} estimates")
        loss = torch.stack([self.criterion(r, e) for r, e in zip(ref, inf)], dim=1).mean()
        perm = torch.arange(len(ref), device=loss.device).expand(ref[0].shape[0], -1)
        return loss, {self.criterion.name: loss.detach()}, {"perm": perm}
