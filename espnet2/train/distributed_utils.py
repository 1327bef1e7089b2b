"""Distributed training setup: torchrun (several GPUs, several nodes), one process per GPU, gloo on CPU.

Launch with torchrun, which sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT:

    torchrun --nproc_per_node 4 -m espnet2.bin.enh_train --ngpu 1 --config conf/train.yaml ...
    torchrun --nnodes 2 --node_rank 0 --master_addr host0 --nproc_per_node 8 -m espnet2.bin.enh_train --ngpu 1 ...

or let the trainer spawn one process per GPU on this machine (ESPnet's launcher does this):

    python -m espnet2.bin.enh_train --ngpu 4 --multiprocessing_distributed true ...

With `--ngpu 0` the backend is gloo (CPU); `--dist_world_size N --multiprocessing_distributed true`
then spawns N CPU processes (handy for testing). `--ngpu` counts GPUs per process under torchrun
(0 or 1) and GPUs on this machine with `--multiprocessing_distributed`.

Also the policy of a training process: its share of every mini-batch (`shard_batches`,
`shard_batch_size`), the GPUs it needs (`check_gpus`) and its CPU threads (`cpu_threads`).
"""

import argparse
import copy
import dataclasses
import os
import socket
from typing import List, Optional, Tuple

import torch


@dataclasses.dataclass
class DistributedOption:
    # Enable distributed training (DDP)
    distributed: bool = False
    dist_backend: str = "nccl"
    dist_init_method: str = "env://"
    dist_world_size: Optional[int] = None
    dist_rank: Optional[int] = None
    local_rank: Optional[int] = None
    ngpu: int = 0
    dist_master_addr: Optional[str] = None
    dist_master_port: Optional[int] = None
    multiprocessing_distributed: bool = False

    def init_options(self):
        """Resolve rank/world size from torchrun's environment or the arguments."""
        if self.ngpu == 0 and self.dist_backend == "nccl":
            self.dist_backend = "gloo"  # nccl needs GPUs
        if not self.distributed:
            return
        if self.dist_world_size is None:
            self.dist_world_size = int(os.environ["WORLD_SIZE"]) if "WORLD_SIZE" in os.environ else None
        if self.dist_rank is None:
            self.dist_rank = int(os.environ["RANK"]) if "RANK" in os.environ else None
        if self.local_rank is None:
            self.local_rank = int(os.environ["LOCAL_RANK"]) if "LOCAL_RANK" in os.environ else self.dist_rank
        if self.dist_world_size is None or self.dist_rank is None:
            raise RuntimeError(
                "distributed training needs the rank and world size: launch with torchrun, or give "
                "--dist_rank and --dist_world_size (with --dist_master_addr/--dist_master_port)"
            )
        if self.dist_init_method == "env://":
            if self.dist_master_addr is not None:
                os.environ["MASTER_ADDR"] = self.dist_master_addr
            if self.dist_master_port is not None:
                os.environ["MASTER_PORT"] = str(self.dist_master_port)
            for k in ("MASTER_ADDR", "MASTER_PORT"):
                if k not in os.environ:
                    raise RuntimeError(
                        f"distributed training: {k} is not set; use torchrun or --dist_master_addr/--dist_master_port"
                    )

    def init_torch_distributed(self):
        """Join the process group; pin this process to its GPU."""
        if not self.distributed:
            return
        if self.ngpu > 0:
            torch.cuda.set_device(self.local_rank)
        torch.distributed.init_process_group(
            backend=self.dist_backend,
            init_method=self.dist_init_method,
            world_size=self.dist_world_size,
            rank=self.dist_rank,
        )

    @property
    def is_main(self) -> bool:
        """Only this process writes files (rank 0, or no DDP)."""
        return not self.distributed or self.dist_rank == 0

    def device(self) -> str:
        if self.ngpu > 0:
            return f"cuda:{self.local_rank}" if self.distributed else "cuda"
        return "cpu"


def free_port() -> int:
    """A free TCP port on this machine (for spawning local processes)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resolve_distributed_mode(args) -> None:
    """Set `args.distributed` (and friends) from the launcher and --ngpu/--multiprocessing_distributed."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if "RANK" in os.environ and world_size > 1:
        # torchrun: one process per GPU (or per CPU worker with gloo)
        args.distributed = True
        args.multiprocessing_distributed = False
        if args.ngpu > 1:
            raise RuntimeError(f"under torchrun each process drives one GPU: use --ngpu 1 (got --ngpu {args.ngpu})")
        return
    if args.multiprocessing_distributed:
        n = args.ngpu if args.ngpu > 0 else (args.dist_world_size or 1)
        args.distributed = n > 1
        if not args.distributed:
            args.multiprocessing_distributed = False
        return
    if args.ngpu > 1:
        # one process per GPU on this machine
        args.multiprocessing_distributed = True
        args.distributed = True
        return
    args.distributed = False


def spawn_local_workers(task, args: argparse.Namespace) -> None:
    """--multiprocessing_distributed: one process per GPU (or per CPU worker with gloo) on this machine.

    Each runs `task.main_worker(args)` (an AbsTask) with its rank; returns when all have finished.
    """
    world_size = args.ngpu if args.ngpu > 0 else args.dist_world_size
    args.dist_world_size = world_size
    if args.dist_master_addr is None:
        args.dist_master_addr = "127.0.0.1"
    if args.dist_master_port is None:
        args.dist_master_port = free_port()
    torch.multiprocessing.spawn(_spawn_worker, args=(task, args), nprocs=world_size, join=True)


def _spawn_worker(rank: int, task, args: argparse.Namespace):
    """Entry of a process spawned by --multiprocessing_distributed (rank = local GPU index)."""
    args = copy.copy(args)
    args.dist_rank = rank
    args.local_rank = rank
    task.main_worker(args)


def shard_batches(batches: List[Tuple[str, ...]], distributed_option: DistributedOption, per_utterance: bool = False):
    """DDP: process r takes `batch[r::world_size]` of every mini-batch (the batch size is global), or with
    `per_utterance` every world_size-th utterance. Every process sees the same number of steps."""
    if not distributed_option.distributed:
        return batches
    world_size = distributed_option.dist_world_size
    rank = distributed_option.dist_rank
    if per_utterance:
        if len(batches) < world_size:
            raise RuntimeError(f"{len(batches)} utterances cannot be shared by {world_size} processes")
        return batches[rank::world_size]
    for batch in batches:
        if len(batch) < world_size:
            raise RuntimeError(
                f"The batch-size must be equal or more than world_size: {len(batch)} < {world_size}; "
                "raise --batch_size (it is the global batch size over all processes)"
            )
    return [batch[rank::world_size] for batch in batches]


def shard_batch_size(batch_size: int, distributed_option: DistributedOption) -> int:
    """This process's share of a global batch size (chunk iterator under DDP)."""
    if not distributed_option.distributed:
        return batch_size
    world_size, rank = distributed_option.dist_world_size, distributed_option.dist_rank
    if batch_size < world_size:
        raise RuntimeError(f"--batch_size {batch_size} must be at least the number of processes {world_size}")
    return batch_size // world_size + (1 if rank < batch_size % world_size else 0)


def check_gpus(ngpu: int):
    """Stop with a message (not a traceback) when --ngpu asks for more CUDA GPUs than this process sees."""
    if ngpu <= 0:
        return
    needed = 1 if "LOCAL_RANK" in os.environ else ngpu  # under torchrun --ngpu counts GPUs per process
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if visible < needed:
        devices = os.environ.get("CUDA_VISIBLE_DEVICES")
        raise SystemExit(
            f"error: --ngpu {ngpu} but {visible} CUDA GPU(s) are visible here"
            + (f" (CUDA_VISIBLE_DEVICES={devices})" if devices is not None else "")
            + f" and torch {torch.__version__} is {'a CPU' if torch.version.cuda is None else 'a CUDA'} build. "
            "To train on the CPU, pass --ngpu 0 (slow for the flagship model: egs2/mini_2mix's conf/train_tiny.yaml "
            "is sized for a CPU); for a GPU install a CUDA build of torch (tools/setup_venv.sh --cuda cu126)."
        )


def cpu_threads(num_threads: Optional[int], ngpu: int, num_workers: int, local_processes: int) -> int:
    """torch threads of a training process.

    `num_threads` if given; on GPU torch's default; on CPU the cores this process may use, minus one per
    loader worker of every process, divided by the processes on the machine (at least 1). More threads
    than free cores make CPU training several times slower (threads wait for each other at every op).
    """
    if num_threads is not None:
        return num_threads
    if ngpu > 0:
        return torch.get_num_threads()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, (cores - num_workers * local_processes) // local_processes)
