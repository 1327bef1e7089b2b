#!/usr/bin/env python3
"""Adaptive M_re (`--m_re auto`) against fixed M_re on a data directory: compute saved, SI-SNRi lost.

For each setting (every fixed M_re given, and `auto` at every threshold given) the whole set is separated
utterance by utterance; the table reports the mean M_re, the refinement repeats actually run, the wall time,
the real-time factor and the mean SI-SNRi (best permutation, over the mixture).

    python pyscripts/utils/compare_adaptive_m_re.py --model_path exp/enh_train_tiny_raw/valid.loss.best.pth \\
        --data_dir dump/raw/tt --fixed 1 2 3 4 5 --auto_max 5 --thresholds 0.01 0.02 0.05
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from espnet2.enh.inference import SeparateSpeech
from espnet2.enh.metrics import si_snr, si_snr_permutation
from espnet2.fileio.sound_scp import SoundScpReader


def load_set(data_dir: Path, limit: int = 0):
    """(key, mixture [N], references [J, N]) of the first ``limit`` utterances of a data dir (0: all), by key."""
    wav = data_dir / "wav.scp"
    if not wav.is_file():
        sys.exit(f"{wav} does not exist: give a data directory (wav.scp, spk1.scp ...)")
    mix = SoundScpReader(str(wav), dtype="float32")
    refs = []
    j = 1
    while (data_dir / f"spk{j}.scp").exists():
        refs.append((data_dir / f"spk{j}.scp", SoundScpReader(str(data_dir / f"spk{j}.scp"), dtype="float32")))
        j += 1
    if not refs:
        sys.exit(f"{data_dir}: no spk1.scp; give a data directory with the clean references")
    keys = sorted(mix.keys())[: limit or None]
    for path, ref in refs:
        missing = [k for k in keys if k not in ref]
        if missing:
            sys.exit(f"{path} has no line for {missing[0]} (it is in {wav})")
    return [(k, mix[k][1], np.stack([ref[k][1] for _, ref in refs])) for k in keys]


def si_snr_improvement(mix: np.ndarray, ref: np.ndarray, est: np.ndarray) -> float:
    """Mean over speakers of SI-SNR(est, best permutation) - SI-SNR(mix) in dB; ref, est [J, N]."""
    est = est[si_snr_permutation(ref, est)]
    return float(np.mean(si_snr(ref, est) - si_snr(ref, np.broadcast_to(mix, ref.shape))))


def evaluate(separate: SeparateSpeech, data, fs: int):
    improvements, m_res, seconds, audio = [], [], 0.0, 0.0
    for _, mix, ref in data:
        start = time.perf_counter()
        est = np.stack(separate(mix[None], fs=fs))[:, 0]  # [J, N]
        seconds += time.perf_counter() - start
        audio += len(mix) / fs
        improvements.append(si_snr_improvement(mix, ref, est))
        m_res.append(separate.last_m_re[0] if separate.last_m_re else separate.current_m_re)
    return dict(si_snri=float(np.mean(improvements)), m_re=float(np.mean(m_res)), seconds=seconds, rtf=seconds / audio)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model_path", required=True, help="experiment folder, .pth with config.yaml, or zip")
    parser.add_argument("--data_dir", required=True, type=Path, help="wav.scp + spk{j}.scp")
    parser.add_argument("--fixed", type=int, nargs="+", default=[1, 2, 3, 4, 5], help="fixed M_re to compare")
    parser.add_argument("--auto_max", type=int, default=8, help="--m_re_max of the adaptive runs")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.01, 0.02, 0.05])
    parser.add_argument("--limit", type=int, default=0, help="only the first N utterances (0: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    data = load_set(args.data_dir, args.limit)
    settings = [(f"M_re {m}", dict(m_re=m)) for m in args.fixed]
    settings += [(f"auto, threshold {t:g}", dict(m_re="auto", m_re_max=args.auto_max, m_re_threshold=t))
                 for t in args.thresholds]  # fmt: skip
    print(f"# {len(data)} utterances of {args.data_dir}; model {args.model_path}; {args.threads} thread(s)")
    print("| setting | mean M_re | repeats run | time s | RTF | SI-SNRi dB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, kwargs in settings:
        separate = SeparateSpeech.from_model_path(args.model_path, device="cpu", **kwargs)
        r = evaluate(separate, data, separate.fs)
        print(f"| {name} | {r['m_re']:.2f} | {r['m_re'] * len(data):.0f} | {r['seconds']:.1f} | {r['rtf']:.3f} | "
              f"{r['si_snri']:.2f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
