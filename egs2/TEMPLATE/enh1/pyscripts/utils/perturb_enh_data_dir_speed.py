#!/usr/bin/env python3
"""Speed perturbation of an enhancement data directory (stage 2).

    perturb_enh_data_dir_speed.py --factors "0.9 1.0 1.1" <in_data_dir> <out_data_dir>

For each factor f != 1 every audio file of every ``*.scp`` (mixture and references alike,
so the mixture stays the sum of the references) is resampled as sox's ``speed f`` does
(tempo and pitch times f, same sampling rate) and written to
``<out_data_dir>/data/sp<f>/<scp name>/<utt_id>.wav``; the utterance ``U`` of speaker ``S``
becomes ``sp<f>-U`` of ``sp<f>-S``. Factor 1.0 keeps the original entries. All scp files,
``utt2spk``, ``spk2utt`` (and ``utt2category``, ``utt2fs``) are written, sorted.
"""

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import soundfile as sf
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audio"))
from format_wav_scp import read_audio  # noqa: E402

COPIED = ("utt2category", "utt2fs")


def read_table(path: Path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split(maxsplit=1) for line in f if line.strip()]


def perturb_one(job):
    value, where, factor, out_path = job
    x, fs = read_audio(value, where)
    # Played f times faster: read as if sampled at fs * f, resample back to fs.
    y = soxr.resample(x, fs * factor, fs, quality="VHQ")
    sf.write(out_path, y, fs, subtype="PCM_16")
    return out_path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factors", required=True, help='e.g. "0.9 1.0 1.1"')
    parser.add_argument("--nj", type=int, default=1)
    parser.add_argument("in_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    factors = args.factors.split()
    for f in factors:
        if float(f) <= 0:
            raise SystemExit(f"--factors: {f} is not a positive number")

    scps = sorted(p.name for p in args.in_dir.glob("*.scp"))
    out_tables = {name: [] for name in scps + ["utt2spk"] + [c for c in COPIED]}
    jobs = []
    for factor in factors:
        pre = "" if float(factor) == 1.0 else f"sp{factor}-"
        for name in scps:
            for lineno, (utt, value) in enumerate(read_table(args.in_dir / name), 1):
                if not pre:
                    out_tables[name].append((utt, value))
                    continue
                out = args.out_dir / "data" / f"sp{factor}" / name[: -len(".scp")]
                out.mkdir(parents=True, exist_ok=True)
                path = str((out / f"{utt}.wav").resolve())
                jobs.append((value, f"{args.in_dir / name}:{lineno}", float(factor), path))
                out_tables[name].append((pre + utt, path))
        for utt, spk in read_table(args.in_dir / "utt2spk"):
            out_tables["utt2spk"].append((pre + utt, pre + spk))
        for name in COPIED:
            if (args.in_dir / name).is_file():
                out_tables[name] += [(pre + u, v) for u, v in read_table(args.in_dir / name)]

    if args.nj > 1:
        with ProcessPoolExecutor(args.nj) as ex:
            list(ex.map(perturb_one, jobs, chunksize=16))
    else:
        for job in jobs:
            perturb_one(job)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    spk2utt = {}
    for name, rows in out_tables.items():
        if not rows:
            continue
        rows.sort(key=lambda r: r[0].encode())
        with open(args.out_dir / name, "w") as f:
            f.writelines(f"{k} {v}\n" for k, v in rows)
    for utt, spk in out_tables["utt2spk"]:
        spk2utt.setdefault(spk, []).append(utt)
    with open(args.out_dir / "spk2utt", "w") as f:
        for spk in sorted(spk2utt, key=str.encode):
            f.write(f"{spk} {' '.join(spk2utt[spk])}\n")


if __name__ == "__main__":
    main()
