"""resolve_distributed_mode and the local launcher against ESPnet's test/espnet2/train/test_distributed_utils.py."""

import argparse
import json
import os

import pytest

from espnet2.train.distributed_utils import DistributedOption, resolve_distributed_mode, spawn_local_workers

LAUNCHER_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture(autouse=True)
def no_launcher(monkeypatch):
    for k in LAUNCHER_ENV:
        monkeypatch.delenv(k, raising=False)


def namespace(**kwargs):
    args = dict(multiprocessing_distributed=False, dist_world_size=None, dist_rank=None, ngpu=0, local_rank=None)
    args.update(dist_backend="nccl", dist_init_method="env://", dist_master_addr=None, dist_master_port=None)
    args.update(kwargs)
    return argparse.Namespace(**args)


# ESPnet's cases (mode1 .. mode10) and what they resolve to here
@pytest.mark.parametrize(
    "kwargs, distributed, multiprocessing",
    [
        (dict(dist_world_size=None, ngpu=2), True, True),  # mode3: one node, one process per GPU (ESPnet: DP)
        (dict(dist_world_size=2, dist_rank=0, ngpu=1, local_rank=1), True, False),  # mode4 with one GPU each
        (dict(multiprocessing_distributed=True, dist_world_size=2, dist_rank=0, ngpu=1), True, False),  # mode7
        (dict(multiprocessing_distributed=True, dist_world_size=1, ngpu=2), True, True),  # mode9
        (dict(multiprocessing_distributed=True, dist_world_size=None, ngpu=1), False, False),  # mode10
        (dict(multiprocessing_distributed=True, dist_world_size=2, dist_rank=1, ngpu=0), True, False),  # CPU nodes
        (dict(), False, False),  # ESPnet's test_default_work
    ],
)
def test_resolve_as_espnet(kwargs, distributed, multiprocessing):
    args = namespace(**kwargs)
    resolve_distributed_mode(args)
    assert (args.distributed, args.multiprocessing_distributed) == (distributed, multiprocessing)


def test_multi_node_with_one_process_per_node_is_ddp_over_the_nodes():
    """The issue: `--multiprocessing_distributed true --dist_world_size 2 --dist_rank 0 --ngpu 1` trained alone."""
    args = namespace(multiprocessing_distributed=True, dist_world_size=2, dist_rank=1, ngpu=1)
    resolve_distributed_mode(args)
    assert args.distributed and (args.dist_world_size, args.dist_rank, args.local_rank) == (2, 1, 0)


@pytest.mark.parametrize(
    "kwargs, env, message",
    [
        (dict(dist_world_size=2, ngpu=2, local_rank=0), {}, "give --dist_rank"),  # ESPnet's mode1
        (dict(dist_world_size=2, dist_rank=0, ngpu=1), {}, "--local_rank or LOCAL_RANK"),  # mode2 (one GPU each)
        (dict(dist_world_size=2, dist_rank=0, ngpu=2, local_rank=1), {}, "each process drives one GPU"),  # mode4
        (dict(multiprocessing_distributed=True, dist_world_size=2, ngpu=1), {}, "give --dist_rank"),  # mode6
        (dict(multiprocessing_distributed=True, dist_world_size=2, dist_rank=2), {}, "not a node of"),
        (dict(multiprocessing_distributed=True, ngpu=1), {"LOCAL_RANK": "0", "RANK": "0", "WORLD_SIZE": "2"},
         "under torchrun"),
        (dict(multiprocessing_distributed=True, ngpu=2, local_rank=1), {}, "remove --local_rank"),
        (dict(dist_rank=1), {}, "without --dist_world_size"),
        (dict(dist_rank=1, dist_world_size=2), {"RANK": "0", "WORLD_SIZE": "2"}, "--dist_rank 1 contradicts RANK=0"),
        (dict(dist_world_size=4), {"RANK": "0", "WORLD_SIZE": "2"}, "--dist_world_size 4 contradicts WORLD_SIZE=2"),
    ],
)  # fmt: skip
def test_wrong_combinations_are_refused_by_name(monkeypatch, kwargs, env, message):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(RuntimeError, match=message):
        resolve_distributed_mode(namespace(**kwargs))


def test_process_options_are_checked_before_joining(monkeypatch):
    option = DistributedOption(distributed=True, dist_world_size=2, dist_rank=2, ngpu=0)
    with pytest.raises(RuntimeError, match=r"--dist_rank \(or RANK\) 2 must be in 0..1"):
        option.init_options()
    option = DistributedOption(distributed=True, dist_world_size=2, dist_rank=1, ngpu=0)
    with pytest.raises(RuntimeError, match="--dist_master_addr"):
        option.init_options()
    option = DistributedOption(distributed=True, dist_world_size=2, dist_rank=1, local_rank=2, ngpu=1)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with pytest.raises(RuntimeError, match="CUDA_VISIBLE_DEVICES=0,1"):
        option.init_options()


class RecordingTask:
    """A task whose worker writes the ranks it was given (the spawn of ESPnet's AbsTask.main, without GPUs)."""

    @classmethod
    def main_worker(cls, args):
        record = dict(local_rank=args.local_rank, dist_rank=args.dist_rank, world=args.dist_world_size,
                      local_world=os.environ["LOCAL_WORLD_SIZE"], port=args.dist_master_port)  # fmt: skip
        with open(os.path.join(args.output_dir, f"{args.dist_rank}.json"), "w") as f:
            json.dump(record, f)


def test_each_node_starts_one_process_per_gpu_with_espnet_ranks(tmp_path):
    args = namespace(multiprocessing_distributed=True, dist_world_size=2, dist_rank=1, ngpu=2,
                     dist_master_addr="127.0.0.1", dist_master_port=29999, output_dir=str(tmp_path))  # fmt: skip
    resolve_distributed_mode(args)
    assert args.distributed and args.multiprocessing_distributed
    spawn_local_workers(RecordingTask, args)  # node 1 of 2, 2 GPUs each: ranks 2 and 3 of 4
    records = sorted(json.loads(p.read_text())["dist_rank"] for p in tmp_path.glob("*.json"))
    assert records == [2, 3]
    second = json.loads((tmp_path / "3.json").read_text())
    assert second == dict(local_rank=1, dist_rank=3, world=4, local_world="2", port=29999)


def test_several_nodes_need_the_address_of_node_0():
    args = namespace(multiprocessing_distributed=True, dist_world_size=2, dist_rank=0, ngpu=2)
    resolve_distributed_mode(args)
    with pytest.raises(RuntimeError, match="give --dist_master_addr"):
        spawn_local_workers(RecordingTask, args)
