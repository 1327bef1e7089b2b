#!/usr/bin/env python3
"""A WHAMR!-like corpus from the mini_2mix corpus: the sources, metadata and noises that whamr.py mixes.

Made at data-preparation time, deterministically from the shipped material and a seed (each mixture's
draws depend on the seed, its split and its line in the list only), in the layout of WSJ0 as wav, the
WHAMR! metadata and WHAM! noise, so that the WHAMR! recipe's code makes the mixtures:

- ``wav16k/<corpus path>.wav``: the corpus utterances (8 kHz) resampled to 16 kHz, WSJ0's rate and the rooms';
- ``meta/mix_2_spk_filenames_<split>.csv``: the mixtures of the corpus lists (``mix_2_spk_{tr,cv,tt}.txt``),
  named as WSJ0-2mix names them;
- ``meta/reverb_params_<split>.csv``: a room per mixture drawn as WHAMR!'s rooms are drawn (5-10 x 5-10 x
  3-4 m; two microphones 15-17 cm apart, within 0.2 m of the centre, 0.9-1.8 m high; the speakers 0.66-2 m
  from them, 0.9-1.8 m high), with T60 0.1-0.4 s (WHAMR!: 0.1-1.0 s) to keep the simulation short;
- ``wham_noise/<split>/<mixture>.wav`` (16 kHz, two channels): babble of four corpus utterances of other speakers at
  random levels and offsets, looped, plus noise of a random spectral slope, slowly modulated in level; as long
  as the longer source plus 0.1-0.5 s, the speech starting at a random sample of the first half of that;
- ``wham_noise/metadata/scaling_<split>.npz``: WHAM!'s gains, per rate and length (``8k_min`` ...): the
  WSJ0-2mix source gains (the list's gains after P.56 levels, 0.9 peak: ``wsj0_mix.mix_sources``), the noise at
  an SNR of -6..3 dB against the louder speaker, speech and noise scaled down together where the noisy mixture
  would peak above 0.9.

    local/make_whamr_meta.py --corpus ../../mini_2mix/enh1/corpus --out_dir data/local/mini_whamr \\
        data/local/mix_2_spk_tr.txt data/local/mix_2_spk_cv.txt data/local/mix_2_spk_tt.txt
"""

import argparse
import csv
import logging
import sys
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pyscripts" / "utils"))
from whamr import ROOM_COLUMNS, ROOM_RATE, SPLITS, Room  # noqa: E402
from wsj0_mix import load_source, mix_sources, read_mix_list  # noqa: E402

T60_RANGE = (0.1, 0.4)
SNR_RANGE = (-6.0, 3.0)  # noise against the louder speaker, dB (WHAM!'s range)
PEAK = 0.9
BABBLE_TALKERS = 4
NOISE_RMS = 0.05


def draw_room(rng: np.random.Generator) -> Room:
    """A room, microphones and speakers as WHAMR! draws them (T60 from :data:`T60_RANGE`)."""
    dims = np.array([rng.uniform(5, 10), rng.uniform(5, 10), rng.uniform(3, 4)])
    centre = np.array([dims[0] / 2 + rng.uniform(-0.2, 0.2), dims[1] / 2 + rng.uniform(-0.2, 0.2), 0.0])
    centre[2] = rng.uniform(0.9, 1.8)
    theta = rng.uniform(0, 2 * np.pi)
    half = rng.integers(15, 18) / 100 / 2  # microphone spacing 15-17 cm
    offset = np.array([np.cos(theta) * half, np.sin(theta) * half, 0.0])
    speakers = []
    for _ in range(2):
        dist, angle = rng.uniform(0.66, 2), rng.uniform(0, 2 * np.pi)
        speakers.append((centre[0] + np.cos(angle) * dist, centre[1] + np.sin(angle) * dist, rng.uniform(0.9, 1.8)))
    t60 = rng.uniform(*T60_RANGE)
    point = lambda v: tuple(float(c) for c in v)  # noqa: E731
    return Room(point(dims), point(centre + offset), point(centre - offset), tuple(map(point, speakers)), float(t60))


def shaped_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Gaussian noise [n] with a 1/f^beta power spectrum (beta 0-2), its level modulated at 0.2-2 Hz; unit rms."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / ROOM_RATE), 20.0)
    x = np.fft.irfft(spectrum * f ** (-rng.uniform(0, 2) / 2), n)
    t = np.arange(n) / ROOM_RATE
    x *= 1 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.2, 2) * t + rng.uniform(0, 2 * np.pi))
    return x / np.sqrt(np.mean(x**2))


def babble(rng: np.random.Generator, talkers: Sequence[np.ndarray], n: int) -> np.ndarray:
    """The talkers [N_k] (unit rms) at -6..0 dB, each looped from a random offset to [n], summed; unit rms."""
    x = np.zeros(n)
    for s in talkers:
        x += 10 ** (rng.uniform(-6, 0) / 20) * np.roll(np.resize(s, n), rng.integers(n))
    return x / np.sqrt(np.mean(x**2))


def make_noise(rng: np.random.Generator, pool: Sequence[np.ndarray], n: int) -> np.ndarray:
    """WHAM!-like noise [n, 2]: babble of :data:`BABBLE_TALKERS` of ``pool`` plus shaped noise per channel."""
    picks = rng.choice(len(pool), size=min(BABBLE_TALKERS, len(pool)), replace=False)
    weight = rng.uniform(0.3, 0.7) if len(pool) else 0.0
    talk = babble(rng, [pool[i] for i in picks], n) if len(pool) else np.zeros(n)
    lag = rng.integers(16, 160)  # the second channel hears the talkers 1-10 ms later
    channels = [weight * np.roll(talk, k) + (1 - weight) * shaped_noise(rng, n) for k in (0, lag)]
    return NOISE_RMS * np.stack(channels, axis=1) / np.sqrt(np.mean(np.square(channels)))


def wham_gains(sources16: Sequence[np.ndarray], gains_db: Sequence[str], noise16: np.ndarray, start: int, snr: float):
    """``{tag: (wsjmix [2], speech, noise)}`` for the four rates and lengths of one mixture."""
    out = {}
    for fs in (8000, ROOM_RATE):
        xs = [resample_poly(x, fs, ROOM_RATE) if fs != ROOM_RATE else x for x in sources16]
        noise = resample_poly(noise16, fs, ROOM_RATE) if fs != ROOM_RATE else noise16
        for mode in ("min", "max"):
            _, refs = mix_sources(xs, [float(g) for g in gains_db], fs, mode)
            # each WSJ0-2mix source is its original scaled (and cut or padded): the gain is the ratio
            overlap = [min(len(r), len(x)) for r, x in zip(refs, xs)]
            wsjmix = [float(np.dot(r[:n], x[:n]) / np.dot(x[:n], x[:n])) for r, x, n in zip(refs, xs, overlap)]
            st = start * fs // ROOM_RATE
            if mode == "min":
                segment, speech = noise[st : st + len(refs[0])], refs
            else:
                segment = noise
                speech = [np.pad(r, (st, len(noise) - st - len(r))) for r in refs]
            louder = max(np.mean(r**2) for r in refs)
            g_noise = np.sqrt(louder / np.mean(segment**2) / 10 ** (snr / 10))
            peak = np.max(np.abs(speech[0] + speech[1] + g_noise * segment))
            scale = min(1.0, PEAK / peak)
            out[f"{fs // 1000}k_{mode}"] = (wsjmix, scale, scale * g_noise)
    return out


def make_corpus(corpus, lists: Dict[str, Path], out_dir, seed: int = 0) -> int:
    """Write the sources, metadata and noises of the splits in ``lists``; return the number of mixtures."""
    corpus, out_dir = Path(corpus), Path(out_dir)
    entries = {split: read_mix_list(path, num_spk=2) for split, path in lists.items()}
    # 1. the sources at 16 kHz, each with its speaker (the folder it is in)
    paths = sorted({p for es in entries.values() for e in es for p in e.paths})
    sources: Dict[str, np.ndarray] = {}
    for rel in paths:
        if not (corpus / rel).is_file():
            raise FileNotFoundError(f"{corpus / rel} not found: MINI_2MIX in db.sh must point at the mini_2mix corpus")
        sources[rel] = load_source(corpus / rel, ROOM_RATE)
        wav = out_dir / "wav16k" / Path(rel).with_suffix(".wav")
        wav.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(wav), sources[rel], ROOM_RATE, subtype="PCM_16")
        sources[rel] = sf.read(str(wav))[0]  # as the mixing reads it
    # the babble's talkers: every utterance of the corpus (not only those of the lists, so that a mixture's noise
    # does not depend on how many the lists hold), each with its speaker (the folder it is in)
    talkers = {}
    for path in sorted(corpus.rglob("*.flac")):
        x = load_source(path, ROOM_RATE)
        talkers[path.relative_to(corpus)] = x / np.sqrt(np.mean(x**2))
    (out_dir / "meta").mkdir(parents=True, exist_ok=True)
    (out_dir / "wham_noise" / "metadata").mkdir(parents=True, exist_ok=True)
    for split, es in entries.items():
        (out_dir / "wham_noise" / split).mkdir(parents=True, exist_ok=True)
        files: List[List[str]] = []
        rooms: List[List] = []
        npz: Dict[str, list] = {"utterance_id": [], "speech_start_sample_16k": []}
        for i, e in enumerate(es):
            rng = np.random.default_rng([seed, SPLITS.index(split), i])
            name = f"{e.mixture_id}.wav"
            wavs = [str(Path(p).with_suffix(".wav")) for p in e.paths]
            files.append([name, *wavs])
            rooms.append([name, *draw_room(rng).row()])
            # 2. the noise: longer than the speech by 0.1-0.5 s, the speech starting in the first half of that
            longest = max(len(sources[p]) for p in e.paths)
            extra = rng.integers(ROOM_RATE // 10, ROOM_RATE // 2)
            start = int(rng.integers(0, extra // 2))
            speakers = {Path(p).parent.name for p in e.paths}
            pool = [x for rel, x in talkers.items() if rel.parent.name not in speakers]
            noise = make_noise(rng, pool, longest + extra)
            sf.write(str(out_dir / "wham_noise" / split / name), noise, ROOM_RATE, subtype="PCM_16")
            noise = sf.read(str(out_dir / "wham_noise" / split / name))[0][:, 0]
            # 3. the gains
            gains = wham_gains([sources[p] for p in e.paths], e.snrs, noise, start, rng.uniform(*SNR_RANGE))
            npz["utterance_id"].append(name)
            npz["speech_start_sample_16k"].append(start)
            for tag, (wsjmix, speech, noise_gain) in gains.items():
                npz.setdefault(f"scaling_wsjmix_{tag}", []).append(wsjmix)
                npz.setdefault(f"scaling_wham_speech_{tag}", []).append(speech)
                npz.setdefault(f"scaling_wham_noise_{tag}", []).append(noise_gain)
        meta = out_dir / "meta"
        write_csv(meta / f"mix_2_spk_filenames_{split}.csv", ["output_filename", "s1_path", "s2_path"], files)
        write_csv(meta / f"reverb_params_{split}.csv", ["utterance_id", *ROOM_COLUMNS], rooms)
        arrays = {k: np.array(v) for k, v in npz.items()}
        arrays["utterance_id"] = np.array(npz["utterance_id"], dtype=object)  # as WHAM!'s files hold them
        np.savez(out_dir / "wham_noise" / "metadata" / f"scaling_{split}.npz", **arrays)
    return sum(map(len, entries.values()))


def write_csv(path: Path, header: Sequence[str], rows) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([r[0], *(repr(float(v)) if isinstance(v, float) else v for v in r[1:])] for r in rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help="the mini_2mix corpus (MINI_2MIX in db.sh)")
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("lists", nargs=3, type=Path, help="mix_2_spk_tr.txt mix_2_spk_cv.txt mix_2_spk_tt.txt")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    n = make_corpus(args.corpus, dict(zip(SPLITS, args.lists)), args.out_dir, args.seed)
    logging.info(f"{n} WHAMR!-like mixtures (sources, rooms, noises, gains) -> {args.out_dir}")


if __name__ == "__main__":
    try:
        main()
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f"{sys.argv[0]}: error: {e}")
