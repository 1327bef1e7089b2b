"""Permutation-invariant training (`wrapper: pit`)."""

from typing import Dict, List

import torch

from espnet2.enh.loss.criterions.abs_loss import AbsEnhLoss
from espnet2.enh.loss.wrappers.abs_wrapper import AbsLossWrapper
from espnet2.enh.permutation import best_permutation


class PITSolver(AbsLossWrapper):
    """Loss of the best speaker permutation per utterance, averaged over speakers, then over the batch.

    Args:
        criterion: maps ref, est [B, N] -> [B].
        weight: weight of this wrapper in the total loss.
        independent_perm: solve the permutation for this call alone; otherwise reuse `others["perm"]`
            when a previous wrapper provided one.
    """

    def __init__(self, criterion: AbsEnhLoss, weight: float = 1.0, independent_perm: bool = True,
                 flexible_numspk: bool = False):  # fmt: skip
        super().__init__()
        if flexible_numspk:
            raise ValueError("wrapper_conf: flexible_numspk: true is not supported; remove it")
        self.criterion = criterion
        self.weight = weight
        self.independent_perm = independent_perm

    def forward(self, ref: List[torch.Tensor], inf: List[torch.Tensor], others: Dict = None):
        """ref, inf: J tensors [B, N] -> (loss, {name: loss}, {"perm": LongTensor [B, J]}).

        perm[b, s] is the estimate index assigned to reference s.
        """
        others = others or {}
        if len(ref) != len(inf):
            raise ValueError(f"{len(ref)} references but {len(inf)} estimates")
        perm = others.get("perm")
        # pairwise[b, s, t] = criterion(ref s, estimate t): J^2 criterion calls instead of J! * J
        pairwise = torch.stack([torch.stack([self.criterion(r, e) for e in inf], dim=-1) for r in ref], dim=-2)
        if self.independent_perm or perm is None:
            perm, loss = best_permutation(pairwise, maximize=False)
        else:
            loss = pairwise.gather(2, perm.unsqueeze(-1)).squeeze(-1).mean(dim=-1)
        loss = loss.mean()
        return loss, {self.criterion.name: loss.detach()}, {"perm": perm}
