"""Inverse-STFT decoder (`decoder: stft`)."""

from typing import Optional, Tuple

import torch

from espnet2.enh.decoder.abs_decoder import AbsDecoder
from espnet2.enh.encoder.stft_encoder import check_fs, check_spec_transform
from espnet2.enh.layers.stft import StftConfig


class STFTDecoder(AbsDecoder):
    """complex [B, T, F] -> [B, N] waveform, N = max(ilens) (the input length).

    A complex32 spectrum is inverted in complex64 and returned as float16 (ESPnet returns it in the input's
    complex dtype; a waveform is real here). A real tensor is a TypeError, as in ESPnet.

    Args: see StftConfig and STFTEncoder (`default_fs`, `spec_transform_type` none only, `spec_factor`,
        `spec_abs_exponent`).
    """

    def __init__(self, n_fft: int = 512, win_length: Optional[int] = None, hop_length: int = 128,
                 window: Optional[str] = "hann", center: bool = True, normalized: bool = False,
                 onesided: bool = True, default_fs: Optional[int] = None, spec_transform_type: Optional[str] = None,
                 spec_factor: float = 0.15, spec_abs_exponent: float = 0.5):  # fmt: skip
        super().__init__()
        check_spec_transform("decoder_conf", spec_transform_type)
        self.stft = StftConfig(n_fft, win_length, hop_length, window, center, normalized, onesided)
        self.default_fs = default_fs
        self.spec_transform_type = spec_transform_type

    def forward(
        self, input: torch.Tensor, ilens: torch.Tensor, fs: Optional[int] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """input complex [B, T, F], ilens [B] (waveform lengths) -> [B, max(ilens)], ilens."""
        if not (isinstance(input, torch.Tensor) and torch.is_complex(input)):
            what = f"a real tensor of dtype {input.dtype}" if isinstance(input, torch.Tensor) else type(input).__name__
            raise TypeError(
                f"STFTDecoder: expected a complex spectrum [batch, frames, freq] (torch complex), got {what}"
            )
        check_fs(type(self).__name__, fs, self.default_fs)
        if input.dim() != 3:
            raise ValueError(
                f"STFTDecoder expects a single-channel [batch, frames, freq] spectrum, got shape {tuple(input.shape)} "
                "(multi-channel spectra are not supported by this toolkit)"
            )
        if input.dtype == torch.complex32:  # half precision: torch.istft has no complex32 kernel
            return self.stft.istft(input.to(torch.complex64), int(ilens.max())).half(), ilens
        return self.stft.istft(input, int(ilens.max())), ilens

    def forward_streaming(self, input_frame: torch.Tensor):
        raise NotImplementedError(
            "STFTDecoder.forward_streaming: frame-by-frame streaming iSTFT is not part of this toolkit; "
            "SeparateSpeech.separate_stream separates a stream block by block"
        )

    def streaming_merge(self, chunks, ilens=None):
        raise NotImplementedError(
            "STFTDecoder.streaming_merge: frame-by-frame streaming iSTFT is not part of this toolkit; "
            "SeparateSpeech.separate_stream separates a stream block by block"
        )
