"""STFT settings shared by the STFT encoder and decoder (torch.stft / torch.istft, no torchaudio)."""

import torch


class StftConfig(torch.nn.Module):
    """n_fft, hop_length, win_length and a periodic window; `center=True` with reflect padding, one-sided.

    Args:
        n_fft: FFT size; F = n_fft // 2 + 1 bins.
        win_length: window length (default n_fft).
        hop_length: frame shift in samples.
        window: a torch window function name ("hann", "hamming", ...) or None for a rectangular window.
        center, normalized, onesided: as in torch.stft.
    """

    def __init__(self, n_fft=512, win_length=None, hop_length=128, window="hann", center=True,
                 normalized=False, onesided=True):  # fmt: skip
        super().__init__()
        self.n_fft = n_fft
        self.win_length = n_fft if win_length is None else win_length
        self.hop_length = hop_length
        self.center = center
        self.normalized = normalized
        self.onesided = onesided
        if window is None:
            win = torch.ones(self.win_length)
        else:
            fn = getattr(torch, f"{window}_window", None)
            if fn is None:
                raise ValueError(f"window={window!r} is not a torch window function (try 'hann')")
            win = fn(self.win_length, periodic=True)
        self.register_buffer("window", win, persistent=False)

    def num_frames(self, n_samples: torch.Tensor) -> torch.Tensor:
        """Frame count for each length (center=True: N // hop + 1)."""
        if self.center:
            return n_samples // self.hop_length + 1
        return (n_samples - self.n_fft) // self.hop_length + 1

    def stft(self, wav: torch.Tensor) -> torch.Tensor:
        """[B, N] real -> [B, T, F] complex."""
        spec = torch.stft(
            wav.float(), self.n_fft, hop_length=self.hop_length, win_length=self.win_length,
            window=self.window, center=self.center, pad_mode="reflect", normalized=self.normalized,
            onesided=self.onesided, return_complex=True,
        )  # fmt: skip
        return spec.transpose(-1, -2)

    def istft(self, spec: torch.Tensor, length: int) -> torch.Tensor:
        """[B, T, F] complex -> [B, length] real."""
        return torch.istft(
            spec.transpose(-1, -2), self.n_fft, hop_length=self.hop_length, win_length=self.win_length,
            window=self.window, center=self.center, normalized=self.normalized, onesided=self.onesided,
            length=length,
        )  # fmt: skip
