"""TISDiSS separator (`separator: tisdiss`): training- and inference-time scalable separation.

Paper terms -> checkpoint names:
    separation blocks  -> `encoder_blocks`       (shared weights, repeated `encoder_repeat_times`)
    speaker split      -> `spk_spliter`
    refinement blocks  -> `reconstructor_blocks` (shared weights, repeated M_re = `reconstructor_repeat_times`)
    exit decoder       -> `reconstructor_deconv` (one decoder for every exit)

Forward: input conv -> separation repeats -> split into J speakers -> M_re refinement repeats, and a list of
exits (split output, each refinement repeat) to decode. In training the decoded exits before the last are
auxiliary estimates; at inference only the last exit (the main estimate) is decoded.
"""

from collections import OrderedDict
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from espnet2.enh.layers.tflocoformer import RotaryEmbedding, TFLocoformerBlock
from espnet2.enh.separator.abs_separator import AbsSeparator
from espnet2.enh.separator.tflocoformer_separator import (
    channels_to_complex,
    check_flash_attention,
    complex_to_channels,
    input_conv,
    to_channels_first,
    to_channels_last,
)

# Ablation options of the published code: only the flagship value of each is implemented. Any other value is
# refused with an error naming the option rather than silently giving a different model.
SUPPORTED_ABLATIONS = {
    "encoder_decoder": False,
    "encoder_multi_decoder": False,
    "encoder_n_layers_multi_decoder": False,
    "reconstructor_repeat_residual_module": False,
    "spk_path_enable": True,
    "split_compress": False,
    "mask": False,
    "spk_spliter_type": "conv2d",
    "input_type": "conv",
}


class SpeakerSplit(nn.Module):
    """`spk_spliter`: gated Conv2d (C -> 2M) then ConvTranspose2d (M -> C*J), M = 2*C*J.

    Channels last: [B, T, F, C] -> [B, J, T, F, C] (output channel j*C + c is channel c of speaker j).
    """

    def __init__(self, emb_dim: int, num_spk: int, dropout: float = 0.0):
        super().__init__()
        hidden = 2 * emb_dim * num_spk
        self.num_spk = num_spk
        self.conv2d = nn.Conv2d(emb_dim, 2 * hidden, (3, 3), padding=(1, 1))
        self.deconv2d = nn.ConvTranspose2d(hidden, emb_dim * num_spk, (3, 3), padding=(1, 1))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, f, c = x.shape
        value, gate = self.conv2d(to_channels_first(x)).chunk(2, dim=1)
        x = to_channels_last(self.deconv2d(self.dropout(value * F.silu(gate))))  # [B, T, F, J*C]
        return self.dropout(x.reshape(b, t, f, self.num_spk, c).permute(0, 3, 1, 2, 4).contiguous())


class TISDiSSSeparator(AbsSeparator):
    """TISDiSS on top of TF-Locoformer blocks.

    Args:
        input_dim: number of frequency bins F (the model itself is F-agnostic).
        num_spk: J.
        emb_dim, attention_dim, n_heads, num_groups, norm_type, tf_order, ffn_type, ffn_hidden_dim,
            conv1d_kernel, conv1d_shift, dropout, eps: TF-Locoformer block settings.
        encoder_n_layers, encoder_repeat_times: separation stage, weights shared across repeats.
        reconstructor_n_layers, reconstructor_repeat_times: refinement stage; the repeat count is M_re and
            can be changed after building (`set_m_re`), independently of the value used in training.
        repeat_residual_module: before each separation layer but the first, E = concat_block(E0 + E).
        spliter_loss: the decoded split output is the first auxiliary estimate (training).
        reconstructor_multi_decoder: each refinement repeat but the last is a further auxiliary estimate.
        reconstructor_n_layers_multi_decoder: exits after every refinement layer rather than every repeat;
            identical when reconstructor_n_layers is 1 (the published configurations).
        flash_attention: accepted for config compatibility (PyTorch's SDPA picks the kernel).
        Other published options are ablations; see SUPPORTED_ABLATIONS.
    """

    def __init__(
        self,
        input_dim: int,
        num_spk: int = 2,
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
        encoder_n_layers: int = 1,
        encoder_repeat_times: int = 2,
        reconstructor_n_layers: int = 1,
        reconstructor_repeat_times: int = 6,
        repeat_residual_module: bool = True,
        spliter_loss: bool = True,
        reconstructor_multi_decoder: bool = True,
        reconstructor_n_layers_multi_decoder: bool = True,
        **ablations,
    ):
        super().__init__()
        check_flash_attention(flash_attention)
        check_ablations(ablations)
        if reconstructor_n_layers_multi_decoder and reconstructor_n_layers > 1:
            raise ValueError(
                "separator_conf: reconstructor_n_layers_multi_decoder: true with reconstructor_n_layers > 1 "
                "is an ablation this toolkit does not implement; set it to false (exits after each repeat)"
            )
        for name, value in (("encoder_n_layers", encoder_n_layers), ("encoder_repeat_times", encoder_repeat_times),
                            ("reconstructor_n_layers", reconstructor_n_layers)):  # fmt: skip
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"separator_conf: {name} must be an integer >= 1, got {value!r}")
        self._num_spk = num_spk
        self.encoder_n_layers = encoder_n_layers
        self.encoder_repeat_times = encoder_repeat_times
        self.reconstructor_n_layers = reconstructor_n_layers
        self.reconstructor_repeat_times = check_m_re(reconstructor_repeat_times)
        self.repeat_residual_module = repeat_residual_module
        self.spliter_loss = spliter_loss
        self.reconstructor_multi_decoder = reconstructor_multi_decoder

        block_conf = dict(
            emb_dim=emb_dim, norm_type=norm_type, num_groups=num_groups, n_heads=n_heads,
            attention_dim=attention_dim, ffn_type=ffn_type, ffn_hidden_dim=ffn_hidden_dim,
            conv1d_kernel=conv1d_kernel, conv1d_shift=conv1d_shift, dropout=dropout, eps=eps, tf_order=tf_order,
        )  # fmt: skip
        head_dim = attention_dim // n_heads
        # one RoPE per axis, shared by every block: frequency, time and speaker paths
        rope_freq, rope_time, rope_spk = (RotaryEmbedding(head_dim) for _ in range(3))
        self.conv = input_conv(emb_dim, eps)
        self.encoder_blocks = nn.ModuleList(  # separation blocks
            [TFLocoformerBlock(rope_freq, rope_time, **block_conf) for _ in range(encoder_n_layers)]
        )
        self.spk_spliter = SpeakerSplit(emb_dim, num_spk, dropout)  # speaker split
        self.reconstructor_blocks = nn.ModuleList(  # refinement blocks
            [TFLocoformerBlock(rope_freq, rope_time, rope_spk, **block_conf) for _ in range(reconstructor_n_layers)]
        )
        self.reconstructor_deconv = nn.ConvTranspose2d(emb_dim, 2, (3, 3), padding=(1, 1))  # exit decoder
        if repeat_residual_module:
            self.concat_block = nn.Sequential(nn.Conv2d(emb_dim, emb_dim, 1, groups=emb_dim), nn.PReLU())

    @property
    def num_spk(self) -> int:
        return self._num_spk

    def set_m_re(self, m_re: int):
        """Use `m_re` refinement repeats from now on (no rebuild, same weights)."""
        self.reconstructor_repeat_times = check_m_re(m_re)

    def exit_repeats(self, m_re: int, with_aux: bool) -> List[int]:
        """Refinement repeats (0 = the split output) whose output is decoded; the last entry is the main exit."""
        exits = [0] if with_aux and self.spliter_loss else []
        if with_aux and self.reconstructor_multi_decoder:
            exits += list(range(1, m_re))
        return exits + [m_re]

    def forward(
        self, input: torch.Tensor, ilens: torch.Tensor, additional: Optional[dict] = None
    ) -> Tuple[List[torch.Tensor], torch.Tensor, OrderedDict]:
        """input: complex [B, T, F] -> (J complex [B, T, F] main estimate, ilens, others).

        In training (or with `additional={"return_aux": True}`), `others["aux_speech_pre"]` is the list of
        auxiliary estimates, each a list of J complex [B, T, F]: the split output first, then refinement repeats.
        """
        with_aux = self.training or bool((additional or {}).get("return_aux", False))
        m_re = self.reconstructor_repeat_times
        exits = self.exit_repeats(m_re, with_aux)
        decoded = []
        for repeat, emb in self.refinements(input, m_re):
            if repeat in exits:
                decoded.append(self.decode(emb))
        others = OrderedDict()
        if with_aux:
            others["aux_speech_pre"] = decoded[:-1]
        return decoded[-1], ilens, others

    def iter_refinements(self, input: torch.Tensor, max_m_re: int) -> Iterator[Tuple[int, List[torch.Tensor]]]:
        """Yield (m, J complex [B, T, F]) decoded after each refinement repeat m = 1 .. max_m_re."""
        for repeat, emb in self.refinements(input, check_m_re(max_m_re)):
            if repeat > 0:
                yield repeat, self.decode(emb)

    def refinements(self, input: torch.Tensor, m_re: int) -> Iterator[Tuple[int, torch.Tensor]]:
        """Yield (repeat, embedding [B, J, T, F, C]): repeat 0 is the split output, then each refinement repeat."""
        emb = to_channels_last(self.conv(complex_to_channels(input)))  # [B, T, F, C]
        emb0 = emb
        for i in range(self.encoder_n_layers * self.encoder_repeat_times):  # separation stage
            if i > 0 and self.repeat_residual_module:
                emb = self.residual(emb0 + emb)
            emb = self.encoder_blocks[i % self.encoder_n_layers](emb)
        emb = self.spk_spliter(emb)  # [B, J, T, F, C]
        yield 0, emb
        for repeat in range(1, m_re + 1):  # refinement stage
            for layer in self.reconstructor_blocks:
                emb = layer(emb)
            yield repeat, emb

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """`concat_block` (depthwise 1x1 Conv2d = per-channel affine, then PReLU) on channels-last [..., C]."""
        conv, prelu = self.concat_block
        return F.prelu(torch.addcmul(conv.bias, x, conv.weight.view(-1)), prelu.weight)

    def decode(self, emb: torch.Tensor) -> List[torch.Tensor]:
        """[B, J, T, F, C] -> J complex [B, T, F] through `reconstructor_deconv`."""
        b, j, t, f, c = emb.shape
        out = self.reconstructor_deconv(to_channels_first(emb.reshape(b * j, t, f, c)))  # [B*J, 2, T, F]
        return channels_to_complex(out.reshape(b, j * 2, t, f), j)


def check_m_re(m_re) -> int:
    if isinstance(m_re, bool) or not isinstance(m_re, int) or m_re < 1:
        raise ValueError(f"reconstructor_repeat_times (M_re) must be an integer >= 1, got {m_re!r}")
    return m_re


def check_ablations(ablations: dict):
    for name, value in ablations.items():
        if name not in SUPPORTED_ABLATIONS:
            raise ValueError(
                f"separator_conf: unknown option {name!r} for separator 'tisdiss'; check the spelling "
                f"(known ablation options: {', '.join(SUPPORTED_ABLATIONS)})"
            )
        if value != SUPPORTED_ABLATIONS[name]:
            raise ValueError(
                f"separator_conf: {name}: {value!r} is an ablation this toolkit does not implement; "
                f"only {name}: {SUPPORTED_ABLATIONS[name]!r} (the published TISDiSS model) is supported"
            )
