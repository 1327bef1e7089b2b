"""`--iterator_type sequence`: one mini-batch per sampler batch, shuffled per epoch."""

import random
from functools import partial
from typing import Any, List, Sequence, Union

import numpy as np
import torch
from torch.utils.data import DataLoader

from espnet2.iterators.abs_iter_factory import AbsIterFactory
from espnet2.samplers.abs_sampler import AbsSampler


def worker_init_fn(worker_id: int, base_seed: int = 0):
    """Seed Python's and numpy's global generators in each loader worker (seed + epoch + worker id)."""
    seed = base_seed + worker_id
    random.seed(seed)
    np.random.seed(seed % (2**32))


class RawSampler(AbsSampler):
    """A fixed list of batches as a sampler (what the DataLoader iterates over in one epoch)."""

    def __init__(self, batches):
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        return iter(self.batches)

    def generate(self, seed=None):
        return list(self.batches)


def epoch_batches(batches: List, seed: int, epoch: int, shuffle: bool, num_iters_per_epoch: int = None) -> List:
    """The batches of `epoch` (1-based).

    Without `num_iters_per_epoch`: all batches, shuffled with `RandomState(epoch + seed)` if `shuffle`.
    With it: the endless stream `shuffle(batches, seed + 0) + shuffle(batches, seed + 1) + ...` cut
    into pieces of `num_iters_per_epoch`; epoch e gets piece e - 1 (so the corpus is walked through
    in order across epochs, whether an epoch is shorter or longer than the corpus).
    """
    if num_iters_per_epoch is None:
        batches = list(batches)
        if shuffle:
            np.random.RandomState(epoch + seed).shuffle(batches)
        return batches

    n = len(batches)
    start = (epoch - 1) * num_iters_per_epoch
    out = []
    while len(out) < num_iters_per_epoch:
        rnd, offset = divmod(start + len(out), n)
        cur = list(batches)
        if shuffle:
            np.random.RandomState(rnd + seed).shuffle(cur)
        out.extend(cur[offset : offset + num_iters_per_epoch - len(out)])
    return out


class SequenceIterFactory(AbsIterFactory):
    """Build a DataLoader over the sampler's batches, per epoch.

    Args:
        dataset: an `ESPnetDataset` (indexed by utterance id).
        batches: a sampler or a list of key tuples (already sharded for this process under DDP).
        num_iters_per_epoch: a fixed number of steps per epoch (see `epoch_batches`).
        seed: the shuffle seed (`--seed`).
        shuffle: shuffle the batches per epoch (training).
        shuffle_within_batch: also shuffle the keys inside each batch.
        num_workers / collate_fn / pin_memory: DataLoader arguments.
    """

    def __init__(
        self,
        dataset,
        batches: Union[AbsSampler, Sequence[Sequence[Any]]],
        num_iters_per_epoch: int = None,
        seed: int = 0,
        shuffle: bool = False,
        shuffle_within_batch: bool = False,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
    ):
        if not isinstance(batches, AbsSampler):
            self.sampler = RawSampler(batches)
        else:
            self.sampler = batches
        self.dataset = dataset
        self.num_iters_per_epoch = num_iters_per_epoch
        self.shuffle = shuffle
        self.shuffle_within_batch = shuffle_within_batch
        self.seed = seed
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory

    def batches_of_epoch(self, epoch: int, shuffle: bool = None) -> List:
        if shuffle is None:
            shuffle = self.shuffle
        batches = epoch_batches(
            self.sampler.generate(epoch + self.seed), self.seed, epoch, shuffle, self.num_iters_per_epoch
        )
        if shuffle and self.shuffle_within_batch:
            rng = np.random.RandomState(epoch + self.seed + 1)
            batches = [tuple(b[i] for i in rng.permutation(len(b))) for b in batches]
        return batches

    def build_iter(self, epoch: int, shuffle: bool = None) -> DataLoader:
        batches = self.batches_of_epoch(epoch, shuffle)
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        kwargs = {}
        if self.collate_fn is not None:
            kwargs["collate_fn"] = self.collate_fn
        if self.num_workers > 0:
            kwargs["worker_init_fn"] = partial(worker_init_fn, base_seed=epoch + self.seed)
        # The loader's own base seed comes from this generator, not from the global torch RNG,
        # so that building an iterator does not change the training randomness.
        generator = torch.Generator().manual_seed(epoch + self.seed)
        return DataLoader(
            dataset=self.dataset,
            batch_sampler=batches,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            generator=generator,
            **kwargs,
        )
