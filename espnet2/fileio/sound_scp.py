"""Read and write audio listed in a Kaldi-style scp file (`<utt_id> <path>` per line) through soundfile.

reader = SoundScpReader("data/tr/wav.scp", dtype="float32")
rate, wav = reader["utt1"]          # wav: [N] (mono) or [N, C] (multi-channel)

writer = SoundScpWriter("exp/enhanced/wavs/1", "exp/enhanced/spk1.scp")
writer["utt1"] = 8000, wav          # writes exp/enhanced/wavs/1/utt1.wav and a line in spk1.scp
writer["utt2"] = wav, 8000          # ESPnet's writer takes either order

ESPnet's `multi_columns` (one file per channel, `<utt_id> <path1> <path2> ...`) is not supported: the
options are refused by name.
"""

import collections.abc
from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np
import soundfile

from espnet2.fileio.read_text import read_2columns_text_with_lineno


def refuse_multi_columns(cls_name: str, multi_columns: bool) -> None:
    if multi_columns:
        raise ValueError(
            f"{cls_name}(multi_columns=True): one audio file per channel (ESPnet's multi-column scp) is not "
            "supported by this toolkit; keep multi-channel audio in one file per utterance"
        )


def soundfile_dtype(dtype) -> Optional[str]:
    """A numpy dtype (np.int16, "int16", np.dtype("float32") ...) as the name soundfile takes."""
    return None if dtype is None else np.dtype(dtype).name


class SoundScpReader(collections.abc.Mapping):
    """Lazy `Mapping[utt_id, (rate, array)]` over a `<utt_id> <audio path>` scp file.

    Audio is read on access with soundfile (wav, flac, and whatever libsndfile reads).
    A relative audio path is taken relative to the current directory (Kaldi/ESPnet convention).

    Args:
        fname: the scp file.
        dtype: numpy dtype of the returned array ("float32" or np.float32: integer PCM scaled to [-1, 1];
            "int16": the PCM samples).
        always_2d: return [N, C] also for mono files.
        multi_columns, concat_axis: ESPnet's multi-column scp; only the defaults (False, 1).
    """

    def __init__(self, fname: Union[Path, str], dtype=None, always_2d: bool = False, multi_columns: bool = False,
                 concat_axis: int = 1):  # fmt: skip
        refuse_multi_columns(type(self).__name__, multi_columns)
        self.fname = Path(fname)
        self.dtype = soundfile_dtype(dtype)
        self.always_2d = always_2d
        self.data, self.lineno = read_2columns_text_with_lineno(fname)

    def where(self, key: str) -> str:
        """'file:line' of `key`, for error messages."""
        return f"{self.fname}:{self.lineno[key]}"

    def get_path(self, key: str) -> str:
        return self.data[key]

    def __getitem__(self, key: str) -> Tuple[int, np.ndarray]:
        path = self.data[key]
        if path == "":
            raise ValueError(
                f"{self.where(key)}: utterance '{key}' has no audio path; each line of {self.fname} must be "
                "'<utt_id> <audio path>'"
            )
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
    """Write `(rate, array)` (or ESPnet's other order, `(array, rate)`) as audio files under `outdir` and list
    them in `scpfile`.

    Args:
        outdir: directory for the audio files (created).
        scpfile: the scp file to write (`<key> <outdir>/<key>.<format>` per line).
        format: "wav" or "flac".
        multi_columns: ESPnet's one file per channel; only False.
        output_name_format: the file name under `outdir` (ESPnet's), from `{key}` and `{audio_format}`.
        subtype: soundfile subtype, e.g. "PCM_16", "FLOAT" (None: soundfile's default for the format).
        dtype: this toolkit's older name of `subtype`.
    """

    def __init__(
        self,
        outdir: Union[Path, str],
        scpfile: Union[Path, str],
        format: str = "wav",
        dtype: Optional[str] = None,
        multi_columns: bool = False,
        output_name_format: str = "{key}.{audio_format}",
        subtype: Optional[str] = None,
    ):
        refuse_multi_columns(type(self).__name__, multi_columns)
        if dtype is not None and subtype is not None and dtype != subtype:
            raise ValueError(f"SoundScpWriter: subtype={subtype!r} and dtype={dtype!r} (its older name) differ")
        self.dir = Path(outdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        scpfile = Path(scpfile)
        scpfile.parent.mkdir(parents=True, exist_ok=True)
        self.fscp = scpfile.open("w", encoding="utf-8")
        self.format = format
        self.output_name_format = output_name_format
        self.subtype = subtype if subtype is not None else dtype
        self.data = {}

    def __setitem__(self, key: str, value: Tuple[int, np.ndarray]):
        value = list(value)
        if len(value) != 2:
            raise ValueError(f"audio for '{key}': expected (rate, array) or (array, rate), got {len(value)} elements")
        if isinstance(value[0], (int, np.integer)) and isinstance(value[1], np.ndarray):
            rate, signal = value
        elif isinstance(value[1], (int, np.integer)) and isinstance(value[0], np.ndarray):
            signal, rate = value
        else:
            raise TypeError(
                f"audio for '{key}': expected (rate: int, array: numpy.ndarray) in either order, "
                f"got ({type(value[0]).__name__}, {type(value[1]).__name__})"
            )
        if signal.ndim not in (1, 2):
            # ESPnet's RuntimeError
            raise RuntimeError(f"audio for '{key}' must be [N] or [N, C], got shape {signal.shape}")
        if signal.ndim == 1:
            signal = signal[:, None]
        wav = self.dir / self.output_name_format.format(key=key, audio_format=self.format)
        wav.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(wav), signal, int(rate), subtype=self.subtype)
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
