import numpy as np
import pytest
import torch

from espnet2.iterators.chunk_iter_factory import ChunkIterFactory, parse_chunk_length
from espnet2.iterators.sequence_iter_factory import SequenceIterFactory, epoch_batches
from espnet2.train.collate_fn import CommonCollateFn


class ArrayDataset:
    """uid -> {"speech_mix": arange(L), "speech_ref1": -arange(L)} (values show where a chunk came from)."""

    def __init__(self, lengths):
        self.lengths = lengths
        self.epochs = []

    def set_epoch(self, epoch):
        self.epochs.append(epoch)

    def __getitem__(self, uid):
        n = self.lengths[uid]
        return uid, {"speech_mix": np.arange(n, dtype=np.float32), "speech_ref1": -np.arange(n, dtype=np.float32)}


def test_sequence_iter_shuffles_per_epoch_deterministically():
    ds = ArrayDataset({f"u{i}": 5 + i for i in range(6)})
    batches = [("u0", "u1"), ("u2", "u3"), ("u4", "u5")]
    f = SequenceIterFactory(ds, batches, seed=3, shuffle=True, collate_fn=CommonCollateFn())
    e1 = [tuple(ids) for ids, _ in f.build_iter(1)]
    e1_again = [tuple(ids) for ids, _ in f.build_iter(1)]
    e2 = [tuple(ids) for ids, _ in f.build_iter(2)]
    assert e1 == e1_again and sorted(e1) == batches
    assert ds.epochs == [1, 1, 2]
    ids, batch = next(iter(f.build_iter(1)))
    assert batch["speech_mix"].shape == (2, max(5 + int(u[1]) for u in ids))
    assert batch["speech_mix_lengths"].tolist() == [5 + int(u[1]) for u in ids]
    # other epochs, other orders (3! = 6 orders; some epoch out of the next four differs)
    assert any(e != e1 for e in [e2] + [[tuple(ids) for ids, _ in f.build_iter(k)] for k in (3, 4, 5)])


def test_epoch_batches_with_num_iters_per_epoch_walks_the_corpus():
    batches = list(range(5))
    stream = []
    for epoch in range(1, 5):
        got = epoch_batches(batches, seed=0, epoch=epoch, shuffle=True, num_iters_per_epoch=3)
        assert len(got) == 3
        stream += got
    # 12 batches = 2 full passes (each a permutation) + 2 of the third
    assert sorted(stream[:5]) == batches and sorted(stream[5:10]) == batches
    assert epoch_batches(batches, 0, 1, False, 7) == [0, 1, 2, 3, 4, 0, 1]


def test_chunk_iter_cuts_all_sequences_at_the_same_place():
    ds = ArrayDataset({"a": 100, "b": 60, "c": 20})
    f = ChunkIterFactory(
        ds,
        batch_size=3,
        batches=[("a",), ("b",), ("c",)],
        chunk_length=40,
        chunk_shift_ratio=0.5,
        seed=0,
        shuffle=True,
        collate_fn=CommonCollateFn(),
    )
    got = list(f.build_iter(1))
    n_chunks = (100 - 40) // 20 + 1 + (60 - 40) // 20 + 1  # "c" is shorter than a chunk: skipped
    assert sum(len(ids) for ids, _ in got) == n_chunks // 3 * 3
    for ids, batch in got:
        assert batch["speech_mix"].shape == (3, 40)
        assert torch.equal(batch["speech_ref1"], -batch["speech_mix"])
        assert "speech_mix_lengths" not in batch
        assert torch.all(batch["speech_mix"][:, 1:] - batch["speech_mix"][:, :-1] == 1)
    assert [ids for ids, _ in got] == [ids for ids, _ in f.build_iter(1)]


def test_parse_chunk_length():
    assert parse_chunk_length("32000") == [32000]
    assert parse_chunk_length("100,200") == [100, 200]
    assert parse_chunk_length("10-12") == [10, 11, 12]
    with pytest.raises(ValueError, match="--chunk_length"):
        parse_chunk_length("1.5s")
