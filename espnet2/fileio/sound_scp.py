"""Read and write audio listed in a Kaldi-style scp file (`<utt_id> <path>` per line) through soundfile.

reader = SoundScpReader("data/tr/wav.scp", dtype="float32")
rate, wav = reader["utt1"]          # wav: [N] (mono) or [N, C] (multi-channel)

writer = SoundScpWriter("exp/enhanced/wavs/1", "exp/enhanced/spk1.scp")
writer["utt1"] = 8000, wav          # writes exp/enhanced/wavs/1/utt1.wav and a line in spk1.scp
"""

import collections.abc
from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np
import soundfile

from espnet2.fileio.read_text import read_2columns_text_with_lineno


class SoundScpReader(collections.abc.Mapping):
    """Lazy `Mapping[utt_id, (rate, array)]` over a `<utt_id> <audio path>` scp file.

    Audio is read on access with soundfile (wav, flac, and whatever libsndfile reads).
    A relative audio path is taken relative to the current directory (Kaldi/ESPnet convention).

    Args:
        fname: the scp file.
        dtype: numpy dtype of the returned array (e.g. "float32": integer PCM scaled to [-1, 1]).
        always_2d: return [N, C] also for mono files.
    """

    def __init__(self, fname: Union[Path, str], dtype: Optional[str] = None, always_2d: bool = False):
        self.fname = Path(fname)
        self.dtype = dtype
        self.always_2d = always_2d
        self.data, self.lineno = read_2columns_text_with_lineno(fname)

    def where(self, key: str) -> str:
        """'file:line' of `key`, for error messages."""
        return f"{self.fname}:{self.lineno[key]}"

    def get_path(self, key: str) -> str:
        return self.data[key]

    def __getitem__(self, key: str) -> Tuple[int, np.ndarray]:
        path = self.data[key]
        if not Path(path).exists():
            raise FileNotFoundError(
                f"{self.where(key)}: audio file '{path}' of utterance '{key}' does not exist; "
                f"fix the path in {self.fname} or re-run data preparation"
            )
        try:
            array, rate = soundfile.read(path, dtype=self.dtype or "float64", always_2d=self.always_2d)
        except (RuntimeError, soundfile.LibsndfileError) as e:
            raise RuntimeError(
                f"{self.where(key)}: cannot read audio file '{path}' of utterance '{key}': {e}"
            ) from None
        if self.dtype is None:
            array = array.astype(np.float64, copy=False)
        return rate, array

    def info(self, key: str) -> Tuple[int, int, int]:
        """(rate, frames, channels) of `key` without reading the samples."""
        path = self.data[key]
        if not Path(path).exists():
            raise FileNotFoundError(f"{self.where(key)}: audio file '{path}' of utterance '{key}' does not exist")
        i = soundfile.info(path)
        return i.samplerate, i.frames, i.channels

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        return iter(self.data)

    def __contains__(self, key):
        return key in self.data

    def keys(self):
        return self.data.keys()


class SoundScpWriter:
    """Write `(rate, array)` pairs as audio files under `outdir` and list them in `scpfile`.

    Args:
        outdir: directory for the audio files (created).
        scpfile: the scp file to write (`<key> <outdir>/<key>.<format>` per line).
        format: "wav" or "flac".
        dtype: soundfile subtype, e.g. "PCM_16", "FLOAT" (None: soundfile's default for the format).
    """

    def __init__(
        self, outdir: Union[Path, str], scpfile: Union[Path, str], format: str = "wav", dtype: Optional[str] = None
    ):
        self.dir = Path(outdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        scpfile = Path(scpfile)
        scpfile.parent.mkdir(parents=True, exist_ok=True)
        self.fscp = scpfile.open("w", encoding="utf-8")
        self.format = format
        self.dtype = dtype
        self.data = {}

    def __setitem__(self, key: str, value: Tuple[int, np.ndarray]):
        rate, signal = value
        if not isinstance(rate, int):
            raise TypeError(f"sample rate must be int, got {type(rate).__name__}")
        signal = np.asarray(signal)
        if signal.ndim not in (1, 2):
            raise ValueError(f"audio for '{key}' must be [N] or [N, C], got shape {signal.shape}")
        if signal.ndim == 1:
            signal = signal[:, None]
        wav = self.dir / f"{key}.{self.format}"
        wav.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(wav), signal, rate, subtype=self.dtype)
        self.fscp.write(f"{key} {wav}\n")
        self.data[key] = str(wav)

    def get_path(self, key):
        return self.data[key]

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()

    def close(self):
        self.fscp.close()
