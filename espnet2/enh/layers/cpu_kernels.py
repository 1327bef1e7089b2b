"""Fused C kernels for the TF-Locoformer layers on CPU, built on first use, with PyTorch fallbacks.

Once the FFN matmuls are efficient, what is left of a training step on a CPU is mostly operations that PyTorch
runs as many small passes: attention with small heads (head dimension <= 16, e.g. 8 in the tiny and mini-recipe
configs), whose per-score overhead in PyTorch's kernels is several times the arithmetic, RMSGroupNorm, the SwiGLU
gate of the FFNs and their overlap-add (`shifted_sum`). `cpu_kernels.c` does each in one pass forward and one
backward (attention: RoPE, scores, softmax and weighted sum per (batch, head), reading q, k and v straight out of
the qkv projection). In inference the attention kernel also takes heads up to 64 on sequences of up to 65536 / h
(the flagship's 32 over the 65 frequencies or over up to 2048 frames; 1.1-2x faster than PyTorch's flash kernel
with its RoPE on 2 threads; beyond that the flash kernel's blocking is as fast or faster), and under bfloat16
autocast it runs on q, k and v widened to float32, so scores and softmax stay float32.

The C file is compiled with the system compiler (`$CC`, default gcc) into a cache folder
(`$TISDISS_KERNEL_DIR`, default `~/.cache/tisdiss/kernels`) the first time a model needs it. Where no compiler
works, a warning says so and the layers use PyTorch's operations (same math). `TISDISS_CPU_KERNELS=0` turns the
kernels off; `disabled()` does so inside a block.
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

SOURCE = Path(__file__).with_name("cpu_kernels.c")
CFLAGS = ["-O3", "-march=native", "-fopenmp", "-fPIC", "-shared"]
MAX_HEAD_DIM = 16  # training: above this PyTorch's fused attention (forward + backward) is as fast
MAX_HEAD_DIM_INFERENCE = 64  # inference: the kernel's own limit, for sequences up to ...
MAX_SEQUENCE_X_HEAD_DIM = 65536  # ... this many values of k (and of v) per (batch, head), beyond MAX_HEAD_DIM
SWIGLU_DTYPES = (torch.float32, torch.bfloat16)  # what `swiglu` and `shifted_sum` take, with or without autocast

_lock = threading.Lock()
_library = None  # ctypes.CDLL, or False when building failed
_enabled = os.environ.get("TISDISS_CPU_KERNELS", "1") != "0"


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
        cmd = [compiler, *CFLAGS, "-o", tmp, str(SOURCE), "-lm"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr.strip()[-2000:]}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_library() -> Optional[ctypes.CDLL]:
    """The compiled kernels (built and cached on first call), or None where they cannot be built or loaded."""
    global _library
    with _lock:
        if _library is None:
            _library = _build_and_load() or False
        return _library or None


def _build_and_load() -> Optional[ctypes.CDLL]:
    compiler = os.environ.get("CC", "gcc")
    key = hashlib.sha256(SOURCE.read_bytes() + " ".join([compiler, *CFLAGS]).encode() + _machine_tag())
    target = cache_dir() / f"cpu_kernels_{key.hexdigest()[:16]}.so"
    try:
        if not target.exists():
            _compile(compiler, target)
        lib = ctypes.CDLL(str(target))
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        logging.warning(f"CPU kernels unavailable, using PyTorch's operations ({e})")
        return None
    ptr, i64, f32, i32 = ctypes.c_void_p, ctypes.c_long, ctypes.c_float, ctypes.c_int
    signatures = {
        "rope_attention_forward": [ptr] * 5 + [i64] * 5 + [f32, i32],
        "rope_attention_backward": [ptr] * 7 + [i64] * 5 + [f32, i32],
        "rms_group_norm_forward": [ptr] * 4 + [i64] * 3 + [f32, i32],
        "rms_group_norm_forward_bf16": [ptr] * 4 + [i64] * 3 + [f32, i32],
        "rms_group_norm_backward": [ptr] * 6 + [i64] * 3 + [f32, i32],
        "swiglu_forward": [ptr] * 3 + [i64] * 2 + [i32] * 2,
        "swiglu_forward_bf16": [ptr] * 3 + [i64] * 2 + [i32] * 2,
        "swiglu_backward": [ptr] * 4 + [i64] * 2 + [i32],
        "shifted_sum": [ptr] * 3 + [i64] * 5 + [i32],
        "shifted_sum_bf16": [ptr] * 3 + [i64] * 5 + [i32],
    }
    for name, argtypes in signatures.items():
        getattr(lib, name).argtypes = argtypes
        getattr(lib, name).restype = ctypes.c_int
    return lib


def usable(*tensors: torch.Tensor, dtypes=(torch.float32,)) -> bool:
    """Whether the kernels may run on these tensors: CPU, a dtype of `dtypes` (float32: every kernel; bfloat16:
    `swiglu`), no autocast, enabled, and built."""
    return not torch.is_autocast_enabled("cpu") and _runnable(tensors, dtypes)


def bfloat16_autocast_usable(*tensors: torch.Tensor) -> bool:
    """Whether the bfloat16 inference paths may run (`rms_group_norm_bf16`, `rope_attention` on a widened qkv):
    CPU bfloat16 tensors under CPU autocast to bfloat16, kernels enabled and built."""
    autocast = torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
    return autocast and _runnable(tensors, (torch.bfloat16,))


def _runnable(tensors, dtypes) -> bool:
    return (
        _enabled and all(t.device.type == "cpu" and t.dtype in dtypes for t in tensors) and load_library() is not None
    )


def attention_usable(qkv: torch.Tensor, head_dim: int) -> bool:
    """Whether `rope_attention` applies to qkv [A, L, R, 3*H*h]: float32 with heads up to MAX_HEAD_DIM when it
    needs a gradient; in inference also larger heads (up to MAX_HEAD_DIM_INFERENCE) on sequences whose keys fit
    near the core (L * h <= MAX_SEQUENCE_X_HEAD_DIM: heads of 32 up to L = 2048; PyTorch's blocked flash kernel
    is as fast beyond, e.g. heads of 64 at L = 2000: 228 against 258 ms), and bfloat16 under CPU autocast
    (widened to float32)."""
    if qkv.requires_grad:
        return head_dim <= MAX_HEAD_DIM and usable(qkv)
    if head_dim > MAX_HEAD_DIM and (
        head_dim > MAX_HEAD_DIM_INFERENCE or qkv.shape[1] * head_dim > MAX_SEQUENCE_X_HEAD_DIM
    ):
        return False
    return usable(qkv) or bfloat16_autocast_usable(qkv)


@contextlib.contextmanager
def disabled():
    """Use PyTorch's operations inside the block (e.g. to count FLOPs with torch.utils.flop_counter)."""
    global _enabled
    previous, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = previous


def _ptrs(*tensors: torch.Tensor):
    return tuple(t.data_ptr() for t in tensors)


# The statuses the C functions return (cpu_kernels.c), and what each function refuses as STATUS_BAD_SHAPE.
STATUS_OK, STATUS_NO_MEMORY, STATUS_BAD_SHAPE = 0, 1, 2
SHAPE_RULES = {
    "rope_attention_forward": "the head dimension must be even and at most 64",
    "rope_attention_backward": "the head dimension must be even and at most 64",
    "rms_group_norm_forward": "the channels must be a positive multiple of num_groups",
    "rms_group_norm_forward_bf16": "the channels must be a positive multiple of num_groups",
    "rms_group_norm_backward": "the channels must be a positive multiple of num_groups",
}


def check_status(status: int, kernel: str):
    """Raise, naming the C function `kernel` and its status, unless the status is STATUS_OK."""
    if status == STATUS_OK:
        return
    what = f"CPU kernel {kernel} (cpu_kernels.c) returned status {status}"
    fallback = "; TISDISS_CPU_KERNELS=0 runs PyTorch's operations instead"
    if status == STATUS_NO_MEMORY:
        raise MemoryError(f"{what}: out of memory for its work buffers{fallback}")
    if status == STATUS_BAD_SHAPE:
        raise ValueError(f"{what}: unsupported shape: {SHAPE_RULES.get(kernel, 'see cpu_kernels.c')}{fallback}")
    raise RuntimeError(f"{what}: unknown status (cpu_kernels.c and cpu_kernels.py disagree){fallback}")


def _call(kernel: str, *args):
    """Run the C function `kernel` of the library and check the status it returns."""
    check_status(getattr(load_library(), kernel)(*args), kernel)


def rope_attention(qkv: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, n_heads: int) -> torch.Tensor:
    """qkv [A, L, R, 3*H*h] (projection output; attention along L) -> [A, L, R, H*h], RoPE on q and k.

    cos, sin: [L, h/2] of the angles position * freqs. Differentiable with respect to qkv. A bfloat16 qkv
    (autocast inference) is widened to float32 first; the output is float32.
    """
    return RoPEAttentionFunction.apply(qkv.float(), cos, sin, n_heads)


class RoPEAttentionFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, qkv, cos, sin, n_heads):
        a, seq_len, r, width = qkv.shape
        head_dim = width // (3 * n_heads)
        qkv, cos, sin = qkv.contiguous(), cos.contiguous(), sin.contiguous()
        out = qkv.new_empty(a, seq_len, r, n_heads * head_dim)
        lse = qkv.new_empty(a, r, n_heads, seq_len)
        dims = (a, seq_len, r, n_heads, head_dim, head_dim**-0.5)
        _call("rope_attention_forward", *_ptrs(qkv, cos, sin, out, lse), *dims, torch.get_num_threads())
        ctx.save_for_backward(qkv, cos, sin, out, lse)
        ctx.dims = dims
        return out

    @staticmethod
    def backward(ctx, dout):
        qkv, cos, sin, out, lse = ctx.saved_tensors
        dqkv = torch.empty_like(qkv)
        dout = dout.contiguous()
        ptrs = _ptrs(qkv, cos, sin, out, lse, dout, dqkv)
        _call("rope_attention_backward", *ptrs, *ctx.dims, torch.get_num_threads())
        return dqkv, None, None, None


def rms_group_norm(x: torch.Tensor, gamma: torch.Tensor, num_groups: int, eps: float) -> torch.Tensor:
    """RMSGroupNorm over the last axis of x (see tflocoformer.RMSGroupNorm); differentiable in x and gamma."""
    return RMSGroupNormKernel.apply(x, gamma, num_groups, eps)


def rms_group_norm_bf16(x: torch.Tensor, gamma: torch.Tensor, num_groups: int, eps: float) -> torch.Tensor:
    """RMSGroupNorm of bfloat16 x (autocast inference; not differentiable): statistics and products in float32,
    each output rounded once to bfloat16."""
    x, gamma = x.contiguous(), gamma.detach().float().contiguous()
    channels = x.shape[-1]
    rows = x.numel() // channels
    y = torch.empty_like(x)
    rms = gamma.new_empty(rows, num_groups)
    _call("rms_group_norm_forward_bf16", *_ptrs(x, gamma, y, rms), rows, channels, num_groups, eps,
          torch.get_num_threads())  # fmt: skip
    return y


class RMSGroupNormKernel(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, gamma, num_groups, eps):
        x, gamma = x.contiguous(), gamma.contiguous()
        channels = x.shape[-1]
        rows = x.numel() // channels
        y = torch.empty_like(x)
        rms = x.new_empty(rows, num_groups)
        dims = (rows, channels, num_groups, eps)
        _call("rms_group_norm_forward", *_ptrs(x, gamma, y, rms), *dims, torch.get_num_threads())
        ctx.save_for_backward(x, gamma, rms)
        ctx.dims = dims
        return y

    @staticmethod
    def backward(ctx, dy):
        x, gamma, rms = ctx.saved_tensors
        dy = dy.contiguous()
        dx, dgamma = torch.empty_like(x), torch.empty_like(gamma)
        _call("rms_group_norm_backward", *_ptrs(x, gamma, rms, dy, dx, dgamma), *ctx.dims, torch.get_num_threads())
        return dx, dgamma, None, None


def swiglu(h: torch.Tensor, bias: Optional[torch.Tensor] = None, store_h: bool = True) -> torch.Tensor:
    """h [M, 2H] = (value | gate) -> value * SiLU(gate) [M, H], float32 or bfloat16 (SWIGLU_DTYPES).

    With `bias` [2H] given, the gate reads h + bias, which also replaces h (in place: h must be contiguous) unless
    `store_h` is false (inference: h is not needed afterwards). Not differentiable (used inside Functions).
    """
    if bias is None:
        bias = h.new_zeros(h.shape[1])
    if not h.is_contiguous():
        raise ValueError("cpu_kernels.swiglu: h must be contiguous (the bias is added in place)")
    rows, hidden = h.shape[0], h.shape[1] // 2
    u = h.new_empty(rows, hidden)
    kernel = "swiglu_forward_bf16" if h.dtype == torch.bfloat16 else "swiglu_forward"
    bias = bias.detach().to(torch.float32).contiguous()
    _call(kernel, *_ptrs(h, bias, u), rows, hidden, int(store_h), torch.get_num_threads())
    return u


def swiglu_backward(h: torch.Tensor, du: torch.Tensor) -> "tuple[torch.Tensor, torch.Tensor]":
    """Gradient d h [M, 2H] of `swiglu` for d u [M, H], and u itself (recomputed in the same pass)."""
    h, du = h.contiguous(), du.contiguous()
    rows, hidden = du.shape
    dh, u = torch.empty_like(h), torch.empty_like(du)
    _call("swiglu_backward", *_ptrs(h, du, dh, u), rows, hidden, torch.get_num_threads())
    return dh, u


def shifted_sum(z: torch.Tensor, seq_len: int, bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The overlap-add of a stride-1 transposed convolution (tflocoformer_ops._shifted_sum) plus `bias`, in one
    pass: z [A, L + K - 1, R, K, C] contiguous -> y [A, L, R, C], float32 or bfloat16 (SWIGLU_DTYPES); summed in
    float32, then the bias (float32) added, as PyTorch's sum and add_ do in float32; bfloat16 rounds once.
    Not differentiable (used inside Functions)."""
    if not z.is_contiguous():
        raise ValueError("cpu_kernels.shifted_sum: z must be contiguous")
    a, _, r, k, c = z.shape
    y = z.new_empty(a, seq_len, r, c)
    kernel = "shifted_sum_bf16" if z.dtype == torch.bfloat16 else "shifted_sum"
    if bias is not None:
        bias = bias.detach().to(torch.float32).contiguous()
    _call(kernel, z.data_ptr(), None if bias is None else bias.data_ptr(), y.data_ptr(), a, seq_len, r, k, c,
          torch.get_num_threads())  # fmt: skip
    return y
