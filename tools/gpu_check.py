#!/usr/bin/env python3
"""Check a CUDA machine for TISDiSS: mixed precision, fused attention, the trainer (AMP, DDP) and separate.py.

    tools/venv/bin/python tools/gpu_check.py                      # every check, on the visible GPUs
    python tools/gpu_check.py --checks amp,attention --steps 20   # a subset
    python tools/gpu_check.py --keep /tmp/gpu_check               # keep the data, experiments and outputs

Checks (one line each: name, PASS/FAIL/SKIP, seconds, throughput; then a summary):

    amp        the flagship TISDiSS (random weights, batch 2): forward and backward under bfloat16 autocast
               and under float16 autocast with torch.amp.GradScaler; the loss and the gradients are finite
    attention  a self-attention layer of the flagship (head dimension 32) and the whole flagship under
               sdpa_kernel([FLASH_ATTENTION, EFFICIENT_ATTENTION]), where a math fallback raises; reports the
               fused kernels that ran (counted at the dispatcher) and the time of one layer call
    train      `python -m espnet2.bin.enh_train --ngpu 1 --use_amp true` on generated two-voice data: 2 epochs
               of --steps updates, a checkpoint written; steps/s of the second epoch (the first warms up)
    ddp        the same through `torchrun --nproc_per_node N ... --ngpu 1` (NCCL) on all N visible GPUs;
               skipped with one GPU
    separate   `python -m espnet2.bin.separate --device cuda` on a two-voice wav with the train check's model
               (random weights of --preset when train did not run): outputs exist and are finite; its RTF

Without a CUDA GPU it says why (CPU-only torch build, or no GPU visible) and exits with status 3 (0 with
--allow_no_gpu). Exit status 1 when a check failed, 0 otherwise. `--device cpu` runs the same checks on the
CPU (DDP with gloo over 2 processes; amp takes minutes there): the test suite's dry run of the command lines.
"""

import argparse
import contextlib
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np
import soundfile
import torch
import yaml
from torch.utils._python_dispatch import TorchDispatchMode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # espnet2 from this checkout, also without `pip install -e .`

CHECKS = ("amp", "attention", "train", "ddp", "separate")
NO_GPU_STATUS = 3
FS = 8000  # the presets' sample rate
AMP_BATCH = 2
MAX_OVERFLOWS = 32  # amp check, float16: steps the GradScaler may skip while it lowers its scale
BATCH_PER_PROCESS = 2  # train and ddp checks: utterances per process and step
CPU_DDP_PROCESSES = 2  # --device cpu: gloo processes of the ddp check


class Skip(Exception):
    """A check that does not apply here (e.g. DDP with one GPU)."""


@dataclasses.dataclass
class Context:
    device: str  # "cuda", or "cpu" for the dry run
    steps: int  # updates per check (amp: per dtype; train, ddp: per epoch)
    seconds: float  # length of the generated utterances and of the separate.py input
    preset: str  # the model of train, ddp and separate (amp and attention use the flagship)
    work: Path  # data, experiments, logs
    ddp_processes: int  # of the ddp check: the visible GPUs (2 gloo processes on the CPU)
    trained: Optional[Path] = None  # the train check's experiment folder, for separate


@dataclasses.dataclass
class Result:
    name: str
    status: str  # PASS, FAIL or SKIP
    seconds: float
    detail: str


# ---------------------------------------------------------------- generated audio and data
def two_voices(seconds: float, seed: int) -> List[np.ndarray]:
    """Two voice-like sources [N] float32 at 8 kHz: harmonic glides (one low, one high) with syllable envelopes."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    voices = []
    for f_lo, f_hi in ((100.0, 180.0), (220.0, 340.0)):
        f0 = np.linspace(*rng.uniform(f_lo, f_hi, 2), len(t))  # a glide from one pitch to another
        phase = 2 * np.pi * np.cumsum(f0) / FS
        wave = sum(np.sin(k * phase) / k for k in range(1, 6))
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 5) * t + rng.uniform(0, np.pi)) ** 2
        voices.append((0.1 * wave * envelope).astype(np.float32))
    return voices


def write_data_dir(directory: Path, num_utts: int, seconds: float, seed: int) -> Dict[str, Path]:
    """`directory/{wav,spk1,spk2}.scp`, wavs under `directory/wav/`, and the shape files enh_train reads.

    Returns {"speech_mix": scp, "speech_ref1": scp, ..., "speech_mix_shape": file, ...}.
    """
    (directory / "wav").mkdir(parents=True, exist_ok=True)
    lines: Dict[str, List[str]] = {"wav": [], "spk1": [], "spk2": []}
    for i in range(num_utts):
        uid = f"utt{i:03d}"
        refs = two_voices(seconds, seed + i)
        for name, wav in (("wav", refs[0] + refs[1]), ("spk1", refs[0]), ("spk2", refs[1])):
            path = directory / "wav" / f"{uid}_{name}.wav"
            soundfile.write(path, wav, FS, subtype="FLOAT")
            lines[name].append(f"{uid} {path}\n")
    files = {}
    for name, key in (("wav", "speech_mix"), ("spk1", "speech_ref1"), ("spk2", "speech_ref2")):
        files[key] = directory / f"{name}.scp"
        files[key].write_text("".join(lines[name]))
        files[f"{key}_shape"] = directory / f"{key}_shape"  # `<uid> <samples>`, as --collect_stats writes it
        files[f"{key}_shape"].write_text("".join(f"{line.split()[0]} {int(seconds * FS)}\n" for line in lines[name]))
    return files


DATA_FILES = {"speech_mix": "wav.scp", "speech_ref1": "spk1.scp", "speech_ref2": "spk2.scp"}
DATA_FILES.update({f"{key}_shape": f"{key}_shape" for key in list(DATA_FILES)})


def valid_batch_size(ctx: Context) -> int:
    return max(2, ctx.ddp_processes)  # one validation batch, at least one utterance per process


def training_data(ctx: Context) -> List[str]:
    """enh_train's data options for train/valid data under `ctx.work/data` (written once per run): two batches
    of the ddp check for training, one validation batch."""
    options = []
    num_train = 2 * BATCH_PER_PROCESS * max(1, ctx.ddp_processes)
    for phase, num_utts, seed in (("train", num_train, 0), ("valid", valid_batch_size(ctx), 100)):
        directory = ctx.work / "data" / phase
        if (directory / "speech_ref2_shape").exists():
            files = {key: directory / name for key, name in DATA_FILES.items()}
        else:
            files = write_data_dir(directory, num_utts, ctx.seconds, seed)
        for key in ("speech_mix", "speech_ref1", "speech_ref2"):
            options += [f"--{phase}_data_path_and_name_and_type", f"{files[key]},{key},sound"]
            options += [f"--{phase}_shape_file", str(files[f"{key}_shape"])]
    return options


def train_config(ctx: Context, batch_size: int) -> dict:
    """A training config.yaml: the model of --preset, 2 epochs of --steps updates of `batch_size` (global)."""
    from espnet2.enh.presets import preset_config

    return {
        **preset_config(ctx.preset),
        "init": "xavier_uniform",
        "optim": "adamw",
        "optim_conf": {"lr": 1.0e-3},
        "max_epoch": 2,  # steps/s from the second epoch: the first one includes CUDA initialization
        "num_iters_per_epoch": ctx.steps,
        "batch_type": "folded",
        "batch_size": batch_size,
        "valid_batch_size": valid_batch_size(ctx),
        "iterator_type": "sequence",
        "preprocessor": "enh",
        "num_workers": 0,
        "fold_length": [10**9],
        "best_model_criterion": [["valid", "loss", "min"]],
        "keep_nbest_models": 1,
        "use_tensorboard": False,
        "use_matplotlib": False,
    }


# ---------------------------------------------------------------- command lines
def trainer_command(ctx: Context, config: Path, exp: Path, processes: int) -> List[str]:
    """enh_train with AMP on `processes` local processes (torchrun when more than one), one GPU each."""
    if processes > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    else:
        launcher = [sys.executable]
    ngpu = "1" if ctx.device == "cuda" else "0"  # under torchrun --ngpu counts GPUs per process
    cmd = launcher + [
        "-m", "espnet2.bin.enh_train", "--config", str(config), "--output_dir", str(exp),
        "--ngpu", ngpu, "--use_amp", "true", *training_data(ctx),
    ]  # fmt: skip
    # the CPU dry run: one thread per process (on a busy shared CPU two threads made a step 20x slower)
    return cmd + (["--num_threads", "1"] if ctx.device == "cpu" else [])


def separate_command(ctx: Context, model_path: Path, wav: Path, out: Path) -> List[str]:
    return [
        sys.executable, "-m", "espnet2.bin.separate", "--model_path", str(model_path), "--device", ctx.device,
        "--output_dir", str(out), "--subtype", "FLOAT", str(wav),
    ]  # fmt: skip


def run_logged(cmd: List[str], log: Path) -> str:
    """Run `cmd` with this checkout importable; its output goes to `log` and is returned. A non-zero exit
    raises with the command and the last lines of its output."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log.write_text(f"$ {' '.join(cmd)}\n{proc.stdout}")
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-15:])
        raise RuntimeError(f"exit status {proc.returncode} of {cmd[1:4]} ... (log: {log}):\n{tail}")
    return proc.stdout


# ---------------------------------------------------------------- the checks
def synchronized_clock(device: str) -> float:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter()


def nonfinite_grads(model: torch.nn.Module) -> List[str]:
    return [n for n, p in model.named_parameters() if p.grad is not None and not torch.isfinite(p.grad).all()]


def check_amp(ctx: Context) -> str:
    """The flagship's training step (forward, backward, AdamW) under bfloat16 and float16 autocast.

    float16 goes through torch.amp.GradScaler: a step whose gradients overflow is skipped and the scale halved
    (from 2^16: an untrained model's first steps overflow), up to MAX_OVERFLOWS; --steps updates must be made.
    Times: medians over the steps after the first.
    """
    from espnet2.enh.presets import build_model, preset_config

    voices = [two_voices(ctx.seconds, seed) for seed in range(AMP_BATCH)]
    refs = [torch.from_numpy(np.stack([v[j] for v in voices])).to(ctx.device) for j in range(2)]  # J x [B, N]
    mix = refs[0] + refs[1]
    parts = []
    for dtype in (torch.bfloat16, torch.float16):
        name = str(dtype).replace("torch.", "")
        torch.manual_seed(0)
        model = build_model(preset_config("flagship"), ctx.device).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1.0e-4)
        scaler = torch.amp.GradScaler(ctx.device) if dtype == torch.float16 else None
        forward_ms, step_ms, updates, overflows = [], [], 0, 0
        while updates < ctx.steps:
            optimizer.zero_grad(set_to_none=True)
            start = synchronized_clock(ctx.device)
            with torch.autocast(ctx.device, dtype=dtype):
                loss, _, _ = model(mix, speech_ref1=refs[0], speech_ref2=refs[1])
            forward_end = synchronized_clock(ctx.device)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{name}: loss {loss.item()} at update {updates + 1}")
            if scaler is None:
                loss.backward()
            else:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
            bad = nonfinite_grads(model)
            if bad and (scaler is None or overflows == MAX_OVERFLOWS):
                where = f"after {overflows} overflows (GradScaler scale {scaler.get_scale():g})" if scaler else ""
                raise FloatingPointError(f"{name}: non-finite gradients {where}: {', '.join(bad[:5])}")
            overflows, updates = overflows + bool(bad), updates + (not bad)
            if scaler is None:
                optimizer.step()
            else:
                scaler.step(optimizer)  # skipped when the gradients overflowed
                scaler.update()
            end = synchronized_clock(ctx.device)
            forward_ms.append(1000 * (forward_end - start))
            step_ms.append(1000 * (end - start))
        forward_ms, step_ms = forward_ms[1:] or forward_ms, step_ms[1:] or step_ms  # after the warm-up
        part = f"{name} forward {np.median(forward_ms):.1f} ms, step {np.median(step_ms):.1f} ms"
        if scaler is not None:
            part += f" ({overflows} overflows skipped, scale {scaler.get_scale():g})"
        parts.append(part)
    return f"flagship, batch {AMP_BATCH} x {ctx.seconds:g} s: " + "; ".join(parts)


# the fused attention kernels (forward; each has a _backward), as the dispatcher names them
FUSED_ATTENTION = {
    "_scaled_dot_product_flash_attention": "flash",
    "_scaled_dot_product_flash_attention_for_cpu": "flash",
    "_scaled_dot_product_efficient_attention": "efficient",
}


class AttentionKernels(TorchDispatchMode):
    """Counts the fused attention kernels that run inside it: {"flash": calls, ...} (forward calls)."""

    def __init__(self):
        super().__init__()
        self.calls: Dict[str, int] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kernel = FUSED_ATTENTION.get(func.overloadpacket.__name__)
        if kernel is not None:
            self.calls[kernel] = self.calls.get(kernel, 0) + 1
        return func(*args, **(kwargs or {}))


def fused_attention_calls(fn: Callable[[], None]) -> Dict[str, int]:
    """Run `fn` with math attention disabled (a call that would need it raises); {kernel: forward calls}."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION]), AttentionKernels() as counter:
        fn()
    return counter.calls


def check_attention(ctx: Context) -> str:
    """One self-attention layer of the flagship in float32 and the autocast dtypes, then the flagship's forward
    and backward under bfloat16; every call must run a fused kernel."""
    from espnet2.enh.layers.tflocoformer import MultiHeadSelfAttention
    from espnet2.enh.presets import build_model, preset_config

    torch.manual_seed(0)
    model = build_model(preset_config("flagship"), ctx.device).train()
    layer = next(m for m in model.modules() if isinstance(m, MultiHeadSelfAttention))
    frames = int(ctx.seconds * FS) // 64 + 1  # the flagship's hop is 64
    x = torch.randn(2, frames, 65, layer.qkv.in_features, device=ctx.device, requires_grad=True)  # [B, T, F, C]
    parts = []
    dtypes = [torch.float32, torch.bfloat16] + ([torch.float16] if ctx.device == "cuda" else [])
    for dtype in dtypes:
        name = str(dtype).replace("torch.", "")
        autocast = torch.autocast(ctx.device, dtype=dtype) if dtype != torch.float32 else contextlib.nullcontext()

        def call():
            with autocast:
                out = layer(x)
            out.float().square().mean().backward()

        kernels = fused_attention_calls(call)  # also the warm-up of the timing below
        if not kernels:
            raise RuntimeError(f"{name}: no fused attention kernel ran (the layer did not call SDPA)")
        start = synchronized_clock(ctx.device)
        call()
        parts.append(f"{name} {'+'.join(kernels)} {1000 * (synchronized_clock(ctx.device) - start):.1f} ms")

    voices = two_voices(ctx.seconds, 0)
    refs = [torch.from_numpy(v)[None].to(ctx.device) for v in voices]

    def flagship():
        with torch.autocast(ctx.device, dtype=torch.bfloat16):
            loss, _, _ = model(refs[0] + refs[1], speech_ref1=refs[0], speech_ref2=refs[1])
        loss.backward()

    kernels = fused_attention_calls(flagship)
    if not kernels:
        raise RuntimeError("the flagship's forward ran no fused attention kernel")
    calls = ", ".join(f"{n} {k}" for k, n in kernels.items())
    return f"layer [2, {frames}, 65, {x.shape[-1]}] fwd+bwd: " + "; ".join(parts) + f"; flagship bf16: {calls} calls"


def trainer_throughput(ctx: Context, exp: Path, batch_size: int) -> str:
    """Check the experiment folder of a finished 2-epoch run; steps/s of epoch 2 from its checkpoint."""
    for name in ("checkpoint.pth", "2epoch.pth", "config.yaml"):
        if not (exp / name).exists():
            raise FileNotFoundError(f"{exp / name} was not written (see {exp / 'train.log'})")
    checkpoint = torch.load(exp / "checkpoint.pth", map_location="cpu", weights_only=True)
    stats = checkpoint["reporter"]["stats"]
    train, valid = stats[2]["train"], stats[2]["valid"]
    if not (np.isfinite(train["loss"]) and np.isfinite(valid["loss"])):
        raise FloatingPointError(f"epoch 2: train loss {train['loss']}, valid loss {valid['loss']}")
    steps = train["total_count"] - stats[1]["train"]["total_count"]  # total_count: updates so far
    if steps != ctx.steps:
        raise RuntimeError(f"epoch 2 made {steps} updates, not --steps {ctx.steps}")
    amp = "float16 + GradScaler" if checkpoint.get("scaler") else "bfloat16"
    memory = f", {train['gpu_max_cached_mem_GB']:.2f} GB reserved" if "gpu_max_cached_mem_GB" in train else ""
    if train.get("nonfinite_rate"):  # steps skipped for a non-finite loss or gradient
        memory += f", {100 * train['nonfinite_rate']:.0f}% of the steps non-finite"
    return (
        f"{ctx.steps / train['time']:.2f} steps/s (epoch 2: {ctx.steps} steps of batch {batch_size} x "
        f"{ctx.seconds:g} s, {ctx.preset}, AMP {amp}{memory}; train loss {train['loss']:.3g})"
    )


def check_train(ctx: Context) -> str:
    config = ctx.work / "train.yaml"
    config.write_text(yaml.safe_dump(train_config(ctx, BATCH_PER_PROCESS)))
    exp = ctx.work / "exp" / "train"
    run_logged(trainer_command(ctx, config, exp, processes=1), ctx.work / "train.log")
    detail = trainer_throughput(ctx, exp, BATCH_PER_PROCESS)
    ctx.trained = exp
    return detail


def check_ddp(ctx: Context) -> str:
    processes = ctx.ddp_processes
    if processes < 2:
        raise Skip("one GPU is visible; DDP needs 2 or more")
    batch_size = BATCH_PER_PROCESS * processes  # --batch_size is global
    config = ctx.work / "ddp.yaml"
    config.write_text(yaml.safe_dump(train_config(ctx, batch_size)))
    exp = ctx.work / "exp" / "ddp"
    run_logged(trainer_command(ctx, config, exp, processes), ctx.work / "ddp.log")
    backend = "NCCL" if ctx.device == "cuda" else "gloo"
    return f"{processes} processes ({backend}): " + trainer_throughput(ctx, exp, batch_size)


def write_random_model(ctx: Context, directory: Path) -> Path:
    """config.yaml + a .pth of --preset with random weights (when the train check did not run)."""
    from espnet2.enh.presets import build_model, preset_config

    directory.mkdir(parents=True, exist_ok=True)
    config = preset_config(ctx.preset)
    (directory / "config.yaml").write_text(yaml.safe_dump(config))
    torch.manual_seed(0)
    torch.save(build_model(config).state_dict(), directory / "valid.loss.best.pth")
    return directory


def check_separate(ctx: Context) -> str:
    if ctx.trained is not None:
        # the file, not the folder: a trainer's folder holds valid.loss.ave.pth and its target valid.loss.ave_1best.pth
        model, what = ctx.trained / "valid.loss.ave.pth", f"{ctx.preset} trained by the train check"
    else:
        model, what = write_random_model(ctx, ctx.work / "exp" / "random"), f"{ctx.preset}, random weights"
    wav = ctx.work / "two_voices.wav"
    voices = two_voices(ctx.seconds, 7)
    soundfile.write(wav, voices[0] + voices[1], FS, subtype="FLOAT")
    out = ctx.work / "separated"
    stdout = run_logged(separate_command(ctx, model, wav, out), ctx.work / "separate.log")
    for j in (1, 2):
        est, fs = soundfile.read(out / f"two_voices_spk{j}.wav", dtype="float32")
        if fs != FS or len(est) != len(voices[0]) or not np.isfinite(est).all():
            raise RuntimeError(
                f"two_voices_spk{j}.wav: {len(est)} samples at {fs} Hz, finite: {np.isfinite(est).all()}"
            )
    rtf = re.search(r"real-time factor ([0-9.]+)", stdout)
    if rtf is None:
        raise RuntimeError(f"separate.py printed no real-time factor:\n{stdout}")
    return f"RTF {rtf.group(1)} ({ctx.seconds:g} s of audio, {what})"


CHECK_FUNCTIONS: Dict[str, Callable[[Context], str]] = {
    "amp": check_amp,
    "attention": check_attention,
    "train": check_train,
    "ddp": check_ddp,
    "separate": check_separate,
}


# ---------------------------------------------------------------- running and reporting
def run_check(name: str, ctx: Context) -> Result:
    start = time.perf_counter()
    try:
        status, detail = "PASS", CHECK_FUNCTIONS[name](ctx)
    except Skip as e:
        status, detail = "SKIP", str(e)
    except Exception as e:  # the message and where it was raised; the other checks go on
        where = traceback.extract_tb(e.__traceback__)[-1]
        message = "".join(traceback.format_exception_only(type(e), e)).rstrip()
        status, detail = "FAIL", f"{message}\n(raised at {where.filename}:{where.lineno}, in {where.name})"
    return Result(name, status, time.perf_counter() - start, detail)


def format_result(result: Result) -> str:
    """`name  STATUS  seconds  detail`; the lines of a failure's detail indented below."""
    first, *rest = result.detail.splitlines() or [""]
    line = f"{result.name:<10} {result.status:<4} {result.seconds:7.1f} s  {first}"
    return "\n".join([line] + [f"    {r}" for r in rest])


def summary(results: List[Result]) -> str:
    names = {s: [r.name for r in results if r.status == s] for s in ("PASS", "FAIL", "SKIP")}
    failed = f" ({', '.join(names['FAIL'])})" if names["FAIL"] else ""
    return f"summary: {len(names['PASS'])} passed, {len(names['FAIL'])} failed{failed}, {len(names['SKIP'])} skipped"


def no_gpu_reason() -> Optional[str]:
    """Why CUDA cannot be used here (None when it can)."""
    if torch.cuda.is_available():
        return None
    if torch.version.cuda is None:
        return (
            f"torch {torch.__version__} is a CPU-only build. Install a CUDA build: tools/setup_venv.sh --cuda cu126 "
            "(or pip install torch --index-url https://download.pytorch.org/whl/cu126)"
        )
    devices = os.environ.get("CUDA_VISIBLE_DEVICES")
    return (
        f"torch {torch.__version__} is built for CUDA {torch.version.cuda}, but no GPU is visible"
        + (f" (CUDA_VISIBLE_DEVICES={devices!r})" if devices is not None else "")
        + ". Check the driver with nvidia-smi, and that the driver supports this CUDA version"
    )


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The module docstring as written, and each option's default."""


def get_parser() -> argparse.ArgumentParser:
    from espnet2.enh.presets import PRESETS

    parser = argparse.ArgumentParser(prog="gpu_check.py", description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--checks", default=",".join(CHECKS), help=f"comma-separated subset of {','.join(CHECKS)}")
    parser.add_argument(
        "--steps", type=int, default=10, help="updates per check (amp: per dtype; train, ddp: per epoch)"
    )
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="length of the generated utterances and of the separate.py input"
    )
    parser.add_argument(
        "--preset",
        default="tiny",
        choices=sorted(PRESETS),
        help="model of train, ddp and separate (amp, attention: the flagship)",
    )
    parser.add_argument(
        "--keep",
        default=None,
        metavar="DIR",
        help="work in DIR and keep it (None: a temporary folder, removed at the end)",
    )
    parser.add_argument("--allow_no_gpu", action="store_true", help="exit 0 when there is no CUDA GPU (for CI)")
    parser.add_argument(
        "--device",
        default="cuda",
        choices=["cuda", "cpu"],
        help="cpu: the same checks on the CPU, a dry run of the command lines (amp is slow there)",
    )
    return parser


def main(cmd: Optional[List[str]] = None) -> int:
    parser = get_parser()
    args = parser.parse_args(cmd)
    checks = [c for c in args.checks.split(",") if c]
    unknown = [c for c in checks if c not in CHECKS]
    if unknown or not checks:
        parser.error(f"--checks {args.checks}: unknown {', '.join(unknown) or 'empty list'}; choose from {CHECKS}")
    if args.steps < 1:
        parser.error(f"--steps {args.steps}: at least 1")
    if args.seconds <= 0:
        parser.error(f"--seconds {args.seconds}: must be positive")

    if args.device == "cuda":
        reason = no_gpu_reason()
        if reason is not None:
            print(f"gpu_check: no CUDA GPU: {reason}.")
            if args.allow_no_gpu:
                print(f"gpu_check: --allow_no_gpu: {len(checks)} check(s) skipped, exit status 0")
                return 0
            print(f"gpu_check: exit status {NO_GPU_STATUS} (--allow_no_gpu makes it 0)")
            return NO_GPU_STATUS
        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        print(
            f"gpu_check: torch {torch.__version__} (CUDA {torch.version.cuda}), {len(gpus)} GPU(s): {', '.join(gpus)}"
        )
    else:
        print(f"gpu_check: torch {torch.__version__} on the CPU (--device cpu: a dry run of the checks)")

    if args.keep:
        work = Path(args.keep).resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    processes = torch.cuda.device_count() if args.device == "cuda" else CPU_DDP_PROCESSES
    ctx = Context(args.device, args.steps, args.seconds, args.preset, work, ddp_processes=processes)
    results = []
    try:
        for name in checks:
            results.append(run_check(name, ctx))
            print(format_result(results[-1]), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(summary(results) + (f"; work dir kept in {work}" if args.keep else ""))
    return 1 if any(r.status == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
