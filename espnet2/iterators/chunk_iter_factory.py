"""`--iterator_type chunk`: cut utterances into fixed-length chunks and batch the chunks (ESPnet).

Each utterance (every sequence in it: mixture and references alike) is cut into chunks of W samples,
W drawn from `chunk_length` (e.g. "32000" or "16000,32000", or a range "16000-32000"), shifted by
`W * chunk_shift_ratio`, starting at a random offset; chunks go to a cache (one per W) that is shuffled
and cut into batches of `batch_size` once it holds `num_cache_chunks` chunks. Utterances shorter than every
chunk length are skipped. Randomness comes from `RandomState(epoch + seed)`.
"""

import logging
import re
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from espnet2.iterators.abs_iter_factory import AbsIterFactory
from espnet2.iterators.sequence_iter_factory import SequenceIterFactory
from espnet2.samplers.abs_sampler import AbsSampler


def parse_chunk_length(chunk_length: Union[str, int]) -> List[int]:
    """'32000' -> [32000]; '16000,32000' -> [16000, 32000]; '16000-16003' -> [16000, ..., 16003]."""
    if isinstance(chunk_length, int):
        return [chunk_length]
    try:
        if re.fullmatch(r"\s*\d+\s*-\s*\d+\s*", str(chunk_length)):
            s, e = (int(x) for x in str(chunk_length).split("-"))
            lengths = list(range(s, e + 1))
        else:
            lengths = [int(x) for x in str(chunk_length).split(",")]
    except ValueError:
        raise ValueError(
            f"--chunk_length: expected e.g. '32000', '16000,32000' or '16000-32000', got {chunk_length!r}"
        ) from None
    if len(lengths) == 0 or min(lengths) <= 0:
        raise ValueError(f"--chunk_length: lengths must be positive: {chunk_length!r}")
    return lengths


class ChunkIterFactory(AbsIterFactory):
    """Chunk iterator (see the module docstring).

    Args:
        dataset: an `ESPnetDataset`.
        batch_size: chunks per mini-batch.
        batches: per-utterance batches (tuples of one key), already sharded under DDP.
        chunk_length: see `parse_chunk_length`.
        chunk_shift_ratio: shift between chunks as a fraction of the chunk length.
        num_cache_chunks: cache size before batches are drawn.
        num_iters_per_epoch: stop the epoch after this many mini-batches.
        excluded_key_prefixes: names starting with these are not chunked (copied per chunk).
    """

    def __init__(
        self,
        dataset,
        batch_size: int,
        batches: Union[AbsSampler, Sequence[Sequence[Any]]],
        chunk_length: Union[int, str],
        chunk_shift_ratio: float = 0.5,
        num_cache_chunks: int = 1024,
        num_iters_per_epoch: int = None,
        seed: int = 0,
        shuffle: bool = False,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        excluded_key_prefixes: Optional[List[str]] = None,
    ):
        if not all(len(x) == 1 for x in batches):
            raise ValueError("ChunkIterFactory needs per-utterance batches (batch size 1 per sampler batch)")
        if not 0 < chunk_shift_ratio <= 1:
            raise ValueError(f"--chunk_shift_ratio must be in (0, 1], got {chunk_shift_ratio}")
        self.per_sample_iter_factory = SequenceIterFactory(
            dataset=dataset,
            batches=batches,
            seed=seed,
            shuffle=shuffle,
            num_workers=num_workers,
            collate_fn=collate_fn,
            pin_memory=pin_memory,
        )
        self.num_cache_chunks = max(num_cache_chunks, batch_size)
        self.chunk_lengths = parse_chunk_length(chunk_length)
        self.chunk_shift_ratio = chunk_shift_ratio
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.num_iters_per_epoch = num_iters_per_epoch
        self.excluded_key_prefixes = tuple(excluded_key_prefixes or ())

    def build_iter(self, epoch: int, shuffle: bool = None) -> Iterator[Tuple[List[str], Dict[str, torch.Tensor]]]:
        it = self._iter(epoch, shuffle)
        if self.num_iters_per_epoch is None:
            yield from it
        else:
            for n, item in enumerate(it):
                if n >= self.num_iters_per_epoch:
                    break
                yield item

    def _iter(self, epoch: int, shuffle: bool = None):
        if shuffle is None:
            shuffle = self.shuffle
        per_sample_loader = self.per_sample_iter_factory.build_iter(epoch, shuffle)
        state = np.random.RandomState(epoch + self.seed)
        cache_chunks_dict: Dict[int, Dict[str, list]] = {}
        cache_id_list_dict: Dict[int, List[str]] = {}
        for ids, batch in per_sample_loader:
            assert len(ids) == 1, f"Must be per-sample-loader: {len(ids)}"
            # sequences are the names with a "_lengths" entry; drop the lengths, take the single sample
            sequence_keys = [
                k for k in batch if k + "_lengths" in batch and not k.startswith(self.excluded_key_prefixes)
            ]
            batch = {k: v[0] for k, v in batch.items() if not k.endswith("_lengths")}
            id_ = ids[0]
            L = len(batch[sequence_keys[0]])
            for key in sequence_keys:
                if len(batch[key]) != L:
                    raise RuntimeError(
                        f"utterance '{id_}': all sequences must have the same length: "
                        f"{key} has {len(batch[key])}, {sequence_keys[0]} has {L}"
                    )

            chunk_lengths = [lg for lg in self.chunk_lengths if lg <= L]
            if len(chunk_lengths) == 0:
                logging.warning(
                    f"The length of '{id_}' is {L}, shorter than every chunk length {self.chunk_lengths}: skipped"
                )
                continue
            W = int(state.choice(chunk_lengths, 1)[0])
            cache_id_list = cache_id_list_dict.setdefault(W, [])
            cache_chunks = cache_chunks_dict.setdefault(W, {})
            S = max(int(W * self.chunk_shift_ratio), 1)  # shift to the next chunk
            N = (L - W) // S + 1  # number of chunks
            Z = state.randint(0, (L - W) % S + 1) if shuffle else 0  # random start offset
            for k, v in batch.items():
                if k not in cache_chunks:
                    cache_chunks[k] = []
                if k in sequence_keys:
                    cache_chunks[k] += [v[Z + i * S : Z + i * S + W] for i in range(N)]
                else:
                    cache_chunks[k] += [v for _ in range(N)]
            cache_id_list += [id_ for _ in range(N)]

            if len(cache_id_list) > self.num_cache_chunks:
                cache_id_list, cache_chunks = yield from self._generate_mini_batches(
                    cache_id_list, cache_chunks, shuffle, state
                )
            cache_id_list_dict[W] = cache_id_list
            cache_chunks_dict[W] = cache_chunks
        for W in cache_id_list_dict:
            yield from self._generate_mini_batches(cache_id_list_dict[W], cache_chunks_dict[W], shuffle, state)

    def _generate_mini_batches(
        self, id_list: List[str], batches: Dict[str, list], shuffle: bool, state: np.random.RandomState
    ):
        if shuffle:
            indices = np.arange(0, len(id_list))
            state.shuffle(indices)
            batches = {k: [v[i] for i in indices] for k, v in batches.items()}
            id_list = [id_list[i] for i in indices]
        bs = self.batch_size
        while len(id_list) >= bs:
            yield id_list[:bs], {k: torch.stack(v[:bs], 0) for k, v in batches.items()}
            id_list = id_list[bs:]
            batches = {k: v[bs:] for k, v in batches.items()}
        return id_list, batches
