from typing import Sequence

import numpy as np

from espnet2.samplers.abs_sampler import AbsSampler, batches_from_sizes, load_shape_files


class NumElementsBatchSampler(AbsSampler):
    """ESPnet's `numel` batches: grow a batch (in ascending length) until it holds `batch_bins` elements.

    With `padding` the count is `batch_size * max_length * dim` per shape file (what the padded tensor
    holds), otherwise the sum of the utterances' sizes.
    """

    def __init__(
        self,
        batch_bins: int,
        shape_files: Sequence[str],
        min_batch_size: int = 1,
        sort_in_batch: str = "descending",
        sort_batch: str = "ascending",
        drop_last: bool = False,
        padding: bool = True,
    ):
        assert batch_bins > 0
        if sort_batch not in ("ascending", "descending"):
            raise ValueError(f"sort_batch must be ascending or descending: {sort_batch}")
        if sort_in_batch not in ("descending", "ascending"):
            raise ValueError(f"sort_in_batch must be ascending or descending: {sort_in_batch}")

        self.batch_bins = batch_bins
        self.shape_files = shape_files
        self.sort_in_batch = sort_in_batch
        self.sort_batch = sort_batch
        self.drop_last = drop_last

        utt2shapes = load_shape_files(shape_files)
        first = utt2shapes[0]
        keys = sorted(first, key=lambda k: first[k][0])
        if len(keys) == 0:
            raise RuntimeError(f"0 lines found: {shape_files[0]}")
        if padding:
            for d, s in zip(utt2shapes, shape_files):
                dims = {tuple(d[k][1:]) for k in keys}
                if len(dims) > 1:
                    raise RuntimeError(f"with padding the feature dimension must be the same for all utterances: {s}")

        batch_sizes = []
        current = []
        for key in keys:
            current.append(key)
            if padding:
                # keys are ascending, so `key` is the longest in the batch
                bins = sum(len(current) * int(np.prod(d[key])) for d in utt2shapes)
            else:
                bins = sum(int(np.prod(d[k])) for k in current for d in utt2shapes)
            if bins > batch_bins and len(current) >= min_batch_size:
                batch_sizes.append(len(current))
                current = []
        if len(current) != 0 and (not self.drop_last or len(batch_sizes) == 0):
            batch_sizes.append(len(current))

        self.batch_list = batches_from_sizes(keys, batch_sizes, min_batch_size, sort_in_batch, sort_batch)

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(N-batch={len(self)}, batch_bins={self.batch_bins}, "
            f"sort_in_batch={self.sort_in_batch}, sort_batch={self.sort_batch})"
        )
