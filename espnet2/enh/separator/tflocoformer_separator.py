"""TF-Locoformer separator (`separator: tflocoformer`), the baseline TISDiSS builds on."""

from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from espnet2.enh.layers.tflocoformer import RotaryEmbedding, TFLocoformerBlock
from espnet2.enh.separator.abs_separator import AbsSeparator


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


class TFLocoformerSeparator(AbsSeparator):
    """TF-Locoformer: `conv` -> n_layers TFLocoformerBlocks (`blocks.{i}`) -> `deconv` to J complex outputs.

    Args:
        input_dim: number of frequency bins F (unused beyond bookkeeping; the model is F-agnostic).
        num_spk: J.  n_layers: blocks.  emb_dim: C.  Other arguments: see LocoformerBlock.
        flash_attention: accepted for config compatibility; PyTorch's SDPA chooses the kernel.
    """

    def __init__(
        self,
        input_dim: int,
        num_spk: int = 2,
        n_layers: int = 6,
        emb_dim: int = 128,
        norm_type: str = "rmsgroupnorm",
        num_groups: int = 4,
        tf_order: str = "ft",
        n_heads: int = 4,
        flash_attention: bool = False,
        attention_dim: int = 128,
        ffn_type: Union[str, Sequence[str]] = ("swiglu_conv1d", "swiglu_conv1d"),
        ffn_hidden_dim: Union[int, Sequence[int]] = (384, 384),
        conv1d_kernel: int = 4,
        conv1d_shift: int = 1,
        dropout: float = 0.0,
        eps: float = 1.0e-5,
    ):
        super().__init__()
        check_flash_attention(flash_attention)
        self._num_spk = num_spk
        self.conv = input_conv(emb_dim, eps)
        block_conf = dict(
            emb_dim=emb_dim, norm_type=norm_type, num_groups=num_groups, n_heads=n_heads,
            attention_dim=attention_dim, ffn_type=ffn_type, ffn_hidden_dim=ffn_hidden_dim,
            conv1d_kernel=conv1d_kernel, conv1d_shift=conv1d_shift, dropout=dropout, eps=eps,
        )  # fmt: skip
        rope_freq = RotaryEmbedding(attention_dim // n_heads)
        rope_time = RotaryEmbedding(attention_dim // n_heads)
        self.blocks = nn.ModuleList(
            [TFLocoformerBlock(rope_freq, rope_time, tf_order=tf_order, **block_conf) for _ in range(n_layers)]
        )
        self.deconv = nn.ConvTranspose2d(emb_dim, 2 * num_spk, (3, 3), padding=(1, 1))

    @property
    def num_spk(self) -> int:
        return self._num_spk

    def forward(
        self, input: torch.Tensor, ilens: torch.Tensor, additional: Optional[dict] = None
    ) -> Tuple[List[torch.Tensor], torch.Tensor, OrderedDict]:
        """input: complex [B, T, F] -> J complex [B, T, F], ilens, {}."""
        x = to_channels_last(self.conv(complex_to_channels(input)))  # [B, T, F, C]
        for block in self.blocks:
            x = block(x)
        return channels_to_complex(self.deconv(to_channels_first(x)), self.num_spk), ilens, OrderedDict()
