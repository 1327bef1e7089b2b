#!/usr/bin/env python3
"""Make the mini_2mix corpus: synthetic two-speaker data small enough to live in the repo.

Each "speaker" is an espeak-ng voice: an English accent (en-us, en-gb, en-gb-scotland, ...)
with a voice variant (m1..m7, f1..f5, klatt, ...), a pitch and a speaking rate. Every
utterance is a sentence drawn from simple templates, synthesised, trimmed of leading and
trailing silence, resampled to 8 kHz with soxr and stored as 16-bit FLAC:

    corpus/{train,valid,test}/<spk>/<spk>u<nnn>.flac    (<spk> = 3 characters, e.g. s07)
    corpus/speakers.txt     speaker, split, espeak-ng voice, pitch, rate
    corpus/text             utterance id and its sentence
    corpus/lists/mix_2_spk_{tr,cv,tt}.txt   mixing lists in the WSJ0-2mix format

The three splits have disjoint speakers (16 train, 4 valid, 4 test). The mixing lists pair
utterances of two different speakers of the same split, with gains +g and -g dB, g uniform in
[0, 2.5] (WSJ0-2mix draws relative levels from 0 to 5 dB the same way).

Needs espeak-ng (``apt-get install espeak-ng``). The corpus in the repo was made with
espeak-ng 1.51 by ``python local/make_corpus.py`` (defaults).
"""

import argparse
import random
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

FS = 8000

# speaker id, split, espeak-ng voice (+variant), pitch (0-99), rate (words per minute)
SPEAKERS = [
    ("s01", "train", "en-us+m1", 40, 160),
    ("s02", "train", "en-gb+f2", 70, 170),
    ("s03", "train", "en-gb-scotland+m3", 30, 150),
    ("s04", "train", "en-us+f4", 80, 175),
    ("s05", "train", "en-029+m5", 45, 165),
    ("s06", "train", "en-gb-x-rp+f1", 65, 155),
    ("s07", "train", "en-us-nyc+m7", 25, 180),
    ("s08", "train", "en-gb-x-gbclan+f5", 75, 160),
    ("s09", "train", "en-gb+klatt", 50, 170),
    ("s10", "train", "en-us+f3", 90, 150),
    ("s11", "train", "en-gb-x-gbcwmd+m2", 35, 175),
    ("s12", "train", "en-us+klatt3", 60, 165),
    ("s13", "train", "en-gb-scotland+f4", 85, 160),
    ("s14", "train", "en-029+m6", 20, 155),
    ("s15", "train", "en-gb-x-rp+m4", 55, 185),
    ("s16", "train", "en-us+f5", 70, 170),
    ("s17", "valid", "en-gb+m6", 45, 165),
    ("s18", "valid", "en-us+f1", 75, 160),
    ("s19", "valid", "en-us-nyc+klatt2", 35, 170),
    ("s20", "valid", "en-029+f3", 85, 155),
    ("s21", "test", "en-gb-x-gbclan+m2", 40, 170),
    ("s22", "test", "en-us+f2", 80, 160),
    ("s23", "test", "en-gb-x-rp+m5", 30, 160),
    ("s24", "test", "en-gb-scotland+f5", 70, 175),
]

SUBJECTS = [
    "the old farmer",
    "a young pilot",
    "my brother",
    "the tall nurse",
    "our teacher",
    "the small child",
    "a quiet painter",
    "the busy cook",
    "her uncle",
    "the new doctor",
    "a tired driver",
    "the clever student",
    "his mother",
    "the angry sailor",
    "a friendly baker",
    "the local mayor",
]
VERBS = [
    "carried",
    "painted",
    "found",
    "sold",
    "opened",
    "repaired",
    "cleaned",
    "counted",
    "moved",
    "watched",
    "dropped",
    "described",
    "borrowed",
    "ordered",
    "measured",
    "hid",
]
OBJECTS = [
    "a heavy box",
    "the green door",
    "seven apples",
    "the broken clock",
    "a long letter",
    "the silver spoon",
    "two wooden chairs",
    "the yellow kite",
    "a warm blanket",
    "the last ticket",
    "a bag of rice",
    "the narrow boat",
    "three glass jars",
    "the red bicycle",
    "a map of the coast",
    "the kitchen table",
]
PLACES = [
    "near the river",
    "after lunch",
    "in the garden",
    "before the storm",
    "at the station",
    "on monday morning",
    "behind the church",
    "during the concert",
    "under the bridge",
    "late at night",
    "by the harbour",
    "in the market square",
]
ENDINGS = ["", "", "", "", " again", " at once", " without a word", " by noon"]


def sentence(rng: random.Random) -> str:
    s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    s += f" {rng.choice(PLACES)}" if rng.random() < 0.5 else rng.choice(ENDINGS)
    return s.capitalize() + "."


def synthesize(text: str, voice: str, pitch: int, rate: int, tmp: Path) -> np.ndarray:
    """espeak-ng -> trimmed float64 signal [N] at 8 kHz."""
    wav = tmp / "tts.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(rate), "-w", str(wav), text], check=True)
    x, fs = sf.read(str(wav), dtype="float64")
    active = np.nonzero(np.abs(x) > 0.01 * np.max(np.abs(x)))[0]
    x = x[max(active[0] - fs // 20, 0) : active[-1] + fs // 20]
    y = soxr.resample(x, fs, FS, quality="VHQ")
    return 0.5 * y / np.max(np.abs(y))


def voice_class(voice: str) -> str:
    """'high' for the female variants (f1..f5), 'low' for the others (m1..m7, klatt*)."""
    return "high" if voice.split("+")[1].startswith("f") else "low"


def make_lists(corpus: Path, counts, seed: int, pairing: str = "mixed") -> None:
    """Write WSJ0-2mix style lists pairing utterances of two different speakers.

    ``pairing``: ``mixed`` pairs a low voice with a high voice (different-gender mixtures,
    the easier half of WSJ0-2mix), ``any`` pairs any two speakers.
    """
    rng = random.Random(seed)
    classes = {spk: voice_class(voice) for spk, _, voice, _, _ in SPEAKERS}
    (corpus / "lists").mkdir(exist_ok=True)
    for split, name in (("train", "tr"), ("valid", "cv"), ("test", "tt")):
        files = sorted(p.relative_to(corpus).as_posix() for p in (corpus / split).rglob("*.flac"))
        pairs = set()
        while len(pairs) < counts[name]:
            a, b = rng.sample(files, 2)
            spk_a, spk_b = a.split("/")[1], b.split("/")[1]
            if spk_a == spk_b or (b, a) in pairs:
                continue
            if pairing == "mixed" and classes[spk_a] == classes[spk_b]:
                continue
            pairs.add((a, b))
        with open(corpus / "lists" / f"mix_2_spk_{name}.txt", "w") as f:
            for a, b in sorted(pairs):
                g = rng.uniform(0, 2.5) * rng.choice([-1, 1])
                f.write(f"{a} {g:.5f} {b} {-g:.5f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out_dir", type=Path, default=Path(__file__).parents[1] / "corpus")
    parser.add_argument("--utts", default="train:6,valid:4,test:6", help="utterances per speaker of each split")
    parser.add_argument("--mixtures", default="tr:800,cv:12,tt:30", help="mixtures in each list")
    parser.add_argument(
        "--pairing",
        choices=["mixed", "any"],
        default="mixed",
        help="mixed: a low and a high voice in every mixture; any: any two",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lists_only", action="store_true", help="only rewrite the lists")
    args = parser.parse_args()
    if not args.lists_only and shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed: apt-get install espeak-ng")
    utts = {k: int(v) for k, v in (x.split(":") for x in args.utts.split(","))}
    counts = {k: int(v) for k, v in (x.split(":") for x in args.mixtures.split(","))}
    rng = random.Random(args.seed)
    corpus = args.out_dir
    if not args.lists_only:
        corpus.mkdir(parents=True, exist_ok=True)
        texts = []
        with tempfile.TemporaryDirectory() as tmp, open(corpus / "speakers.txt", "w") as spk_f:
            spk_f.write("# speaker split espeak-ng-voice pitch rate\n")
            for spk, split, voice, pitch, rate in SPEAKERS:
                spk_f.write(f"{spk} {split} {voice} {pitch} {rate}\n")
                (corpus / split / spk).mkdir(parents=True, exist_ok=True)
                for i in range(1, utts[split] + 1):
                    text = sentence(rng)
                    y = synthesize(text, voice, pitch, rate, Path(tmp))
                    utt = f"{spk}u{i:03d}"
                    sf.write(str(corpus / split / spk / f"{utt}.flac"), y, FS, subtype="PCM_16")
                    texts.append(f"{utt} {text}")
        (corpus / "text").write_text("\n".join(sorted(texts)) + "\n")
    make_lists(corpus, counts, args.seed, args.pairing)


if __name__ == "__main__":
    main()
