from abc import ABC, abstractmethod
from typing import Iterator


class AbsIterFactory(ABC):
    """Builds the iterator of one epoch; `build_iter(epoch)` depends only on the epoch (resume-safe)."""

    @abstractmethod
    def build_iter(self, epoch: int, shuffle: bool = None) -> Iterator:
        """The iterator over `(utt_ids, batch)` of `epoch` (1-based)."""
