"""The encoder interface of ESPnet-Enh: waveform -> feature."""

from abc import ABC, abstractmethod
from typing import Tuple

import torch


class AbsEncoder(torch.nn.Module, ABC):
    @abstractmethod
    def forward(self, input: torch.Tensor, ilens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Implemented by every subclass (abstract)."""

    @property
    @abstractmethod
    def output_dim(self) -> int:
        """Implemented by every subclass (abstract)."""
