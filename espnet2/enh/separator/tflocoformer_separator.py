"""TF-Locoformer separator (`separator: tflocoformer`), the baseline TISDiSS builds on."""

from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from espnet2.enh.layers.tf_utils import (
    channels_to_complex,
    check_block_conf,
    check_flash_attention,
    complex_to_channels,
    input_conv,
    to_channels_first,
    to_channels_last,
)
from espnet2.enh.layers.tflocoformer import RotaryEmbedding, TFLocoformerBlock
from espnet2.enh.separator.abs_separator import AbsSeparator


class TFLocoformerSeparator(AbsSeparator):
    """TF-Locoformer: `conv` -> n_layers TFLocoformerBlocks (`blocks.{i}`) -> `deconv` to J complex outputs.

    Defaults are the published code's (MERL's TF-Locoformer), so that a config.yaml that omits an option builds
    the published model. Two of them cannot work there and are refused here with what to write instead:
    `norm_type` ("rmsgrouporm", misspelt) and `ffn_type` / `ffn_hidden_dim` (a string and an integer).
    TF-Locoformer-M: n_layers 6, norm_type rmsgroupnorm, ffn_type [swiglu_conv1d, swiglu_conv1d],
    ffn_hidden_dim [384, 384], the other options at their defaults.

    Args:
        input_dim: number of frequency bins F (unused beyond bookkeeping; the model is F-agnostic).
        num_spk: J.  n_layers: blocks.  emb_dim: C.
        norm_type: "rmsgroupnorm" or "layernorm".  num_groups: RMSGroupNorm groups.  tf_order: "ft" or "tf".
        n_heads, attention_dim: self-attention.
        ffn_type, ffn_hidden_dim: lists of one or two FFNs ("swiglu_conv1d" or "conv1d"); two make the block
            Macaron style.  conv1d_kernel, conv1d_shift: their convolution.  dropout, eps.
        flash_attention: accepted for config compatibility; PyTorch's SDPA chooses the kernel.

    References:
        K. Saijo, G. Wichern, F. G. Germain, Z. Pan and J. Le Roux, "TF-Locoformer: Transformer with Local
        Modeling by Convolution for Speech Separation and Enhancement," in Proc. IWAENC, 2024.
    """

    def __init__(
        self,
        input_dim: int,
        num_spk: int = 2,
        n_layers: int = 6,
        # general setup
        emb_dim: int = 128,
        norm_type: str = "rmsgrouporm",  # the published default; unusable, configs must give it
        num_groups: int = 4,
        tf_order: str = "ft",
        # self-attention
        n_heads: int = 4,
        flash_attention: bool = False,
        attention_dim: int = 128,
        # feed-forward networks
        ffn_type: Union[str, Sequence[str]] = "swiglu_conv1d",  # the published default; unusable, give a list
        ffn_hidden_dim: Union[int, Sequence[int]] = 384,  # the published default; unusable, give a list
        conv1d_kernel: int = 4,
        conv1d_shift: int = 1,
        dropout: float = 0.0,
        # others
        eps: float = 1.0e-5,
    ):
        super().__init__()
        check_flash_attention(flash_attention)
        check_block_conf("tflocoformer", norm_type, ffn_type, ffn_hidden_dim)
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
