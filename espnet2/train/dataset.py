"""ESPnetDataset: `(utt_id, {name: array})` items read from Kaldi-style lists.

    dataset = ESPnetDataset(
        [("data/tr/wav.scp", "speech_mix", "sound"),
         ("data/tr/spk1.scp", "speech_ref1", "sound"),
         ("data/tr/spk2.scp", "speech_ref2", "sound")],
        preprocess=EnhPreprocessor(train=True, speech_segment=32000),
    )
    uid, data = dataset["utt1"]      # data["speech_mix"]: float32 [N] (mono) or [N, C]

All lists are checked when the dataset is built (existence, not empty, same keys), and every item when
it is read (audio exists, one sample rate, and with `require_same_length` one length); each error names
the list file and line.
"""

from abc import ABC, abstractmethod
from typing import Callable, Collection, Dict, Mapping, Optional, Tuple, Union

import numpy as np
from torch.utils.data.dataset import Dataset

from espnet2.fileio.sound_scp import SoundScpReader


class DataError(RuntimeError):
    """Inconsistent training data; the message names the list file and line."""


def sound_loader(path, float_dtype=None):
    # rate and array are kept together so that the dataset can check the sample rate
    return SoundScpReader(path, dtype=float_dtype, always_2d=False)


DATA_TYPES = {
    "sound": dict(
        func=sound_loader,
        kwargs=["float_dtype"],
        help="Audio format types which supported by sndfile wav, flac, etc."
        "\n\n"
        "   utterance_id_a a.wav\n"
        "   utterance_id_b b.wav\n"
        "   ...",
    ),
}


class AbsDataset(Dataset, ABC):
    @abstractmethod
    def names(self) -> Tuple[str, ...]:
        """The data names (speech_mix, speech_ref1, ...)."""

    @abstractmethod
    def has_name(self, name) -> bool:
        """Whether `name` is one of the data names."""

    @abstractmethod
    def __getitem__(self, uid) -> Tuple[str, Dict[str, np.ndarray]]:
        """(uid, {name: array})."""


class ESPnetDataset(AbsDataset):
    """Pytorch Dataset indexed by utterance id (batch samplers yield tuples of ids).

    Args:
        path_name_type_list: `(list file, data name, data type)` triples; the first list decides the keys.
        preprocess: `fn(uid, data) -> data` applied to each item (numpy arrays); may have `set_epoch(epoch)`.
        float_dtype: dtype of floating-point arrays.
        int_dtype: dtype of integer arrays.
        require_same_length: every "sound" item of an utterance must have the same number of samples
            (enhancement: the references must be as long as the mixture).
        sample_rate: the expected sample rate of every "sound" item; None: the rate of the first item read.
    """

    def __init__(
        self,
        path_name_type_list: Collection[Tuple[str, str, str]],
        preprocess: Callable[[str, Dict[str, np.ndarray]], Dict[str, np.ndarray]] = None,
        float_dtype: str = "float32",
        int_dtype: str = "long",
        require_same_length: bool = False,
        sample_rate: Optional[int] = None,
    ):
        if len(path_name_type_list) == 0:
            raise ValueError('1 or more elements are required for "path_name_type_list"')
        path_name_type_list = list(path_name_type_list)
        self.preprocess = preprocess
        self.float_dtype = float_dtype
        self.int_dtype = int_dtype
        self.require_same_length = require_same_length
        self.sample_rate = sample_rate
        self._first_rate: Optional[Tuple[int, str]] = None
        self.epoch = 0

        self.loader_dict: Dict[str, Mapping] = {}
        self.debug_info: Dict[str, Tuple[str, str]] = {}
        for path, name, _type in path_name_type_list:
            if name in self.loader_dict:
                raise RuntimeError(f'"{name}" is duplicated for data-key')
            loader = self._build_loader(path, _type)
            if len(loader) == 0:
                raise DataError(f"{path}: the list is empty (0 utterances); check data preparation for {name}")
            self.loader_dict[name] = loader
            self.debug_info[name] = path, _type

        # every list must hold every key of the first list
        first_name = path_name_type_list[0][1]
        first = self.loader_dict[first_name]
        for name, loader in self.loader_dict.items():
            if name == first_name:
                continue
            for k in first:
                if k not in loader:
                    raise DataError(
                        f"{self._where(first_name, k)}: utterance '{k}' has no entry in {self.debug_info[name][0]} "
                        f"({name}); every list of a data directory must hold the same utterances"
                    )
            if len(loader) != len(first):
                extra = next(k for k in loader if k not in first)
                raise DataError(
                    f"{self._where(name, extra)}: utterance '{extra}' is not in {self.debug_info[first_name][0]} "
                    f"({first_name}); every list of a data directory must hold the same utterances"
                )
        self.keys = list(first)

    def _build_loader(self, path: str, loader_type: str) -> Mapping:
        if loader_type not in DATA_TYPES:
            raise RuntimeError(
                f"Not supported: loader_type={loader_type!r} for {path}; choose one of {list(DATA_TYPES)} "
                "(this toolkit keeps ESPnet's sound loader only; see README, Differences from ESPnet)"
            )
        func = DATA_TYPES[loader_type]["func"]
        kwargs = {}
        for key in DATA_TYPES[loader_type]["kwargs"]:
            if key == "float_dtype":
                kwargs["float_dtype"] = self.float_dtype
            elif key == "int_dtype":
                kwargs["int_dtype"] = self.int_dtype
        return func(path, **kwargs)

    def _where(self, name: str, key: str) -> str:
        loader = self.loader_dict[name]
        if hasattr(loader, "where"):
            return loader.where(key)
        return self.debug_info[name][0]

    def set_epoch(self, epoch: int):
        """Tell the preprocessor which epoch it serves (its random crops/mixes depend on it)."""
        self.epoch = epoch
        if self.preprocess is not None and hasattr(self.preprocess, "set_epoch"):
            self.preprocess.set_epoch(epoch)

    def has_name(self, name) -> bool:
        return name in self.loader_dict

    def names(self) -> Tuple[str, ...]:
        return tuple(self.loader_dict)

    def __iter__(self):
        return iter(next(iter(self.loader_dict.values())))

    def __len__(self):
        return len(self.keys)

    def __repr__(self):
        _mes = self.__class__.__name__ + "(\n"
        for name, (path, _type) in self.debug_info.items():
            _mes += f'  {name}: {{"path": "{path}", "type": "{_type}"}}\n'
        _mes += f"  preprocess: {self.preprocess})"
        return _mes

    def __getitem__(self, uid: Union[str, int]) -> Tuple[str, Dict[str, np.ndarray]]:
        if isinstance(uid, int):
            uid = self.keys[uid]

        data = {}
        lengths = {}
        for name, loader in self.loader_dict.items():
            value = loader[uid]
            if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], int):
                rate, value = value
                self._check_rate(name, uid, rate)
                lengths[name] = value.shape[0]
            if not isinstance(value, np.ndarray):
                raise TypeError(f"{self._where(name, uid)}: must be numpy.ndarray, but got {type(value)}")
            data[name] = value

        if self.require_same_length and len(set(lengths.values())) > 1:
            ref_name = next(iter(lengths))
            for name, n in lengths.items():
                if n != lengths[ref_name]:
                    raise DataError(
                        f"{self._where(name, uid)}: utterance '{uid}': {name} has {n} samples but {ref_name} "
                        f"({self._where(ref_name, uid)}) has {lengths[ref_name]}; the mixture and its references "
                        "must have the same length (re-run data preparation)"
                    )

        if self.preprocess is not None:
            data = self.preprocess(uid, data)

        for name in data:
            value = data[name]
            if not isinstance(value, np.ndarray):
                raise RuntimeError(
                    "All values must be converted to np.ndarray object by preprocessing, "
                    f"but {name} is still {type(value)}."
                )
            if value.dtype.kind == "c":
                continue
            elif value.dtype.kind == "f":
                value = value.astype(self.float_dtype, copy=False)
            elif value.dtype.kind in "iu":
                value = value.astype(self.int_dtype, copy=False)
            else:
                raise TypeError(
                    f"utterance '{uid}': {name} has dtype {value.dtype}; expected float, int or complex data"
                )
            data[name] = value
        return uid, data

    def _check_rate(self, name: str, uid: str, rate: int):
        if self.sample_rate is not None:
            if rate != self.sample_rate:
                raise DataError(
                    f"{self._where(name, uid)}: utterance '{uid}' ({name}) has sample rate {rate} Hz, "
                    f"but {self.sample_rate} Hz is expected; resample the data (enh.sh stage 3) or fix the config"
                )
            return
        if self._first_rate is None:
            self._first_rate = (rate, self._where(name, uid))
        elif rate != self._first_rate[0]:
            raise DataError(
                f"{self._where(name, uid)}: utterance '{uid}' ({name}) has sample rate {rate} Hz, but "
                f"{self._first_rate[1]} has {self._first_rate[0]} Hz; all audio must share one sample rate"
            )
