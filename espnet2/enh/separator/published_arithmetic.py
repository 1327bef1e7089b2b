"""The TISDiSS forward in the published code's order of operations, for bit-exact reproduction.

`TISDiSSSeparator` normally computes channels last with fused kernels (`tflocoformer_ops`): the same functions,
rounded differently. For most models the difference is a few float32 ulps, but a network with random or
ill-conditioned weights (the golden `tisdiss_residual_refinement` case, and residual refinement in general) can
amplify rounding-sized differences 1000-fold, so only the published arithmetic reproduces the published outputs.
Inside `published_arithmetic()` the separator runs `stages` and `decode` of this module instead of its own:
channels first, the published tensor layouts and reshapes, RMSGroupNorm as a division, RoPE as
`x cos + rotate_half(x) sin` with its tables in the input dtype, PyTorch's math attention (its flash kernel with
`flash_attention: true`), and the SwiGLU FFNs through PyTorch's convolutions. Same parameters and options, slower.
On CPU the published results also depend on the thread count (PyTorch's convolutions round differently on one
thread than on two).

    with published_arithmetic():
        main, ilens, others = separator(spectrum, ilens)
"""

import contextlib
import threading
from typing import Collection, Iterator, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

_state = threading.local()


@contextlib.contextmanager
def published_arithmetic(enabled: bool = True):
    """Within the block (this thread), TISDiSS separators compute in the published order of operations."""
    before = getattr(_state, "enabled", False)
    _state.enabled = enabled
    try:
        yield
    finally:
        _state.enabled = before


def enabled() -> bool:
    return getattr(_state, "enabled", False)


# ---------------------------------------------------------------- TF-Locoformer layers
def rms_group_norm(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """x [..., C]: x / (||x_g|| d^-1/2 + eps) * gamma, on x's own layout (LayerNorm as it is)."""
    if isinstance(norm, nn.LayerNorm):
        return norm(x)
    others = x.shape[:-1]
    groups = x.view(others + (norm.num_groups, norm.dim_per_group))
    rms = groups.norm(2, dim=-1, keepdim=True) * norm.dim_per_group ** (-1.0 / 2)
    return (groups / (rms + norm.eps)).view(others + (-1,)) * norm.gamma


def rotate(rope: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """RoPE along axis -2 of x [..., L, h] on interleaved pairs, tables computed in x's dtype."""
    positions = torch.arange(x.shape[-2], device=x.device, dtype=x.dtype)
    angles = (positions[:, None] * rope.freqs[None, :]).repeat_interleave(2, dim=-1)  # [L, h]
    pairs = x.unflatten(-1, (-1, 2))
    half_turn = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)  # (-x2, x1) per pair
    return x * angles.cos() + half_turn * angles.sin()


def attention(attn: nn.Module, x: torch.Tensor, flash: bool, flatten: bool = False) -> torch.Tensor:
    """x [N, L, C] -> [N, L, C]: RoPE multi-head self-attention along L (`flatten`: 3-D attention call)."""
    n, seq_len = x.shape[:2]
    qkv = attn.qkv(x).reshape(n, seq_len, 3, attn.n_heads, -1).movedim(-2, 1)  # [N, H, L, 3, h]
    q, k, v = qkv[..., 0, :], qkv[..., 1, :], qkv[..., 2, :]
    q, k = rotate(attn.rope, q), rotate(attn.rope, k)
    shape = q.shape
    if flatten:
        q, k, v = q.flatten(0, 1), k.flatten(0, 1), v.flatten(0, 1)
    # The published code disables the flash kernel unless `flash_attention`, and then allows only it: it fails where
    # the flash kernel cannot run (the speaker path's 3-D call, float32 on CUDA). Math attention stands in there.
    backends = [SDPBackend.MATH, SDPBackend.EFFICIENT_ATTENTION]
    if flash and q.dim() == 4:
        backends = [SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]
    with sdpa_kernel(backends):
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=attn.dropout if attn.training else 0.0)
    out = out.view(shape).transpose(1, 2)  # [N, L, H, h]
    return attn.aggregate_heads(out.reshape(out.shape[:2] + (-1,)))


def feed_forward(ffn: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """x [B, S1, S2, C] -> same, convolving along S2 (SwiGLUConvDeconv1d or ConvDeconv1d)."""
    b, s1, s2, c = x.shape
    if not hasattr(ffn, "conv1d"):  # ConvDeconv1d: conv -> SiLU -> deconv, cropped without padding
        y = ffn.net(x.view(b * s1, s2, c).transpose(-1, -2)).transpose(-1, -2)
        return y[..., ffn.offset : ffn.offset + s2, :].view(b, s1, s2, c)
    y = F.pad(x.contiguous().view(b * s1, s2, c).transpose(-1, -2), ffn.padding(s2))
    y = ffn.conv1d(y)
    y = y[..., : ffn.hidden, :] * F.silu(y[..., ffn.hidden :, :])
    y = ffn.deconv1d(ffn.dropout(y)).transpose(-1, -2)
    return ffn.dropout(y[..., ffn.diff : ffn.diff + s2, :]).view(b, s1, s2, c)


def locoformer_block(block: nn.Module, x: torch.Tensor, flash: bool, flatten: bool = False) -> torch.Tensor:
    """x [B, S1, S2, C] -> same, modelling S2: (Macaron FFN), attention, FFN, each with its residual."""
    b, s1, s2, c = x.shape
    out = x
    if len(block.ffn) == 2:
        out = feed_forward(block.ffn[-1], rms_group_norm(block.ffn_norm[-1], x)) + x
    y = rms_group_norm(block.attn_norm, out).view([b * s1, s2, c])
    out = attention(block.attn, y, flash, flatten).view([b, s1, s2, c]) + out
    return feed_forward(block.ffn[0], rms_group_norm(block.ffn_norm[0], out)) + out


def tf_locoformer_block(block: nn.Module, x: torch.Tensor, flash: bool) -> torch.Tensor:
    """Channels first: [B, C, T, F] -> same, or [B, J, C, T, F] -> same through the speaker path too."""
    freq_first = block.tf_order == "ft"
    if block.spk_path is None:
        if freq_first:
            x = locoformer_block(block.freq_path, x.permute(0, 2, 3, 1), flash)  # [B, T, F, C]
            x = locoformer_block(block.frame_path, x.permute(0, 2, 1, 3), flash)  # [B, F, T, C]
            return x.permute(0, 3, 2, 1)
        x = locoformer_block(block.frame_path, x.permute(0, 3, 2, 1), flash)  # [B, F, T, C]
        x = locoformer_block(block.freq_path, x.permute(0, 2, 1, 3), flash)  # [B, T, F, C]
        return x.permute(0, 3, 1, 2)
    b, j, c, t, f = x.shape
    by_freq = x.permute(0, 1, 3, 4, 2).reshape(b, j * t, f, c)  # [B, J*T, F, C]
    by_frame = x.permute(0, 1, 4, 3, 2).reshape(b, j * f, t, c)  # [B, J*F, T, C]
    if freq_first:
        x = locoformer_block(block.freq_path, by_freq, flash)
        x = x.reshape(b, j, t, f, c).permute(0, 1, 3, 2, 4).reshape(b, j * f, t, c)
        x = locoformer_block(block.frame_path, x, flash)
        x = x.reshape(b, j, f, t, c).permute(0, 3, 2, 1, 4)  # [B, T, F, J, C]
    else:
        x = locoformer_block(block.frame_path, by_frame, flash)
        x = x.reshape(b, j, f, t, c).permute(0, 1, 3, 2, 4).reshape(b, j * t, f, c)
        x = locoformer_block(block.freq_path, x, flash)
        x = x.reshape(b, j, t, f, c).permute(0, 2, 3, 1, 4)  # [B, T, F, J, C]
    x = locoformer_block(block.spk_path, x.reshape(b, t * f, j, c), flash, flatten=True)
    return x.reshape(b, t, f, j, c).permute(0, 3, 4, 1, 2)  # [B, J, C, T, F]


# ---------------------------------------------------------------- TISDiSS
def speaker_split(split: nn.Module, x: torch.Tensor, compress: int, num_spk: int) -> torch.Tensor:
    """[B, C, T, F] -> [B, J, C / compress, T, F]."""
    b, c, t, f = x.shape
    y = split.conv2d(x)
    if hasattr(split, "deconv2d"):  # gated: value * SiLU(gate) -> ConvTranspose2d
        hidden = y.shape[1] // 2
        y = split.deconv2d(split.dropout(y[:, :hidden] * F.silu(y[:, hidden:])))
    return split.dropout(y.view(b, num_spk, c // compress, t, f))


def decode(sep: nn.Module, x: torch.Tensor, input: torch.Tensor) -> List[torch.Tensor]:
    """[B, J, C', T, F] -> J complex [B, T, F] (times the input spectrum [B, T, F] with `mask`)."""
    b, j, _, t, f = x.shape
    y = sep.reconstructor_deconv(x.reshape(b * j, -1, t, f)).view([b, j, 2, t, f])
    est = torch.complex(y[:, :, 0], y[:, :, 1])
    if sep.mask:
        est = est * input.unsqueeze(1)
    return [est[:, s] for s in range(j)]


def stages(
    sep: nn.Module, input: torch.Tensor, m_re: int, split_at: Collection[int] = ()
) -> Iterator[Tuple[int, torch.Tensor]]:
    """`TISDiSSSeparator.stages` in the published order: yield (position, speaker embeddings [B, J, C', T, F])."""
    flash = sep.flash_attention
    spectrum = input.unsqueeze(1)  # [B, 1, T, F]
    x = sep.conv(torch.cat((spectrum.real, spectrum.imag), dim=1))  # [B, C, T, F]
    mixture = x.clone()
    n_sep, n_layers = sep.encoder_n_layers * sep.encoder_repeat_times, sep.encoder_n_layers
    for i in range(n_sep):
        if i != 0 and sep.repeat_residual_module:
            x = sep.concat_block(mixture + x)
        x = tf_locoformer_block(sep.encoder_blocks[i % n_layers], x, flash)
        if i - (n_sep - 1) in split_at and i < n_sep - 1:
            yield i - (n_sep - 1), speaker_split(sep.spk_spliter, x, sep.compress, sep.num_spk)
    x = speaker_split(sep.spk_spliter, x, sep.compress, sep.num_spk)
    yield 0, x
    if sep.refinement_residual:
        concat_block = sep.concat_block
        if sep.compress > 1:
            mixture = sep.compress_conv(mixture)
            concat_block = sep.reconstructor_concat_block
        mixture = mixture.unsqueeze(1).expand(-1, sep.num_spk, -1, -1, -1)
    n_layers = sep.reconstructor_n_layers
    for p in range(1, n_layers * m_re + 1):
        if sep.refinement_residual:
            b, j, c, t, f = x.shape
            x = concat_block((mixture + x).reshape(b * j, c, t, f)).reshape(b, j, c, t, f)
        x = tf_locoformer_block(sep.reconstructor_blocks[(p - 1) % n_layers], x, flash)
        yield p, x
