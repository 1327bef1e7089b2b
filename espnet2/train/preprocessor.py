"""Preprocessors: per-utterance transforms applied in the data loader (`fn(uid, data) -> data`).

`EnhPreprocessor` (`--preprocessor enh`) for speech separation:
  1. `force_single_channel`: keep the first channel of multi-channel audio.
  2. training only, `dynamic_mixing`: keep this utterance's `speech_ref1`, draw `num_spk - 1` other
     sources at random from the pool of references (every `spk*.scp` of the training set, or a
     `source_scp`), never from the same utterance (nor the same speaker when `utt2spk` labels the
     sources), scale each source by a random gain in [-dynamic_mixing_gain_db, +dynamic_mixing_gain_db] dB,
     and make the mixture their sum.
  3. training only, `speech_segment`: crop a random segment of that many samples, at the same place in
     the mixture and in every reference (utterances that are shorter are kept whole).

Randomness is drawn from a generator seeded with (seed, epoch, utterance id): the data of an epoch does
not depend on the number of loader workers or processes, and a resumed run sees the same data as an
uninterrupted one.
"""

import zlib
from abc import ABC, abstractmethod
from typing import Dict, List, Optional, Sequence

import numpy as np

from espnet2.fileio.read_text import read_2columns_text
from espnet2.fileio.sound_scp import SoundScpReader


class AbsPreprocessor(ABC):
    def __init__(self, train: bool):
        self.train = train

    @abstractmethod
    def __call__(self, uid: str, data: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Transform the arrays of utterance `uid` (name -> array); returns the new dict."""


class EnhPreprocessor(AbsPreprocessor):
    """Crop and dynamic mixing for separation (see the module docstring).

    Args:
        train: apply the training-only transforms (crop, dynamic mixing).
        num_spk: number of references `speech_ref1..speech_ref{num_spk}`.
        speech_segment: crop length in samples (None: no crop).
        avoid_allzero_segment: re-draw the crop (up to 10 times) when a reference is silent in it.
        force_single_channel: keep only the first channel of multi-channel audio.
        dynamic_mixing: re-mix references of different utterances on the fly.
        dynamic_mixing_gain_db: gain range (+-dB, uniform) for every source in dynamic mixing.
        source_scps: the pool of sources for dynamic mixing (`<source id> <path>` lists);
            the task passes the training set's spk*.scp.
        utt2spk: optional `<source id> <speaker>` list for the pool (`source_scps` ids); sources of
            one mixture then come from different speakers.
        seed: base seed of the per-utterance random generator.
        speech_name / speech_ref_name_prefix: data names.
    """

    def __init__(
        self,
        train: bool,
        num_spk: int = 2,
        speech_segment: Optional[int] = None,
        avoid_allzero_segment: bool = True,
        force_single_channel: bool = False,
        dynamic_mixing: bool = False,
        dynamic_mixing_gain_db: float = 0.0,
        source_scps: Sequence[str] = (),
        utt2spk: Optional[str] = None,
        seed: int = 0,
        speech_name: str = "speech_mix",
        speech_ref_name_prefix: str = "speech_ref",
    ):
        super().__init__(train)
        if speech_segment is not None and int(speech_segment) <= 0:
            raise ValueError(f"speech_segment must be a positive number of samples, got {speech_segment}")
        if dynamic_mixing_gain_db < 0:
            raise ValueError(f"dynamic_mixing_gain_db must be >= 0, got {dynamic_mixing_gain_db}")
        self.num_spk = num_spk
        self.speech_segment = None if speech_segment is None else int(speech_segment)
        self.avoid_allzero_segment = avoid_allzero_segment
        self.force_single_channel = force_single_channel
        self.dynamic_mixing = dynamic_mixing
        self.dynamic_mixing_gain_db = float(dynamic_mixing_gain_db)
        self.seed = seed
        self.epoch = 0
        self.speech_name = speech_name
        self.speech_ref_name_prefix = speech_ref_name_prefix

        # pool of sources for dynamic mixing: (source id, the list it is read from)
        self.sources: List[tuple] = []
        self.source2spk: Dict[str, str] = {}
        if dynamic_mixing and train:
            if len(source_scps) == 0:
                raise ValueError("dynamic_mixing needs the reference lists (source_scps) to draw sources from")
            for scp in source_scps:
                reader = SoundScpReader(scp, dtype="float32")
                for k in reader:
                    self.sources.append((k, reader))
            if len(self.sources) < num_spk:
                raise ValueError(
                    f"dynamic mixing needs at least {num_spk} sources, found {len(self.sources)} in {list(source_scps)}"
                )
            if utt2spk is not None:
                spk = read_2columns_text(utt2spk)
                for k, reader in self.sources:
                    if spk.get(k, "") == "":
                        raise ValueError(f"{reader.where(k)}: source '{k}' has no speaker in {utt2spk}")
                self.source2spk = spk

    def set_epoch(self, epoch: int):
        self.epoch = epoch

    def rng(self, uid: str) -> np.random.Generator:
        """The random generator of utterance `uid` in the current epoch."""
        return np.random.default_rng([self.seed, self.epoch, zlib.crc32(uid.encode("utf-8"))])

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(train={self.train}, num_spk={self.num_spk}, "
            f"speech_segment={self.speech_segment}, dynamic_mixing={self.dynamic_mixing}, "
            f"dynamic_mixing_gain_db={self.dynamic_mixing_gain_db})"
        )

    def _ref_names(self, data) -> List[str]:
        return [
            f"{self.speech_ref_name_prefix}{j + 1}"
            for j in range(self.num_spk)
            if f"{self.speech_ref_name_prefix}{j + 1}" in data
        ]

    def __call__(self, uid: str, data: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        if self.force_single_channel:
            for k, v in data.items():
                if v.ndim > 1:
                    data[k] = v[:, 0]
        if not self.train:
            return data
        rng = self.rng(uid)
        if self.speech_segment is not None:
            data = self._crop(uid, data, rng)
        if self.dynamic_mixing:
            data = self._mix(uid, data, rng)
        return data

    def _crop(self, uid, data, rng):
        seq_names = [self.speech_name] + self._ref_names(data)
        seq_names = [k for k in seq_names if k in data]
        length = data[seq_names[0]].shape[0]
        seg = self.speech_segment
        if length <= seg:
            return data
        refs = self._ref_names(data)
        for _ in range(10):
            start = int(rng.integers(0, length - seg + 1))
            if not self.avoid_allzero_segment or all(np.any(data[k][start : start + seg] != 0) for k in refs):
                break
        for k in seq_names:
            data[k] = data[k][start : start + seg]
        return data

    def _pick_sources(self, uid, rng) -> List[tuple]:
        picked = []
        used_spk = set()
        if self.source2spk and uid in self.source2spk:
            used_spk.add(self.source2spk[uid])
        tries = 0
        while len(picked) < self.num_spk - 1:
            k, reader = self.sources[int(rng.integers(len(self.sources)))]
            spk = self.source2spk.get(k)
            ok = k != uid and all(k != p[0] for p in picked) and (spk is None or spk not in used_spk)
            tries += 1
            if ok or tries > 100:  # give up on the constraints rather than loop forever
                picked.append((k, reader))
                if spk is not None:
                    used_spk.add(spk)
        return picked

    def _mix(self, uid, data, rng):
        first = f"{self.speech_ref_name_prefix}1"
        if first not in data:
            raise KeyError(f"dynamic mixing needs '{first}' in the data of '{uid}'")
        ref1 = data[first]
        length = ref1.shape[0]
        sources = [ref1]
        for k, reader in self._pick_sources(uid, rng):
            _, wav = reader[k]
            if wav.ndim != ref1.ndim or (wav.ndim > 1 and wav.shape[1] != ref1.shape[1]):
                raise ValueError(f"{reader.where(k)}: source '{k}' has shape {wav.shape}, but '{uid}' has {ref1.shape}")
            if wav.shape[0] > length:
                start = int(rng.integers(0, wav.shape[0] - length + 1))
                wav = wav[start : start + length]
            elif wav.shape[0] < length:
                pad = [(0, length - wav.shape[0])] + [(0, 0)] * (wav.ndim - 1)
                wav = np.pad(wav, pad)
            sources.append(wav.astype(ref1.dtype, copy=False))
        g = self.dynamic_mixing_gain_db
        gains = 10.0 ** (rng.uniform(-g, g, size=len(sources)) / 20.0) if g > 0 else np.ones(len(sources))
        sources = [s * np.asarray(gain, dtype=s.dtype) for s, gain in zip(sources, gains)]
        for j, s in enumerate(sources):
            data[f"{self.speech_ref_name_prefix}{j + 1}"] = s
        data[self.speech_name] = np.sum(np.stack(sources, 0), 0)
        return data
