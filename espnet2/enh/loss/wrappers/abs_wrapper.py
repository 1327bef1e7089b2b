"""The loss-wrapper interface of ESPnet-Enh: how a criterion is applied to J references and estimates."""

from abc import ABC, abstractmethod
from typing import Dict, List, Tuple

import torch


class AbsLossWrapper(torch.nn.Module, ABC):
    """(J refs [B, N], J estimates [B, N], others) -> (scalar loss, stats, others such as {"perm": [B, J]})."""

    weight = 1.0

    @abstractmethod
    def forward(self, ref: List, inf: List, others: Dict) -> Tuple[torch.Tensor, Dict, Dict]:
        """Implemented by every subclass (abstract)."""
