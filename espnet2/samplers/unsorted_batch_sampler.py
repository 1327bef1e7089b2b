from pathlib import Path
from typing import List, Optional

from espnet2.samplers.abs_sampler import AbsSampler


def first_column(path: str) -> List[str]:
    """The keys of a Kaldi-style file (first column; blank lines skipped)."""
    with Path(path).open("r", encoding="utf-8") as f:
        return [sps[0] for sps in (line.split(maxsplit=1) for line in f) if sps]


class UnsortedBatchSampler(AbsSampler):
    """Batches of `batch_size` keys in file order (no sorting: for data without length information).

    Args:
        batch_size: the (minimum) batch size; the remainder is spread over the batches.
        key_file: any Kaldi-style file; its first column gives the keys (e.g. wav.scp or a shape file).
        drop_last: drop the remainder instead.
        utt2category_file: ESPnet's per-category batches; only None.
        filtered_key_file: keys (first column) to leave out, as ESPnet's sampler does.
    """

    def __init__(
        self,
        batch_size: int,
        key_file: str,
        drop_last: bool = False,
        utt2category_file: Optional[str] = None,
        filtered_key_file: Optional[str] = None,
    ):
        assert batch_size > 0
        if utt2category_file is not None:
            raise ValueError(
                f"UnsortedBatchSampler: utt2category_file={utt2category_file!r} (ESPnet's batches per category) is "
                "not supported by this toolkit; remove it"
            )
        self.batch_size = batch_size
        self.key_file = key_file
        self.drop_last = drop_last
        self.filtered_key_file = filtered_key_file

        keys = first_column(key_file)
        if len(keys) == 0:
            raise RuntimeError(f"0 lines found: {key_file}")
        if filtered_key_file is not None:
            left_out = set(first_column(filtered_key_file))
            keys = [k for k in keys if k not in left_out]
            if len(keys) == 0:
                raise RuntimeError(f"no key of {key_file} is left once those of {filtered_key_file} are filtered out")

        N = max(len(keys) // batch_size, 1)
        if not self.drop_last:
            self.batch_list = [tuple(keys[i * len(keys) // N : (i + 1) * len(keys) // N]) for i in range(N)]
        else:
            self.batch_list = [tuple(keys[i * batch_size : (i + 1) * batch_size]) for i in range(N)]

    def __repr__(self):
        filtered = f", filtered_key_file={self.filtered_key_file}" if self.filtered_key_file else ""
        return (
            f"{self.__class__.__name__}(N-batch={len(self)}, batch_size={self.batch_size}, "
            f"key_file={self.key_file}{filtered})"
        )
