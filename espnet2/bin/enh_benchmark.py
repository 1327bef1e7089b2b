"""Speed benchmark of a separation model: forward time, RTF, peak memory, FLOPs and GFLOP/s per M_re and dtype.

Also measures, in the same run and on the same threads, the GFLOP/s of a large matmul in each dtype (the ceiling
for this machine), the same forward in the published code's order of operations (`published_arithmetic`: the
published implementation's operations, timed as a baseline in the same run), and one training step (forward,
backward, AdamW) of a small config on both paths. `--baseline FILE` adds ratios to seconds measured elsewhere
(e.g. the official code, timed the same way): YAML `forward: {SECONDS: {M_RE: s}}` and `train_step: s`.

    python -m espnet2.bin.enh_benchmark                       # flagship TISDiSS, 1 and 4 s at 8 kHz, M_re 1 3 6
    python -m espnet2.bin.enh_benchmark --config conf/x.yaml --seconds 4 --m_re 1 2 4 8 --dtypes float32
    python -m espnet2.bin.enh_benchmark --device cuda --dtypes float32 bfloat16 float16
"""

import argparse
import gc
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch
from torch.utils.flop_counter import FlopCounterMode

from espnet2.enh.layers import cpu_kernels
from espnet2.enh.presets import PRESETS, build_model, preset_config
from espnet2.enh.separator.abs_refining_separator import AbsRefiningSeparator
from espnet2.enh.separator.published_arithmetic import published_arithmetic
from espnet2.utils.allocator import tune_allocator
from espnet2.utils.config_io import load_config
from espnet2.utils.types import str2bool


# ------------------------------------------------------------------ measurement helpers
def sync(device: str):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def median_time(fn: Callable[[], object], device: str, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rss_bytes(field: str) -> Optional[int]:
    """VmRSS (current) or VmHWM (peak) of this process, from /proc (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def peak_memory_cuda(fn: Callable[[], object]) -> int:
    gc.collect()
    torch.cuda.empty_cache()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    return torch.cuda.max_memory_allocated() - base


def peak_memory_cpu(args: argparse.Namespace, seconds: float, m_re: Optional[int], dtype: str) -> Optional[int]:
    """Peak RSS of one forward above the RSS before it, in a fresh process (a process that has already run
    the model keeps freed memory, which would hide the peak)."""
    cmd = [sys.executable, "-m", "espnet2.bin.enh_benchmark", "--peak_memory_child", "--seconds", str(seconds),
           "--fs", str(args.fs), "--batch", str(args.batch), "--threads", str(torch.get_num_threads()),
           "--dtypes", dtype]  # fmt: skip
    cmd += ["--config", args.config] if args.config else ["--preset", args.preset]
    if m_re is not None:
        cmd += ["--m_re", str(m_re)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    try:
        return int(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        print(f"# peak memory measurement failed: {result.stderr.strip()[-300:]}", file=sys.stderr)
        return None


def peak_memory_child_main(args: argparse.Namespace):
    """--peak_memory_child: build, measure one forward's RSS growth, print it in bytes."""
    model = build_model(load_config(args.config) if args.config else preset_config(args.preset), "cpu").eval()
    if args.m_re and isinstance(model.separator, AbsRefiningSeparator):
        model.set_m_re(args.m_re[0])
    mix = torch.randn(args.batch, int(args.seconds[0] * args.fs))
    gc.collect()
    base = rss_bytes("VmRSS")
    with torch.inference_mode(), autocast_context("cpu", args.dtypes[0]):
        model.separate(mix)
    print(rss_bytes("VmHWM") - base)


def _register_cpu_attention_flops():
    """PyTorch's flop counter knows the CUDA attention kernels but not the CPU flash kernel: count it the same way."""
    from torch.utils import flop_counter

    fwd = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu
    bwd = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward
    if fwd not in flop_counter.flop_registry:
        flop_counter.register_flop_formula(fwd)(  # the formula receives shapes
            lambda query, key, value, *args, out_shape=None, **kwargs: flop_counter.sdpa_flop_count(query, key, value)
        )
    if bwd not in flop_counter.flop_registry:
        flop_counter.register_flop_formula(bwd)(
            lambda grad, query, key, value, *args, out_shape=None, **kwargs: flop_counter.sdpa_backward_flop_count(
                grad, query, key, value
            )
        )


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of fn, counted on PyTorch's kernels (the fused C attention kernel does the same arithmetic,
    invisibly to the counter)."""
    _register_cpu_attention_flops()
    counter = FlopCounterMode(display=False)
    with counter, cpu_kernels.disabled():
        fn()
    return counter.get_total_flops()


def matmul_gflops(device: str, dtype: str = "float32", size: int = 2048, repeats: int = 5) -> float:
    """Throughput of a large matmul in `dtype` on the current threads (the machine's practical ceiling)."""
    a = torch.randn(size, size, device=device, dtype=getattr(torch, dtype))
    b = torch.randn(size, size, device=device, dtype=a.dtype)
    out = torch.empty(size, size, device=device, dtype=a.dtype)
    seconds = median_time(lambda: torch.mm(a, b, out=out), device, repeats, warmup=2)
    return 2 * size**3 / seconds / 1e9


def autocast_context(device: str, dtype: str):
    """float32: nothing; bfloat16 / float16: autocast (as enh_inference --dtype does)."""
    if dtype == "float32":
        return nullcontext()
    return torch.autocast(device_type="cuda" if device.startswith("cuda") else "cpu", dtype=getattr(torch, dtype))


def cpu_bf16_note() -> Optional[str]:
    """None where the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX), else why bfloat16 would be slow."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        flags = set()
    if {"avx512_bf16", "amx_bf16"} & flags:
        return None
    return "this CPU has neither AVX512-BF16 nor AMX: bfloat16 matmuls are emulated and slower than float32"


# ------------------------------------------------------------------ benchmarks
def benchmark_forward(
    model, args: argparse.Namespace, seconds: float, m_res: List[Optional[int]], dtype: str, published: bool = False
) -> List[Dict]:
    """Per M_re: forward wall time, RTF, peak memory, FLOPs and GFLOP/s (inference: main estimate only).
    `published`: in the published order of operations (float32), the same-run baseline; no FLOPs or memory."""
    model.eval()
    device, batch = args.device, args.batch
    mix = torch.randn(batch, int(seconds * args.fs), device=device)
    rows = []
    for m_re in m_res:
        if m_re is not None:
            model.set_m_re(m_re)

        def run():
            with torch.inference_mode(), autocast_context(device, dtype), published_arithmetic(published):
                return model.separate(mix)

        flops = None if published else count_flops(run)
        wall = median_time(run, device, args.repeats)
        mem = None
        if not published:
            mem = peak_memory_cuda(run) if device.startswith("cuda") else peak_memory_cpu(args, seconds, m_re, dtype)
        rows.append(dict(seconds=seconds, m_re=m_re, dtype=dtype, wall=wall, rtf=wall / (seconds * batch),
                         peak_mem=mem, flops=flops))  # fmt: skip
    return rows


def benchmark_train_step(
    config: dict, device: str, batch: int, seconds: float, fs: int, repeats: int, published: bool = False
) -> float:
    """Median seconds of one float32 training step: forward (all exits, PIT SI-SNR), backward, AdamW
    (`published`: in the published order of operations)."""
    torch.manual_seed(0)
    model = build_model(config, device).train()
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
    n = int(seconds * fs)
    num_spk = model.num_spk
    refs = {f"speech_ref{j + 1}": torch.randn(batch, n, device=device) for j in range(num_spk)}
    mix = sum(refs.values())

    def step():
        optim.zero_grad(set_to_none=True)
        with published_arithmetic(published):
            loss, _, _ = model(mix, None, **refs)
            loss.backward()
        optim.step()

    return median_time(step, device, repeats, warmup=2)


def load_baseline(path: Optional[str]) -> dict:
    """--baseline FILE -> {"forward": {(seconds, m_re): s}, "train_step": s or None}."""
    if path is None:
        return {"forward": {}, "train_step": None}
    data = load_config(path)
    if not isinstance(data, dict) or not set(data) <= {"forward", "train_step", "source"}:
        raise ValueError(f"--baseline {path}: expected the keys forward, train_step (and source), got {data!r}")
    forward = {}
    if not isinstance(data.get("forward") or {}, dict):
        raise ValueError(
            f"--baseline {path}: forward: expected {{SECONDS: {{M_RE: seconds}}}}, got {data['forward']!r}"
        )
    for seconds, per_m in (data.get("forward") or {}).items():
        if not isinstance(per_m, dict):
            raise ValueError(f"--baseline {path}: forward: {seconds}: expected {{M_RE: seconds}}, got {per_m!r}")
        for m_re, value in per_m.items():
            forward[(float(seconds), int(m_re))] = float(value)
    train = data.get("train_step")
    return {"forward": forward, "train_step": None if train is None else float(train)}


def ratio(baseline: Optional[float], seconds: Optional[float]) -> str:
    return "-" if baseline is None or not seconds else f"{baseline / seconds:.2f}x"


def fmt_bytes(n: Optional[int]) -> str:
    return "n/a" if n is None else f"{n / 2**20:.0f} MiB"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=str, default=None, help="ESPnet-Enh training config (YAML)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="flagship", help="model when no --config")
    parser.add_argument("--seconds", type=float, nargs="+", default=[1.0, 4.0], help="audio lengths of the forward")
    parser.add_argument("--fs", type=int, default=8000, help="sample rate")
    parser.add_argument("--batch", type=int, default=1, help="utterances per forward")
    parser.add_argument("--m_re", type=int, nargs="+", default=[1, 3, 6], help="refinement repeats to time")
    parser.add_argument(
        "--dtypes", nargs="+", choices=["float32", "bfloat16", "float16"], default=None,
        help="forward dtypes (bfloat16/float16: autocast, as enh_inference --dtype); default float32 and, where "
        "the hardware multiplies it natively (CUDA, or a CPU with AVX512-BF16 / AMX), bfloat16",
    )  # fmt: skip
    parser.add_argument("--amp", choices=["bf16", "fp16"], default=None, help="same as --dtypes bfloat16 / float16")
    parser.add_argument(
        "--published_order", type=str2bool, default=True,
        help="also time the forward and the training step in the published order of operations (float32): the "
        "published implementation's operations, as a same-run baseline",
    )  # fmt: skip
    parser.add_argument("--baseline", default=None, help="YAML of seconds measured elsewhere (see above)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--train_preset", choices=sorted(PRESETS), default="tiny",
                        help="config whose training step is timed")  # fmt: skip
    parser.add_argument("--train_batch", type=int, default=4)
    parser.add_argument("--train_seconds", type=float, default=1.0)
    parser.add_argument("--train_repeats", type=int, default=5)
    parser.add_argument("--skip_train", action="store_true", help="do not time the training step")
    parser.add_argument("--peak_memory_child", action="store_true", help=argparse.SUPPRESS)
    return parser


def default_dtypes(device: str) -> List[str]:
    if device.startswith("cuda") or cpu_bf16_note() is None:
        return ["float32", "bfloat16"]
    return ["float32"]


def main(argv=None):
    args = get_parser().parse_args(argv)
    if args.amp:
        args.dtypes = [{"bf16": "bfloat16", "fp16": "float16"}[args.amp]]
    args.dtypes = args.dtypes or default_dtypes(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.peak_memory_child:
        return peak_memory_child_main(args)
    tune_allocator()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("--device cuda: no CUDA device is visible to PyTorch; use --device cpu")
    if "float16" in args.dtypes and not args.device.startswith("cuda"):
        sys.exit("--dtypes float16: autocast to float16 is for CUDA; use bfloat16 on CPU")
    baseline = load_baseline(args.baseline)
    config = load_config(args.config) if args.config else preset_config(args.preset)
    model = build_model(config, args.device)
    n_params = sum(p.numel() for p in model.parameters())
    refining = isinstance(model.separator, AbsRefiningSeparator)
    m_res = args.m_re if refining else [None]
    name = args.config or args.preset
    print(
        f"# model: {name} ({n_params:,} parameters); batch {args.batch} at {args.fs} Hz; device {args.device}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    if args.device == "cpu":
        state = "on" if cpu_kernels.usable(torch.zeros(1)) else "off (PyTorch operations)"
        print(
            f"# CPU kernels (attention for heads <= {cpu_kernels.MAX_HEAD_DIM} in training, "
            f"<= {cpu_kernels.MAX_HEAD_DIM_INFERENCE} in inference; RMSGroupNorm, SwiGLU gate): {state}"
        )
        note = cpu_bf16_note()
        if note and "bfloat16" in args.dtypes:
            print(f"# bfloat16: {note}")
    published = args.published_order and model.separator.__class__.__name__ == "TISDiSSSeparator"
    peaks = {dtype: [matmul_gflops(args.device, dtype)] for dtype in args.dtypes}
    rows = []
    for seconds in args.seconds:
        for dtype in args.dtypes:
            rows += benchmark_forward(model, args, seconds, m_res, dtype)
        if published:
            rows += benchmark_forward(model, args, seconds, m_res, "float32", published=True)
    for dtype in args.dtypes:
        peaks[dtype].append(matmul_gflops(args.device, dtype))
        print(f"# {dtype} matmul 2048^3: {peaks[dtype][0]:.1f} GFLOP/s before, {peaks[dtype][1]:.1f} after "
              "(ratios use the higher)")  # fmt: skip
    print_forward_table(rows, peaks, baseline)
    if not args.skip_train:
        train_config = preset_config(args.train_preset)
        timing = dict(device=args.device, batch=args.train_batch, seconds=args.train_seconds, fs=args.fs,
                      repeats=args.train_repeats)  # fmt: skip
        step = benchmark_train_step(train_config, **timing)
        what = f"training step ({args.train_preset} config, batch {args.train_batch} x {args.train_seconds:g} s, "
        print(f"# {what}forward + backward + AdamW, float32): {step:.3f} s")
        if published:
            step_published = benchmark_train_step(train_config, **timing, published=True)
            print(f"# {what}published order of operations): {step_published:.3f} s ({ratio(step_published, step)})")
        if baseline["train_step"] is not None:
            print(f"# training step, baseline {baseline['train_step']:.3f} s: {ratio(baseline['train_step'], step)}")


def print_forward_table(rows: List[Dict], peaks: Dict[str, List[float]], baseline: dict):
    """One row per (seconds, M_re, path); speedups against the published order of the same run and the baseline."""
    published = {(r["seconds"], r["m_re"]): r["wall"] for r in rows if r["flops"] is None}
    print("| audio s | M_re | path | forward s | RTF | peak mem | GFLOP | GFLOP/s | ratio to matmul | "
          "vs published order | vs baseline |")  # fmt: skip
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        key = (r["seconds"], r["m_re"])
        m_re = r["m_re"] if r["m_re"] is not None else "-"
        if r["flops"] is None:  # the published order itself
            cells = ["published order, float32", f"{r['wall']:.3f}", f"{r['rtf']:.3f}", "-", "-", "-", "-", "1.00x"]
        else:
            gflops = r["flops"] / r["wall"] / 1e9
            cells = [r["dtype"], f"{r['wall']:.3f}", f"{r['rtf']:.3f}", fmt_bytes(r["peak_mem"]),
                     f"{r['flops'] / 1e9:.2f}", f"{gflops:.1f}", f"{gflops / max(peaks[r['dtype']]):.0%}",
                     ratio(published.get(key), r["wall"])]  # fmt: skip
        cells.append(ratio(baseline["forward"].get((r["seconds"], r["m_re"])), r["wall"]))
        print(f"| {r['seconds']:g} | {m_re} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
