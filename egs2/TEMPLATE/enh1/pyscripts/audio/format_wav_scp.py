#!/usr/bin/env python3
"""Rewrite the audio of an scp file as wav/flac files at one sampling rate (stage 3).

    format_wav_scp.py [--fs 8000] [--audio_format wav] <in.scp> <out_audio_dir> <out.scp>

``<in.scp>`` lines are ``<utt_id> <path>`` or ``<utt_id> <command> |`` (a command writing
audio to stdout, Kaldi style). Each utterance is written as ``<out_audio_dir>/<utt_id>.<fmt>``
(16-bit PCM), resampled with soxr when its rate differs from ``--fs``; ``<out.scp>`` lists the
new files and, with ``--utt2num_samples FILE``, their lengths are written too.
"""

import argparse
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr


def read_audio(value: str, where: str):
    """Read ``value`` (a path or ``cmd |``); return (samples [N] or [N, C] float, rate)."""
    value = value.strip()
    try:
        if value.endswith("|"):
            out = subprocess.run(value[:-1], shell=True, check=True, stdout=subprocess.PIPE)
            return sf.read(io.BytesIO(out.stdout), dtype="float64")
        return sf.read(value, dtype="float64")
    except (OSError, RuntimeError, subprocess.CalledProcessError, sf.LibsndfileError) as e:
        raise SystemExit(f"{where}: cannot read audio {value!r}: {e}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("in_scp")
    parser.add_argument("out_audio_dir")
    parser.add_argument("out_scp")
    parser.add_argument("--fs", type=int, required=True, help="output sampling rate in Hz")
    parser.add_argument("--audio_format", default="wav", choices=["wav", "flac"])
    parser.add_argument("--utt2num_samples", default=None, help="also write lengths here")
    args = parser.parse_args(argv)

    out_dir = Path(args.out_audio_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lengths = []
    with open(args.in_scp, encoding="utf-8") as fin, open(args.out_scp, "w") as fout:
        for lineno, line in enumerate(fin, 1):
            fields = line.split(maxsplit=1)
            if len(fields) != 2:
                raise SystemExit(f"{args.in_scp}:{lineno}: expected '<utt_id> <path>'")
            utt, value = fields
            x, fs = read_audio(value, f"{args.in_scp}:{lineno}")
            if fs != args.fs:
                x = soxr.resample(x, fs, args.fs, quality="VHQ")
            peak = np.max(np.abs(x)) if x.size else 0.0
            if peak > 1.0:
                print(
                    f"{args.in_scp}:{lineno}: {utt} peaks at {peak:.2f} > 1 after "
                    "resampling; clipped when written as 16-bit PCM",
                    file=sys.stderr,
                )
            path = (out_dir / f"{utt}.{args.audio_format}").resolve()
            sf.write(str(path), x, args.fs, subtype="PCM_16")
            fout.write(f"{utt} {path}\n")
            lengths.append((utt, x.shape[0]))
    if args.utt2num_samples:
        with open(args.utt2num_samples, "w") as f:
            for utt, n in lengths:
                f.write(f"{utt} {n}\n")


if __name__ == "__main__":
    main()
