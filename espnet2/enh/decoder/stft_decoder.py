"""Inverse-STFT decoder (`decoder: stft`)."""

from typing import Optional, Tuple

import torch

from espnet2.enh.decoder.abs_decoder import AbsDecoder
from espnet2.enh.layers.stft import StftConfig


class STFTDecoder(AbsDecoder):
    """complex [B, T, F] -> [B, N] waveform, N = max(ilens) (the input length). Args: see StftConfig."""

    def __init__(self, n_fft: int = 512, win_length: Optional[int] = None, hop_length: int = 128,
                 window: Optional[str] = "hann", center: bool = True, normalized: bool = False,
                 onesided: bool = True, default_fs: Optional[int] = None):  # fmt: skip
        super().__init__()
        self.stft = StftConfig(n_fft, win_length, hop_length, window, center, normalized, onesided)

    def forward(self, input: torch.Tensor, ilens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """input complex [B, T, F], ilens [B] (waveform lengths) -> [B, max(ilens)], ilens."""
        return self.stft.istft(input, int(ilens.max())), ilens
