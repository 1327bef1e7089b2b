#!/usr/bin/env python3
"""WHAMR! from WSJ0, WHAM! noise and the WHAMR! metadata, and data directories for a WHAMR! tree.

WHAMR! (Maciejewski et al., ICASSP 2020; wham.whisper.ai) is WSJ0-2mix with WHAM! noise and simulated
rooms. The WHAMR! scripts (``whamr_scripts.tar.gz``) hold two metadata files per split (tr, cv, tt), the
WHAM! noise corpus the noises and their gains:

- ``whamr_scripts/data/mix_2_spk_filenames_<split>.csv``: ``output_filename,s1_path,s2_path``, the source
  paths relative to WSJ0 as wav (``wsj0/si_tr_s/01t/01to030v.wav``);
- ``whamr_scripts/data/reverb_params_<split>.csv``: per mixture (``utterance_id``) the room ``room_x,
  room_y, room_z``, the two microphones ``micL_x, micL_y, micR_x, micR_y, mic_z``, the speakers ``s1_x``
  .. ``s2_z`` (metres) and ``T60`` (seconds);
- ``wham_noise/metadata/scaling_<split>.npz``: ``utterance_id``, ``speech_start_sample_16k`` and, per rate
  and length (``<8k|16k>_<min|max>``), ``scaling_wsjmix_*`` (the two WSJ0-2mix source gains [N, 2]),
  ``scaling_wham_speech_*`` and ``scaling_wham_noise_*`` [N];
- ``wham_noise/<split>/<output_filename>``: the noise, 16 kHz, two channels.

A mixture is made as the WHAMR! scripts' ``create_wham_from_scratch.py`` makes it, mono (the left
microphone), with the same operations in the same order:

1. The room (:class:`Room`, :func:`spatialize`), at 16 kHz: walls absorbing ``a = 24 V ln(10) / (c S T60)``
   (Sabine), image sources up to the order ``ceil(T60 c / min(room))``, each impulse response cut to
   ``ceil(T60 fs)`` samples; the anechoic response is the direct path alone (order 0, the same delay).
2. The room's input: each source read at 16 kHz and quantized to 16 bits, the shorter zero-padded to the
   longer and both to the noise's length. Each is convolved with its two responses (the images of the
   sources at the microphone, before they are summed) and, for 8 kHz, resampled (``resample_poly``).
3. The levels: the WSJ0-2mix source is ``s_j = quantize(x_j * scaling_wsjmix[j]) * scaling_wham_speech``
   (``x_j`` read at the output rate), and both images of source j are scaled by
   ``sqrt(sum(s_j ** 2) / sum(anechoic_j ** 2))``: the anechoic image has the WSJ0-2mix source's energy.
4. The length: ``max`` the noise's, ``min`` the shorter WSJ0-2mix source's.
5. The noise: its first channel at the output rate times ``scaling_wham_noise``. ``max``: the images start
   ``speech_start_sample_16k`` (halved at 8 kHz) into the noise and end with it; ``min``: the noise from
   that sample on, as long as the images.
6. ``mix_clean = s1 + s2``, ``mix_single = noise + s1``, ``mix_both = noise + s1 + s2``, of the anechoic
   (``*_anechoic``) or reverberant (``*_reverb``) images, written as 32-bit float wav files
   ``<out_dir>/{mix_<type>_<cond>, s1_anechoic, s2_anechoic, s1_reverb, s2_reverb, noise}/<output_filename>``.

The WHAMR! scripts were written for pyroomacoustics 0.3 (ESPnet's recipe installs 0.2), whose walls took an
amplitude absorption ``a``: a reflection scaled the sound by ``r = 1 - a``. Later versions take the energy
absorption, here ``1 - r ** 2`` (the conversion pyroomacoustics made while the old parameter was deprecated);
where ``a > 1`` (a short T60 in a large room) ``r`` is negative and the old reflections changed sign at each
wall, which :func:`spatialize` restores. The RIR high-pass filter that pyroomacoustics 0.8 added is off, as
0.3 had none.

Command line (used by ``egs2/whamr/enh1/local/data.sh``; run with the toolkit's Python)::

    pyscripts/utils/whamr.py download --out_dir data/local/whamr_meta
    pyscripts/utils/whamr.py convert --wsj0 /data/LDC93S6A --wav_root data/local/wsj0_wav --meta data/local/whamr_meta
    pyscripts/utils/whamr.py mix --meta data/local/whamr_meta --split tt --wsj0_wav data/local/wsj0_wav \\
        --wham_noise /data/wham_noise --out_dir WHAMR/wav8k/min/tt --fs 8k --mode min \\
        --types mix_both_anechoic mix_both_reverb
    pyscripts/utils/whamr.py datadir --mix both --cond reverb --data_dir data/tt_mix_both_reverb_min_8k \\
        WHAMR/wav8k/min/tt
"""

import argparse
import csv
import io
import logging
import math
import sys
import tarfile
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import soundfile as sf
from scipy.signal import fftconvolve, resample_poly
from wsj0_mix import FS_CHOICES, MixEntry, convert_wsj0  # beside this script

ROOM_RATE = 16000  # the rooms are simulated, and the sources read, at 16 kHz
SPLITS = ("tr", "cv", "tt")
CONDITIONS = ("anechoic", "reverb")
MIXES = ("clean", "single", "both")
TYPES = tuple(f"mix_{m}_{c}" for m in MIXES for c in CONDITIONS)  # the mixture folders
SOURCES = ("s1_anechoic", "s2_anechoic", "s1_reverb", "s2_reverb")  # written with every mixture
ROOM_COLUMNS = ("room_x", "room_y", "room_z", "micL_x", "micL_y", "micR_x", "micR_y", "mic_z",
                "s1_x", "s1_y", "s1_z", "s2_x", "s2_y", "s2_z", "T60")  # fmt: skip
# The WHAMR! scripts, from where wham.whisper.ai links them (MERL's bucket; TF-Locoformer's README uses it).
SCRIPTS_URL = "https://my-bucket-a8b4b49c25c811ee9a7e8bba05fa24c7.s3.amazonaws.com/whamr_scripts.tar.gz"
META_FILES = [f"{kind}_{s}.csv" for kind in ("mix_2_spk_filenames", "reverb_params") for s in SPLITS]


# ---------------------------------------------------------------- metadata


@dataclass(frozen=True)
class Room:
    """A WHAMR! room: metres, seconds."""

    dims: Tuple[float, float, float]
    mic_left: Tuple[float, float, float]
    mic_right: Tuple[float, float, float]  # only for stereo WHAMR!, not made here
    speakers: Tuple[Tuple[float, float, float], Tuple[float, float, float]]
    t60: float

    @classmethod
    def from_row(cls, row: Dict[str, float]) -> "Room":
        return cls(
            dims=(row["room_x"], row["room_y"], row["room_z"]),
            mic_left=(row["micL_x"], row["micL_y"], row["mic_z"]),
            mic_right=(row["micR_x"], row["micR_y"], row["mic_z"]),
            speakers=((row["s1_x"], row["s1_y"], row["s1_z"]), (row["s2_x"], row["s2_y"], row["s2_z"])),
            t60=row["T60"],
        )

    def row(self) -> List[float]:
        """The values of ``reverb_params_<split>.csv`` (:data:`ROOM_COLUMNS`)."""
        (x1, y1, z1), (x2, y2, z2) = self.speakers
        return [*self.dims, *self.mic_left[:2], *self.mic_right, x1, y1, z1, x2, y2, z2, self.t60]

    def absorption(self, c: float) -> float:
        """The WHAMR! scripts' wall absorption (Sabine's formula), an amplitude coefficient: may exceed 1."""
        x, y, z = self.dims
        return 24 * x * y * z * math.log(10.0) / (c * 2 * (x * y + x * z + y * z) * self.t60)

    def max_order(self, c: float) -> int:
        """The lowest image order whose echoes arrive after T60."""
        return math.ceil(self.t60 * c / min(self.dims))

    def rir_length(self, fs: int) -> int:
        return math.ceil(self.t60 * fs)


@dataclass(frozen=True)
class Scaling:
    """The gains of one mixture at one rate and length (``scaling_<split>.npz``)."""

    wsjmix: Tuple[float, float]
    speech: float
    noise: float
    start_16k: int  # where the speech starts in the noise, at 16 kHz


def read_csv(path, key: str, columns: Sequence[str]) -> Dict[str, List[str]]:
    """``{row[key]: [row[c] for c in columns]}``; a missing column or file raises naming the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the WHAMR! metadata (whamr_scripts/data) are incomplete")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in (key, *columns) if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}:1: no column {', '.join(missing)} (header: {reader.fieldnames})")
        return {row[key]: [row[c] for c in columns] for row in reader}


def read_filenames(meta_dir, split: str) -> Dict[str, Tuple[str, str]]:
    """``{output_filename: (s1_path, s2_path)}`` of ``mix_2_spk_filenames_<split>.csv``, in file order."""
    rows = read_csv(Path(meta_dir) / f"mix_2_spk_filenames_{split}.csv", "output_filename", ("s1_path", "s2_path"))
    return {k: tuple(v) for k, v in rows.items()}


def read_rooms(meta_dir, split: str) -> Dict[str, Room]:
    """``{utterance_id: Room}`` of ``reverb_params_<split>.csv``."""
    path = Path(meta_dir) / f"reverb_params_{split}.csv"
    rooms = {}
    for uid, values in read_csv(path, "utterance_id", ROOM_COLUMNS).items():
        try:
            rooms[uid] = Room.from_row(dict(zip(ROOM_COLUMNS, map(float, values))))
        except ValueError:
            raise ValueError(f"{path}: the room of {uid} has a value that is not a number: {values}") from None
    return rooms


def read_scaling(path, fs_tag: str, mode: str) -> Dict[str, Scaling]:
    """``{utterance_id: Scaling}`` of WHAM!'s ``scaling_<split>.npz`` for one rate (8k, 16k) and length."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} not found: WHAM_NOISE in db.sh must be the wham_noise folder with metadata/")
    tag = f"{fs_tag}_{mode}"
    # WHAM!'s files hold the utterance ids as an object array, which only a pickle-enabled load reads
    with np.load(path, allow_pickle=True) as npz:
        keys = [f"scaling_wsjmix_{tag}", f"scaling_wham_speech_{tag}", f"scaling_wham_noise_{tag}"]
        missing = [k for k in ["utterance_id", "speech_start_sample_16k", *keys] if k not in npz.files]
        if missing:
            raise ValueError(f"{path}: no {', '.join(missing)} (WHAM! noise's metadata/scaling_<split>.npz?)")
        ids, start = npz["utterance_id"], npz["speech_start_sample_16k"]
        wsjmix, speech, noise = (npz[k] for k in keys)
    return {
        str(u): Scaling((float(wsjmix[i][0]), float(wsjmix[i][1])), float(speech[i]), float(noise[i]), int(start[i]))
        for i, u in enumerate(ids)
    }


# ---------------------------------------------------------------- rooms


def _pyroomacoustics():
    try:
        import pyroomacoustics
    except ImportError:
        raise ImportError(
            "pyroomacoustics is needed to simulate the rooms: pip install pyroomacoustics==0.10.1 "
            "(tools/setup_venv.sh installs it, with the train extra)"
        ) from None
    return pyroomacoustics


@contextmanager
def _no_rir_highpass(pra):
    """pyroomacoustics' RIRs without the high-pass filter of 0.8 and later (0.3 had none)."""
    before = pra.constants.get("rir_hpf_enable")
    pra.constants.set("rir_hpf_enable", False)
    try:
        yield
    finally:
        pra.constants.set("rir_hpf_enable", before)


def room_rirs(room: Room, fs: int = ROOM_RATE, anechoic: bool = False) -> List[np.ndarray]:
    """The impulse responses [<= ceil(T60 fs)] from the two speakers to the left microphone.

    ``anechoic``: the direct paths alone (image order 0).
    """
    pra = _pyroomacoustics()
    c = pra.constants.get("c")
    reflection = 1.0 - room.absorption(c)  # what one reflection scaled the sound by in pyroomacoustics 0.3
    shoebox = pra.ShoeBox(
        room.dims,
        fs=fs,
        max_order=0 if anechoic else room.max_order(c),
        materials=pra.Material(energy_absorption=1.0 - reflection**2),
    )
    for position in room.speakers:
        shoebox.add_source(position)
    shoebox.add_microphone(room.mic_left)
    shoebox.image_source_model()
    if reflection < 0:  # pyroomacoustics 0.3 flipped the sign at each wall; now only |reflection| is kept
        for source in shoebox.sources:
            source.damping = source.damping * (-1.0) ** source.orders
    with _no_rir_highpass(pra):
        shoebox.compute_rir()
    return [h[: room.rir_length(fs)] for h in shoebox.rir[0]]


def spatialize(room: Room, sources: Sequence[np.ndarray], fs: int = ROOM_RATE) -> Tuple[np.ndarray, np.ndarray]:
    """The images of the sources at the left microphone: (anechoic [2, L], reverberant [2, L]).

    Each source [N] (both as long) is convolved with its impulse response as pyroomacoustics' ``simulate``
    does: ``L`` is the longest response plus ``N - 1``, rounded up to even.
    """
    images = []
    for anechoic in (True, False):
        rirs = room_rirs(room, fs, anechoic)
        n = max(map(len, rirs)) + len(sources[0]) - 1
        out = np.zeros((len(sources), n + n % 2))
        for j, (h, x) in enumerate(zip(rirs, sources)):
            out[j, : len(x) + len(h) - 1] = fftconvolve(h, x)
        images.append(out)
    return images[0], images[1]


# ---------------------------------------------------------------- mixing


def quantize(x: np.ndarray) -> np.ndarray:
    """To the 16-bit grid, as the WHAMR! scripts round (``np.int16(np.round(2**15 * x)) / 2**15``)."""
    return np.round(2**15 * x).astype(np.int16) / 2**15


def resample(x: np.ndarray, fs: int) -> np.ndarray:
    """From 16 kHz to ``fs`` along the last axis (``resample_poly``; 16 kHz as it is)."""
    return x if fs == ROOM_RATE else resample_poly(x, fs, ROOM_RATE, axis=-1)


def make_signals(
    sources: Sequence[np.ndarray], noise: np.ndarray, room: Room, scaling: Scaling, fs: int, mode: str
) -> Dict[str, np.ndarray]:
    """The signals of one WHAMR! mixture (the steps of the module docstring).

    Args:
        sources: the two WSJ0 utterances [N_j] at 16 kHz, float64 as read
        noise: the first channel of the WHAM! noise [M] at 16 kHz, float64 as read (M >= max N_j)
        fs: output rate, 8000 or 16000
        mode: ``min`` or ``max``
    Returns:
        {"s1_anechoic", "s2_anechoic", "s1_reverb", "s2_reverb", "noise", "mix_<type>_<cond>" x 6}: [T] at fs
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    if fs not in (8000, ROOM_RATE):
        raise ValueError(f"WHAMR! is made at 8 or 16 kHz, not {fs} Hz")
    # 1. the room's input: 16-bit sources, as long as the noise
    if max(map(len, sources)) > len(noise):
        raise ValueError(f"the noise ({len(noise)} samples) is shorter than a source ({max(map(len, sources))})")
    padded = [np.pad(quantize(x), (0, len(noise) - len(x))) for x in sources]
    images = [resample(p, fs) for p in spatialize(room, padded)]  # anechoic, reverberant
    # 2. levels: the anechoic image gets the energy of the WSJ0-2mix source
    dry = [quantize(resample(x, fs) * g) * scaling.speech for x, g in zip(sources, scaling.wsjmix)]
    spatial = [np.sqrt(np.sum(s**2) / np.sum(images[0][j] ** 2)) for j, s in enumerate(dry)]
    noise = resample(noise, fs) * scaling.noise
    # 3. length and noise
    length = len(noise) if mode == "max" else min(map(len, dry))
    start = scaling.start_16k * fs // ROOM_RATE
    out = {"noise": noise if mode == "max" else noise[start : start + length]}
    for cond, image in zip(CONDITIONS, images):
        s1, s2 = (image[j, :length] * spatial[j] for j in range(2))
        if mode == "max":  # delayed by the start, cut at the end of the noise
            s1, s2 = (np.concatenate([np.zeros(start), s[: length - start]]) for s in (s1, s2))
        out[f"s1_{cond}"], out[f"s2_{cond}"] = s1, s2
        out[f"mix_clean_{cond}"] = s1 + s2
        out[f"mix_single_{cond}"] = out["noise"] + s1
        out[f"mix_both_{cond}"] = out["noise"] + s1 + s2
    return out


def read_audio(path) -> np.ndarray:
    """A wav file's first channel, float64 (as the WHAMR! scripts read every file)."""
    x, _ = sf.read(str(path))
    return x[:, 0] if x.ndim > 1 else x


def _make_one(job) -> str:
    uid, paths, room, scaling, wsj0_wav, noise_dir, out_dir, fs, mode, folders = job
    try:
        sources = []
        for rel in paths:
            path = Path(wsj0_wav) / rel
            if not path.is_file():
                raise FileNotFoundError(f"{path} not found: convert WSJ0 first (local/data.sh stage 2)")
            sources.append(read_audio(path))
        noise_path = Path(noise_dir) / uid
        if not noise_path.is_file():
            raise FileNotFoundError(f"{noise_path} not found: check WHAM_NOISE in db.sh")
        signals = make_signals(sources, read_audio(noise_path), room, scaling, fs, mode)
    except (ValueError, FileNotFoundError) as e:
        raise type(e)(f"mixture {uid}: {e}") from None
    for name in folders:
        sf.write(str(Path(out_dir) / name / uid), signals[name], fs, subtype="FLOAT")
    return uid


def make_mixtures(
    meta_dir, split: str, wsj0_wav, wham_noise, out_dir, fs: int, mode: str, types: Sequence[str], nj: int = 1
) -> List[str]:
    """Write ``out_dir/{<types>, s1_anechoic, ..., noise}/<output_filename>`` for every mixture of a split."""
    unknown = set(types) - set(TYPES)
    if unknown or not types:
        raise ValueError(f"mixture types must be among {TYPES}, got {list(types)}")
    files = read_filenames(meta_dir, split)
    rooms = read_rooms(meta_dir, split)
    scaling = read_scaling(Path(wham_noise) / "metadata" / f"scaling_{split}.npz", f"{fs // 1000}k", mode)
    for uid in files:
        for table, where in ((rooms, f"reverb_params_{split}.csv"), (scaling, f"scaling_{split}.npz")):
            if uid not in table:
                raise ValueError(f"mixture {uid} of mix_2_spk_filenames_{split}.csv is not in {where}")
    folders = [*types, *SOURCES] + (["noise"] if any("clean" not in t for t in types) else [])
    for d in folders:
        (Path(out_dir) / d).mkdir(parents=True, exist_ok=True)
    noise_dir = Path(wham_noise) / split
    jobs = [(u, p, rooms[u], scaling[u], str(wsj0_wav), str(noise_dir), str(out_dir), fs, mode, folders)
            for u, p in files.items()]  # fmt: skip
    done = []
    with ProcessPoolExecutor(nj) if nj > 1 else nullcontext() as ex:
        for uid in (ex.map if ex else map)(_make_one, jobs):
            done.append(uid)
            if len(done) % 500 == 0:
                logging.info(f"{split}: {len(done)} of {len(jobs)} mixtures")
    return done


# ---------------------------------------------------------------- data directories


def write_data_dir(data_dir, split_dir, mix: str, cond: str, reference: str = "anechoic") -> int:
    """A Kaldi-style data directory for the ``mix_<mix>_<cond>`` mixtures of a WHAMR! split folder.

    ``wav.scp`` (the mixtures), ``spk{j}.scp`` (``s{j}_<reference>``: one for ``single``, two otherwise),
    ``noise1.scp`` (``noise``, except for ``clean``), ``dereverb1.scp`` (for ``reverb``: the anechoic
    mixture of the same kind, as ESPnet's WHAMR! recipe writes it, where the folder is there), ``utt2spk``
    (the two WSJ0 speakers), ``spk2utt``; sorted by mixture id (the file name without .wav), absolute paths.
    Returns the number of mixtures.
    """
    split_dir = Path(split_dir).resolve()
    mixtures = sorted((split_dir / f"mix_{mix}_{cond}").glob("*.wav"))
    if not mixtures:
        raise FileNotFoundError(f"no {split_dir}/mix_{mix}_{cond}/*.wav: expected a WHAMR! split folder")
    refs = {f"spk{j}.scp": f"s{j}_{reference}" for j in ((1,) if mix == "single" else (1, 2))}
    if mix != "clean":
        refs["noise1.scp"] = "noise"
    if cond == "reverb" and (split_dir / f"mix_{mix}_anechoic").is_dir():
        refs["dereverb1.scp"] = f"mix_{mix}_anechoic"
    tables: Dict[str, List[str]] = {"wav.scp": [], **{name: [] for name in refs}, "utt2spk": []}
    spk2utt: Dict[str, List[str]] = {}
    for f in mixtures:
        tables["wav.scp"].append(f"{f.stem} {f}")
        for name, folder in refs.items():
            ref = split_dir / folder / f.name
            if not ref.is_file():
                raise FileNotFoundError(f"{ref} (reference of {f}) is missing")
            tables[name].append(f"{f.stem} {ref}")
        parts = f.stem.split("_")  # <utt1>_<gain1>_<utt2>_<gain2>, as WSJ0-2mix names them
        speakers = MixEntry(tuple(parts[0::2]), tuple(parts[1::2])).speaker_id
        tables["utt2spk"].append(f"{f.stem} {speakers}")
        spk2utt.setdefault(speakers, []).append(f.stem)
    tables["spk2utt"] = [f"{spk} {' '.join(utts)}" for spk, utts in sorted(spk2utt.items())]
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    for name, lines in tables.items():
        (Path(data_dir) / name).write_text("".join(line + "\n" for line in lines))
    return len(mixtures)


# ---------------------------------------------------------------- metadata download


def download_metadata(out_dir, url: str = SCRIPTS_URL) -> None:
    """Fetch the WHAMR! scripts and keep their metadata (``data/*.csv``) in ``out_dir``."""
    try:
        data = urllib.request.urlopen(url, timeout=300).read()
    except OSError as e:
        raise OSError(
            f"cannot download {url}: {e}. Download whamr_scripts.tar.gz where you can (wham.whisper.ai) and give "
            "its data/ folder to local/data.sh with --whamr_meta DIR"
        ) from None
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if member.isfile() and len(parts) >= 2 and parts[-2] == "data" and parts[-1] in META_FILES:
                found[parts[-1]] = tar.extractfile(member).read()
    missing = [m for m in META_FILES if m not in found]
    if missing:
        raise ValueError(f"{url}: no data/{missing[0]} in the archive (not the WHAMR! scripts?)")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for name, content in found.items():
        (Path(out_dir) / name).write_bytes(content)


# ---------------------------------------------------------------- command line


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    down = sub.add_parser("download", help="the WHAMR! metadata (from the WHAMR! scripts)")
    down.add_argument("--out_dir", required=True)
    down.add_argument("--url", default=SCRIPTS_URL, help="whamr_scripts.tar.gz")
    conv = sub.add_parser("convert", help="the WSJ0 utterances the metadata name, SPHERE -> wav")
    conv.add_argument("--wsj0", required=True, help="root of the WSJ0 corpus (LDC93S6A)")
    conv.add_argument("--wav_root", required=True, help="where to write wsj0/.../*.wav")
    conv.add_argument("--meta", required=True, help="folder with mix_2_spk_filenames_<split>.csv")
    conv.add_argument("--tool", choices=["sph2pipe", "ffmpeg", "python"], default=None)
    conv.add_argument("--nj", type=int, default=1)
    mix = sub.add_parser("mix", help="the mixtures of one split")
    mix.add_argument("--meta", required=True, help="folder with mix_2_spk_filenames_<split>.csv, reverb_params_...")
    mix.add_argument("--split", required=True, choices=SPLITS)
    mix.add_argument("--wsj0_wav", required=True, help="root the source paths are relative to")
    mix.add_argument("--wham_noise", required=True, help="WHAM! noise root (<split>/, metadata/scaling_<split>.npz)")
    mix.add_argument("--out_dir", required=True, help="the split folder, e.g. WHAMR/wav8k/min/tt")
    mix.add_argument("--fs", required=True, choices=sorted(FS_CHOICES))
    mix.add_argument("--mode", choices=["min", "max"], default="min")
    mix.add_argument("--types", nargs="+", choices=TYPES, default=["mix_both_anechoic", "mix_both_reverb"])
    mix.add_argument("--nj", type=int, default=1)
    ddir = sub.add_parser("datadir", help="a data directory for a WHAMR! split folder")
    ddir.add_argument("--mix", choices=MIXES, required=True)
    ddir.add_argument("--cond", choices=CONDITIONS, required=True)
    ddir.add_argument("--reference", choices=CONDITIONS, default="anechoic", help="the speakers' references")
    ddir.add_argument("--data_dir", required=True)
    ddir.add_argument("split_dir", help="e.g. WHAMR/wav8k/min/tt")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = get_parser().parse_args(argv)
    if args.command == "download":
        download_metadata(args.out_dir, args.url)
        logging.info(f"WHAMR! metadata -> {args.out_dir}")
    elif args.command == "convert":
        needed = [p for s in SPLITS for pair in read_filenames(args.meta, s).values() for p in pair]
        n = convert_wsj0(args.wsj0, args.wav_root, needed, args.nj, args.tool)
        logging.info(f"converted {n} WSJ0 files to {args.wav_root}")
    elif args.command == "mix":
        fs = FS_CHOICES[args.fs]
        done = make_mixtures(args.meta, args.split, args.wsj0_wav, args.wham_noise, args.out_dir, fs, args.mode,
                             args.types, args.nj)  # fmt: skip
        logging.info(f"{len(done)} {args.split} mixtures -> {args.out_dir} ({' '.join(args.types)})")
    else:
        n = write_data_dir(args.data_dir, args.split_dir, args.mix, args.cond, args.reference)
        logging.info(f"{n} mixtures of {args.split_dir} -> {args.data_dir}")


if __name__ == "__main__":
    try:
        main()
    except (ValueError, FileNotFoundError, OSError, ImportError) as e:
        sys.exit(f"{sys.argv[0]}: error: {e}")
