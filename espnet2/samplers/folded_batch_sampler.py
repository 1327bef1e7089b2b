from typing import Sequence, Tuple, Union

from espnet2.samplers.abs_sampler import AbsSampler, batches_from_sizes, load_shape_files


class FoldedBatchSampler(AbsSampler):
    """ESPnet's `folded` batches: sort by length, then shrink the batch for long utterances.

    For each batch, starting from the shortest remaining utterance k,
    `bs = max(min_batch_size, batch_size // (1 + max_i(length_i(k) // fold_length_i)))`,
    i.e. an utterance longer than `fold_length` halves the batch, twice as long divides it by 3, ...

    Args:
        batch_size: the batch size for utterances shorter than every fold length.
        shape_files: `<utt_id> <length>[,<dim>...]` files (the first decides the order).
        fold_lengths: one per shape file.
        sort_in_batch: "descending" or "ascending" order of the keys inside a batch.
        sort_batch: "ascending" or "descending" order of the batches (by length).
    """

    def __init__(
        self,
        batch_size: int,
        shape_files: Union[Tuple[str, ...], Sequence[str]],
        fold_lengths: Sequence[int],
        min_batch_size: int = 1,
        sort_in_batch: str = "descending",
        sort_batch: str = "ascending",
        drop_last: bool = False,
    ):
        assert batch_size > 0
        if sort_batch not in ("ascending", "descending"):
            raise ValueError(f"sort_batch must be ascending or descending: {sort_batch}")
        if sort_in_batch not in ("descending", "ascending"):
            raise ValueError(f"sort_in_batch must be ascending or descending: {sort_in_batch}")
        if len(fold_lengths) != len(shape_files):
            raise ValueError(
                f"--fold_length gives {len(fold_lengths)} values for {len(shape_files)} shape files: "
                "give one --fold_length per --train_shape_file"
            )

        self.batch_size = batch_size
        self.shape_files = shape_files
        self.sort_in_batch = sort_in_batch
        self.sort_batch = sort_batch
        self.drop_last = drop_last

        utt2shapes = load_shape_files(shape_files)
        first = utt2shapes[0]

        keys = sorted(first, key=lambda k: first[k][0])  # ascending length
        if len(keys) == 0:
            raise RuntimeError(f"0 lines found: {shape_files[0]}")

        start = 0
        batch_sizes = []
        while True:
            k = keys[start]
            factor = max(int(d[k][0] / m) for d, m in zip(utt2shapes, fold_lengths))
            bs = max(min_batch_size, int(batch_size / (1 + factor)))
            if self.drop_last and start + bs > len(keys):
                if len(batch_sizes) > 0:  # avoids 0 batches
                    break
            bs = min(len(keys) - start, bs)
            batch_sizes.append(bs)
            start += bs
            if start >= len(keys):
                break

        self.batch_list = batches_from_sizes(keys, batch_sizes, min_batch_size, sort_in_batch, sort_batch)

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(N-batch={len(self)}, batch_size={self.batch_size}, "
            f"shape_files={self.shape_files}, sort_in_batch={self.sort_in_batch}, sort_batch={self.sort_batch})"
        )
