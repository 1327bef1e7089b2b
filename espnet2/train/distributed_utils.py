"""Distributed training setup: torchrun (several GPUs, several nodes), one process per GPU, gloo on CPU.

Launch with torchrun, which sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT:

    torchrun --nproc_per_node 4 -m espnet2.bin.enh_train --ngpu 1 --config conf/train.yaml ...
    torchrun --nnodes 2 --node_rank 0 --master_addr host0 --nproc_per_node 8 -m espnet2.bin.enh_train --ngpu 1 ...

or let the trainer spawn one process per GPU on this machine (ESPnet's launcher does this):

    python -m espnet2.bin.enh_train --ngpu 4 --multiprocessing_distributed true ...

With `--ngpu 0` the backend is gloo (CPU); `--dist_world_size N --multiprocessing_distributed true`
then spawns N CPU processes (handy for testing). `--ngpu` counts GPUs per process under torchrun
(0 or 1) and GPUs on this machine with `--multiprocessing_distributed`.
"""

import dataclasses
import os
import socket
from typing import Optional

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
                    raise RuntimeError(f"distributed training: {k} is not set; use torchrun or --dist_master_addr/--dist_master_port")

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
