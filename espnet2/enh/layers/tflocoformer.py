"""TF-Locoformer building blocks (Saijo et al., 2024), shared by the `tflocoformer` and `tisdiss` separators.

Layout convention: channels last inside the blocks. A LocoformerBlock sees `[B, S1, S2, C]` and models the
sequence axis S2; S1 is folded into the batch. Module and parameter names are checkpoint keys (MODEL.md).
"""

import math
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


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
        dtype = x.dtype
        x = x.float()
        xg = x.unflatten(-1, (self.num_groups, self.dim_per_group))  # [..., G, d]
        rms = torch.linalg.vector_norm(xg, dim=-1, keepdim=True) * self.dim_per_group**-0.5
        y = (xg / (rms + self.eps)).flatten(-2) * self.gamma
        return y.to(dtype)


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
    """

    def __init__(self, head_dim: int, theta: float = 10000.0):
        super().__init__()
        if head_dim % 2 != 0:
            raise ValueError(f"attention_dim / n_heads = {head_dim} must be even for rotary embeddings")
        freqs = 1.0 / (theta ** (torch.arange(0, head_dim, 2)[: head_dim // 2].float() / head_dim))
        self.freqs = nn.Parameter(freqs, requires_grad=False)
        self._cache = {}

    def cos_sin(self, seq_len: int, device, dtype) -> "tuple[torch.Tensor, torch.Tensor]":
        """cos, sin of shape [L, h], each angle repeated for its pair (interleaved)."""
        key = (seq_len, device, dtype, self.freqs._version, self.freqs.data_ptr())
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        pos = torch.arange(seq_len, device=device, dtype=self.freqs.dtype)
        angles = (pos[:, None] * self.freqs.detach()[None, :]).repeat_interleave(2, dim=-1)  # [L, h]
        out = (angles.cos().to(dtype), angles.sin().to(dtype))
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[key] = out
        return out

    def rotate(self, x: torch.Tensor) -> torch.Tensor:
        """x: [..., L, h] -> same; positions along the second-to-last axis."""
        cos, sin = self.cos_sin(x.shape[-2], x.device, x.dtype)
        return x * cos + rotate_half(x) * sin


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(a, b) -> (-b, a) within each interleaved pair of the last axis."""
    pairs = x.unflatten(-1, (-1, 2))
    return torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention with RoPE on queries and keys.

    Args:
        emb_dim: channels C of the input [N, L, C].
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
        self.dropout = dropout
        self.rope = rope
        self.qkv = nn.Linear(emb_dim, 3 * attention_dim, bias=False)
        self.aggregate_heads = nn.Sequential(nn.Linear(attention_dim, emb_dim, bias=False), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, L, C] -> [N, L, C]."""
        n, seq_len, _ = x.shape
        qkv = self.qkv(x).view(n, seq_len, 3, self.n_heads, -1)  # [N, L, 3, H, h]
        qkv = qkv.permute(2, 0, 3, 1, 4)  # [3, N, H, L, h]
        q, k = self.rope.rotate(qkv[:2]).unbind(0)  # RoPE acts identically on q and k
        out = F.scaled_dot_product_attention(
            q, k, qkv[2], dropout_p=self.dropout if self.training else 0.0
        )  # [N, H, L, h]
        out = out.transpose(1, 2).reshape(n, seq_len, -1)  # heads concatenated in order
        return self.aggregate_heads(out)


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
        """x: [B, S1, S2, C] -> [B, S1, S2, C], convolving along S2."""
        b, s1, s2, c = x.shape
        if self.shift == 1:
            y = self._forward_stride1(x.reshape(b * s1, s2, c))
        else:
            y = self._forward_general(x.reshape(b * s1, s2, c))
        return y.view(b, s1, s2, c)

    def _forward_general(self, x: torch.Tensor) -> torch.Tensor:
        """[N, L, C] -> [N, L, C] with PyTorch's convolution modules."""
        seq_len = x.shape[1]
        h = self.conv1d(F.pad(x.transpose(1, 2), self.padding(seq_len)))  # [N, 2H, L']
        h = h[:, : self.hidden] * F.silu(h[:, self.hidden :])
        y = self.deconv1d(self.dropout(h)).transpose(1, 2)  # [N, Lp, C]
        return self.dropout(y[:, self.diff : self.diff + seq_len])

    def _forward_stride1(self, x: torch.Tensor) -> torch.Tensor:
        """[N, L, C] -> [N, L, C]; stride 1 as two large matmuls in channels-last layout.

        With S = 1, D = K - 1: conv output position t sees padded inputs t .. t+K-1, i.e. original
        positions t-D .. t; the kept deconv outputs D .. D+L-1 sum hidden positions t-k+D for k < K.
        """
        n, seq_len, c = x.shape
        k, d = self.kernel, self.diff
        pad_l, pad_r = self.padding(seq_len)
        xp = F.pad(x, (0, 0, pad_l, pad_r))  # [N, Lp, C]
        n_out = xp.shape[1] - k + 1
        # im2col: [N, L', K, C] -> one GEMM with the weight laid out as [K*C, 2H]
        cols = xp.unfold(1, k, 1).transpose(2, 3).reshape(n * n_out, k * c)
        w_in = self.conv1d.weight.permute(2, 1, 0).reshape(k * c, -1)  # [K*C, 2H]
        h = torch.addmm(self.conv1d.bias, cols, w_in).view(n, n_out, -1)
        h = self.dropout(h[..., : self.hidden] * F.silu(h[..., self.hidden :]))  # [N, L', H]
        # transposed conv: y[t] = sum_k h[t - k] W_k ; keep t = D .. D+L-1 -> h[t+D-k], k = 0..K-1
        w_out = self.deconv1d.weight.permute(0, 2, 1).reshape(self.hidden, k * c)  # [H, K*C]
        z = torch.mm(h.reshape(n * n_out, self.hidden), w_out).view(n, n_out, k, c)
        y = z[:, d : d + seq_len, 0]
        for j in range(1, k):
            y = y + z[:, d - j : d - j + seq_len, j]
        return self.dropout(y + self.deconv1d.bias)


class LocoformerBlock(nn.Module):
    """Norm-attention-FFN block along the sequence axis S2 of `[B, S1, S2, C]`.

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
            if f_type != "swiglu_conv1d":
                raise ValueError(f"ffn_type={f_type!r} is not supported; use 'swiglu_conv1d'")
        self.ffn_norm = nn.ModuleList()
        self.ffn = nn.ModuleList()
        for f_dim in ffn_hidden_dim[::-1]:
            self.ffn_norm.append(make_norm(norm_type, num_groups, emb_dim, eps))
            self.ffn.append(SwiGLUConvDeconv1d(emb_dim, f_dim, conv1d_kernel, conv1d_shift, dropout))
        self.attn_norm = make_norm(norm_type, num_groups, emb_dim, eps)
        self.attn = MultiHeadSelfAttention(emb_dim, attention_dim, n_heads, rope, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, S1, S2, C] -> [B, S1, S2, C]."""
        b, s1, s2, c = x.shape
        if len(self.ffn) == 2:  # Macaron: the FFN before attention
            x = x + self.ffn[1](self.ffn_norm[1](x))
        x = x + self.attn(self.attn_norm(x).reshape(b * s1, s2, c)).view(b, s1, s2, c)
        return x + self.ffn[0](self.ffn_norm[0](x))


def as_list(value) -> List:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class TFLocoformerBlock(nn.Module):
    """Frequency path, then frame path (`tf_order: ft`), optionally followed by a speaker path.

    Without a speaker path the block maps [B, C, T, F] -> [B, C, T, F]. With `spk_rope` given (TISDiSS
    refinement blocks) it maps [B, J, C, T, F] -> [B, J, C, T, F] and `spk_path` models the J speakers
    with a single FFN (hidden size: the last entry of the config's `ffn_hidden_dim`).
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
            spk_conf["ffn_type"] = as_list(block_conf.get("ffn_type", "swiglu_conv1d"))[-1:]
            spk_conf["ffn_hidden_dim"] = as_list(block_conf.get("ffn_hidden_dim", 384))[-1:]
            self.spk_path = LocoformerBlock(spk_rope, **spk_conf)
        else:
            self.spk_path = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, T, F] (or [B, J, C, T, F] with a speaker path) -> same shape."""
        if self.spk_path is None:
            return self.forward_tf(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        b, j, c, t, f = x.shape
        h = self.forward_tf(x.permute(0, 1, 3, 4, 2).reshape(b * j, t, f, c))  # [B*J, T, F, C]
        h = h.view(b, j, t * f, c).transpose(1, 2)  # [B, T*F, J, C]
        h = self.spk_path(h)  # sequences over the J speakers
        return h.view(b, t, f, j, c).permute(0, 3, 4, 1, 2)

    def forward_tf(self, x: torch.Tensor) -> torch.Tensor:
        """Channels-last [N, T, F, C] -> [N, T, F, C] through the frequency and frame paths."""
        if self.tf_order == "ft":
            x = self.freq_path(x)  # sequences over F
            return self.frame_path(x.transpose(1, 2)).transpose(1, 2)  # sequences over T
        x = self.frame_path(x.transpose(1, 2)).transpose(1, 2)
        return self.freq_path(x)
