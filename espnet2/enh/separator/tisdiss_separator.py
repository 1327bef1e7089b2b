"""TISDiSS separator (`separator: tisdiss`): training- and inference-time scalable separation.

Paper terms -> checkpoint names:
    separation blocks  -> `encoder_blocks`       (shared weights, repeated `encoder_repeat_times`)
    speaker split      -> `spk_spliter`
    refinement blocks  -> `reconstructor_blocks` (shared weights, repeated M_re = `reconstructor_repeat_times`)
    exit decoder       -> `reconstructor_deconv` (one decoder for every exit)
    residual module    -> `concat_block` (`compress_conv` + `reconstructor_concat_block` with split_compress)

Forward: input conv -> separation layers -> split into J speakers -> refinement layers, and a list of exits to
decode, fixed by the config (`exits`). Every exit but the last is an auxiliary estimate for the training loss;
the last is the main estimate. Inference (`additional={"return_aux": False}`) decodes only the main estimate.

Positions along the network (how exits are named here): 0 is the split output, p >= 1 the output of
refinement layer p (repeat m ends at p = m * reconstructor_n_layers), and p < 0 the separation layer |p| layers
before the last, split into speakers.
"""

from collections import OrderedDict
from functools import partial
from typing import Callable, Collection, Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

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
from espnet2.enh.separator import published_arithmetic
from espnet2.enh.separator.abs_refining_separator import AbsRefiningSeparator

# Options of the published code that only configure its other front ends (band-split encoders/decoders and the
# time-domain `input_type: conv`), with their published defaults: accepted only at these values.
FRONT_END_OPTIONS = {
    "segment_size": 96,
    "split_type": "mel",
    "band_split_encoder_type": "linear",
    "band_split_decoder_type": "linear",
    "stft_n_fft": 128,
    "stft_hop_length": 64,
    "stft_win_length": 128,
    "stft_normalized": False,
    "sample_rate": 8000,
    "num_bands": 25,
    "stereo": False,
    "band_split_decoder_depth": 2,
    "mlp_expansion_factor": 4,
    "freqs_per_bands": None,
}


class SwiGLUSpeakerSplit(nn.Module):
    """`spk_spliter_type: swiglu_conv_deconv2d`: gated Conv2d (C -> 2M), then ConvTranspose2d (M -> J*C').

    M = 2*C*J / split_compress, C' = C / split_compress. Channels last: [B, T, F, C] -> [B, J, T, F, C']
    (output channel j*C' + c is channel c of speaker j).
    """

    def __init__(self, emb_dim: int, num_spk: int, compress: int = 1, dropout: float = 0.0):
        super().__init__()
        hidden = 2 * emb_dim * num_spk // compress
        self.num_spk = num_spk
        self.conv2d = nn.Conv2d(emb_dim, 2 * hidden, (3, 3), padding=(1, 1))
        self.deconv2d = nn.ConvTranspose2d(hidden, emb_dim * num_spk // compress, (3, 3), padding=(1, 1))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = self.conv2d(to_channels_first(x)).chunk(2, dim=1)
        x = to_channels_last(self.deconv2d(self.dropout(value * F.silu(gate))))  # [B, T, F, J*C']
        return self.dropout(speakers_first(x, self.num_spk))


class ConvSpeakerSplit(nn.Module):
    """`spk_spliter_type: conv2d`: one Conv2d (C -> J*C'), C' = C / split_compress.

    Channels last: [B, T, F, C] -> [B, J, T, F, C'].
    """

    def __init__(self, emb_dim: int, num_spk: int, compress: int = 1, dropout: float = 0.0):
        super().__init__()
        self.num_spk = num_spk
        self.conv2d = nn.Conv2d(emb_dim, emb_dim * num_spk // compress, (3, 3), padding=(1, 1))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(speakers_first(to_channels_last(self.conv2d(to_channels_first(x))), self.num_spk))


def speakers_first(x: torch.Tensor, num_spk: int) -> torch.Tensor:
    """[B, T, F, J*C'] -> contiguous [B, J, T, F, C']."""
    b, t, f, _ = x.shape
    return x.reshape(b, t, f, num_spk, -1).permute(0, 3, 1, 2, 4).contiguous()


SPEAKER_SPLITS = {"swiglu_conv_deconv2d": SwiGLUSpeakerSplit, "conv2d": ConvSpeakerSplit}


class TISDiSSSeparator(AbsRefiningSeparator):
    """TISDiSS on top of TF-Locoformer blocks.

    Defaults are the published code's (a config.yaml that omits an option builds the published model); the
    flagship config sets reconstructor_repeat_times 6, repeat_residual_module true,
    reconstructor_repeat_residual_module false, encoder_decoder false, encoder_multi_decoder false,
    reconstructor_n_layers_multi_decoder true and spliter_loss true. `norm_type`, `ffn_type` and
    `ffn_hidden_dim` have published defaults that the official code cannot build: configs must give them.

    Args:
        input_dim: number of frequency bins F (the model itself is F-agnostic).
        num_spk: J.
        emb_dim, norm_type, num_groups, tf_order, n_heads, attention_dim, ffn_type, ffn_hidden_dim,
            conv1d_kernel, conv1d_shift, dropout, eps: TF-Locoformer block settings (see TFLocoformerSeparator).
        flash_attention: accepted for config compatibility (PyTorch's SDPA picks the kernel).
        encoder_n_layers, encoder_repeat_times: separation stage, weights shared across repeats.
        reconstructor_n_layers, reconstructor_repeat_times: refinement stage; the repeat count is M_re and
            can be changed after building (`set_m_re`; read as `m_re`), independently of the value used in training.
        spk_path_enable: refinement blocks model the speaker axis (the published code fails without it).
        repeat_residual_module: before each separation layer but the first, E = concat_block(E0 + E).
        reconstructor_repeat_residual_module: with repeat_residual_module, also before every refinement layer,
            per speaker (E0 through `compress_conv` and `reconstructor_concat_block` when split_compress).
        encoder_decoder: exits in the separation stage (split + decoder); the last one is the split output
            that feeds refinement. encoder_multi_decoder: after the last layer of every separation repeat;
            encoder_n_layers_multi_decoder: after every layer (of every repeat with encoder_multi_decoder, of
            the last repeat without). Without both, only the last.
        reconstructor_multi_decoder, reconstructor_n_layers_multi_decoder: the same for refinement repeats and
            layers. The last refinement layer is always an exit: the main estimate.
        spliter_loss: the split output is an exit (it is one anyway with encoder_decoder).
        split_compress: true (or num_spk) splits into C / num_spk channels per speaker; refinement blocks and
            the decoder work at that width. false: C channels.
        mask: every decoded estimate is multiplied by the input spectrum.
        spk_spliter_type: "swiglu_conv_deconv2d" (gated, the flagship's) or "conv2d".
        input_type, band_split (and FRONT_END_OPTIONS): the published code's other front ends, not implemented
            here; only "stft" and false (and those options' defaults) are accepted.

    References:
        TISDiSS: training- and inference-time scalable speech separation (Fung et al., 2025), built on
        K. Saijo et al., "TF-Locoformer," Proc. IWAENC, 2024.
    """

    def __init__(
        self,
        input_dim: int,
        num_spk: int = 2,
        # TF-Locoformer blocks
        emb_dim: int = 128,
        norm_type: str = "rmsgrouporm",  # the published default; unusable, configs must give it
        num_groups: int = 4,
        tf_order: str = "ft",
        n_heads: int = 4,
        flash_attention: bool = False,
        attention_dim: int = 128,
        ffn_type: Union[str, Sequence[str]] = "swiglu_conv1d",  # the published default; unusable, give a list
        ffn_hidden_dim: Union[int, Sequence[int]] = 384,  # the published default; unusable, give a list
        conv1d_kernel: int = 4,
        conv1d_shift: int = 1,
        dropout: float = 0.0,
        eps: float = 1.0e-5,
        # separation (encoder_*) and refinement (reconstructor_*) stages
        encoder_repeat_times: int = 2,
        encoder_n_layers: int = 1,
        reconstructor_repeat_times: int = 3,
        reconstructor_n_layers: int = 1,
        spk_path_enable: bool = True,
        repeat_residual_module: bool = False,
        reconstructor_repeat_residual_module: bool = True,
        # exits: which outputs are decoded for the training loss
        encoder_decoder: bool = True,
        encoder_multi_decoder: bool = True,
        encoder_n_layers_multi_decoder: bool = False,
        reconstructor_multi_decoder: bool = True,
        reconstructor_n_layers_multi_decoder: bool = False,
        spliter_loss: bool = False,
        # speaker split and output
        split_compress: Union[bool, int] = False,
        mask: bool = False,
        spk_spliter_type: str = "swiglu_conv_deconv2d",
        # front ends of the published code (only the STFT one is implemented)
        input_type: str = "stft",
        band_split: bool = False,
        **front_end_options,
    ):
        super().__init__()
        check_flash_attention(flash_attention)
        check_block_conf("tisdiss", norm_type, ffn_type, ffn_hidden_dim)
        check_front_end(input_type, band_split, front_end_options)
        if not spk_path_enable:
            raise ValueError(
                "separator_conf: spk_path_enable: false fails inside the published code (its refinement blocks "
                "then receive 5-D speaker embeddings); remove it or set it to true"
            )
        if spk_spliter_type not in SPEAKER_SPLITS:
            raise ValueError(
                f"separator_conf: spk_spliter_type: {spk_spliter_type!r} is not one of {', '.join(SPEAKER_SPLITS)}"
            )
        for name, value, low in (("encoder_n_layers", encoder_n_layers, 0),
                                 ("encoder_repeat_times", encoder_repeat_times, 1),
                                 ("reconstructor_n_layers", reconstructor_n_layers, 1)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"separator_conf: {name} must be an integer >= {low}, got {value!r}")
        flags = dict(
            repeat_residual_module=repeat_residual_module,
            reconstructor_repeat_residual_module=reconstructor_repeat_residual_module,
            encoder_decoder=encoder_decoder, encoder_multi_decoder=encoder_multi_decoder,
            encoder_n_layers_multi_decoder=encoder_n_layers_multi_decoder,
            reconstructor_multi_decoder=reconstructor_multi_decoder,
            reconstructor_n_layers_multi_decoder=reconstructor_n_layers_multi_decoder,
            spliter_loss=spliter_loss, mask=mask,
        )  # fmt: skip
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise ValueError(f"separator_conf: {name} must be true or false, got {value!r}")
        compress = check_split_compress(split_compress, num_spk, emb_dim, attention_dim)

        self._num_spk = num_spk
        self.flash_attention = flash_attention  # picks the attention kernel of `published_arithmetic` only
        self.encoder_n_layers = encoder_n_layers
        self.encoder_repeat_times = encoder_repeat_times
        self.reconstructor_n_layers = reconstructor_n_layers
        self._m_re = check_m_re(reconstructor_repeat_times)  # M_re; `reconstructor_repeat_times` in configs
        self.repeat_residual_module = repeat_residual_module
        self.refinement_residual = repeat_residual_module and reconstructor_repeat_residual_module
        self.mask = mask
        self.compress = compress
        # exits, fixed by the config: separation positions (<= 0) here, refinement positions from the rule
        self.separation_exits = separation_exits(
            encoder_n_layers * encoder_repeat_times, encoder_n_layers, encoder_decoder, encoder_multi_decoder,
            encoder_n_layers_multi_decoder, spliter_loss,
        )  # fmt: skip
        self.refinement_exit_rule = (reconstructor_multi_decoder, reconstructor_n_layers_multi_decoder)

        block_conf = dict(
            emb_dim=emb_dim, norm_type=norm_type, num_groups=num_groups, n_heads=n_heads,
            attention_dim=attention_dim, ffn_type=ffn_type, ffn_hidden_dim=ffn_hidden_dim,
            conv1d_kernel=conv1d_kernel, conv1d_shift=conv1d_shift, dropout=dropout, eps=eps, tf_order=tf_order,
        )  # fmt: skip
        # refinement blocks work at the split width C' = C / split_compress
        width = emb_dim // compress
        refine_conf = dict(
            block_conf, emb_dim=width, attention_dim=attention_dim // compress,
            ffn_hidden_dim=[h // compress for h in ffn_hidden_dim],
        )  # fmt: skip
        # one RoPE per axis, shared by every block of that axis (new ones at the compressed width)
        head_dim = attention_dim // n_heads
        rope_freq, rope_time = RotaryEmbedding(head_dim), RotaryEmbedding(head_dim)
        if compress > 1:
            refine_rope = RotaryEmbedding(head_dim // compress), RotaryEmbedding(head_dim // compress)
        else:
            refine_rope = rope_freq, rope_time
        rope_spk = RotaryEmbedding(head_dim // compress)

        self.conv = input_conv(emb_dim, eps)
        self.encoder_blocks = nn.ModuleList(  # separation blocks
            [TFLocoformerBlock(rope_freq, rope_time, **block_conf) for _ in range(encoder_n_layers)]
        )
        self.spk_spliter = SPEAKER_SPLITS[spk_spliter_type](emb_dim, num_spk, compress, dropout)  # speaker split
        self.reconstructor_blocks = nn.ModuleList(  # refinement blocks
            [TFLocoformerBlock(*refine_rope, rope_spk, **refine_conf) for _ in range(reconstructor_n_layers)]
        )
        self.reconstructor_deconv = nn.ConvTranspose2d(width, 2, (3, 3), padding=(1, 1))  # exit decoder
        if repeat_residual_module:
            self.concat_block = residual_module(emb_dim)
            if compress > 1 and reconstructor_repeat_residual_module:  # E0 brought to the split width
                self.compress_conv = nn.Sequential(
                    nn.Conv2d(emb_dim, width, (3, 3), padding=(1, 1)), nn.GroupNorm(1, width, eps=eps)
                )
                self.reconstructor_concat_block = residual_module(width)

    @property
    def num_spk(self) -> int:
        return self._num_spk

    @property
    def m_re(self) -> int:
        return self._m_re

    def set_m_re(self, m_re: int):
        """Use `m_re` refinement repeats from now on (no rebuild, same weights)."""
        self._m_re = check_m_re(m_re)

    def exits(self, m_re: int) -> List[int]:
        """Positions decoded for the training loss, in the published order; the last one is the main estimate."""
        n = self.reconstructor_n_layers
        last = n * m_re
        every_repeat, every_layer = self.refinement_exit_rule
        if every_repeat and every_layer:
            refinement = range(1, last + 1)
        elif every_repeat:
            refinement = range(n, last + 1, n)
        elif every_layer:  # the layers of the last repeat
            refinement = range(last - n + 1, last + 1)
        else:
            refinement = [last]
        return self.separation_exits + list(refinement)

    def forward(
        self, input: torch.Tensor, ilens: torch.Tensor, additional: Optional[dict] = None
    ) -> Tuple[List[torch.Tensor], torch.Tensor, OrderedDict]:
        """input: complex [B, T, F] -> (J complex [B, T, F] main estimate, ilens, others).

        `others["aux_speech_pre"]` is the list of auxiliary estimates (each a list of J complex [B, T, F]), as the
        published forward returns them in training and evaluation alike; `additional={"return_aux": False}`
        skips them (inference: only the main estimate is decoded).
        """
        with_aux = bool((additional or {}).get("return_aux", True))
        m_re = self.m_re
        exits = self.exits(m_re) if with_aux else [self.reconstructor_n_layers * m_re]
        wanted = set(exits)
        stages, decode = self.arithmetic()
        decoded = [decode(emb, input) for pos, emb in stages(input, m_re, wanted) if pos in wanted]
        others = OrderedDict()
        if with_aux:
            others["aux_speech_pre"] = decoded[:-1]
        return decoded[-1], ilens, others

    def iter_refinements(self, input: torch.Tensor, max_m_re: int) -> Iterator[Tuple[int, List[torch.Tensor]]]:
        """input: complex [B, T, F] -> yield (m, J complex [B, T, F]) after each refinement repeat m = 1 .. max_m_re.

        The network runs once; the estimate at m is the main estimate of `forward` with M_re = m.
        """
        n = self.reconstructor_n_layers
        stages, decode = self.arithmetic()
        for pos, emb in stages(input, check_m_re(max_m_re)):
            if pos > 0 and pos % n == 0:
                yield pos // n, decode(emb, input)

    def arithmetic(self) -> Tuple[Callable, Callable]:
        """(stages, decode): this module's, or the published order of operations inside `published_arithmetic()`."""
        if published_arithmetic.enabled():
            return partial(published_arithmetic.stages, self), partial(published_arithmetic.decode, self)
        return self.stages, self.decode

    def stages(
        self, input: torch.Tensor, m_re: int, split_at: Collection[int] = ()
    ) -> Iterator[Tuple[int, torch.Tensor]]:
        """Yield (position, speaker embeddings [B, J, T, F, C']) along the network.

        Separation layers before the last are split and yielded only at the (negative) positions in `split_at`;
        then position 0 (the split output) and every refinement layer p = 1 .. reconstructor_n_layers * m_re.
        """
        emb = to_channels_last(self.conv(complex_to_channels(input)))  # E [B, T, F, C]
        mixture = emb  # E0
        n_sep = self.encoder_n_layers * self.encoder_repeat_times
        for i in range(n_sep):  # separation stage
            if i > 0 and self.repeat_residual_module:
                emb = self.residual(self.concat_block, mixture + emb)
            emb = self.encoder_blocks[i % self.encoder_n_layers](emb)
            if i - (n_sep - 1) in split_at and i < n_sep - 1:  # an earlier separation exit
                yield i - (n_sep - 1), self.spk_spliter(emb)
        emb = self.spk_spliter(emb)  # [B, J, T, F, C']
        yield 0, emb
        if self.refinement_residual:
            if self.compress > 1:
                mixture = to_channels_last(self.compress_conv(to_channels_first(mixture)))
                concat_block = self.reconstructor_concat_block
            else:
                concat_block = self.concat_block
            mixture = mixture.unsqueeze(1)  # [B, 1, T, F, C'], the same for every speaker
        for p in range(1, self.reconstructor_n_layers * m_re + 1):  # refinement stage
            if self.refinement_residual:
                emb = self.residual(concat_block, mixture + emb)
            emb = self.reconstructor_blocks[(p - 1) % self.reconstructor_n_layers](emb)
            yield p, emb

    @staticmethod
    def residual(concat_block: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
        """`concat_block` (depthwise 1x1 Conv2d = per-channel affine, then PReLU) on channels-last [..., C]."""
        conv, prelu = concat_block
        return F.prelu(torch.addcmul(conv.bias, x, conv.weight.view(-1)), prelu.weight)

    def decode(self, emb: torch.Tensor, input: torch.Tensor) -> List[torch.Tensor]:
        """[B, J, T, F, C'] -> J complex [B, T, F] through `reconstructor_deconv` (times the input with `mask`)."""
        b, j, t, f, c = emb.shape
        out = self.reconstructor_deconv(to_channels_first(emb.reshape(b * j, t, f, c)))  # [B*J, 2, T, F]
        est = channels_to_complex(out.reshape(b, j * 2, t, f), j)
        return [e * input for e in est] if self.mask else est


def residual_module(channels: int) -> nn.Sequential:
    """`concat_block`: depthwise 1x1 Conv2d + PReLU (one slope)."""
    return nn.Sequential(nn.Conv2d(channels, channels, 1, groups=channels), nn.PReLU())


def separation_exits(n_sep, n_layers, decoder, every_repeat, every_layer, spliter_loss) -> List[int]:
    """Exit positions (<= 0) of the separation stage, in order; 0 is the split output feeding refinement.

    With `decoder` (encoder_decoder), the published condition: after the last layer of every repeat
    (`every_repeat`), after every layer (`every_layer`; only in the last repeat without `every_repeat`), and
    always after the last layer. Otherwise the split output is an exit with `spliter_loss`.
    """
    if not (decoder and n_sep > 0):
        return [0] if spliter_loss else []
    if every_repeat and every_layer:
        layers = range(n_sep)
    elif every_repeat:
        layers = range(n_layers - 1, n_sep, n_layers)
    elif every_layer:
        layers = range(n_sep - n_layers, n_sep)
    else:
        layers = [n_sep - 1]
    return [i - (n_sep - 1) for i in layers]


def check_m_re(m_re) -> int:
    if isinstance(m_re, bool) or not isinstance(m_re, int) or m_re < 1:
        raise ValueError(f"reconstructor_repeat_times (M_re) must be an integer >= 1, got {m_re!r}")
    return m_re


def check_split_compress(split_compress, num_spk: int, emb_dim: int, attention_dim: int) -> int:
    """-> the channel divisor of the split: num_spk when split_compress is on (the published rule), else 1."""
    if split_compress in (False, 0, None):
        return 1
    if split_compress is not True and split_compress != num_spk:
        raise ValueError(
            f"separator_conf: split_compress: {split_compress!r} is ambiguous: the published code divides the split "
            f"width by num_spk ({num_spk}) whenever split_compress is true; write true (or {num_spk}) or false"
        )
    for name, value in (("emb_dim", emb_dim), ("attention_dim", attention_dim)):
        if value % num_spk:
            raise ValueError(f"separator_conf: split_compress needs {name} ({value}) divisible by num_spk ({num_spk})")
    return num_spk


def check_front_end(input_type: str, band_split: bool, options: dict):
    """Only the STFT front end (`conv`, the flagship's) is implemented; say so for the others, and name unknown keys."""
    if input_type != "stft":
        raise ValueError(
            f"separator_conf: input_type: {input_type!r} (the published time-domain front end) is not implemented "
            "in this toolkit; use input_type: stft"
        )
    if band_split:
        raise ValueError(
            "separator_conf: band_split: true (the published mel / tiger / bandsplit front ends) is not implemented "
            "in this toolkit; use band_split: false"
        )
    for name, value in options.items():
        if name not in FRONT_END_OPTIONS:
            raise ValueError(f"separator_conf: unknown option {name!r} for separator 'tisdiss'; check the spelling")
        if value != FRONT_END_OPTIONS[name]:
            raise ValueError(
                f"separator_conf: {name}: {value!r} configures a front end of the published code (band_split or "
                "input_type: conv) that this toolkit does not implement; remove it "
                f"(published default {FRONT_END_OPTIONS[name]!r})"
            )
