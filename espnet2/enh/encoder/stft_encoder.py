"""STFT encoder (`encoder: stft`)."""

from typing import Optional, Tuple

import torch

from espnet2.enh.encoder.abs_encoder import AbsEncoder
from espnet2.enh.layers.stft import StftConfig

# ESPnet's spectral transforms (spec_transform_type) of which this toolkit implements the no-op only
SPEC_TRANSFORMS = (None, "none")


def check_spec_transform(option: str, spec_transform_type: Optional[str]) -> None:
    """`none` (or null) is ESPnet's no-op; "exponent" and "log" are refused by name."""
    if spec_transform_type not in SPEC_TRANSFORMS:
        raise ValueError(
            f"{option}: spec_transform_type={spec_transform_type!r} is not implemented in this toolkit, which keeps "
            "only ESPnet's 'none' (no transform; see README, Differences from ESPnet); remove it or use none"
        )


def check_fs(cls_name: str, fs: Optional[int], default_fs: Optional[int]) -> None:
    """ESPnet's `fs` argument rescales the STFT for another sample rate (USES); only the model's rate is taken."""
    if fs is not None and fs != default_fs:
        raise ValueError(
            f"{cls_name}: fs={fs} differs from default_fs={default_fs}; re-configuring the STFT for another sample "
            "rate (ESPnet's `fs` argument) is not part of this toolkit: resample the input to default_fs"
        )


class STFTEncoder(AbsEncoder):
    """[B, N] waveform -> complex [B, T, F] spectrum, T = N // hop + 1, F = n_fft // 2 + 1.

    float16 input is transformed in float32 and returned as complex32, as in ESPnet (bfloat16 has no
    complex type: complex64).

    Args: see StftConfig; `default_fs` is the sample rate the model was trained for (for inference tools);
        `spec_transform_type` none (or null) only; `spec_factor`, `spec_abs_exponent` are the parameters of
        the transforms ESPnet applies only with "exponent"/"log", so they have no effect here, as in ESPnet
        with none; `use_builtin_complex` must stay true (torch complex tensors, no torch_complex).
    """

    def __init__(self, n_fft: int = 512, win_length: Optional[int] = None, hop_length: int = 128,
                 window: Optional[str] = "hann", center: bool = True, normalized: bool = False,
                 onesided: bool = True, default_fs: Optional[int] = None, use_builtin_complex: bool = True,
                 spec_transform_type: Optional[str] = None, spec_factor: float = 0.15,
                 spec_abs_exponent: float = 0.5):  # fmt: skip
        super().__init__()
        check_spec_transform("encoder_conf", spec_transform_type)
        if not use_builtin_complex:
            raise ValueError(
                "encoder_conf: use_builtin_complex: false asks for torch_complex.ComplexTensor outputs, which this "
                "toolkit does not use; remove it (torch complex tensors are its only spectra)"
            )
        self.stft = StftConfig(n_fft, win_length, hop_length, window, center, normalized, onesided)
        self.fs = self.default_fs = default_fs
        self.spec_transform_type = spec_transform_type
        self._output_dim = n_fft // 2 + 1 if onesided else n_fft

    @property
    def output_dim(self) -> int:
        return self._output_dim

    def forward(
        self, input: torch.Tensor, ilens: torch.Tensor, fs: Optional[int] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """input [B, N], ilens [B] -> complex [B, T, F], frame lengths [B]. `fs`: None or `default_fs`."""
        check_fs(type(self).__name__, fs, self.default_fs)
        if input.dim() != 2:
            raise ValueError(
                f"STFTEncoder expects a single-channel [batch, samples] waveform, got shape {tuple(input.shape)} "
                "(multi-channel input is not supported by this toolkit)"
            )
        spec = self.stft.stft(input)  # float32 arithmetic for half-precision input
        if input.dtype == torch.float16:
            spec = spec.to(torch.complex32)
        return spec, self.stft.num_frames(ilens)

    def forward_streaming(self, input: torch.Tensor):
        raise NotImplementedError(
            "STFTEncoder.forward_streaming: frame-by-frame streaming STFT is not part of this toolkit; "
            "SeparateSpeech.separate_stream separates a stream block by block"
        )

    def streaming_frame(self, audio: torch.Tensor):
        raise NotImplementedError(
            "STFTEncoder.streaming_frame: frame-by-frame streaming STFT is not part of this toolkit; "
            "SeparateSpeech.separate_stream separates a stream block by block"
        )
