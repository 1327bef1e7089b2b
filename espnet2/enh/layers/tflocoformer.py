"""TF-Locoformer building blocks (Saijo et al., 2024), shared by the `tflocoformer` and `tisdiss` separators.

Layout convention: channels last inside the blocks. A LocoformerBlock sees `[B, S1, S2, C]` and models the
sequence axis S2; S1 is folded into the batch. Module and parameter names are checkpoint keys (MODEL.md).

The modules here say what they compute in PyTorch; where a faster path computes the same (hand-written backwards,
the fused C kernels on CPU), the module calls it from `tflocoformer_ops` (`ops.*`).
"""

import math
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from espnet2.enh.layers import tflocoformer_ops as ops
from espnet2.enh.layers.tflocoformer_ops import at_least_float32


class RMSGroupNorm(nn.Module):
    """RMS normalization over groups of the last (channel) axis.

    y = x / (||x_g||_2 / sqrt(d) + eps) * gamma, with d = dim / num_groups (eps is added to the RMS).

    Args:
        num_groups: number of channel groups.
        dim: number of channels C.
        eps: added to the RMS of each group.
    """

    def __init__(self, num_groups: int, dim: int, eps: float = 1e-8):
        super().__init__()
        if dim % num_groups != 0:
            raise ValueError(f"num_groups={num_groups} must divide emb_dim={dim}")
        self.num_groups = num_groups
        self.dim_per_group = dim // num_groups
        self.gamma = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[..., C] -> [..., C]; computed in float32 even under autocast."""
        return ops.rms_group_norm(x, self.gamma, self.num_groups, self.eps)


def make_norm(norm_type: str, num_groups: int, dim: int, eps: float) -> nn.Module:
    if norm_type == "rmsgroupnorm":
        return RMSGroupNorm(num_groups, dim, eps=eps)
    if norm_type == "layernorm":
        return nn.LayerNorm(dim, eps=eps)
    raise ValueError(f"norm_type={norm_type!r} is not supported; use 'rmsgroupnorm' or 'layernorm'")


class RotaryEmbedding(nn.Module):
    """Rotary position embedding on interleaved pairs (x[2i], x[2i+1]) of each head.

    freqs[i] = 10000 ** (-2i / h), i = 0 .. h/2-1, stored as the (untrained) parameter `freqs`.
    One instance is shared by every block of a path, so its `freqs` appears under each block's key.
    A pair rotated by angle p * freqs[i] is the complex product (x[2i] + j x[2i+1]) * exp(j p freqs[i]).
    """

    def __init__(self, head_dim: int, theta: float = 10000.0):
        super().__init__()
        if head_dim % 2 != 0:
            raise ValueError(f"attention_dim / n_heads = {head_dim} must be even for rotary embeddings")
        freqs = 1.0 / (theta ** (torch.arange(0, head_dim, 2)[: head_dim // 2].float() / head_dim))
        self.freqs = nn.Parameter(freqs, requires_grad=False)
        self._cache = {}

    def rotation(self, seq_len: int, device) -> torch.Tensor:
        """exp(j * p * freqs[i]) as complex [L, h/2] (cached per length and device)."""
        return self._cached("complex", seq_len, device)

    def cos_sin(self, seq_len: int, device) -> "tuple[torch.Tensor, torch.Tensor]":
        """Real and imaginary parts of `rotation`, each a contiguous float32 [L, h/2] (cached)."""
        return self._cached("cos_sin", seq_len, device)

    def _cached(self, form: str, seq_len: int, device):
        key = (form, seq_len, str(device), self.freqs._version, self.freqs.data_ptr())
        hit = self._cache.get(key)
        if hit is None:
            pos = torch.arange(seq_len, device=device, dtype=torch.float32)
            angles = pos[:, None] * self.freqs.detach().float()[None, :]
            hit = torch.polar(torch.ones_like(angles), angles)
            if form == "cos_sin":
                hit = (hit.real.contiguous(), hit.imag.contiguous())
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = hit
        return hit

    def rotate(self, x: torch.Tensor) -> torch.Tensor:
        """x: [..., L, h] -> same; positions along the second-to-last axis. Computed in float32."""
        pairs = torch.view_as_complex(at_least_float32(x).unflatten(-1, (-1, 2)))  # [..., L, h/2] complex
        rot = self.rotation(x.shape[-2], x.device).to(pairs.dtype)
        return torch.view_as_real(pairs * rot).flatten(-2).to(x.dtype)


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention with RoPE on queries and keys.

    Args:
        emb_dim: channels C of the input.
        attention_dim: total width of q, k and v (n_heads * h).
        n_heads: number of heads.
        rope: the shared RotaryEmbedding of this path.
        dropout: dropout on attention weights (training only) and after `aggregate_heads`.
    """

    def __init__(self, emb_dim: int, attention_dim: int, n_heads: int, rope: RotaryEmbedding, dropout=0.0):
        super().__init__()
        if attention_dim % n_heads != 0:
            raise ValueError(f"n_heads={n_heads} must divide attention_dim={attention_dim}")
        self.n_heads = n_heads
        self.head_dim = attention_dim // n_heads
        self.dropout = dropout
        self.rope = rope
        self.qkv = nn.Linear(emb_dim, 3 * attention_dim, bias=False)
        self.aggregate_heads = nn.Sequential(nn.Linear(attention_dim, emb_dim, bias=False), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [A, L, R, C] -> [A, L, R, C], attending along L (A and R are batch axes). [N, L, C] also works."""
        squeeze = x.dim() == 3
        if squeeze:
            x = x.unsqueeze(2)
        a, seq_len, r, _ = x.shape
        qkv = self.qkv(x)  # [A, L, R, 3 * H * h]
        dropout = self.dropout if self.training else 0.0
        if ops.fused_attention_usable(qkv, self.head_dim, dropout):  # CPU, small heads: one fused C kernel
            out = ops.fused_attention(qkv, *self.rope.cos_sin(seq_len, x.device), self.n_heads)
        else:
            out = self._attention(qkv.view(a, seq_len, r, 3, self.n_heads, -1), dropout)
        out = self.aggregate_heads(out)  # heads concatenated in order
        return out.squeeze(2) if squeeze else out

    def _attention(self, qkv: torch.Tensor, dropout: float) -> torch.Tensor:
        """qkv [A, L, R, 3, H, h] -> [A, L, R, H*h] with PyTorch's kernels (any device and dtype)."""
        a, seq_len, r = qkv.shape[:3]
        qkv = qkv.permute(3, 0, 2, 4, 1, 5)  # [3, A, R, H, L, h]
        qk, v = qkv.split([2, 1])  # split (not slicing): its backward is a concatenation, no zero fill
        q, k = self.rope.rotate(qk).unbind(0)  # RoPE acts identically on q and k
        v = v.squeeze(0)
        if seq_len <= SHORT_SEQUENCE and not dropout:  # e.g. the speaker path: L = J
            out = short_sequence_attention(q, k, v)  # [A, R, H, L, h]
        # SDPA's fused kernel takes 4-D strided views: fold (A, R) when that is a view, else loop over A
        elif r == 1 or a == 1:
            fold = (a * r, self.n_heads, seq_len, -1)
            out = F.scaled_dot_product_attention(q.reshape(fold), k.reshape(fold), v.reshape(fold), dropout_p=dropout)
            out = out.view(a, r, self.n_heads, seq_len, -1)
        else:
            heads = zip(q.unbind(0), k.unbind(0), v.unbind(0))
            out = torch.stack([F.scaled_dot_product_attention(*qkv_a, dropout_p=dropout) for qkv_a in heads])
        return out.permute(0, 3, 1, 2, 4).reshape(a, seq_len, r, -1)  # [A, L, R, H*h]


SHORT_SEQUENCE = 4


def short_sequence_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(h)) v for very short sequences ([..., L, h], L <= 4) with broadcast products.

    The fused kernel's per-call overhead dominates when L is the number of speakers.
    """
    scores = (q.unsqueeze(-2) * k.unsqueeze(-3)).sum(-1) * q.shape[-1] ** -0.5  # [..., L, L]
    return (scores.softmax(dim=-1).unsqueeze(-1) * v.unsqueeze(-3)).sum(-2)


class SwiGLUConvDeconv1d(nn.Module):
    """SwiGLU feed-forward network with a strided Conv1d in and a ConvTranspose1d out.

    Along a sequence of length L with D = K - S: pad D zeros left and Lp - L - D right
    (Lp = ceil((L + 2D - K) / S) * S + K), conv1d -> value * SiLU(gate) -> deconv1d, keep D .. D+L-1.

    Args:
        dim: channels C.
        hidden: hidden channels of the gated unit.
        kernel: K.  shift: S (conv stride).
    """

    def __init__(self, dim: int, hidden: int, kernel: int, shift: int, dropout: float = 0.0):
        super().__init__()
        self.conv1d = nn.Conv1d(dim, 2 * hidden, kernel, stride=shift)
        self.deconv1d = nn.ConvTranspose1d(hidden, dim, kernel, stride=shift)
        self.dropout = nn.Dropout(dropout)
        self.hidden = hidden
        self.kernel = kernel
        self.shift = shift
        self.diff = kernel - shift

    def padding(self, seq_len: int) -> "tuple[int, int]":
        k, s, d = self.kernel, self.shift, self.diff
        padded = math.ceil((seq_len + 2 * d - k) / s) * s + k
        return d, padded - seq_len - d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [A, L, R, C] -> [A, L, R, C], convolving along L (A and R are batch axes)."""
        if self.shift == 1 and not (self.training and self.dropout.p > 0):  # the same FFN as matmuls, faster
            return ops.swiglu_conv_deconv_stride1(
                x, self.conv1d.weight, self.conv1d.bias, self.deconv1d.weight, self.deconv1d.bias
            )
        a, seq_len, r, c = x.shape
        y = self._forward_general(x.transpose(1, 2).reshape(a * r, seq_len, c))
        return y.view(a, r, seq_len, c).transpose(1, 2)

    def _forward_general(self, x: torch.Tensor) -> torch.Tensor:
        """[N, L, C] -> [N, L, C] with PyTorch's convolution modules (any stride, dropout): the definition."""
        seq_len = x.shape[1]
        h = self.conv1d(F.pad(x.transpose(1, 2), self.padding(seq_len)))  # [N, 2H, L']
        h = h[:, : self.hidden] * F.silu(h[:, self.hidden :])
        y = self.deconv1d(self.dropout(h)).transpose(1, 2)  # [N, Lp, C]
        return self.dropout(y[:, self.diff : self.diff + seq_len])


class ConvDeconv1d(nn.Module):
    """`ffn_type: conv1d`: Conv1d (stride S, no padding) -> SiLU -> ConvTranspose1d, along one sequence axis.

    As in the published TF-Locoformer, the output keeps positions D//2 .. D//2+L-1 (D = K - S) without padding,
    which covers the sequence only when D is 0 or 1 and (L - K) is a multiple of S: other settings are refused.

    Args:
        dim: channels C.  hidden: hidden channels.  kernel: K.  shift: S (conv stride).
    """

    def __init__(self, dim: int, hidden: int, kernel: int, shift: int, dropout: float = 0.0):
        super().__init__()
        if kernel - shift not in (0, 1):
            raise ValueError(
                f"ffn_type conv1d needs conv1d_kernel - conv1d_shift of 0 or 1 (got {kernel} - {shift}): its output "
                "is cropped without padding and cannot cover the sequence otherwise; use swiglu_conv1d"
            )
        self.net = nn.Sequential(
            nn.Conv1d(dim, hidden, kernel, stride=shift),
            nn.SiLU(),
            nn.Dropout(dropout),
            nn.ConvTranspose1d(hidden, dim, kernel, stride=shift),
            nn.Dropout(dropout),
        )
        self.kernel, self.shift = kernel, shift
        self.offset = (kernel - shift) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [A, L, R, C] -> [A, L, R, C], convolving along L (A and R are batch axes)."""
        a, seq_len, r, c = x.shape
        if seq_len < self.kernel or (seq_len - self.kernel) % self.shift:
            raise ValueError(
                f"ffn_type conv1d: a sequence of {seq_len} does not fit conv1d_kernel {self.kernel} / conv1d_shift "
                f"{self.shift} (needs length >= kernel and (length - kernel) a multiple of the shift)"
            )
        y = self.net(x.transpose(1, 2).reshape(a * r, seq_len, c).transpose(1, 2))  # [A*R, C, L']
        y = y[..., self.offset : self.offset + seq_len]
        return y.transpose(1, 2).reshape(a, r, seq_len, c).transpose(1, 2)


FFN_TYPES = {"swiglu_conv1d": SwiGLUConvDeconv1d, "conv1d": ConvDeconv1d}


class LocoformerBlock(nn.Module):
    """Norm-attention-FFN block along the sequence axis L of a channels-last `[A, L, R, C]` tensor.

    The frequency path uses [N*T, F, 1, C], the frame path [N, T, F, C], the speaker path [B, J, T*F, C]:
    every path reads the same memory layout, so no transposes are needed between paths.

    With two FFN types (Macaron style) the second listed FFN runs before attention. The config list is
    stored reversed, so `ffn.0`/`ffn_norm.0` is the FFN after attention and `ffn.1`/`ffn_norm.1` the one
    before it (checkpoint layout of the published code).
    """

    def __init__(
        self,
        rope: RotaryEmbedding,
        emb_dim: int = 128,
        norm_type: str = "rmsgroupnorm",
        num_groups: int = 4,
        n_heads: int = 4,
        attention_dim: int = 128,
        ffn_type: Sequence[str] = ("swiglu_conv1d", "swiglu_conv1d"),
        ffn_hidden_dim: Sequence[int] = (384, 384),
        conv1d_kernel: int = 4,
        conv1d_shift: int = 1,
        dropout: float = 0.0,
        eps: float = 1e-5,
    ):
        super().__init__()
        ffn_type, ffn_hidden_dim = as_list(ffn_type), as_list(ffn_hidden_dim)
        if len(ffn_type) not in (1, 2) or len(ffn_type) != len(ffn_hidden_dim):
            raise ValueError(
                f"ffn_type {ffn_type} and ffn_hidden_dim {ffn_hidden_dim} must be lists of the same length, 1 or 2"
            )
        for f_type in ffn_type:
            if f_type not in FFN_TYPES:
                raise ValueError(f"ffn_type={f_type!r} is not supported; use {' or '.join(map(repr, FFN_TYPES))}")
        self.ffn_norm = nn.ModuleList()
        self.ffn = nn.ModuleList()
        for f_type, f_dim in zip(ffn_type[::-1], ffn_hidden_dim[::-1]):
            self.ffn_norm.append(make_norm(norm_type, num_groups, emb_dim, eps))
            self.ffn.append(FFN_TYPES[f_type](emb_dim, f_dim, conv1d_kernel, conv1d_shift, dropout))
        self.attn_norm = make_norm(norm_type, num_groups, emb_dim, eps)
        self.attn = MultiHeadSelfAttention(emb_dim, attention_dim, n_heads, rope, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [A, L, R, C] -> [A, L, R, C], modelling the sequence axis L (A and R are batch axes)."""
        if len(self.ffn) == 2:  # Macaron: the FFN before attention
            x = add_residual(self.ffn[1](self.ffn_norm[1](x)), x)
        x = add_residual(self.attn(self.attn_norm(x)), x)
        return add_residual(self.ffn[0](self.ffn_norm[0](x)), x)


def add_residual(branch: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x + branch, added in place into the fresh branch output when the dtypes agree (no extra allocation;
    autograd-safe: no branch saves its output for backward). Under autocast the sum keeps x's precision."""
    return branch.add_(x) if branch.dtype == x.dtype else x + branch


def as_list(value) -> List:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class TFLocoformerBlock(nn.Module):
    """Frequency path, then frame path (`tf_order: ft`), optionally followed by a speaker path.

    Channels last: [N, T, F, C] -> [N, T, F, C]. With `spk_rope` given (TISDiSS refinement blocks) the block
    maps [B, J, T, F, C] -> [B, J, T, F, C] and `spk_path` models the J speakers with a single SwiGLU FFN
    (hidden size: the last entry of the config's `ffn_hidden_dim`; `ffn_type` does not apply to it).
    """

    def __init__(
        self,
        rope_freq: RotaryEmbedding,
        rope_time: RotaryEmbedding,
        spk_rope: Optional[RotaryEmbedding] = None,
        tf_order: str = "ft",
        **block_conf,
    ):
        super().__init__()
        if tf_order not in ("ft", "tf"):
            raise ValueError(f"tf_order={tf_order!r} is not supported; use 'ft' or 'tf'")
        self.tf_order = tf_order
        self.freq_path = LocoformerBlock(rope_freq, **block_conf)
        self.frame_path = LocoformerBlock(rope_time, **block_conf)
        if spk_rope is not None:
            spk_conf = dict(block_conf)
            spk_conf["ffn_type"] = ["swiglu_conv1d"]  # whatever ffn_type says (the published block's default)
            spk_conf["ffn_hidden_dim"] = as_list(block_conf.get("ffn_hidden_dim", 384))[-1:]
            self.spk_path = LocoformerBlock(spk_rope, **spk_conf)
        else:
            self.spk_path = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[N, T, F, C] (or [B, J, T, F, C] with a speaker path) -> same shape, channels last."""
        if self.spk_path is None:
            return self.forward_tf(x)
        b, j, t, f, c = x.shape
        x = self.forward_tf(x.reshape(b * j, t, f, c))
        return self.spk_path(x.reshape(b, j, t * f, c)).view(b, j, t, f, c)  # sequences over the J speakers

    def forward_tf(self, x: torch.Tensor) -> torch.Tensor:
        """[N, T, F, C] -> [N, T, F, C] through the frequency and frame paths."""
        n, t, f, c = x.shape
        if self.tf_order == "ft":
            x = self.freq_path(x.reshape(n * t, f, 1, c)).reshape(n, t, f, c)  # sequences over F
            return self.frame_path(x)  # sequences over T
        x = self.frame_path(x)
        return self.freq_path(x.reshape(n * t, f, 1, c)).reshape(n, t, f, c)
