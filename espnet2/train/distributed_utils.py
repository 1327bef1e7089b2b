"""Distributed training setup, as ESPnet launches it: torchrun, or ESPnet's own flags.

1. torchrun (or any launcher that sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT): one process
   per GPU, `--ngpu 1` (or `--ngpu 0` for CPU processes with gloo)::

    torchrun --nproc_per_node 4 -m espnet2.bin.enh_train --ngpu 1 --config conf/train.yaml ...
    torchrun --nnodes 2 --node_rank 0 --master_addr host0 --nproc_per_node 8 -m espnet2.bin.enh_train --ngpu 1 ...

   The same by hand: `--dist_world_size N --dist_rank r --local_rank l` (+ --dist_master_addr/--dist_master_port).

2. ESPnet's `--multiprocessing_distributed true`: the command runs once per node and starts one process per GPU
   of its node itself (torch.multiprocessing, as ESPnet's AbsTask.main). `--dist_world_size` is then the number
   of NODES and `--dist_rank` this node's rank (or WORLD_SIZE/RANK from the environment); process i of node r
   has rank `ngpu * r + i` of `ngpu * nodes`::

    python -m espnet2.bin.enh_train --ngpu 4 --multiprocessing_distributed true ...        # one node
    python -m espnet2.bin.enh_train --ngpu 1 --multiprocessing_distributed true \
        --dist_world_size 2 --dist_rank 0 --dist_master_addr host0 --dist_master_port 29500 ...   # node 0 of 2

   With --ngpu 0 or 1 a node runs one process (no spawning); with --ngpu 0 the backend is gloo (CPU).

`--ngpu N > 1` without `--multiprocessing_distributed` also starts N processes on this machine (ESPnet would
run one DataParallel process; this toolkit has no DataParallel). Inconsistent settings (a rank outside the
world, a flag that contradicts the launcher's environment, --multiprocessing_distributed under torchrun, ...)
are refused with an error naming the options.

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
        """Resolve rank/world size from the arguments, else from the launcher's environment; check them."""
        if self.ngpu == 0 and self.dist_backend == "nccl":
            self.dist_backend = "gloo"  # nccl needs GPUs
        if not self.distributed:
            return
        if self.dist_world_size is None:
            self.dist_world_size = env_int("WORLD_SIZE")
        if self.dist_rank is None:
            self.dist_rank = env_int("RANK")
        if self.local_rank is None:
            self.local_rank = env_int("LOCAL_RANK")
            if self.local_rank is None and self.ngpu == 0:
                self.local_rank = self.dist_rank
        if self.dist_world_size is None or self.dist_rank is None:
            raise RuntimeError(
                "distributed training needs the rank and world size: launch with torchrun, or give "
                "--dist_rank and --dist_world_size (with --dist_master_addr/--dist_master_port)"
            )
        if not 0 <= self.dist_rank < self.dist_world_size:
            raise RuntimeError(
                f"--dist_rank (or RANK) {self.dist_rank} must be in 0..{self.dist_world_size - 1} "
                f"for --dist_world_size (or WORLD_SIZE) {self.dist_world_size}"
            )
        if self.ngpu > 0:
            if self.local_rank is None:
                raise RuntimeError(
                    "--local_rank or LOCAL_RANK must be set: which GPU of this node does this process use?"
                )
            devices = os.environ.get("CUDA_VISIBLE_DEVICES")
            if devices is not None and self.local_rank >= len(devices.split(",")):
                raise RuntimeError(
                    f"--local_rank (or LOCAL_RANK) {self.local_rank} but CUDA_VISIBLE_DEVICES={devices} "
                    f"shows {len(devices.split(','))} GPU(s)"
                )
        if self.dist_init_method == "env://":
            if self.dist_master_addr is not None:
                os.environ["MASTER_ADDR"] = self.dist_master_addr
            if self.dist_master_port is not None:
                os.environ["MASTER_PORT"] = str(self.dist_master_port)
            for k, option in (("MASTER_ADDR", "--dist_master_addr"), ("MASTER_PORT", "--dist_master_port")):
                if k not in os.environ:
                    raise RuntimeError(
                        f"distributed training: {k} is not set; use torchrun or give {option} "
                        "(the address and a free port of the node with rank 0)"
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


def env_int(name: str) -> Optional[int]:
    """An integer environment variable (RANK, WORLD_SIZE, LOCAL_RANK, ...) or None."""
    value = os.environ.get(name)
    return None if value in (None, "") else int(value)


def _flag_or_env(args, option: str, env: str) -> Optional[int]:
    """--<option> if given, else $<env>; a flag that contradicts the launcher's environment is refused."""
    flag, from_env = getattr(args, option), env_int(env)
    if flag is not None and from_env is not None and flag != from_env:
        raise RuntimeError(
            f"--{option} {flag} contradicts {env}={from_env} set by the launcher; give one of them (or equal values)"
        )
    return flag if flag is not None else from_env


def resolve_distributed_mode(args) -> None:
    """Set `args.distributed` (and `multiprocessing_distributed`, `local_rank`) as ESPnet's resolve_distributed_mode.

    With --multiprocessing_distributed, --dist_world_size/WORLD_SIZE counts nodes and --dist_rank/RANK is the
    node's rank; otherwise they count and number processes (torchrun's meaning). Wrong combinations are refused.
    """
    if args.multiprocessing_distributed:
        if "LOCAL_RANK" in os.environ:
            raise RuntimeError(
                "--multiprocessing_distributed true under torchrun (LOCAL_RANK is set): torchrun already starts "
                "one process per GPU; remove --multiprocessing_distributed"
            )
        if args.local_rank is not None:
            raise RuntimeError(
                "--local_rank with --multiprocessing_distributed true: the local ranks are given to the processes "
                "this node starts; remove --local_rank"
            )
        num_nodes = _flag_or_env(args, "dist_world_size", "WORLD_SIZE") or 1
        node_rank = _flag_or_env(args, "dist_rank", "RANK")
        if num_nodes > 1 and node_rank is None:
            raise RuntimeError(
                f"--multiprocessing_distributed true with --dist_world_size {num_nodes} (nodes): give --dist_rank "
                f"(or RANK), this node's rank in 0..{num_nodes - 1}"
            )
        if node_rank is not None and not 0 <= node_rank < num_nodes:
            raise RuntimeError(
                f"--dist_rank {node_rank} is not a node of --dist_world_size {num_nodes} "
                "(with --multiprocessing_distributed true both count nodes)"
            )
        args.distributed = num_nodes > 1 or args.ngpu > 1
        if args.distributed:
            args.dist_world_size, args.dist_rank = num_nodes, node_rank or 0
        if args.ngpu <= 1:
            # one process per node: it is the node; its rank is the node's rank
            args.multiprocessing_distributed = False
            if args.ngpu == 1:
                args.local_rank = 0
        return
    world_size = _flag_or_env(args, "dist_world_size", "WORLD_SIZE") or 1
    if world_size > 1:
        # one process of a launcher (torchrun) or of the --dist_* flags
        args.distributed = True
        if _flag_or_env(args, "dist_rank", "RANK") is None:
            raise RuntimeError(
                f"--dist_world_size (or WORLD_SIZE) {world_size}: give --dist_rank (or RANK), this process's rank; "
                "or launch with torchrun, or use --multiprocessing_distributed true"
            )
        if args.ngpu > 1:
            raise RuntimeError(
                f"--ngpu {args.ngpu} with --dist_world_size (or WORLD_SIZE) {world_size}: each process drives one "
                "GPU, use --ngpu 1 (or --multiprocessing_distributed true to start one process per GPU)"
            )
        if args.ngpu > 0 and _flag_or_env(args, "local_rank", "LOCAL_RANK") is None:
            raise RuntimeError(
                "--local_rank or LOCAL_RANK must be set (the GPU of this process on its node) "
                "if --multiprocessing_distributed is false"
            )
        return
    if args.dist_rank not in (None, 0):
        raise RuntimeError(
            f"--dist_rank {args.dist_rank} without --dist_world_size (or WORLD_SIZE) > 1: give the world size "
            "(processes, or nodes with --multiprocessing_distributed true)"
        )
    # --ngpu N > 1 on one machine: one process per GPU (ESPnet would run DataParallel in one process)
    args.distributed = args.multiprocessing_distributed = args.ngpu > 1
    if args.distributed:
        args.dist_world_size, args.dist_rank = 1, 0  # one node


def spawn_local_workers(task, args: argparse.Namespace) -> None:
    """--multiprocessing_distributed: one process per GPU of this node, as ESPnet's AbsTask.main starts them.

    Process i of node r (`args.dist_rank`, of `args.dist_world_size` nodes) runs `task.main_worker(args)` with
    local rank i and rank `ngpu * r + i` of `ngpu * nodes`; returns when all have finished.
    """
    num_nodes, node_rank, nprocs = args.dist_world_size, args.dist_rank, args.ngpu
    args = copy.copy(args)
    if num_nodes == 1:
        if args.dist_master_addr is None and "MASTER_ADDR" not in os.environ:
            args.dist_master_addr = "127.0.0.1"
        if args.dist_master_port is None and "MASTER_PORT" not in os.environ:
            args.dist_master_port = free_port()
    elif args.dist_init_method == "env://":
        for option, env in (("dist_master_addr", "MASTER_ADDR"), ("dist_master_port", "MASTER_PORT")):
            if getattr(args, option) is None and env not in os.environ:
                raise RuntimeError(
                    f"--multiprocessing_distributed true on {num_nodes} nodes: give --{option} (or {env}), the "
                    "same on every node (the address and a free port of node 0)"
                )
    args.dist_world_size = nprocs * num_nodes
    torch.multiprocessing.spawn(_spawn_worker, args=(task, args, node_rank, nprocs), nprocs=nprocs, join=True)


def _spawn_worker(local_rank: int, task, args: argparse.Namespace, node_rank: int, nprocs: int):
    """Entry of a process started by spawn_local_workers."""
    args = copy.copy(args)
    args.local_rank = local_rank
    args.dist_rank = nprocs * node_rank + local_rank
    os.environ["LOCAL_WORLD_SIZE"] = str(nprocs)  # the processes sharing this machine (cpu_threads)
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
