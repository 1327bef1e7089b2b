"""Fast paths of the TF-Locoformer layers (`tflocoformer.py`): the same math with hand-written backwards, and the
dispatch to the fused C kernels (`cpu_kernels`).

- RMSGroupNorm: `rms_group_norm` runs the C kernel (CPU float32; in inference under autocast also bfloat16, the
  residual stream's dtype there) or `RMSGroupNormFunction` (any device or dtype; statistics in float32, output
  in the autocast dtype under autocast), both with a hand-written backward.
- Attention: `fused_attention_usable` says when the C kernel (`fused_attention`) replaces PyTorch's attention.
- SwiGLU conv-deconv FFN with stride 1 and no dropout: `swiglu_conv_deconv_stride1` runs it as two large matmuls
  (`SwiGLUConvDeconvStride1`), or for sequences shorter than the kernel as two dense layers with block-Toeplitz
  weights (`swiglu_short_sequence`); the gate (with the first bias) and the overlap-add (with the second) run on
  the C kernels where they can, float32 or bfloat16 (`swiglu_dense`, `shifted_sum`).

test/espnet2/enh/layers/ holds each path to the plain PyTorch formulation of its module.
"""

from typing import Optional

import torch
import torch.nn.functional as F

from espnet2.enh.layers import cpu_kernels


# ---------------------------------------------------------------- dtypes (float32 math, autocast)
def at_least_float32(x: torch.Tensor) -> torch.Tensor:
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


def autocast_inputs(ctx, *tensors: torch.Tensor) -> "tuple[torch.Tensor, ...]":
    """The inputs of a custom Function in the dtype autocast would compute in; their own dtypes go to ctx.
    Call it before disabling autocast for the Function's body (it asks whether autocast is on)."""
    device_type = tensors[0].device.type
    autocast = torch.is_autocast_enabled(device_type)
    dtype = torch.get_autocast_dtype(device_type) if autocast else tensors[0].dtype
    ctx.dtypes = tuple(t.dtype for t in tensors)
    return tuple(t.to(dtype) for t in tensors)


def grads_in_input_dtypes(ctx, grads) -> "tuple[torch.Tensor, ...]":
    return tuple(g.to(t) for g, t in zip(grads, ctx.dtypes))


# ---------------------------------------------------------------- RMSGroupNorm
def rms_group_norm(x: torch.Tensor, gamma: torch.Tensor, num_groups: int, eps: float) -> torch.Tensor:
    """RMSGroupNorm over the last axis of x [..., C] with gamma [C]; computed in float32 even under autocast."""
    if cpu_kernels.usable(x, gamma):  # one fused pass forward and backward
        return cpu_kernels.rms_group_norm(x, gamma, num_groups, eps)
    if not needs_grad(x, gamma) and cpu_kernels.bfloat16_autocast_usable(x):  # CPU inference under autocast
        return cpu_kernels.rms_group_norm_bf16(x, gamma, num_groups, eps)
    return RMSGroupNormFunction.apply(x, gamma, num_groups, eps)


class RMSGroupNormFunction(torch.autograd.Function):
    """RMSGroupNorm with a hand-written backward (fewer full-size passes than autograd's).

    With r = ||x_g|| / sqrt(d), s = 1 / (r + eps), g = dy * gamma:
    dx = s * g - x * sum_g(g * x) * s^2 / (d * r),   dgamma = sum(dy * x * s).
    """

    @staticmethod
    def forward(ctx, x, gamma, num_groups: int, eps: float):
        # statistics in float32; under autocast the output is already in the autocast dtype, since every consumer
        # (attention projections, FFN matmuls) would convert it anyway
        device = x.device.type
        dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else x.dtype
        with torch.autocast(x.device.type, enabled=False):
            xg = at_least_float32(x).unflatten(-1, (num_groups, -1))  # [..., G, d]
            d = xg.shape[-1]
            rms = torch.linalg.vector_norm(xg, dim=-1, keepdim=True).mul_(d**-0.5)
            scale = (rms + eps).reciprocal_()
            y = (xg * scale).flatten(-2).mul_(gamma.to(xg.dtype))
        ctx.save_for_backward(x, gamma, rms, scale)
        return y.to(dtype)

    @staticmethod
    def backward(ctx, dy):
        x, gamma, rms, scale = ctx.saved_tensors
        with torch.autocast(dy.device.type, enabled=False):
            xg = at_least_float32(x).unflatten(-1, rms.shape[-2:-1] + (-1,))
            d = xg.shape[-1]
            dyf = dy.to(xg.dtype)
            dgamma = (dyf * (xg * scale).flatten(-2)).flatten(0, -2).sum(0)
            g = (dyf * gamma.to(xg.dtype)).unflatten(-1, xg.shape[-2:])
            coef = (g * xg).sum(-1, keepdim=True).mul_(scale.square()).div_(rms.clamp(min=1e-30) * d)
            dx = (g * scale).sub_(xg * coef).flatten(-2)
        return dx.to(x.dtype), dgamma.to(gamma.dtype), None, None


# ---------------------------------------------------------------- attention
def fused_attention_usable(qkv: torch.Tensor, head_dim: int, dropout: float) -> bool:
    """Whether `fused_attention` applies: no attention dropout, CPU float32, small heads, kernels built."""
    return not dropout and cpu_kernels.attention_usable(qkv, head_dim)


def fused_attention(qkv: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, n_heads: int) -> torch.Tensor:
    """qkv [A, L, R, 3*H*h] -> [A, L, R, H*h]: RoPE (cos, sin [L, h/2]) and attention along L in one C kernel."""
    return cpu_kernels.rope_attention(qkv, cos, sin, n_heads)


# ---------------------------------------------------------------- SwiGLU conv-deconv FFN
def swiglu_conv_deconv_stride1(x, w_in, b_in, w_out, b_out) -> torch.Tensor:
    """SwiGLUConvDeconv1d with stride 1 and no dropout along axis 1 of x [A, L, R, C] -> [A, L, R, C].

    w_in [2H, C, K], b_in [2H]: the `conv1d` parameters; w_out [H, C, K], b_out [C]: the `deconv1d` parameters.
    """
    inference = not needs_grad(x, w_in, b_in, w_out, b_out)
    if inference:
        chunks = inference_chunks(x, w_in)
        if chunks > 1:  # the hidden activations of long inputs, a chunk at a time (inference: nothing is saved)
            axis = 0 if x.shape[0] >= x.shape[2] else 2
            parts = x.chunk(chunks, dim=axis)
            return torch.cat([swiglu_conv_deconv_stride1(p, w_in, b_in, w_out, b_out) for p in parts], dim=axis)
    if x.shape[1] < w_in.shape[2]:  # e.g. the speaker path, L = J
        return swiglu_short_sequence(x, w_in, b_in, w_out, b_out)
    return SwiGLUConvDeconvStride1.apply(x, w_in, b_in, w_out, b_out, not inference)


def needs_grad(*tensors: torch.Tensor) -> bool:
    """Whether autograd will record an operation on these tensors (else a forward need not keep its inputs)."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


INFERENCE_HIDDEN_BYTES = 64 * 2**20  # hidden activations of one FFN call in inference, at most (about)


def inference_chunks(x: torch.Tensor, w_in: torch.Tensor) -> int:
    """How many pieces along the batch axes (A or R of [A, L, R, C]) keep the FFN's hidden activations (the
    [value | gate] at every position of the convolution output, L + K - 1 per sequence, in both forms) near
    INFERENCE_HIDDEN_BYTES; 1 when they fit."""
    a, seq_len, r, _ = x.shape
    hidden_bytes = a * r * (seq_len + w_in.shape[2] - 1) * w_in.shape[0] * x.element_size()
    return min(max(a, r), -(-hidden_bytes // INFERENCE_HIDDEN_BYTES))


class SwiGLUConvDeconvStride1(torch.autograd.Function):
    """Stride-1 SwiGLU conv-deconv FFN along axis 1 of [A, L, R, C] as two large matmuls.

    Forward: columns [M', K*C] -> `swiglu_dense` (W_in [K*C, 2H], W_out [H, K*C]) -> shifted sum.
    Backward is written by hand (matmuls, one zero-filled buffer, the same shifted sum for col2im), which avoids
    the many full-size zero buffers that autograd's slice backward would allocate.
    """

    @staticmethod
    def forward(ctx, x, w_in, b_in, w_out, b_out, keep_h: bool):
        x, w_in, b_in, w_out, b_out = autocast_inputs(ctx, x, w_in, b_in, w_out, b_out)
        with torch.autocast(x.device.type, enabled=False):
            a, seq_len, r, c = x.shape
            k = w_out.shape[2]
            cols = _im2col(x, k)
            w_in_mat, w_out_mat = _weight_matrices(w_in, w_out)
            z, h = swiglu_dense(cols.view(-1, k * c), w_in_mat, b_in, w_out_mat, keep_h)
            y = shifted_sum(z.view(*cols.shape), seq_len, b_out)
        ctx.save_for_backward(x, w_in, w_out, h)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, w_in, w_out, h = ctx.saved_tensors
        with torch.autocast(dy.device.type, enabled=False):
            a, seq_len, r, c = x.shape
            hidden, _, k = w_out.shape
            dy = dy.to(x.dtype).contiguous()
            # dz (the transpose of the shifted sum) puts dy[i - D + k] at (i, k): the columns of dy, like x's
            dz = _im2col(dy, k).view(-1, k * c)
            cols = _im2col(x, k)
            w_in_mat, w_out_mat = _weight_matrices(w_in, w_out)
            dcols, dw_in, db_in, dw_out = swiglu_dense_backward(dz, cols.view(-1, k * c), w_in_mat, w_out_mat, h)
            grads = (
                shifted_sum(dcols.view(*cols.shape), seq_len),
                dw_in.view(k, c, 2 * hidden).permute(2, 1, 0),
                db_in,
                dw_out.view(hidden, k, c).permute(0, 2, 1),
                dy.sum(dim=(0, 1, 2)),
            )
        return (*grads_in_input_dtypes(ctx, grads), None)


def _weight_matrices(w_in: torch.Tensor, w_out: torch.Tensor):
    """Conv weight [2H, C, K] -> [K*C, 2H]; deconv weight [H, C, K] -> [H, K*C] (column order (k, c))."""
    hidden, c, k = w_out.shape
    return w_in.permute(2, 1, 0).reshape(k * c, 2 * hidden), w_out.permute(0, 2, 1).reshape(hidden, k * c)


def _im2col(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """x: [A, L, R, C] -> columns [A, L + K - 1, R, K, C] of the sequence zero-padded by K - 1 on both sides."""
    xp = F.pad(x, (0, 0, 0, 0, kernel - 1, kernel - 1))  # [A, L + 2(K-1), R, C]
    return xp.unfold(1, kernel, 1).permute(0, 1, 2, 4, 3).contiguous()  # [A, L', R, K, C]


def shifted_sum(z: torch.Tensor, seq_len: int, bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    """`_shifted_sum` plus `bias` [C]: one C pass where it can (float32 or bfloat16 on CPU), else PyTorch's."""
    if cpu_kernels.usable(z, dtypes=cpu_kernels.SWIGLU_DTYPES):
        return cpu_kernels.shifted_sum(z, seq_len, bias)
    y = _shifted_sum(z, seq_len)
    return y if bias is None else y.add_(bias)


def _shifted_sum(z: torch.Tensor, seq_len: int) -> torch.Tensor:
    """y[a, s, r] = sum_k z[a, s + K - 1 - k, r, k] for s < seq_len.

    z: [A, L + K - 1, R, K, C] contiguous -> [A, L, R, C]. This is the stride-1 transposed convolution
    (kept outputs D .. D+L-1) and, applied to column gradients, the col2im of the input gradient. Written
    as one strided view (k' = K - 1 - k) reduced over k', without copies.
    """
    a, n_out, r, k, c = z.shape
    s_a, s_l, s_r, s_k, _ = z.stride()
    view = z.as_strided((a, seq_len, r, k, c), (s_a, s_l, s_r, s_l - s_k, 1), z.storage_offset() + (k - 1) * s_k)
    return view.sum(dim=3)


def swiglu_short_sequence(x, w_in, b_in, w_out, b_out) -> torch.Tensor:
    """Stride 1, no dropout, L < K: the whole conv-deconv is two dense layers with block-Toeplitz weights.

    Conv output t (0 .. L+D-1) reads input p = t + k - D through W_k; kept deconv output s reads hidden
    i = s + D - k through V_k. Skipping the zero padding halves the work for a length-2 speaker axis.
    Hidden units are laid out [value | gate] x [L + D positions] x [H], so one dense SwiGLU does it all.
    """
    a, seq_len, r, c = x.shape
    hid, _, k = w_out.shape  # W = w_in [2H, C, K], V = w_out [H, C, K]
    d = k - 1  # D = K - S with S = 1
    n_out = seq_len + d
    dense_in = w_in.new_zeros(seq_len, c, 2, n_out, hid)
    dense_out = w_out.new_zeros(n_out, hid, seq_len, c)
    for p in range(seq_len):
        for kk in range(k):
            dense_in[p, :, :, p + d - kk] = w_in[:, :, kk].t().view(c, 2, hid)  # t = p + D - k
            dense_out[p + d - kk, :, p] = w_out[:, :, kk]  # i = s + D - k
    dense_b = b_in.view(2, 1, hid).expand(2, n_out, hid).reshape(-1)
    xs = x.transpose(1, 2).reshape(a * r, seq_len * c)
    dense_in, dense_out = dense_in.view(seq_len * c, -1), dense_out.view(n_out * hid, -1)
    y = SwiGLUDense.apply(xs, dense_in, dense_b, dense_out, needs_grad(xs, dense_in, dense_b, dense_out))
    return y.view(a, r, seq_len, c).transpose(1, 2).contiguous() + b_out.to(y.dtype)  # [A, L, R, C]


class SwiGLUDense(torch.autograd.Function):
    """`swiglu_dense` with its hand-written backward (autocast-aware): x [M, P] -> [M, Q]."""

    @staticmethod
    def forward(ctx, x, w_in, b_in, w_out, keep_h: bool):
        x, w_in, b_in, w_out = autocast_inputs(ctx, x, w_in, b_in, w_out)
        with torch.autocast(x.device.type, enabled=False):
            z, h = swiglu_dense(x, w_in, b_in, w_out, keep_h)
        ctx.save_for_backward(x, w_in, w_out, h)
        return z

    @staticmethod
    def backward(ctx, dz):
        x, w_in, w_out, h = ctx.saved_tensors
        with torch.autocast(dz.device.type, enabled=False):
            return (*grads_in_input_dtypes(ctx, swiglu_dense_backward(dz.to(x.dtype), x, w_in, w_out, h)), None)


def swiglu_dense(x, w_in, b_in, w_out, keep_h: bool = True) -> "tuple[torch.Tensor, torch.Tensor]":
    """z = (value * SiLU(gate)) @ w_out with [value | gate] = h = x @ w_in + b_in; returns (z, h).

    x [M, P], w_in [P, 2H], b_in [2H], w_out [H, Q] -> z [M, Q]; h [M, 2H] is what the backward needs. Without
    `keep_h` (nothing needs a gradient) the returned h may lack the bias: the C kernel then skips writing it.
    """
    hidden = w_out.shape[0]
    if cpu_kernels.usable(x, w_in, dtypes=cpu_kernels.SWIGLU_DTYPES):  # the bias added in the gate's pass
        h = torch.mm(x, w_in)
        u = cpu_kernels.swiglu(h, b_in, store_h=keep_h)
    else:
        h = torch.addmm(b_in, x, w_in)
        u = F.silu(h[:, hidden:]).mul_(h[:, :hidden])
    return torch.mm(u, w_out), h


def swiglu_dense_backward(dz, x, w_in, w_out, h) -> "tuple[torch.Tensor, ...]":
    """Gradients (dx, dw_in, db_in, dw_out) of `swiglu_dense`, with one buffer for d h (no concatenation)."""
    hidden = w_out.shape[0]
    du = torch.mm(dz, w_out.t())  # [M, H]
    if cpu_kernels.usable(h, du):
        dh, u = cpu_kernels.swiglu_backward(h, du)
    else:
        value, gate = h[:, :hidden], h[:, hidden:]
        silu = F.silu(gate)
        u = silu * value
        dh = torch.empty_like(h)  # [M, 2H] = (d value, d gate)
        torch.mul(du, silu, out=dh[:, :hidden])
        torch.ops.aten.silu_backward.grad_input(du.mul_(value), gate, grad_input=dh[:, hidden:])
    return torch.mm(dh, w_in.t()), torch.mm(x.t(), dh), dh.sum(dim=0), torch.mm(u.t(), dz)
