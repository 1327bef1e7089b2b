from espnet2.fileio.read_text import load_num_sequence_text
from espnet2.samplers.abs_sampler import AbsSampler


class SortedBatchSampler(AbsSampler):
    """ESPnet's `sorted` batches: sort by length, cut into `len // batch_size` near-equal batches.

    Args:
        batch_size: the (minimum) batch size.
        shape_file: `<utt_id> <length>` file.
        sort_in_batch: "descending" or "ascending".
        sort_batch: "ascending" or "descending".
        drop_last: drop the remainder instead of spreading it over the batches.
    """

    def __init__(
        self,
        batch_size: int,
        shape_file: str,
        sort_in_batch: str = "descending",
        sort_batch: str = "ascending",
        drop_last: bool = False,
    ):
        assert batch_size > 0
        self.batch_size = batch_size
        self.shape_file = shape_file
        self.sort_in_batch = sort_in_batch
        self.sort_batch = sort_batch
        self.drop_last = drop_last

        utt2shape = load_num_sequence_text(shape_file, loader_type="csv_int")
        if sort_in_batch == "descending":
            keys = sorted(utt2shape, key=lambda k: -utt2shape[k][0])
        elif sort_in_batch == "ascending":
            keys = sorted(utt2shape, key=lambda k: utt2shape[k][0])
        else:
            raise ValueError(f"sort_in_batch must be either one of ascending, descending: {sort_in_batch}")
        if sort_batch not in ("ascending", "descending"):
            raise ValueError(f"sort_batch must be ascending or descending: {sort_batch}")
        if len(keys) == 0:
            raise RuntimeError(f"0 lines found: {shape_file}")

        N = max(len(keys) // batch_size, 1)
        if not self.drop_last:
            # split as evenly as possible: every batch has at least batch_size keys (if N > 1)
            self.batch_list = [tuple(keys[i * len(keys) // N : (i + 1) * len(keys) // N]) for i in range(N)]
        else:
            self.batch_list = [tuple(keys[i * batch_size : (i + 1) * batch_size]) for i in range(N)]

        # keys were sorted in the in-batch order; the batches follow the same order unless asked otherwise
        if sort_in_batch != sort_batch:
            self.batch_list.reverse()

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(N-batch={len(self)}, batch_size={self.batch_size}, "
            f"shape_file={self.shape_file}, sort_in_batch={self.sort_in_batch}, sort_batch={self.sort_batch})"
        )
