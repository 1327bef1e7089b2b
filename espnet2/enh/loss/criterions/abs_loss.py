"""The criterion interface of ESPnet-Enh."""

from abc import ABC, abstractmethod

import torch


class AbsEnhLoss(torch.nn.Module, ABC):
    """ref [B, N], est [B, N] -> loss per utterance [B] (lower is better)."""

    @property
    @abstractmethod
    def name(self) -> str:
        """Implemented by every subclass (abstract)."""

    @abstractmethod
    def forward(self, ref: torch.Tensor, inf: torch.Tensor) -> torch.Tensor:
        """Implemented by every subclass (abstract)."""
