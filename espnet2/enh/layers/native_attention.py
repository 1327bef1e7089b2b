"""Fused RoPE self-attention for CPUs and small heads: a C kernel built on first use, with a PyTorch fallback.

PyTorch's CPU attention kernels are slow for head dimensions of 16 and less (the tiny and mini-recipe configs
use 8): per score they spend several times what the arithmetic costs, and they do not scale with threads.
`rope_attention.c` computes rotary embedding, scores, softmax and the weighted sum in one pass per (batch,
head), forward and backward, reading q, k and v straight out of the qkv projection and writing gradients
straight into its layout. It is compiled with the system C compiler (`$CC`, default gcc) into a cache folder
(`$TISDISS_KERNEL_DIR`, default `~/.cache/tisdiss/kernels`) the first time a model needs it; where no compiler
works the model silently uses PyTorch's kernels (same math). `TISDISS_NATIVE_ATTENTION=0` turns it off.
"""

import contextlib
import ctypes
import hashlib
import logging
import os
import platform
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Optional

import torch

SOURCE = Path(__file__).with_name("rope_attention.c")
CFLAGS = ["-O3", "-march=native", "-fopenmp", "-fPIC", "-shared"]
MAX_HEAD_DIM = 16  # above this PyTorch's fused kernel is efficient enough

_lock = threading.Lock()
_library = None  # ctypes.CDLL, or False when building failed
_enabled = os.environ.get("TISDISS_NATIVE_ATTENTION", "1") != "0"


def cache_dir() -> Path:
    if os.environ.get("TISDISS_KERNEL_DIR"):
        return Path(os.environ["TISDISS_KERNEL_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tisdiss" / "kernels"


def _machine_tag() -> bytes:
    """What -march=native depends on: a library built for one CPU must not load on another."""
    tag = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            tag += "".join(line for line in f if line.startswith(("flags", "model name")))[:4096]
    except OSError:
        pass
    return tag.encode()


def _compile(compiler: str, target: Path) -> None:
    """Build into a temporary file next to `target`, then rename: concurrent processes never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        for libs in (["-lm", "-lmvec"], ["-lm"]):  # libmvec: glibc's vector expf
            cmd = [compiler, *CFLAGS, "-o", tmp, str(SOURCE), *libs]
            result = subprocess.run(cmd, capture_output=True, text=True)
            if result.returncode == 0:
                os.replace(tmp, target)
                return
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr.strip()[-2000:]}")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_library() -> Optional[ctypes.CDLL]:
    """The compiled kernel (built and cached on first call), or None where it cannot be built or loaded."""
    global _library
    with _lock:
        if _library is None:
            _library = _build_and_load() or False
        return _library or None


def _build_and_load() -> Optional[ctypes.CDLL]:
    compiler = os.environ.get("CC", "gcc")
    key = hashlib.sha256(SOURCE.read_bytes() + " ".join([compiler, *CFLAGS]).encode() + _machine_tag())
    target = cache_dir() / f"rope_attention_{key.hexdigest()[:16]}.so"
    try:
        if not target.exists():
            _compile(compiler, target)
        lib = ctypes.CDLL(str(target))
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        logging.warning(f"Native attention kernel unavailable, using PyTorch's kernels ({e})")
        return None
    f32, i64 = ctypes.c_void_p, ctypes.c_long
    lib.rope_attention_forward.argtypes = [f32] * 5 + [i64] * 5 + [ctypes.c_float, ctypes.c_int]
    lib.rope_attention_backward.argtypes = [f32] * 7 + [i64] * 5 + [ctypes.c_float, ctypes.c_int]
    lib.rope_attention_forward.restype = lib.rope_attention_backward.restype = ctypes.c_int
    return lib


def usable(qkv: torch.Tensor, head_dim: int) -> bool:
    """Whether `rope_attention` may run on this projection output (CPU float32, small heads, kernel built)."""
    return (
        _enabled
        and head_dim <= MAX_HEAD_DIM
        and qkv.device.type == "cpu"
        and qkv.dtype == torch.float32
        and not torch.is_autocast_enabled("cpu")
        and load_library() is not None
    )


@contextlib.contextmanager
def disabled():
    """Use PyTorch's kernels inside the block (e.g. to count FLOPs with torch.utils.flop_counter)."""
    global _enabled
    previous, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = previous


def rope_attention(qkv: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, n_heads: int) -> torch.Tensor:
    """qkv [A, L, R, 3*H*h] (projection output; attention along L) -> [A, L, R, H*h], RoPE on q and k.

    cos, sin: [L, h/2] of the angles position * freqs. Differentiable with respect to qkv.
    """
    return RoPEAttentionFunction.apply(qkv, cos, sin, n_heads)


class RoPEAttentionFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, qkv, cos, sin, n_heads):
        a, seq_len, r, width = qkv.shape
        head_dim = width // (3 * n_heads)
        qkv, cos, sin = qkv.contiguous(), cos.contiguous(), sin.contiguous()
        out = qkv.new_empty(a, seq_len, r, n_heads * head_dim)
        lse = qkv.new_empty(a, r, n_heads, seq_len)
        dims = (a, seq_len, r, n_heads, head_dim, head_dim**-0.5, torch.get_num_threads())
        _check(load_library().rope_attention_forward(*_ptrs(qkv, cos, sin, out, lse), *dims))
        ctx.save_for_backward(qkv, cos, sin, out, lse)
        ctx.dims = dims
        return out

    @staticmethod
    def backward(ctx, dout):
        qkv, cos, sin, out, lse = ctx.saved_tensors
        dqkv = torch.empty_like(qkv)
        dout = dout.contiguous()
        dims = ctx.dims[:-1] + (torch.get_num_threads(),)
        ptrs = _ptrs(qkv, cos, sin, out, lse, dout, dqkv)
        _check(load_library().rope_attention_backward(*ptrs, *dims))
        return dqkv, None, None, None


def _ptrs(*tensors: torch.Tensor):
    return tuple(t.data_ptr() for t in tensors)


def _check(status: int):
    if status != 0:
        raise MemoryError("rope_attention: out of memory for the per-thread work buffers")
