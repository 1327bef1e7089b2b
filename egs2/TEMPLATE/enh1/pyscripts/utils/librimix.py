#!/usr/bin/env python3
"""LibriMix (Libri2Mix) from its published metadata, and data directories for a LibriMix tree.

The metadata (``metadata/Libri2Mix/libri2mix_<subset>.csv`` of github.com/JorisCos/LibriMix) has one
mixture per line::

    mixture_ID,source_1_path,source_1_gain,source_2_path,source_2_gain,noise_path,noise_gain

source paths relative to the LibriSpeech root (``dev-clean/3536/8226/3536-8226-0026.flac``), the noise
path relative to the WHAM! noise root (``cv/<name>.wav``), gains linear. The gains already hold the
loudness normalisation: when the metadata was made, each source (zero-padded to the longest) was set
with pyloudnorm to a random loudness (speech -33..-25 LUFS, noise 5 LU lower), and all of them scaled
down together if their sum would peak above 0.9. Making a mixture only applies them, as
``scripts/create_librimix_from_metadata.py`` does (the same operations, in the same order and dtypes,
so the files come out as that script writes them):

1. read each source as float32 at 16 kHz; read the noise (float32, first channel) up to the longest
   source, looping it with a 1-s Hann cross-fade (:func:`loop_noise`) when it is shorter;
2. multiply each signal by its gain;
3. resample to the target rate (``scipy.signal.resample_poly``; 16 kHz is left as it is);
4. ``min``: cut every signal to the shortest, ``max``: zero-pad to the longest;
5. ``mix_clean`` = s1 + s2, ``mix_both`` = s1 + s2 + noise, summed in that order into a float32 array;
6. write 16-bit wav files ``<out_dir>/{s1,s2,noise,mix_clean,mix_both}/<mixture_ID>.wav``.

``train-360`` also names speed-perturbed WHAM! noises (``tr/<name>sp08.wav``, ``sp12``), which LibriMix
makes beforehand with sox's ``speed 0.8`` / ``speed 1.2`` on the first channel (``augment_train_noise.py``,
through pysndfx): :func:`make_speed_noises`.

Command line (used by ``egs2/librimix/enh1/local/data.sh``; run with the toolkit's Python)::

    pyscripts/utils/librimix.py download --out_dir data/local/metadata dev test train-360
    pyscripts/utils/librimix.py speed --wham_noise /data/wham_noise --out_dir data/local/wham_noise_speed CSV...
    pyscripts/utils/librimix.py mix --metadata libri2mix_dev-clean.csv --librispeech /data/LibriSpeech \\
        --wham_noise /data/wham_noise data/local/wham_noise_speed --out_dir Libri2Mix/wav8k/min/dev \\
        --fs 8k --mode min --types mix_clean mix_both
    pyscripts/utils/librimix.py datadir --mix both --data_dir data/dev_both_min_8k Libri2Mix/wav8k/min/dev
"""

import argparse
import csv
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import soundfile as sf
import soxr

SOURCE_RATE = 16000  # LibriSpeech and WHAM! noise
FS_CHOICES = {"8k": 8000, "16k": 16000}
TYPES = ("mix_clean", "mix_both")  # the mixture folders made here (LibriMix also has mix_single: s1 + noise)
LOOP_FADE = SOURCE_RATE // 2 + 1  # a looped noise cross-fades over the rising half of a 1-s Hann window

# The published metadata, pinned: JorisCos/LibriMix at this commit, with each file's git blob id.
METADATA_COMMIT = "b898ca375c03e4039cdb3dbe3dd485aad58ec7d1"
METADATA_URL = f"https://raw.githubusercontent.com/JorisCos/LibriMix/{METADATA_COMMIT}/metadata/Libri2Mix"
METADATA = {  # subset (folder name in a LibriMix tree) -> (file, git blob id)
    "train-100": ("libri2mix_train-clean-100.csv", "393234e6c9035dac4b83cd973fbb92da06ad0999"),
    "train-360": ("libri2mix_train-clean-360.csv", "6190d44fad70a6890237323b3d3e0a97325eaf3a"),
    "dev": ("libri2mix_dev-clean.csv", "6d8f1058b9235f4606f591ad8dc7632b7e71a390"),
    "test": ("libri2mix_test-clean.csv", "ea28bb09d4f64e48bccb3649eec25091bd3d49ce"),
}
# sox's "speed" as LibriMix's augment_train_noise.py runs it through pysndfx: float64 in and out, at pysndfx's
# default rate (only the ratio matters to sox).
SOX_SPEED = ["sox", "-N", "-V1", "-t", "f64", "-r", "44100", "-c", "1", "-", "-t", "f64", "-r", "44100", "-c", "1", "-"]
SPEED_NOISE = re.compile(r"^(?P<original>.+)sp(?P<factor>08|12)\.wav$")  # tr/<name>sp08.wav <- tr/<name>.wav


@dataclass(frozen=True)
class MixtureRow:
    """One line of a LibriMix metadata file."""

    mixture_id: str
    sources: Tuple[str, ...]  # paths relative to the LibriSpeech root
    gains: Tuple[float, ...]
    noise: str  # path relative to the WHAM! noise root
    noise_gain: float


def read_metadata(path) -> List[MixtureRow]:
    """Read a ``libri<J>mix_<subset>.csv``; a malformed file raises ValueError naming file and line."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        num_src = sum(1 for h in header or [] if re.fullmatch(r"source_\d+_path", h))
        expected = ["mixture_ID"]
        for j in range(1, num_src + 1):
            expected += [f"source_{j}_path", f"source_{j}_gain"]
        expected += ["noise_path", "noise_gain"]
        if header != expected or num_src < 1:
            raise ValueError(f"{path}:1: expected the LibriMix header {','.join(expected)!r}, got {header}")
        for lineno, fields in enumerate(reader, 2):
            if not fields:
                continue
            if len(fields) != len(expected):
                raise ValueError(f"{path}:{lineno}: expected {len(expected)} fields, got {len(fields)}: {fields}")
            try:
                gains = tuple(float(g) for g in fields[2 : 2 * num_src + 1 : 2])
                noise_gain = float(fields[-1])
            except ValueError:
                raise ValueError(f"{path}:{lineno}: a gain is not a number: {fields}") from None
            rows.append(MixtureRow(fields[0], tuple(fields[1 : 2 * num_src : 2]), gains, fields[-2], noise_gain))
    if not rows:
        raise ValueError(f"{path}: the metadata file has no mixtures")
    return rows


# ---------------------------------------------------------------- mixing


def loop_noise(noise: np.ndarray, length: int) -> np.ndarray:
    """Repeat ``noise`` [N] up to ``length`` samples: each copy fades in (Hann) while the end fades out."""
    fade_in = np.hanning(2 * LOOP_FADE - 1)[:LOOP_FADE]
    fade_out = fade_in[::-1]
    out = noise
    while len(out) < length:
        joint = out[-LOOP_FADE:] * fade_out + noise[:LOOP_FADE] * fade_in
        out = np.concatenate((out[:-LOOP_FADE], joint, noise[LOOP_FADE:]))
    return out[:length]


def read_noise(path, length: int) -> np.ndarray:
    """The first channel of a WHAM! noise file, cut or looped to ``length`` samples (float32, or float64 looped)."""
    noise, _ = sf.read(str(path), dtype="float32", stop=length)
    if noise.ndim > 1:
        noise = noise[:, 0]
    return loop_noise(noise, length) if len(noise) < length else noise


def make_signals(
    sources: Sequence[np.ndarray],
    gains: Sequence[float],
    fs: int,
    mode: str,
    noise: Optional[np.ndarray] = None,
    noise_gain: float = 1.0,
) -> Dict[str, np.ndarray]:
    """Scale, resample and fit the signals of one mixture, and mix them.

    Args:
        sources: J float32 signals [N_j] at 16 kHz
        gains: J linear gains
        fs: output rate in Hz
        mode: ``min`` or ``max``
        noise: the noise [max N_j] at 16 kHz (:func:`read_noise`), or None for clean mixtures only
    Returns:
        {"s1".."sJ", "mix_clean"} and, with a noise, {"noise", "mix_both"}: arrays [N] at ``fs``.
    """
    from scipy.signal import resample_poly  # here: scipy.signal takes 0.6 s to import, datadir does not need it

    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    signals = [x * g for x, g in zip(sources, gains)]
    if noise is not None:
        signals.append(noise * noise_gain)
    signals = [resample_poly(x, fs, SOURCE_RATE) for x in signals]
    # The noise is as long as the longest source, so it never decides the length.
    lengths = [len(x) for x in signals]
    if mode == "min":
        signals = [x[: min(lengths)] for x in signals]
    else:
        signals = [np.pad(x, (0, max(lengths) - len(x))) for x in signals]
    out = {f"s{j}": x for j, x in enumerate(signals[: len(sources)], 1)}
    out["mix_clean"] = mixdown(signals[: len(sources)])
    if noise is not None:
        out["noise"] = signals[-1]
        out["mix_both"] = mixdown(signals)
    return out


def mixdown(signals: Sequence[np.ndarray]) -> np.ndarray:
    """Sum in order into an array of the first signal's dtype (float32), as LibriMix does."""
    mix = np.zeros_like(signals[0])
    for x in signals:
        mix += x
    return mix


def find_file(roots: Sequence, rel: str) -> Path:
    """``rel`` under the first of ``roots`` that has it."""
    for root in roots:
        path = Path(root) / rel
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"{rel} is under none of {', '.join(str(r) for r in roots)}: check WHAM_NOISE in db.sh "
        "(speed-perturbed noises, <name>sp08.wav and sp12.wav, are made by stage 2 of local/data.sh)"
    )


def _make_one(job) -> str:
    row, librispeech, wham_roots, out_dir, fs, mode, types = job
    try:
        sources = []
        for rel in row.sources:
            path = Path(librispeech) / rel
            if not path.is_file():
                raise FileNotFoundError(f"{path} not found: check LIBRISPEECH in db.sh")
            sources.append(sf.read(str(path), dtype="float32")[0])
        noise = None
        if "mix_both" in types:
            noise = read_noise(find_file(wham_roots, row.noise), max(len(x) for x in sources))
        signals = make_signals(sources, row.gains, fs, mode, noise, row.noise_gain)
    except (ValueError, FileNotFoundError) as e:
        raise type(e)(f"mixture {row.mixture_id}: {e}") from None
    except RuntimeError as e:  # soundfile's, for a file it cannot read
        raise RuntimeError(f"mixture {row.mixture_id}: {e}") from None
    wanted = [f"s{j}" for j in range(1, len(row.sources) + 1)] + list(types)
    if "mix_both" in types:
        wanted.append("noise")
    for name in wanted:
        sf.write(str(Path(out_dir) / name / f"{row.mixture_id}.wav"), signals[name], fs, subtype="PCM_16")
    return row.mixture_id


def make_mixtures(
    rows: Sequence[MixtureRow], librispeech, wham_roots: Sequence, out_dir, fs: int, mode: str, types, nj: int = 1
) -> List[str]:
    """Write ``out_dir/{s1..sJ, <types>[, noise]}/<mixture_ID>.wav`` for every row; return the ids in order."""
    unknown = set(types) - set(TYPES)
    if unknown or not types:
        raise ValueError(f"mixture types must be among {TYPES}, got {list(types)}")
    folders = [f"s{j}" for j in range(1, len(rows[0].sources) + 1)] + list(types)
    if "mix_both" in types:
        folders.append("noise")
    for d in folders:
        (Path(out_dir) / d).mkdir(parents=True, exist_ok=True)
    jobs = [(r, str(librispeech), [str(w) for w in wham_roots], str(out_dir), fs, mode, tuple(types)) for r in rows]
    if nj <= 1:
        return [_make_one(j) for j in jobs]
    with ProcessPoolExecutor(nj) as ex:
        return list(ex.map(_make_one, jobs, chunksize=16))


# ---------------------------------------------------------------- speed-perturbed WHAM! noise


def change_speed(x: np.ndarray, factor: float, tool: str) -> np.ndarray:
    """``x`` [N] played ``factor`` times faster (pitch and tempo), at the same rate.

    ``sox``: LibriMix's own command (sox's ``speed``, through its default ``rate``); ``soxr``: libsoxr's HQ
    resampler from ``factor * fs`` to ``fs``, the same operation with another implementation (within the
    16-bit rounding of sox's, not bit-identical).
    """
    if tool == "sox":
        cmd = SOX_SPEED + ["speed", str(factor)]
        p = subprocess.run(cmd, input=np.ascontiguousarray(x, dtype=np.float64).tobytes(), capture_output=True)
        if p.returncode != 0 or p.stderr:
            raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.decode(errors='replace').strip()}")
        return np.frombuffer(p.stdout, dtype=np.float64)
    if tool == "soxr":
        return soxr.resample(x, SOURCE_RATE * factor, SOURCE_RATE, quality="HQ")
    raise ValueError(f"unknown speed tool {tool!r}: sox or soxr")


def speed_noises_needed(rows: Sequence[MixtureRow], wham_noise) -> List[str]:
    """The speed-perturbed noises (``tr/<name>sp08.wav``) the rows name that ``wham_noise`` lacks."""
    return sorted({r.noise for r in rows if SPEED_NOISE.match(r.noise) and not (Path(wham_noise) / r.noise).is_file()})


def _speed_one(job) -> str:
    rel, wham_noise, out_dir, tool = job
    m = SPEED_NOISE.match(rel)
    src = Path(wham_noise) / (m["original"] + ".wav")
    if not src.is_file():
        raise FileNotFoundError(f"{src} (to make {rel}) not found: check WHAM_NOISE in db.sh")
    x, fs = sf.read(str(src), always_2d=True)
    y = change_speed(x[:, 0], int(m["factor"]) / 10, tool)
    dst = Path(out_dir) / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.wav")
    sf.write(str(tmp), y, fs, subtype="PCM_16")
    os.replace(tmp, dst)
    return rel


def make_speed_noises(rels: Sequence[str], wham_noise, out_dir, tool: str, nj: int = 1) -> int:
    """Write each speed-perturbed noise of ``rels`` to ``out_dir/<rel>`` unless it is there; return how many."""
    jobs = [(rel, str(wham_noise), str(out_dir), tool) for rel in rels if not (Path(out_dir) / rel).is_file()]
    if nj <= 1:
        for j in jobs:
            _speed_one(j)
    else:
        with ProcessPoolExecutor(nj) as ex:
            list(ex.map(_speed_one, jobs, chunksize=16))
    return len(jobs)


def default_speed_tool() -> str:
    return "sox" if shutil.which("sox") else "soxr"


# ---------------------------------------------------------------- data directories


def speaker_id(mixture_id: str) -> str:
    """LibriSpeech speakers of a mixture, joined by ``_``: ``3536-8226-0026_1673-143397-0009`` -> ``3536_1673``."""
    return "_".join(utt.split("-")[0] for utt in mixture_id.split("_"))


def write_data_dir(data_dir, subset_dirs: Sequence, mix: str, num_spk: Optional[int] = None) -> int:
    """A Kaldi-style data directory for the ``mix_<mix>`` mixtures of one or more LibriMix subset folders.

    ``wav.scp`` (``mix_<mix>``), ``spk{j}.scp`` (``s{j}``), ``noise1.scp`` (``noise``, for ``both``),
    ``utt2spk`` (the speakers of the mixture), ``spk2utt``; sorted by mixture id, absolute paths.
    ``num_spk``: check that the folders have J sources. Returns the number of mixtures.
    """
    entries: Dict[str, Path] = {}
    for d in subset_dirs:
        d = Path(d).resolve()
        files = sorted((d / f"mix_{mix}").glob("*.wav"))
        if not files:
            raise FileNotFoundError(f"no {d}/mix_{mix}/*.wav: expected a LibriMix subset folder (e.g. wav8k/min/dev)")
        for f in files:
            if f.stem in entries:
                raise ValueError(f"mixture {f.stem} is in both {entries[f.stem].parent.parent} and {d}")
            entries[f.stem] = f
    found = len(list(next(iter(entries.values())).parent.parent.glob("s[0-9]*")))
    if num_spk is not None and found != num_spk:
        raise ValueError(f"{' '.join(str(d) for d in subset_dirs)}: {found} sources (s1 ...), expected {num_spk}")
    num_spk = found
    refs = [f"s{j}" for j in range(1, num_spk + 1)] + (["noise"] if mix == "both" else [])
    names = [f"spk{j}.scp" for j in range(1, num_spk + 1)] + (["noise1.scp"] if mix == "both" else [])
    tables: Dict[str, List[str]] = {name: [] for name in ["wav.scp", *names, "utt2spk"]}
    spk2utt: Dict[str, List[str]] = {}
    for uid in sorted(entries):
        mix_file = entries[uid]
        tables["wav.scp"].append(f"{uid} {mix_file}")
        for ref, name in zip(refs, names):
            ref_file = mix_file.parent.parent / ref / mix_file.name
            if not ref_file.is_file():
                raise FileNotFoundError(f"{ref_file} (reference of {mix_file}) is missing")
            tables[name].append(f"{uid} {ref_file}")
        tables["utt2spk"].append(f"{uid} {speaker_id(uid)}")
        spk2utt.setdefault(speaker_id(uid), []).append(uid)
    tables["spk2utt"] = [f"{spk} {' '.join(utts)}" for spk, utts in sorted(spk2utt.items())]
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, lines in tables.items():
        (data_dir / name).write_text("".join(line + "\n" for line in lines))
    return len(entries)


# ---------------------------------------------------------------- metadata download


def git_blob_id(data: bytes) -> str:
    """The id git gives a file with this content (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def download_metadata(subsets: Sequence[str], out_dir, url: str = METADATA_URL) -> None:
    """Fetch ``libri2mix_<subset>.csv`` of the pinned LibriMix commit; check each against its git blob id."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for subset in subsets:
        name, blob = METADATA[subset]
        try:
            data = urllib.request.urlopen(f"{url}/{name}", timeout=300).read()
        except OSError as e:
            raise OSError(
                f"cannot download {url}/{name}: {e}. Download LibriMix's metadata/Libri2Mix where you can "
                "(github.com/JorisCos/LibriMix) and give that folder to local/data.sh with --metadata_dir DIR"
            ) from None
        if url == METADATA_URL and git_blob_id(data) != blob:
            raise ValueError(f"{url}/{name}: the download is not the published file (git blob {blob})")
        (out_dir / name).write_bytes(data)


# ---------------------------------------------------------------- command line


def parse_fs(value: str) -> int:
    return FS_CHOICES.get(value) or int(value)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    down = sub.add_parser("download", help="the published Libri2Mix metadata of some subsets")
    down.add_argument("--out_dir", required=True)
    down.add_argument("--url", default=METADATA_URL, help="folder URL holding libri2mix_<subset>.csv")
    down.add_argument("subsets", nargs="+", choices=sorted(METADATA))
    speed = sub.add_parser("speed", help="the speed-perturbed WHAM! noises that metadata files name")
    speed.add_argument("--wham_noise", required=True, help="WHAM! noise root (wham_noise/, with tr/ cv/ tt/)")
    speed.add_argument("--out_dir", required=True, help="writes <out_dir>/tr/<name>sp08.wav ...")
    speed.add_argument("--tool", choices=["sox", "soxr"], default=None, help="default: sox if installed, else soxr")
    speed.add_argument("--nj", type=int, default=1)
    speed.add_argument("metadata", nargs="+", help="libri2mix_<subset>.csv files")
    mix = sub.add_parser("mix", help="the mixtures of one metadata file")
    mix.add_argument("--metadata", required=True, help="libri2mix_<subset>.csv")
    mix.add_argument("--librispeech", required=True, help="LibriSpeech root (with dev-clean/ ...)")
    mix.add_argument("--wham_noise", nargs="+", default=[], help="folders searched in order for the noise paths")
    mix.add_argument("--out_dir", required=True, help="the subset folder, e.g. Libri2Mix/wav8k/min/dev")
    mix.add_argument("--fs", required=True, help="8k, 16k or a rate in Hz")
    mix.add_argument("--mode", choices=["min", "max"], default="min")
    mix.add_argument("--types", nargs="+", choices=TYPES, default=["mix_clean"])
    mix.add_argument("--nj", type=int, default=1)
    ddir = sub.add_parser("datadir", help="a data directory for LibriMix subset folders")
    ddir.add_argument("--mix", choices=["clean", "both"], required=True, help="mix_clean or mix_both mixtures")
    ddir.add_argument("--data_dir", required=True)
    ddir.add_argument("--num_spk", type=int, default=None, help="check there are J sources")
    ddir.add_argument("subset_dirs", nargs="+", help="e.g. Libri2Mix/wav8k/min/train-100 .../train-360")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = get_parser().parse_args(argv)
    if args.command == "download":
        download_metadata(args.subsets, args.out_dir, args.url)
        logging.info(f"metadata of {' '.join(args.subsets)} -> {args.out_dir}")
    elif args.command == "speed":
        rows = [r for m in args.metadata for r in read_metadata(m)]
        needed = speed_noises_needed(rows, args.wham_noise)
        tool = args.tool or default_speed_tool()
        n = make_speed_noises(needed, args.wham_noise, args.out_dir, tool, args.nj)
        logging.info(f"{n} speed-perturbed WHAM! noises made with {tool} ({len(needed) - n} there before)")
    elif args.command == "mix":
        rows = read_metadata(args.metadata)
        if "mix_both" in args.types and not args.wham_noise:
            raise ValueError("--types mix_both needs --wham_noise")
        fs = parse_fs(args.fs)
        make_mixtures(rows, args.librispeech, args.wham_noise, args.out_dir, fs, args.mode, args.types, args.nj)
        logging.info(f"{len(rows)} mixtures of {args.metadata} -> {args.out_dir} ({' '.join(args.types)})")
    else:
        n = write_data_dir(args.data_dir, args.subset_dirs, args.mix, args.num_spk)
        logging.info(f"{n} mixtures of {' '.join(args.subset_dirs)} -> {args.data_dir}")


if __name__ == "__main__":
    try:
        main()
    except (ValueError, FileNotFoundError, OSError, RuntimeError) as e:
        sys.exit(f"{sys.argv[0]}: error: {e}")
