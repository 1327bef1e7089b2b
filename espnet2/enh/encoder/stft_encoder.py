"""STFT encoder (`encoder: stft`)."""

from typing import Optional, Tuple

import torch

from espnet2.enh.encoder.abs_encoder import AbsEncoder
from espnet2.enh.layers.stft import StftConfig


class STFTEncoder(AbsEncoder):
    """[B, N] waveform -> complex [B, T, F] spectrum, T = N // hop + 1, F = n_fft // 2 + 1.

    Args: see StftConfig; `default_fs` is the sample rate the model was trained for (for inference tools).
    """

    def __init__(self, n_fft: int = 512, win_length: Optional[int] = None, hop_length: int = 128,
                 window: Optional[str] = "hann", center: bool = True, normalized: bool = False,
                 onesided: bool = True, default_fs: Optional[int] = None, use_builtin_complex: bool = True,
                 spec_transform_type: Optional[str] = None):  # fmt: skip
        super().__init__()
        if spec_transform_type is not None:
            raise ValueError(f"encoder_conf: spec_transform_type={spec_transform_type!r} is not supported; remove it")
        self.stft = StftConfig(n_fft, win_length, hop_length, window, center, normalized, onesided)
        self.fs = default_fs
        self._output_dim = n_fft // 2 + 1 if onesided else n_fft

    @property
    def output_dim(self) -> int:
        return self._output_dim

    def forward(self, input: torch.Tensor, ilens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """input [B, N], ilens [B] -> complex [B, T, F], frame lengths [B]."""
        if input.dim() != 2:
            raise ValueError(f"STFTEncoder expects a [batch, samples] waveform, got shape {tuple(input.shape)}")
        return self.stft.stft(input), self.stft.num_frames(ilens)
