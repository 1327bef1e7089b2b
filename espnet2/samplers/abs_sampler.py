"""Batch samplers: a fixed list of mini-batches (tuples of utterance ids) built from shape files.

Shuffling is not the sampler's job: the iterator factory shuffles the list of batches per epoch with a
seed derived from the epoch, so that a resumed run sees exactly the batches of an uninterrupted one.
"""

from abc import ABC, abstractmethod
from typing import Iterator, List, Tuple

from torch.utils.data import Sampler


class AbsSampler(Sampler, ABC):
    @abstractmethod
    def __len__(self) -> int:
        """Number of mini-batches."""

    @abstractmethod
    def __iter__(self) -> Iterator[Tuple[str, ...]]:
        """The mini-batches, each a tuple of utterance ids."""

    def generate(self, seed: int = None) -> List[Tuple[str, ...]]:
        """The list of batches (the same for every seed: these samplers are deterministic)."""
        return list(self)
