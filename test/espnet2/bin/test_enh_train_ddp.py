"""DDP on CPU (gloo): two processes on a global batch end with the parameters of one process on it.

Both ways of launching them: torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_*), and ESPnet's
`--multiprocessing_distributed true --dist_world_size 2 --dist_rank r --ngpu 0` (two nodes of one process each).
"""

import argparse
import multiprocessing
import os
import traceback

import pytest
import torch
import yaml

from espnet2.bin import enh_train
from espnet2.tasks.enh import EnhancementTask
from espnet2.train.distributed_utils import free_port
from test.espnet2.train.tiny_enh_data import make_data_dir, train_args, write_config, write_shape_files


def _torchrun_rank(rank: int, port: int, cmd, queue):
    # what torchrun sets for each process
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    _run(rank, cmd, queue)


def _espnet_node(rank: int, port: int, cmd, queue):
    # what ESPnet's launcher runs on node `rank` of 2 (one process per node with --ngpu 0)
    flags = ["--multiprocessing_distributed", "true", "--ngpu", "0", "--dist_world_size", "2", "--dist_rank"]
    flags += [str(rank), "--dist_master_addr", "127.0.0.1", "--dist_master_port", str(port)]
    _run(rank, cmd + flags, queue)


def _run(rank, cmd, queue):
    try:
        enh_train.main(cmd)
        queue.put((rank, None))
    except BaseException:
        queue.put((rank, traceback.format_exc()))


@pytest.fixture(scope="module")
def single_process(tmp_path_factory):
    """The data, the options and the result of training in one process."""
    tmp_path = tmp_path_factory.mktemp("ddp")
    tr = make_data_dir(tmp_path, "tr", n_utt=4, seed=0, lengths=[1000, 900, 1100, 1000])
    # equal lengths: the model does not mask padding, so a padded batch of 2 would differ from 2 x 1
    cv = make_data_dir(tmp_path, "cv", n_utt=2, seed=1, lengths=[900, 900])
    args = train_args(
        tmp_path,
        tr,
        cv,
        write_shape_files(tmp_path / "stats/train", tr),
        write_shape_files(tmp_path / "stats/valid", cv),
    )
    # 2 epochs of 2 steps on a global batch of 2 (one utterance per process), in float64: in float32 this
    # untrained model's gradients carry ~1e-4 relative rounding noise that any other summation order shows
    # (the model keeps a few float32 parts, e.g. the RoPE angles, hence the tolerances below). Plain SGD
    # without clipping, so that a wrongly scaled gradient shows: clipping or Adam would hide a constant
    # factor, and Adam's first steps (lr * sign(gradient)) turn rounding noise in tiny gradients into +-lr.
    config = write_config(
        tmp_path / "c.yaml",
        {
            "max_epoch": 2,
            "train_dtype": "float64",
            "optim": "sgd",
            "optim_conf": {"lr": 1.0e-6, "momentum": 0.9},
            "grad_clip": 0,
        },
    )
    base = ["--config", str(config), "--log_interval", "1", *args]
    enh_train.main(base + ["--output_dir", str(tmp_path / "one")])
    return dict(root=tmp_path, base=base, config=config)


@pytest.mark.parametrize("launch", [_torchrun_rank, _espnet_node], ids=["torchrun", "espnet_multi_node"])
def test_two_gloo_processes_equal_one_process(single_process, launch):
    root, base, config = single_process["root"], single_process["base"], single_process["config"]
    out = root / launch.__name__
    ctx = multiprocessing.get_context("fork")  # no re-import: fast; each rank runs with 1 thread
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=launch, args=(r, port, base + ["--output_dir", str(out)], queue)) for r in range(2)]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    assert results == {0: None, 1: None}, results

    one = torch.load(root / "one" / "2epoch.pth", weights_only=True)
    ddp = torch.load(out / "2epoch.pth", weights_only=True)
    for k in one:
        torch.testing.assert_close(ddp[k], one[k], rtol=1e-7, atol=1e-8, msg=f"{k} differs")
    # ... and training moved them (by ~0.1, far above the tolerance)
    torch.manual_seed(0)
    init = EnhancementTask.build_model(argparse.Namespace(**yaml.safe_load(config.read_text()))).state_dict()
    assert max((one[k] - init[k].double()).abs().max().item() for k in one) > 1e-2
    # the processes trained on shards of each batch and the validation statistics were reduced over them
    a = torch.load(root / "one" / "checkpoint.pth", weights_only=True)["reporter"]["stats"][2]
    b = torch.load(out / "checkpoint.pth", weights_only=True)["reporter"]["stats"][2]
    assert abs(a["valid"]["loss"] - b["valid"]["loss"]) < 1e-5
    assert abs(a["train"]["loss"] - b["train"]["loss"]) < 1e-5
    assert b["train"]["total_count"] == 4
    # only rank 0 wrote the log
    assert (out / "train.log").read_text().count("2epoch results") == 1
