#!/usr/bin/env python3
"""WSJ0-2mix style mixing: list files, SPHERE conversion, P.56-scaled mixtures.

Mixing list (``mix_2_spk_{tr,cv,tt}.txt`` of the MERL scripts): one mixture per line,
``s1_path s1_snr s2_path s2_snr [s3_path s3_snr ...]``, paths relative to the root of
the WSJ0 wav tree (``wsj0/si_tr_s/01t/01to030v.wav``), gains in dB.

Every mixture is made as ``create_wav_2speakers.m`` makes it:

1. read each source, resample it to the target rate;
2. scale it to unit active speech level (ITU-T P.56, ``p56.py`` beside this file), then by
   ``10 ** (snr / 20)``;
3. ``min``: cut every source to the shortest; ``max``: zero-pad to the longest;
4. mix = sum of sources; scale mixture and sources by ``0.9 / max|mix, sources|``;
5. write 16-bit PCM wav files ``<out>/{mix,s1,s2,...}/<id>.wav`` with
   ``<id> = <utt1>_<snr1>_<utt2>_<snr2>`` (utterance names without extension, gains as
   written in the list).

Command line (used by ``egs2/*/enh1/local/data.sh``; run with the toolkit's Python)::

    pyscripts/utils/wsj0_mix.py convert --wsj0 /path/WSJ0 --wav_root wsj0_wav LIST...
    pyscripts/utils/wsj0_mix.py mix --list mix_2_spk_tt.txt --wav_root wsj0_wav \\
        --out_dir 2speakers/wav8k/min/tt --fs 8000 --mode min --data_dir data/tt_min_8k
    pyscripts/utils/wsj0_mix.py datadir --mix_dir /data/wsj0-2mix/2speakers/wav8k/min/tt \\
        --data_dir data/tt_min_8k       # mixtures made elsewhere (e.g. by the MATLAB scripts)
"""

import argparse
import logging
import os
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import soundfile as sf
import soxr
from p56 import normalize_active_level  # beside this script

FS_CHOICES = {"8k": 8000, "16k": 16000}
PEAK = 0.9  # peak value of the loudest signal of a mixture after the final scaling


@dataclass(frozen=True)
class MixEntry:
    """One line of a mixing list: source paths and their gains (dB, kept as written)."""

    paths: Tuple[str, ...]
    snrs: Tuple[str, ...]

    @property
    def mixture_id(self) -> str:
        parts = []
        for path, snr in zip(self.paths, self.snrs):
            parts += [os.path.splitext(os.path.basename(path))[0], snr]
        return "_".join(parts)

    @property
    def speaker_id(self) -> str:
        """WSJ0 speaker ids (first 3 characters of each utterance) joined by ``_``."""
        return "_".join(os.path.basename(p)[:3] for p in self.paths)


def read_mix_list(path, num_spk: Optional[int] = None) -> List[MixEntry]:
    """Read a WSJ0-mix list; a malformed line raises ValueError naming file and line."""
    entries = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            where = f"{path}:{lineno}"
            if len(fields) % 2 or (num_spk is not None and len(fields) != 2 * num_spk):
                want = f"{2 * num_spk}" if num_spk else "an even number of"
                raise ValueError(
                    f"{where}: expected {want} fields 's1_path s1_snr s2_path s2_snr ...', "
                    f"got {len(fields)}: {line.rstrip()!r}"
                )
            for snr in fields[1::2]:
                try:
                    float(snr)
                except ValueError:
                    raise ValueError(f"{where}: gain {snr!r} is not a number") from None
            entries.append(MixEntry(tuple(fields[0::2]), tuple(fields[1::2])))
    if not entries:
        raise ValueError(f"{path}: the mixing list is empty")
    return entries


def mix_sources(
    sources: Sequence[np.ndarray], snrs_db: Sequence[float], fs: int, mode: str = "min"
) -> Tuple[np.ndarray, List[np.ndarray]]:
    """Mix sources WSJ0-2mix style.

    Args:
        sources: J signals [N_j] at ``fs`` (float, ~[-1, 1])
        snrs_db: J gains in dB applied after P.56 normalisation
        fs: sampling rate in Hz
        mode: ``min`` (cut to the shortest) or ``max`` (zero-pad to the longest)
    Returns:
        (mix [N], [J sources [N]]) with ``mix = sum(sources)`` and peak 0.9.
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    scaled = []
    for x, snr in zip(sources, snrs_db):
        y, _ = normalize_active_level(x, fs)
        scaled.append(y * 10.0 ** (float(snr) / 20.0))
    lengths = [len(y) for y in scaled]
    if mode == "min":
        n = min(lengths)
        scaled = [y[:n] for y in scaled]
    else:
        n = max(lengths)
        scaled = [np.pad(y, (0, n - len(y))) for y in scaled]
    mix = np.sum(scaled, axis=0)
    peak = max(np.max(np.abs(s)) for s in [mix] + scaled)
    gain = PEAK / peak
    return mix * gain, [y * gain for y in scaled]


def load_source(path, fs: int) -> np.ndarray:
    """Read a wav file as float64 [N] (first channel) and resample it to ``fs``."""
    x, fs_in = sf.read(str(path), dtype="float64", always_2d=True)
    x = x[:, 0]
    if fs_in != fs:
        x = soxr.resample(x, fs_in, fs, quality="VHQ")
    return x


def _make_one(args) -> str:
    entry, wav_root, out_dir, fs, mode = args
    sources = []
    for p in entry.paths:
        path = Path(wav_root) / p
        if not path.is_file():
            raise FileNotFoundError(f"source {path} of mixture {entry.mixture_id} not found")
        sources.append(load_source(path, fs))
    try:
        mix, refs = mix_sources(sources, [float(s) for s in entry.snrs], fs, mode)
    except ValueError as e:
        raise ValueError(f"mixture {entry.mixture_id} ({' '.join(entry.paths)}): {e}") from None
    name = entry.mixture_id + ".wav"
    sf.write(str(Path(out_dir) / "mix" / name), mix, fs, subtype="PCM_16")
    for j, ref in enumerate(refs, 1):
        sf.write(str(Path(out_dir) / f"s{j}" / name), ref, fs, subtype="PCM_16")
    return entry.mixture_id


def make_mixtures(entries: Sequence[MixEntry], wav_root, out_dir, fs: int, mode: str, nj: int = 1) -> List[str]:
    """Write ``out_dir/{mix,s1..sJ}/<id>.wav`` for every entry; return the ids in order."""
    num_spk = len(entries[0].paths)
    for d in ["mix"] + [f"s{j}" for j in range(1, num_spk + 1)]:
        (Path(out_dir) / d).mkdir(parents=True, exist_ok=True)
    jobs = [(e, str(wav_root), str(out_dir), fs, mode) for e in entries]
    if nj <= 1:
        return [_make_one(j) for j in jobs]
    with ProcessPoolExecutor(nj) as ex:
        return list(ex.map(_make_one, jobs, chunksize=16))


def write_data_dir(data_dir, out_dir, entries: Sequence[MixEntry]) -> None:
    """Write a Kaldi-style data directory for mixtures made by :func:`make_mixtures`.

    ``wav.scp``, ``spk{j}.scp``, ``utt2spk``, ``spk2utt``, sorted by utterance id.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    out_dir = Path(out_dir).resolve()
    num_spk = len(entries[0].paths)
    rows = sorted({e.mixture_id: e for e in entries}.items())
    with open(data_dir / "wav.scp", "w") as f:
        for uid, _ in rows:
            f.write(f"{uid} {out_dir / 'mix' / uid}.wav\n")
    for j in range(1, num_spk + 1):
        with open(data_dir / f"spk{j}.scp", "w") as f:
            for uid, _ in rows:
                f.write(f"{uid} {out_dir / f's{j}' / uid}.wav\n")
    spk2utt: Dict[str, List[str]] = {}
    with open(data_dir / "utt2spk", "w") as f:
        for uid, e in rows:
            f.write(f"{uid} {e.speaker_id}\n")
            spk2utt.setdefault(e.speaker_id, []).append(uid)
    with open(data_dir / "spk2utt", "w") as f:
        for spk in sorted(spk2utt):
            f.write(f"{spk} {' '.join(spk2utt[spk])}\n")


def entries_from_mixtures(mix_dir) -> List[MixEntry]:
    """Entries of an existing WSJ0-mix folder (``<mix_dir>/{mix,s1,s2}/<id>.wav``).

    Mixture ids are ``<utt1>_<gain1>_<utt2>_<gain2>...``, as the MATLAB and Python scripts
    name them; the source paths are left as bare utterance names.
    """
    mix_dir = Path(mix_dir)
    files = sorted((mix_dir / "mix").glob("*.wav"))
    if not files:
        raise FileNotFoundError(f"no {mix_dir}/mix/*.wav: expected a folder with mix/, s1/, s2/")
    entries = []
    for f in files:
        parts = f.stem.split("_")
        if len(parts) < 4 or len(parts) % 2:
            raise ValueError(f"{f}: the name is not <utt1>_<gain1>_<utt2>_<gain2>[...].wav")
        entry = MixEntry(tuple(parts[0::2]), tuple(parts[1::2]))
        for j in range(1, len(entry.paths) + 1):
            if not (mix_dir / f"s{j}" / f.name).is_file():
                raise FileNotFoundError(f"{mix_dir / f's{j}' / f.name} (reference of {f}) is missing")
        entries.append(entry)
    return entries


# ---------------------------------------------------------------- SPHERE -> wav


def read_sphere_header(path) -> Dict[str, str]:
    """Return the NIST SPHERE header fields of ``path`` as strings."""
    with open(path, "rb") as f:
        head = f.read(1024)
        if not head.startswith(b"NIST_1A"):
            raise ValueError(f"{path}: not a NIST SPHERE file (no NIST_1A magic)")
        size = int(head.split(b"\n")[1])
        if size > len(head):
            head += f.read(size - len(head))
    fields = {"header_size": str(size)}
    for line in head[:size].decode("ascii", "replace").split("\n")[2:]:
        parts = line.split(None, 2)
        if not parts or parts[0] == "end_head":
            break
        if len(parts) == 3:
            fields[parts[0]] = parts[2].strip()
    return fields


def read_sphere_pcm(path) -> Tuple[np.ndarray, int]:
    """Read an uncompressed (``sample_coding pcm``) 16-bit SPHERE file.

    Returns:
        (samples [N, C] int16, sampling rate)
    """
    h = read_sphere_header(path)
    coding = h.get("sample_coding", "pcm")
    if coding != "pcm":
        raise ValueError(
            f"{path}: sample_coding {coding!r} needs sph2pipe (tools/installers/install_sph2pipe.sh) or ffmpeg"
        )
    if h.get("sample_n_bytes", "2") != "2":
        raise ValueError(f"{path}: only 16-bit SPHERE is supported")
    order = ">" if h.get("sample_byte_format", "01") == "10" else "<"
    channels = int(h.get("channel_count", "1"))
    with open(path, "rb") as f:
        f.seek(int(h["header_size"]))
        data = np.frombuffer(f.read(), dtype=f"{order}i2")
    n = len(data) // channels * channels
    return data[:n].reshape(-1, channels).astype(np.int16), int(h["sample_rate"])


def sphere_to_wav(src, dst, tool: Optional[str] = None) -> None:
    """Convert a SPHERE file to a 16-bit wav.

    ``tool``: ``sph2pipe``, ``ffmpeg`` or ``python`` (uncompressed SPHERE only); by default
    the first of those that is installed. WSJ0 files are Shorten-compressed: use sph2pipe
    (``tools/installers/install_sph2pipe.sh``) or an ffmpeg with the ``shn`` demuxer.
    """
    tool = tool or default_sphere_tool()
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    if tool == "sph2pipe":
        with open(dst, "wb") as out:
            subprocess.run(["sph2pipe", "-f", "wav", str(src)], stdout=out, check=True)
    elif tool == "ffmpeg":
        h = read_sphere_header(src)
        if "shorten" in h.get("sample_coding", ""):
            # ffmpeg's SPHERE demuxer lacks embedded Shorten; the raw shn demuxer reads
            # the stream after the header, and the rate comes from the header.
            fs = h.get("sample_rate", "16000")
            source = ["-f", "shn", "-skip_initial_bytes", h["header_size"], "-i", str(src), "-ar", fs]
        else:
            source = ["-i", str(src)]
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *source, "-c:a", "pcm_s16le", str(dst)]
        subprocess.run(cmd, check=True)
    elif tool == "python":
        data, fs = read_sphere_pcm(src)
        sf.write(str(dst), data, fs, subtype="PCM_16")
    else:
        raise ValueError(f"unknown SPHERE tool {tool!r}: sph2pipe, ffmpeg or python")


def default_sphere_tool() -> str:
    for tool in ("sph2pipe", "ffmpeg"):
        if shutil.which(tool):
            return tool
    return "python"


def index_wsj0(wsj0_root) -> Dict[str, Path]:
    """Map ``wsj0/<...>/<utt>.wav`` (lowercase, as in the mixing lists) to SPHERE files.

    Finds every ``*.wv1`` under ``wsj0_root`` whatever the disc layout
    (``csr_1/11-1.1/wsj0/si_tr_s/01t/01to030v.wv1`` or ``wsj0/si_tr_s/...``).
    """
    index = {}
    for dirpath, _, files in os.walk(wsj0_root, followlinks=True):
        for name in files:
            if not name.lower().endswith(".wv1"):
                continue
            full = Path(dirpath) / name
            parts = [p.lower() for p in full.relative_to(wsj0_root).parts]
            if "wsj0" not in parts:
                continue
            key = "/".join(parts[parts.index("wsj0") :])[: -len(".wv1")] + ".wav"
            index[key] = full
    return index


def _convert_one(args):
    src, dst, tool = args
    sphere_to_wav(src, dst, tool)


def convert_wsj0(wsj0_root, wav_root, needed: Iterable[str], nj: int = 1, tool: Optional[str] = None) -> int:
    """Convert the WSJ0 files that the lists need to ``wav_root/<list path>``.

    Existing wav files are kept. Returns the number of files converted.
    """
    index = index_wsj0(wsj0_root)
    needed = sorted(set(needed))
    missing = [p for p in needed if p.lower() not in index]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} of {len(needed)} utterances in the mixing lists have no .wv1 "
            f"file under WSJ0={wsj0_root}, e.g. {missing[0]}: check WSJ0 in db.sh"
        )
    tool = tool or default_sphere_tool()
    jobs = [(index[p.lower()], Path(wav_root) / p, tool) for p in needed if not (Path(wav_root) / p).is_file()]
    if nj <= 1:
        for j in jobs:
            _convert_one(j)
    else:
        with ProcessPoolExecutor(nj) as ex:
            list(ex.map(_convert_one, jobs, chunksize=32))
    return len(jobs)


# ---------------------------------------------------------------- command line


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    conv = sub.add_parser("convert", help="WSJ0 SPHERE files named in mixing lists -> wav")
    conv.add_argument("--wsj0", required=True, help="root of the WSJ0 corpus (LDC93S6A)")
    conv.add_argument("--wav_root", required=True, help="where to write wsj0/.../*.wav")
    conv.add_argument(
        "--tool",
        choices=["sph2pipe", "ffmpeg", "python"],
        default=None,
        help="converter (default: sph2pipe, else ffmpeg, else python)",
    )
    conv.add_argument("--nj", type=int, default=1)
    conv.add_argument("lists", nargs="+", help="mixing list files")
    mix = sub.add_parser("mix", help="make the mixtures of one list")
    mix.add_argument("--list", required=True, help="mixing list (s1 snr1 s2 snr2 per line)")
    mix.add_argument("--wav_root", required=True, help="root the list paths are relative to")
    mix.add_argument("--out_dir", required=True, help="writes {mix,s1,s2,...}/<id>.wav here")
    mix.add_argument("--fs", required=True, help="8k, 16k or a rate in Hz")
    mix.add_argument("--mode", choices=["min", "max"], default="min")
    mix.add_argument("--data_dir", default=None, help="also write a Kaldi-style data dir")
    mix.add_argument("--num_spk", type=int, default=None, help="check the list has J sources")
    mix.add_argument("--nj", type=int, default=1)
    ddir = sub.add_parser("datadir", help="data directory for mixtures made elsewhere")
    ddir.add_argument("--mix_dir", required=True, help="folder with {mix,s1,s2,...}/<id>.wav")
    ddir.add_argument("--data_dir", required=True)
    ddir.add_argument("--num_spk", type=int, default=None, help="check there are J sources")
    ddir.add_argument("--list", default=None, help="only the mixtures of this mixing list (default: every one there)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = get_parser().parse_args(argv)
    if args.command == "convert":
        needed = [p for lst in args.lists for e in read_mix_list(lst) for p in e.paths]
        n = convert_wsj0(args.wsj0, args.wav_root, needed, args.nj, args.tool)
        logging.info(f"converted {n} WSJ0 files to {args.wav_root}")
    elif args.command == "datadir":
        if args.list:
            entries = read_mix_list(args.list, args.num_spk)
            missing = [
                e.mixture_id for e in entries if not (Path(args.mix_dir) / "mix" / f"{e.mixture_id}.wav").is_file()
            ]
            if missing:
                raise FileNotFoundError(
                    f"{args.mix_dir}/mix/{missing[0]}.wav (of {args.list}) is missing, and {len(missing) - 1} more: "
                    "make the mixtures again (local/data.sh --redo true)"
                )
        else:
            entries = entries_from_mixtures(args.mix_dir)
        if args.num_spk is not None and len(entries[0].paths) != args.num_spk:
            raise ValueError(f"{args.mix_dir}: {len(entries[0].paths)} sources, expected {args.num_spk}")
        write_data_dir(args.data_dir, args.mix_dir, entries)
        logging.info(f"{len(entries)} mixtures of {args.mix_dir} -> {args.data_dir}")
    else:
        fs = FS_CHOICES.get(args.fs) or int(args.fs)
        entries = read_mix_list(args.list, args.num_spk)
        make_mixtures(entries, args.wav_root, args.out_dir, fs, args.mode, args.nj)
        if args.data_dir:
            write_data_dir(args.data_dir, args.out_dir, entries)
        logging.info(f"{len(entries)} mixtures of {args.list} -> {args.out_dir}")


if __name__ == "__main__":
    try:
        main()
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f"{sys.argv[0]}: error: {e}")
