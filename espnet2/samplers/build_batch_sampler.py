"""`--batch_type` -> batch sampler (ESPnet's build_batch_sampler, trimmed to the enhancement types)."""

from typing import List, Sequence, Union

from espnet2.samplers.abs_sampler import AbsSampler
from espnet2.samplers.folded_batch_sampler import FoldedBatchSampler
from espnet2.samplers.num_elements_batch_sampler import NumElementsBatchSampler
from espnet2.samplers.sorted_batch_sampler import SortedBatchSampler
from espnet2.samplers.unsorted_batch_sampler import UnsortedBatchSampler

BATCH_TYPES = dict(
    unsorted="UnsortedBatchSampler: `batch_size` keys in file order; needs only the first shape (or key) file.",
    sorted="SortedBatchSampler: sorted by length, `batch_size` per batch; uses the first shape file.",
    folded="FoldedBatchSampler: sorted by length, `batch_size // (1 + length // fold_length)` per batch.",
    numel="NumElementsBatchSampler: sorted by length, as many as fit in `batch_bins` elements.",
)


def build_batch_sampler(
    type: str,
    batch_size: int,
    batch_bins: int,
    shape_files: Union[List[str], Sequence[str]],
    sort_in_batch: str = "descending",
    sort_batch: str = "ascending",
    drop_last: bool = False,
    min_batch_size: int = 1,
    fold_lengths: Sequence[int] = (),
    padding: bool = True,
) -> AbsSampler:
    """Build the batch sampler of `--batch_type` (see BATCH_TYPES)."""
    if len(shape_files) == 0:
        raise ValueError("no shape file given: set --train_shape_file/--valid_shape_file (run --collect_stats first)")
    if type == "unsorted":
        return UnsortedBatchSampler(batch_size=batch_size, key_file=shape_files[0], drop_last=drop_last)
    if type == "sorted":
        return SortedBatchSampler(
            batch_size=batch_size,
            shape_file=shape_files[0],
            sort_in_batch=sort_in_batch,
            sort_batch=sort_batch,
            drop_last=drop_last,
        )
    if type == "folded":
        if len(fold_lengths) != len(shape_files):
            raise ValueError(
                f"batch_type=folded needs one --fold_length per shape file: "
                f"got {len(fold_lengths)} fold lengths for {len(shape_files)} shape files"
            )
        return FoldedBatchSampler(
            batch_size=batch_size,
            shape_files=shape_files,
            fold_lengths=fold_lengths,
            sort_in_batch=sort_in_batch,
            sort_batch=sort_batch,
            drop_last=drop_last,
            min_batch_size=min_batch_size,
        )
    if type == "numel":
        return NumElementsBatchSampler(
            batch_bins=batch_bins,
            shape_files=shape_files,
            sort_in_batch=sort_in_batch,
            sort_batch=sort_batch,
            drop_last=drop_last,
            padding=padding,
            min_batch_size=min_batch_size,
        )
    raise ValueError(f"--batch_type: unknown value {type!r}; choose one of {', '.join(BATCH_TYPES)}")
