"""The decoder interface of ESPnet-Enh: feature -> waveform."""

from abc import ABC, abstractmethod
from typing import Tuple

import torch


class AbsDecoder(torch.nn.Module, ABC):
    @abstractmethod
    def forward(self, input: torch.Tensor, ilens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Implemented by every subclass (abstract)."""
