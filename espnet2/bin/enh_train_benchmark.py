#!/usr/bin/env python3
"""Training throughput: steps per second and the share of step time spent waiting for data.

Runs the real training step (EnhancementTask data pipeline, Trainer.train_one_epoch) for a number of
steps and reports, after `--warmup_steps` steps that are not counted (loader workers starting):

    steps/s          training steps per second (data + forward + backward + update)
    data wait        time blocked on the data loader, as a share of the step time

Data loading is not the bottleneck when the share stays small (under 5% with 2 workers).

    python -m espnet2.bin.enh_train_benchmark                          # synthetic 2-speaker data
    python -m espnet2.bin.enh_train_benchmark --data_dir dump/raw/tr_min_8k --config conf/train.yaml --ngpu 1

Without `--config` a small TISDiSS (the mini recipe's size: emb 16, n_fft 128 / hop 64 at 8 kHz) is used.
Options after `--` go to enh_train's parser (e.g. `-- --use_amp true`).
"""

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import soundfile
import torch
import yaml

from espnet2.enh.presets import preset_config
from espnet2.fileio.read_text import read_2columns_text
from espnet2.tasks.enh import EnhancementTask
from espnet2.train.distributed_utils import DistributedOption, cpu_threads
from espnet2.train.reporter import Reporter
from espnet2.train.trainer import amp_settings

# the model of enh_benchmark's training step (the mini recipe's tiny TISDiSS), with training settings
SMALL_CONFIG = {
    **preset_config("tiny"),
    "init": "xavier_uniform",
    "optim": "adamw",
    "optim_conf": {"lr": 1.0e-3},
    "preprocessor": "enh",
    "batch_type": "folded",
    "iterator_type": "sequence",
}


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data_dir",
        type=str,
        default=None,
        help="Kaldi-style dir with wav.scp, spk1.scp, ... (default: synthetic data)",
    )
    parser.add_argument("--config", type=str, default=None, help="training config (default: a small TISDiSS)")
    parser.add_argument("--steps", type=int, default=10, help="measured steps")
    parser.add_argument("--warmup_steps", type=int, default=3, help="steps run before measuring")
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--speech_segment", type=int, default=4000, help="crop length in samples (0.5 s at 8 kHz)")
    parser.add_argument("--num_workers", type=int, default=2)
    parser.add_argument("--ngpu", type=int, default=0)
    parser.add_argument(
        "--num_threads", type=int, default=None, help="torch threads of the training process (default: as enh_train)"
    )
    parser.add_argument("--num_utts", type=int, default=32, help="synthetic data: utterances")
    parser.add_argument("--utt_seconds", type=float, default=4.0, help="synthetic data: utterance length")
    parser.add_argument("--fs", type=int, default=8000, help="synthetic data: sample rate")
    return parser


def make_synthetic_data(directory: Path, num_utts: int, seconds: float, fs: int, num_spk: int = 2) -> Path:
    """wav.scp / spk{j}.scp with random noise-like sources (the content does not matter for speed)."""
    rng = np.random.default_rng(0)
    (directory / "wav").mkdir(parents=True, exist_ok=True)
    scps = {k: [] for k in ["wav"] + [f"spk{j + 1}" for j in range(num_spk)]}
    n = int(seconds * fs)
    for i in range(num_utts):
        uid = f"utt{i:05d}"
        refs = [(0.1 * rng.standard_normal(n)).astype(np.float32) for _ in range(num_spk)]
        for name, wav in [("wav", np.sum(refs, 0))] + [(f"spk{j + 1}", r) for j, r in enumerate(refs)]:
            path = directory / "wav" / f"{uid}_{name}.wav"
            soundfile.write(path, wav, fs, subtype="PCM_16")
            scps[name].append(f"{uid} {path}\n")
    for name, lines in scps.items():
        (directory / f"{name}.scp").write_text("".join(lines))
    return directory


def write_shapes(data_dir: Path, names: Dict[str, str], out: Path) -> List[str]:
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for scp, name in names.items():
        lines = [f"{k} {soundfile.info(p).frames}\n" for k, p in sorted(read_2columns_text(data_dir / scp).items())]
        (out / f"{name}_shape").write_text("".join(lines))
        files.append(str(out / f"{name}_shape"))
    return files


def run(args: argparse.Namespace, extra: Sequence[str] = ()) -> Dict[str, float]:
    """Measure; returns {"steps_per_sec", "data_wait_share", "step_time", "data_wait"}."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data_dir = (
            Path(args.data_dir)
            if args.data_dir
            else make_synthetic_data(tmp / "data", args.num_utts, args.utt_seconds, args.fs)
        )
        names = {"wav.scp": "speech_mix"}
        j = 1
        while (data_dir / f"spk{j}.scp").exists():
            names[f"spk{j}.scp"] = f"speech_ref{j}"
            j += 1
        if args.config is None:
            (tmp / "config.yaml").write_text(yaml.safe_dump(SMALL_CONFIG))
            config = tmp / "config.yaml"
        else:
            config = args.config
        shapes = write_shapes(data_dir, names, tmp / "stats")
        cmd = ["--config", str(config), "--output_dir", str(tmp / "exp"), "--ngpu", str(args.ngpu)]
        for (scp, name), shape in zip(names.items(), shapes):
            cmd += [
                "--train_data_path_and_name_and_type",
                f"{data_dir / scp},{name},sound",
                "--train_shape_file",
                shape,
            ]
            cmd += [
                "--valid_data_path_and_name_and_type",
                f"{data_dir / scp},{name},sound",
                "--valid_shape_file",
                shape,
            ]
        cmd += [
            "--fold_length",
            str(10**9),
            "--batch_size",
            str(args.batch_size),
            "--speech_segment",
            str(args.speech_segment),
        ]
        cmd += ["--num_workers", str(args.num_workers), "--num_iters_per_epoch", str(args.steps + args.warmup_steps)]
        cmd += ["--use_tensorboard", "false", "--use_matplotlib", "false", *extra]
        targs = EnhancementTask.get_parser().parse_args(cmd)
        EnhancementTask.check_args(targs)
        torch.set_num_threads(cpu_threads(args.num_threads, args.ngpu, args.num_workers, 1))

        torch.manual_seed(targs.seed)
        device = "cuda" if args.ngpu > 0 else "cpu"
        model = EnhancementTask.build_model(targs).to(device)
        optimizers = EnhancementTask.build_optimizers(targs, model)
        schedulers = EnhancementTask.build_schedulers(targs, optimizers)
        dist = DistributedOption(ngpu=args.ngpu)
        factory = EnhancementTask.build_iter_factory(targs, dist, mode="train")
        options = EnhancementTask.trainer.build_options(targs)
        options.log_interval = 10**9
        autocast_kwargs, need_scaler = amp_settings(targs.use_amp, targs.amp_dtype, "cuda" if args.ngpu > 0 else "cpu")
        scaler = torch.amp.GradScaler("cuda") if need_scaler else None

        reporter = Reporter()
        reporter.set_epoch(1)
        with reporter.observe("train") as sub:
            EnhancementTask.trainer.train_one_epoch(
                model=model,
                iterator=factory.build_iter(1),
                optimizers=optimizers,
                schedulers=schedulers,
                scaler=scaler,
                autocast_kwargs=autocast_kwargs,
                reporter=sub,
                summary_writer=None,
                options=options,
                distributed_option=dist,
                state={"nonfinite_in_a_row": 0, "nonfinite_in_epoch": 0},
            )
            # per-step times after warm-up: the wait for data and the rest of the step
            steps = range(args.warmup_steps, sub.count)
            wait = [v for i, v, _ in sub.stats["iter_time"] if i in steps]
            step_start = {i: t for i, t in _step_starts(sub)}
        if len(wait) == 0:
            raise RuntimeError("no step was measured: the data gives fewer batches than --warmup_steps")
        total = step_start[sub.count] - step_start[args.warmup_steps]
        result = {
            "steps": len(wait),
            "steps_per_sec": len(wait) / total,
            "step_time": total / len(wait),
            "data_wait": float(np.mean(wait)),
            "data_wait_share": float(np.sum(wait)) / total,
        }
    return result


def _step_starts(sub):
    """Cumulative wall time at the start of each step (from the per-step timings), plus the end."""
    per_step: Dict[int, float] = {}
    for key in ("iter_time", "forward_time", "backward_time", "optim_step_time"):
        for i, v, _ in sub.stats.get(key, []):
            per_step[i] = per_step.get(i, 0.0) + v
    t = 0.0
    for i in range(sub.count):
        yield i, t
        t += per_step.get(i, 0.0)
    yield sub.count, t


def main(cmd: Optional[Sequence[str]] = None) -> Dict[str, float]:
    cmd = list(sys.argv[1:] if cmd is None else cmd)
    extra = []
    if "--" in cmd:
        i = cmd.index("--")
        cmd, extra = cmd[:i], cmd[i + 1 :]
    args = get_parser().parse_args(cmd)
    logging.basicConfig(level=logging.WARNING)
    r = run(args, extra)
    print(
        f"steps/s: {r['steps_per_sec']:.2f}  step time: {r['step_time'] * 1000:.1f} ms  "
        f"data wait: {r['data_wait'] * 1000:.2f} ms per step = {100 * r['data_wait_share']:.2f}% of step time  "
        f"({r['steps']} steps, batch {args.batch_size}, segment {args.speech_segment}, {args.num_workers} workers)"
    )
    return r


if __name__ == "__main__":
    main()
