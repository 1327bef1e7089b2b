"""Audio file helpers shared by the inference tools: read, downmix, resample (soxr), write.

Arrays are time-major as soundfile returns them: mono [N], multi-channel [N, C].
Every error names the file and says what to do.
"""

from pathlib import Path
from typing import Iterator, Optional, Tuple, Union

import numpy as np
import soundfile as sf
import soxr

PathLike = Union[str, Path]


class AudioError(RuntimeError):
    """A file that cannot be used as audio input (unreadable, not audio, bad channel)."""


# extension -> libsndfile format that reads it
_EXTENSION_FORMATS = {
    ".wav": "WAV", ".wave": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".opus": "OGG", ".mp3": "MP3",
    ".aif": "AIFF", ".aiff": "AIFF", ".au": "AU", ".caf": "CAF", ".w64": "W64", ".rf64": "RF64",
}  # fmt: skip


def audio_extensions() -> frozenset:
    """File extensions taken as audio when a folder is searched (those libsndfile reads here)."""
    formats = sf.available_formats()
    return frozenset(ext for ext, fmt in _EXTENSION_FORMATS.items() if fmt in formats)


def audio_info(path: PathLike) -> Tuple[int, int, int]:
    """(sample rate, frames, channels) of an audio file without reading its samples."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(f"{path}: cannot be read as audio ({e})") from None
    return int(info.samplerate), int(info.frames), int(info.channels)


def read_audio(path: PathLike, dtype: str = "float32", always_2d: bool = False) -> Tuple[np.ndarray, int]:
    """Read a whole file.

    Returns:
        (samples [N] for mono or [N, C], sample rate); integer PCM is scaled to [-1, 1).
    """
    try:
        wav, fs = sf.read(str(path), dtype=dtype, always_2d=always_2d)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(f"{path}: cannot be read as audio ({e})") from None
    return wav, int(fs)


def to_mono(wav: np.ndarray, channel: Optional[int] = None, name: str = "input") -> np.ndarray:
    """[N] or [N, C] -> [N]: the chosen channel (0-based), or the mean of all channels.

    Raises:
        AudioError: when ``channel`` does not exist in ``name``.
    """
    if wav.ndim == 1:
        if channel not in (None, 0):
            raise AudioError(f"{name}: has 1 channel; --channel {channel} does not exist (use 0)")
        return wav
    num_channels = wav.shape[1]
    if channel is None:
        return wav.mean(axis=1, dtype=np.float64).astype(wav.dtype) if num_channels > 1 else wav[:, 0]
    if not 0 <= channel < num_channels:
        raise AudioError(
            f"{name}: has {num_channels} channels; --channel {channel} does not exist "
            f"(use 0 .. {num_channels - 1}, or leave it out to average them)"
        )
    return wav[:, channel]


def resample(wav: np.ndarray, fs_in: int, fs_out: int, quality: str = "HQ") -> np.ndarray:
    """Resample [N] or [N, C] with soxr; returns the input unchanged when the rates agree."""
    if fs_in == fs_out:
        return wav
    if wav.shape[0] == 0:
        return wav
    return soxr.resample(wav, fs_in, fs_out, quality=quality)


class StreamResampler:
    """Block-wise soxr resampling with the same result as resampling the whole signal.

    ``process(block)`` returns what is ready; ``process(block, last=True)`` flushes the rest.
    With equal rates blocks pass through.

    Args:
        fs_in, fs_out: sample rates (Hz)
        num_channels: C of the [n, C] blocks ([n] blocks when 1)
    """

    def __init__(self, fs_in: int, fs_out: int, num_channels: int = 1, quality: str = "HQ"):
        self.passthrough = fs_in == fs_out
        self.num_channels = num_channels
        if not self.passthrough:
            self.stream = soxr.ResampleStream(fs_in, fs_out, num_channels, dtype="float32", quality=quality)

    def process(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        block = np.ascontiguousarray(block, dtype=np.float32)
        if self.passthrough:
            return block
        return self.stream.resample_chunk(block, last=last)

    def flush(self) -> np.ndarray:
        """The samples still held back, at the end of the stream."""
        shape = (0,) if self.num_channels == 1 else (0, self.num_channels)
        return self.process(np.zeros(shape, dtype=np.float32), last=True)


def iter_mono_blocks(path: PathLike, blocksize: int, channel: Optional[int] = None) -> Iterator[np.ndarray]:
    """Read a file block by block as float32 mono [n] (downmixed, or ``channel``)."""
    try:
        f = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(f"{path}: cannot be read as audio ({e})") from None
    with f:
        while True:
            try:
                block = f.read(blocksize, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as e:
                raise AudioError(f"{path}: read error after {f.tell()} frames ({e})") from None
            if block.shape[0] == 0:
                return
            yield to_mono(block, channel, name=str(path))


def fit_length(wav: np.ndarray, length: int) -> np.ndarray:
    """Cut or zero-pad the first (time) axis to ``length``."""
    if wav.shape[0] >= length:
        return wav[:length]
    pad = [(0, length - wav.shape[0])] + [(0, 0)] * (wav.ndim - 1)
    return np.pad(wav, pad)


def count_clipped(wav: np.ndarray) -> int:
    """Samples outside [-1, 1] (those that 16-bit PCM would clip)."""
    return int(np.count_nonzero(np.abs(wav) > 1.0))


def write_audio(path: PathLike, wav: np.ndarray, fs: int, subtype: Optional[str] = "PCM_16") -> int:
    """Write [N] or [N, C]; returns the number of samples clipped by an integer subtype."""
    clipped = count_clipped(wav) if subtype and subtype.startswith("PCM") else 0
    sf.write(str(path), wav, fs, subtype=subtype)
    return clipped
