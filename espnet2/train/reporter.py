"""Reporter: collects per-step statistics, averages them per epoch, logs, plots, writes tensorboard.

    reporter = Reporter()
    reporter.set_epoch(1)
    with reporter.observe("train") as sub:
        for batch in loader:
            ...
            sub.register({"loss": loss.detach(), "si_snr": si_snr}, weight=batch_size)
            sub.next()
            if sub.count % 100 == 0:
                logging.info(sub.log_message(-100))
    reporter.get_value("train", "loss")         # weighted average over the epoch
    reporter.sort_epochs_and_values("valid", "loss", "min")

State (`state_dict`) holds only plain Python values, so a checkpoint with it loads with weights_only=True.
"""

import datetime
import logging
import math
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import ContextManager, Dict, Iterable, List, Optional, Tuple, Union

import numpy as np
import torch

Num = Union[float, int, complex, torch.Tensor, np.ndarray]
RESERVED = ("time", "total_count")  # written by the reporter itself at the end of an epoch


def to_reported_value(v: Num) -> Optional[float]:
    if v is None:
        return None
    if isinstance(v, (torch.Tensor, np.ndarray)):
        if np.prod(v.shape) != 1:
            raise ValueError(f"reported values must be scalars, got shape {tuple(v.shape)}")
        v = v.item()
    return float(v)


class SubReporter:
    """Statistics of one phase ("train"/"valid") in one epoch."""

    def __init__(self, key: str, epoch: int, total_count: int):
        self.key = key
        self.epoch = epoch
        self.start_time = time.perf_counter()
        # key2 -> list of (step index in this epoch, value, weight)
        self.stats: Dict[str, List[Tuple[int, float, float]]] = defaultdict(list)
        self.weighted: Dict[str, bool] = {}  # key2 -> registered with a weight (a weighted average) or not
        self._finished = False
        self.total_count = total_count
        self.count = 0
        self._seen_keys_in_the_step = set()

    def get_total_count(self) -> int:
        """Steps seen so far over all epochs."""
        return self.total_count

    def get_epoch(self) -> int:
        return self.epoch

    def next(self):
        """Close one step."""
        if self._finished:
            raise RuntimeError("Already finished")
        self._seen_keys_in_the_step = set()
        self.total_count += 1
        self.count += 1

    def register(self, stats: Dict[str, Optional[Num]], weight: Num = None) -> None:
        """Values of this step; with `weight` a key is averaged with these weights, without it plainly.

        As in ESPnet: "time" and "total_count" are reserved (RuntimeError), and one key is either always
        weighted or never (ValueError: the two averages cannot be mixed).
        """
        if self._finished:
            raise RuntimeError("Already finished")
        weighted = weight is not None
        w = 1.0 if weight is None else to_reported_value(weight)
        for key2, v in stats.items():
            if key2 in RESERVED:
                raise RuntimeError(f"{key2} is reserved: the reporter writes it itself; register another name")
            if key2 in self._seen_keys_in_the_step:
                raise RuntimeError(f"{key2} is registered twice.")
            if self.weighted.setdefault(key2, weighted) != weighted:
                raise ValueError(
                    f"{key2} was registered {'without' if weighted else 'with'} a weight before and "
                    f"{'with' if weighted else 'without'} one now: a weighted and a plain average cannot be mixed; "
                    "give a weight always or never"
                )
            self._seen_keys_in_the_step.add(key2)
            v = to_reported_value(v)
            if v is None:
                continue
            self.stats[key2].append((self.count, v, w))

    def average(self, key2: str, start: int = 0, end: int = None) -> float:
        """The average of the values registered in steps [start, end), as ESPnet's aggregate: weighted over the
        finite values (and weights) for a weighted key, the mean of the non-NaN values for a plain one."""
        if end is None:
            end = self.count + 1
        values = [(v, w) for i, v, w in self.stats[key2] if start <= i < end]
        if not self.weighted.get(key2, True):
            values = [v for v, _ in values if not math.isnan(v)]
            return sum(values) / len(values) if values else float("nan")
        finite = [(v, w) for v, w in values if math.isfinite(v) and math.isfinite(w)]
        wsum = sum(w for _, w in finite)
        if not finite or wsum == 0:
            return float("nan")
        return sum(v * w for v, w in finite) / wsum

    def log_message(self, start: int = None, end: int = None) -> str:
        """'{epoch}epoch:{key}:{a}-{b}batch: key2=value, ...' averaged over steps [start, end)."""
        if self._finished:
            raise RuntimeError("Already finished")
        if start is None:
            start = 0
        if start < 0:
            start = self.count + start
        if end is None:
            end = self.count
        message = f"{self.epoch}epoch:{self.key}:{start + 1}-{end}batch: "
        parts = []
        for key2 in self.stats:
            v = self.average(key2, start, end)
            if not math.isnan(v):
                parts.append(f"{key2}={v:.3g}")
        return message + ", ".join(parts)

    def tensorboard_add_scalar(self, summary_writer, start: int = None):
        if start is None:
            start = 0
        if start < 0:
            start = self.count + start
        for key2 in self.stats:
            v = self.average(key2, start, None)
            if not math.isnan(v):
                summary_writer.add_scalar(f"{self.key}_iter/{key2}", v, self.total_count)

    def finished(self) -> None:
        self._finished = True

    @contextmanager
    def measure_time(self, name: str):
        start = time.perf_counter()
        yield start
        t = time.perf_counter() - start
        self.register({name: t})

    def measure_iter_time(self, iterable: Iterable, name: str):
        """Yield from `iterable`, registering the time each item took to arrive (data wait)."""
        iterator = iter(iterable)
        while True:
            try:
                start = time.perf_counter()
                retval = next(iterator)
                t = time.perf_counter() - start
                self.register({name: t})
                yield retval
            except StopIteration:
                break


class Reporter:
    """Per-epoch statistics of every phase, with best-epoch queries, logging, plots and tensorboard."""

    def __init__(self, epoch: int = 0):
        if epoch < 0:
            raise ValueError(f"epoch must be 0 or more: {epoch}")
        self.epoch = epoch
        # epoch -> key -> key2 -> value
        self.stats: Dict[int, Dict[str, Dict[str, float]]] = {}

    def get_epoch(self) -> int:
        return self.epoch

    def set_epoch(self, epoch: int) -> None:
        if epoch < 0:
            raise ValueError(f"epoch must be 0 or more: {epoch}")
        self.epoch = epoch

    @contextmanager
    def observe(self, key: str, epoch: int = None) -> ContextManager[SubReporter]:
        sub_reporter = self.start_epoch(key, epoch)
        yield sub_reporter
        self.finish_epoch(sub_reporter)

    def start_epoch(self, key: str, epoch: int = None) -> SubReporter:
        if epoch is not None:
            self.set_epoch(epoch)
        if self.epoch - 1 in self.stats and key in self.stats[self.epoch - 1]:
            total_count = int(self.stats[self.epoch - 1][key].get("total_count", 0))
        else:
            total_count = 0
        return SubReporter(key, self.epoch, total_count)

    def finish_epoch(self, sub_reporter: SubReporter) -> None:
        if self.epoch != sub_reporter.epoch:
            raise RuntimeError(f"Don't change epoch during observation: {self.epoch} != {sub_reporter.epoch}")
        stats = {key2: sub_reporter.average(key2) for key2 in sub_reporter.stats}
        stats["time"] = time.perf_counter() - sub_reporter.start_time
        stats["total_count"] = sub_reporter.total_count
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            stats["gpu_max_cached_mem_GB"] = torch.cuda.max_memory_reserved() / 2**30
        self.stats.setdefault(self.epoch, {})[sub_reporter.key] = stats
        sub_reporter.finished()

    def sort_epochs_and_values(self, key: str, key2: str, mode: str) -> List[Tuple[int, float]]:
        """[(epoch, value)] best first; mode "min" or "max"; epochs without the value are left out."""
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be min or max: {mode}")
        if not self.has(key, key2):
            raise KeyError(f"{key}.{key2} is not found: {self.get_all_keys()}")
        values = [
            (e, self.stats[e][key][key2]) for e in self.stats if key in self.stats[e] and key2 in self.stats[e][key]
        ]
        values = [(e, v) for e, v in values if not math.isnan(v)]
        return sorted(values, key=lambda x: x[1], reverse=(mode == "max"))

    def sort_epochs(self, key: str, key2: str, mode: str) -> List[int]:
        return [e for e, _ in self.sort_epochs_and_values(key, key2, mode)]

    def sort_values(self, key: str, key2: str, mode: str) -> List[float]:
        return [v for _, v in self.sort_epochs_and_values(key, key2, mode)]

    def get_best_epoch(self, key: str, key2: str, mode: str, nbest: int = 0) -> int:
        return self.sort_epochs(key, key2, mode)[nbest]

    def check_early_stopping(
        self, patience: Optional[int], key1: str, key2: str, mode: str, epoch: int = None, logger=None
    ) -> bool:
        """True when the best `key1.key2` is more than `patience` epochs old."""
        if logger is None:
            logger = logging
        if epoch is None:
            epoch = self.get_epoch()
        if patience is None or not self.has(key1, key2):
            return False
        sorted_epochs = self.sort_epochs(key1, key2, mode)
        if not sorted_epochs:
            return False
        best_epoch = sorted_epochs[0]
        if epoch - best_epoch > patience:
            logger.info(
                f"[Early stopping] {key1}.{key2} has not been improved "
                f"{epoch - best_epoch} epochs continuously. The training was stopped at {epoch}epoch"
            )
            return True
        return False

    def has(self, key: str, key2: str, epoch: int = None) -> bool:
        if epoch is None:
            epoch = self.get_epoch()
        return any(key in self.stats[e] and key2 in self.stats[e][key] for e in self.stats if e <= epoch)

    def log_message(self, epoch: int = None) -> str:
        """'{epoch}epoch results: [train] loss=..., [valid] loss=...'."""
        if epoch is None:
            epoch = self.get_epoch()
        message = f"{epoch}epoch results: "
        parts = []
        for key, d in self.stats.get(epoch, {}).items():
            _message = ", ".join(
                f"{key2}={datetime.timedelta(seconds=int(v))}" if key2 == "time" else f"{key2}={v:.3g}"
                for key2, v in d.items()
            )
            parts.append(f"[{key}] {_message}")
        return message + ", ".join(parts)

    def get_value(self, key: str, key2: str, epoch: int = None) -> float:
        if not self.has(key, key2):
            raise KeyError(f"{key}.{key2} is not found in stats: {self.get_all_keys()}")
        if epoch is None:
            epoch = self.get_epoch()
        return self.stats[epoch][key][key2]

    def get_keys(self, epoch: int = None) -> Tuple[str, ...]:
        if epoch is None:
            epoch = self.get_epoch()
        return tuple(self.stats.get(epoch, {}))

    def get_keys2(self, key: str, epoch: int = None) -> Tuple[str, ...]:
        if epoch is None:
            epoch = self.get_epoch()
        return tuple(self.stats.get(epoch, {}).get(key, {}))

    def get_all_keys(self, epoch: int = None) -> Tuple[Tuple[str, str], ...]:
        if epoch is None:
            epoch = self.get_epoch()
        return tuple((k, k2) for k in self.get_keys(epoch) for k2 in self.get_keys2(k, epoch))

    def matplotlib_plot(self, output_dir: Union[str, Path]):
        """One PNG per statistic (`loss.png`, `si_snr_loss.png`, ...): value per epoch, train and valid.

        Timings (`*_time`) are left out of the plots; they are in the log and in tensorboard.
        """
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        keys2 = sorted({k2 for e in self.stats for k in self.stats[e] for k2 in self.stats[e][k]})
        for key2 in keys2:
            if key2 in ("total_count", "time") or key2.endswith("_time"):
                continue  # timings are in the log and in tensorboard
            keys = sorted({k for e in self.stats for k in self.stats[e] if key2 in self.stats[e][k]})
            fig = plt.figure()
            plt.title(f"{key2} vs epoch")
            for key in keys:
                epochs = sorted(e for e in self.stats if key in self.stats[e] and key2 in self.stats[e][key])
                y = [self.stats[e][key][key2] for e in epochs]
                plt.plot(epochs, y, label=key, marker="x")
            plt.legend()
            plt.xlabel("epoch")
            plt.ylabel(key2)
            plt.grid()
            fig.savefig(output_dir / f"{key2}.png")
            plt.close(fig)

    def tensorboard_add_scalar(self, summary_writer, epoch: int = None, key1: str = None):
        if epoch is None:
            epoch = self.get_epoch()
        for key in self.get_keys(epoch):
            if key1 is not None and key != key1:
                continue
            for key2, v in self.stats[epoch][key].items():
                if key2 in ("time", "total_count"):
                    continue
                summary_writer.add_scalar(f"{key}_epoch/{key2}", v, epoch)

    def state_dict(self):
        return {
            "stats": {int(e): {k: dict(v) for k, v in d.items()} for e, d in self.stats.items()},
            "epoch": self.epoch,
        }

    def load_state_dict(self, state_dict: dict):
        self.epoch = int(state_dict["epoch"])
        self.stats = {int(e): {k: dict(v) for k, v in d.items()} for e, d in state_dict["stats"].items()}
