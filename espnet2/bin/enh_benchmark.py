"""Speed benchmark of a separation model: forward time, RTF, peak memory, FLOPs and GFLOP/s per M_re.

Also measures, in the same run and on the same threads, the GFLOP/s of a large float32 matmul (the ceiling
for this machine), and the time of one training step (forward, backward, AdamW) of a small config.

    python -m espnet2.bin.enh_benchmark                       # flagship TISDiSS, 2 s at 8 kHz, M_re 1 3 6
    python -m espnet2.bin.enh_benchmark --config conf/x.yaml --seconds 4 --m_re 1 2 4 8
    python -m espnet2.bin.enh_benchmark --device cuda --amp bf16
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
from espnet2.utils.allocator import tune_allocator
from espnet2.utils.config_io import load_config


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


def peak_memory_cpu(args: argparse.Namespace, m_re: Optional[int]) -> Optional[int]:
    """Peak RSS of one forward above the RSS before it, in a fresh process (a process that has already run
    the model keeps freed memory, which would hide the peak)."""
    cmd = [sys.executable, "-m", "espnet2.bin.enh_benchmark", "--peak_memory_child", "--seconds", str(args.seconds),
           "--fs", str(args.fs), "--batch", str(args.batch), "--threads", str(torch.get_num_threads())]  # fmt: skip
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
    mix = torch.randn(args.batch, int(args.seconds * args.fs))
    gc.collect()
    base = rss_bytes("VmRSS")
    with torch.inference_mode():
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


def matmul_gflops(device: str, size: int = 2048, repeats: int = 5) -> float:
    """Throughput of a large float32 matmul on the current threads (the machine's practical ceiling)."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    out = torch.empty(size, size, device=device)
    seconds = median_time(lambda: torch.mm(a, b, out=out), device, repeats, warmup=2)
    return 2 * size**3 / seconds / 1e9


def autocast_context(device: str, amp: Optional[str]):
    if amp is None:
        return nullcontext()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[amp]
    return torch.autocast(device_type="cuda" if device.startswith("cuda") else "cpu", dtype=dtype)


# ------------------------------------------------------------------ benchmarks
def benchmark_forward(model, args: argparse.Namespace, m_res: List[Optional[int]]) -> List[Dict]:
    """Per M_re: forward wall time, RTF, peak memory, FLOPs and GFLOP/s (inference: main estimate only)."""
    model.eval()
    device, amp, seconds, batch = args.device, args.amp, args.seconds, args.batch
    mix = torch.randn(batch, int(seconds * args.fs), device=device)
    rows = []
    for m_re in m_res:
        if m_re is not None:
            model.set_m_re(m_re)

        def run():
            with torch.inference_mode(), autocast_context(device, amp):
                return model.separate(mix)

        flops = count_flops(run)
        wall = median_time(run, device, args.repeats)
        mem = peak_memory_cuda(run) if device.startswith("cuda") else peak_memory_cpu(args, m_re)
        rows.append(dict(m_re=m_re, seconds=wall, rtf=wall / (seconds * batch), peak_mem=mem, flops=flops,
                         gflops=flops / wall / 1e9))  # fmt: skip
    return rows


def benchmark_train_step(config: dict, device: str, batch: int, seconds: float, fs: int, repeats: int,
                         amp: Optional[str]) -> float:  # fmt: skip
    """Median seconds of one training step: forward (all exits, PIT SI-SNR), backward, AdamW."""
    torch.manual_seed(0)
    model = build_model(config, device).train()
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
    n = int(seconds * fs)
    num_spk = model.num_spk
    refs = {f"speech_ref{j + 1}": torch.randn(batch, n, device=device) for j in range(num_spk)}
    mix = sum(refs.values())

    def step():
        optim.zero_grad(set_to_none=True)
        with autocast_context(device, amp):
            loss, _, _ = model(mix, None, **refs)
        loss.backward()
        optim.step()

    return median_time(step, device, repeats, warmup=2)


def fmt_bytes(n: Optional[int]) -> str:
    return "n/a" if n is None else f"{n / 2**20:.0f} MiB"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=str, default=None, help="ESPnet-Enh training config (YAML)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="flagship", help="model when no --config")
    parser.add_argument("--seconds", type=float, default=2.0, help="audio length of the forward benchmark")
    parser.add_argument("--fs", type=int, default=8000, help="sample rate")
    parser.add_argument("--batch", type=int, default=1, help="utterances per forward")
    parser.add_argument("--m_re", type=int, nargs="+", default=[1, 3, 6], help="refinement repeats to time")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--amp", choices=["bf16", "fp16"], default=None, help="autocast dtype (CUDA)")
    parser.add_argument("--train_preset", choices=sorted(PRESETS), default="tiny",
                        help="config whose training step is timed")  # fmt: skip
    parser.add_argument("--train_batch", type=int, default=4)
    parser.add_argument("--train_seconds", type=float, default=1.0)
    parser.add_argument("--train_repeats", type=int, default=5)
    parser.add_argument("--skip_train", action="store_true", help="do not time the training step")
    parser.add_argument("--peak_memory_child", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    args = get_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.peak_memory_child:
        return peak_memory_child_main(args)
    tune_allocator()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("--device cuda: no CUDA device is visible to PyTorch; use --device cpu")
    config = load_config(args.config) if args.config else preset_config(args.preset)
    model = build_model(config, args.device)
    n_params = sum(p.numel() for p in model.parameters())
    m_res = args.m_re if isinstance(model.separator, AbsRefiningSeparator) else [None]
    name = args.config or args.preset
    print(
        f"# model: {name} ({n_params:,} parameters); {args.seconds:g} s at {args.fs} Hz, batch {args.batch}; "
        f"device {args.device}, {torch.get_num_threads()} threads, amp {args.amp or 'off'}, torch {torch.__version__}"
    )

    if args.device == "cpu":
        state = "on" if cpu_kernels.usable(torch.zeros(1)) else "off (PyTorch operations)"
        print(f"# CPU kernels (attention for heads <= {cpu_kernels.MAX_HEAD_DIM}, RMSGroupNorm, SwiGLU gate): {state}")
    peak = matmul_gflops(args.device)
    rows = benchmark_forward(model, args, m_res)
    peak_after = matmul_gflops(args.device)
    matmul = max(peak, peak_after)
    print(f"# float32 matmul 2048^3: {peak:.1f} GFLOP/s before, {peak_after:.1f} after (ratio uses the higher)")
    print("| M_re | forward s | RTF | peak mem | GFLOP | GFLOP/s | ratio to matmul |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['m_re'] if r['m_re'] is not None else '-'} | {r['seconds']:.3f} | {r['rtf']:.3f} | "
            f"{fmt_bytes(r['peak_mem'])} | {r['flops'] / 1e9:.2f} | {r['gflops']:.1f} | {r['gflops'] / matmul:.0%} |"
        )
    if not args.skip_train:
        train_config = preset_config(args.train_preset)
        step = benchmark_train_step(train_config, args.device, args.train_batch, args.train_seconds, args.fs,
                                    args.train_repeats, args.amp)  # fmt: skip
        print(f"# training step ({args.train_preset} config, batch {args.train_batch} x {args.train_seconds:g} s, "
              f"forward + backward + AdamW): {step:.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
