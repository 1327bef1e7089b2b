#!/usr/bin/env python3
"""Real-time factor of an inference run from its job logs (stage 7).

    calculate_rtf.py [--fs 8000 --utt2num_samples FILE] <enh_inference.*.log>...

Sums what ``espnet2.bin.enh_inference`` logs per job ("processing P s, audio A s") and prints
``RTF <sum P / sum A> (processing <P> s, audio <A> s, <n> jobs)``: the model's compute time per
second of audio, without start-up and file writing. Logs without that line (another inference
program) fall back to the job's wall time ("# Accounting: time=") over the audio duration of
``--utt2num_samples`` at ``--fs``.
"""

import argparse
import re
import sys

PROC = re.compile(r"processing ([0-9.]+) s, audio ([0-9.]+) s")
ACCOUNTING = re.compile(r"^# Accounting: time=([0-9.]+)", re.M)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logs", nargs="+")
    parser.add_argument("--fs", type=int, default=None)
    parser.add_argument("--utt2num_samples", default=None)
    args = parser.parse_args(argv)
    proc = audio = wall = 0.0
    found = 0
    for path in args.logs:
        text = open(path, encoding="utf-8", errors="replace").read()
        m = PROC.findall(text)
        if m:
            proc += float(m[-1][0])
            audio += float(m[-1][1])
            found += 1
        a = ACCOUNTING.findall(text)
        wall += float(a[-1]) if a else 0.0
    if found == len(args.logs) and audio > 0:
        print(f"RTF {proc / audio:.4f} (processing {proc:.2f} s, audio {audio:.2f} s, {found} jobs)")
        return 0
    if args.fs and args.utt2num_samples and wall > 0:
        with open(args.utt2num_samples) as f:
            audio = sum(int(line.split()[1]) for line in f if line.strip()) / args.fs
        print(f"RTF {wall / audio:.4f} (job wall time {wall:.2f} s, audio {audio:.2f} s, {len(args.logs)} jobs)")
        return 0
    print("calculate_rtf: no timing found in the logs", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
