from pathlib import Path

from espnet2.samplers.abs_sampler import AbsSampler


class UnsortedBatchSampler(AbsSampler):
    """Batches of `batch_size` keys in file order (no sorting: for data without length information).

    Args:
        batch_size: the (minimum) batch size; the remainder is spread over the batches.
        key_file: any Kaldi-style file; its first column gives the keys (e.g. wav.scp or a shape file).
        drop_last: drop the remainder instead.
    """

    def __init__(self, batch_size: int, key_file: str, drop_last: bool = False):
        assert batch_size > 0
        self.batch_size = batch_size
        self.key_file = key_file
        self.drop_last = drop_last

        keys = []
        with Path(key_file).open("r", encoding="utf-8") as f:
            for line in f:
                sps = line.split(maxsplit=1)
                if sps:
                    keys.append(sps[0])
        if len(keys) == 0:
            raise RuntimeError(f"0 lines found: {key_file}")

        N = max(len(keys) // batch_size, 1)
        if not self.drop_last:
            self.batch_list = [tuple(keys[i * len(keys) // N : (i + 1) * len(keys) // N]) for i in range(N)]
        else:
            self.batch_list = [tuple(keys[i * batch_size : (i + 1) * batch_size]) for i in range(N)]

    def __repr__(self):
        return f"{self.__class__.__name__}(N-batch={len(self)}, batch_size={self.batch_size}, key_file={self.key_file})"
