"""Batch samplers: a fixed list of mini-batches (tuples of utterance ids) built from shape files.

Shuffling is not the sampler's job: the iterator factory shuffles the list of batches per epoch with a
seed derived from the epoch, so that a resumed run sees exactly the batches of an uninterrupted one.
"""

from abc import ABC, abstractmethod
from typing import Dict, Iterator, List, Sequence, Tuple

from torch.utils.data import Sampler

from espnet2.fileio.read_text import load_num_sequence_text


class AbsSampler(Sampler, ABC):
    """Subclasses build `self.batch_list`, the mini-batches, each a tuple of utterance ids."""

    batch_list: List[Tuple[str, ...]]

    @abstractmethod
    def __init__(self, *args, **kwargs):
        """Build `self.batch_list`."""

    def __len__(self) -> int:
        """Number of mini-batches."""
        return len(self.batch_list)

    def __iter__(self) -> Iterator[Tuple[str, ...]]:
        return iter(self.batch_list)

    def generate(self, seed: int = None) -> List[Tuple[str, ...]]:
        """The list of batches (the same for every seed: these samplers are deterministic)."""
        return list(self)


def batches_from_sizes(
    keys: List[str], batch_sizes: List[int], min_batch_size: int, sort_in_batch: str, sort_batch: str
) -> List[Tuple[str, ...]]:
    """Cut length-sorted `keys` into consecutive batches of `batch_sizes`.

    A last batch smaller than `min_batch_size` is spread over the others; "descending" reverses the order
    inside each batch (`sort_in_batch`) or of the batches (`sort_batch`).
    """
    batch_sizes = list(batch_sizes)
    if len(batch_sizes) > 1 and batch_sizes[-1] < min_batch_size:
        for i in range(batch_sizes.pop(-1)):
            batch_sizes[-(i % len(batch_sizes)) - 1] += 1
    batch_list = []
    start = 0
    for bs in batch_sizes:
        minibatch_keys = keys[start : start + bs]
        start += bs
        if sort_in_batch == "descending":
            minibatch_keys.reverse()
        batch_list.append(tuple(minibatch_keys))
    if sort_batch == "descending":
        batch_list.reverse()
    return batch_list


def load_shape_files(shape_files: Sequence[str]) -> List[Dict[str, List[int]]]:
    """Read ``<key> <len>[,<dim>]`` shape files (one per input) that must list the same utterances.

    Returns:
        one dict key -> shape per file, in the order given
    """
    utt2shapes = [load_num_sequence_text(s, loader_type="csv_int") for s in shape_files]
    first = utt2shapes[0]
    for s, d in zip(shape_files, utt2shapes):
        if set(d) != set(first):
            missing = sorted(set(first) ^ set(d))[:3]
            raise RuntimeError(f"keys differ between {s} and {shape_files[0]} (e.g. {missing})")
    return utt2shapes
