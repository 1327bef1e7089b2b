"""The separator interface of ESPnet-Enh."""

from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import List, Optional, Tuple

import torch


class AbsSeparator(torch.nn.Module, ABC):
    """complex [B, T, F] + lengths [B] -> (list of num_spk complex [B, T, F], lengths, dict of extras)."""

    @abstractmethod
    def forward(
        self,
        input: torch.Tensor,
        ilens: torch.Tensor,
        additional: Optional[dict] = None,
    ) -> Tuple[List[torch.Tensor], torch.Tensor, OrderedDict]:
        """Implemented by every subclass (abstract)."""

    @property
    @abstractmethod
    def num_spk(self) -> int:
        """Implemented by every subclass (abstract)."""
