"""Helpers shared by the TF-domain separators (`tflocoformer`, `tisdiss`).

Layouts: a complex spectrum [B, T, F] enters the network as real channels [B, 2, T, F] (real, imag) through the
input convolution `conv`, the blocks work channels last [B, T, F, C], and the output convolutions give
[B, J*2, T, F] back as J complex spectra. Also the checks of the block options that the published code accepts
by default but cannot build.
"""

from typing import List

import torch
import torch.nn as nn


def complex_to_channels(x: torch.Tensor) -> torch.Tensor:
    """complex [B, T, F] -> real [B, 2, T, F] (real, imag), in channels-last memory for the 2-D convolutions."""
    return torch.stack((x.real, x.imag), dim=1).contiguous(memory_format=torch.channels_last)


def channels_to_complex(x: torch.Tensor, num_spk: int) -> List[torch.Tensor]:
    """real [B, J*2, T, F] (per speaker: real, imag) -> J complex [B, T, F] (unbind: no zero-filled gradients)."""
    b, _, t, f = x.shape
    pairs = x.float().reshape(b, num_spk, 2, t, f).permute(0, 1, 3, 4, 2).contiguous()  # [B, J, T, F, 2]
    return list(torch.view_as_complex(pairs).unbind(1))


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """[B, C, T, F] -> [B, T, F, C] (free when x is in channels-last memory)."""
    return x.permute(0, 2, 3, 1)


def to_channels_first(x: torch.Tensor) -> torch.Tensor:
    """[B, T, F, C] -> [B, C, T, F] view (channels-last memory, as the 2-D convolutions take it)."""
    return x.permute(0, 3, 1, 2)


def input_conv(emb_dim: int, eps: float) -> nn.Sequential:
    """`conv`: Conv2d(2, C, 3x3) + GroupNorm(1, C) on stacked (real, imag)."""
    return nn.Sequential(nn.Conv2d(2, emb_dim, (3, 3), padding=(1, 1)), nn.GroupNorm(1, emb_dim, eps=eps))


def check_flash_attention(flash_attention: bool):
    """`flash_attention` is harmless: PyTorch picks the fused SDPA kernel by itself."""
    if not isinstance(flash_attention, bool):
        raise ValueError(f"flash_attention must be true or false, got {flash_attention!r}")


def check_block_conf(separator: str, norm_type, ffn_type, ffn_hidden_dim):
    """Refuse the published defaults that the official code itself cannot build, saying what to write.

    The published `norm_type` default "rmsgrouporm" is misspelt (the official block asserts on it), and a single
    `ffn_type` string or `ffn_hidden_dim` integer fails there too (it reverses them as lists). Combinations that
    fail inside the published forward are refused as well.
    """
    where = f"separator_conf ({separator})"
    if norm_type == "rmsgrouporm":
        raise ValueError(
            f"{where}: norm_type: the published default 'rmsgrouporm' is a misspelling that the official code "
            "rejects; write norm_type: rmsgroupnorm (the published models) or layernorm"
        )
    if not isinstance(ffn_type, (list, tuple)):
        raise ValueError(
            f"{where}: ffn_type: a single string ({ffn_type!r}; the published default is 'swiglu_conv1d') fails in "
            "the official code; write a list of one or two FFN types, e.g. ffn_type: [swiglu_conv1d, swiglu_conv1d] "
            "(Macaron style, the published models) with ffn_hidden_dim: [384, 384]"
        )
    lists_match = isinstance(ffn_hidden_dim, (list, tuple)) and len(ffn_hidden_dim) == len(ffn_type)
    if not lists_match or len(ffn_type) not in (1, 2):
        raise ValueError(
            f"{where}: ffn_hidden_dim: {ffn_hidden_dim!r} (the published default is the integer 384, which fails in "
            f"the official code) must be a list as long as ffn_type {list(ffn_type)} (one or two entries), "
            "e.g. ffn_hidden_dim: [384, 384]"
        )
    # The published blocks reshape the RMSGroupNorm output of their permuted input with .view(), which fails when
    # that output goes straight into attention (one FFN) or into a conv1d FFN (the first, before attention).
    if norm_type == "rmsgroupnorm" and (len(ffn_type) == 1 or ffn_type[0] == "conv1d"):
        raise ValueError(
            f"{where}: ffn_type {list(ffn_type)} with norm_type rmsgroupnorm fails inside the published code (it "
            "views a permuted tensor); use two FFNs with swiglu_conv1d first, e.g. [swiglu_conv1d, swiglu_conv1d], "
            "or norm_type: layernorm"
        )
