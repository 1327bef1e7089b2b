#!/usr/bin/env python3
"""Make the mini_2mix corpus: real read speech of seven people, small enough to live in the repo.

The speech is the Asterisk telephony prompts that Debian distributes (studio recordings of read
phrases at 8 kHz). Seven voices, one speaker id each (VOICES below); a voice that a package credits
to one person is one speaker even across packages (Allison Smith reads both the English and the
Mexican-Spanish core sounds):

    asm  Allison Smith        en-US, es-MX  asterisk-core-sounds-en-wav, asterisk-core-sounds-es-wav
    jwa  June Wallack         fr-CA         asterisk-core-sounds-fr-wav
    cfl  Carlo Flora          it-IT         asterisk-core-sounds-it-wav
    ivr  the ivrvoice.ru voice ru-RU        asterisk-core-sounds-ru-wav (provided by Maxim Topal)
    ade  Armelle Desjardins   fr-FR         asterisk-prompt-fr-armelle (GSM)
    jej  July E. Jimenez      es-CO         asterisk-prompt-es-co (GSM)
    mdz  the Menardi voice    it-IT         asterisk-prompt-it-menardi-wav (Marco Menardi and
                                            Paola Dal Zot; one female voice)

Splits by speaker: ``jej`` and ``mdz`` are the test voices, never heard in training (one GSM and one
PCM recording, in languages that training also has). The five other voices train; validation is
held-out phrases of the training voices (no phrase is in both), so that no voice is lost to
validation: it checks for overfitting to the training phrases and picks the checkpoint, while the
test set measures unseen voices.

What is kept of each package: every phrase of ``--min_dur``..``--max_dur`` seconds after trimming,
except non-speech: the ``silence/`` files, beeps, two-tone chimes and the monkeys of ``tt-monkeys``
by name, and any file that fails a signal check (too little voiced speech, or a steady tone of
150 ms or more). Each phrase is high-passed at 70 Hz (zero phase; some GSM prompts carry a DC offset
and hum), trimmed of leading and trailing silence (35 dB below the loudest 20 ms frame, 50 ms kept
on either side) and stored as 16-bit FLAC at 8 kHz at its recorded level. Per voice, phrases are
drawn in a seeded random order until ``--train_seconds`` / ``--valid_seconds`` / ``--test_seconds``
are reached.

    corpus/{train,valid,test}/<spk>/<spk>-<lang>-<prompt>.flac
    corpus/{train,valid,test}/<spk>/CREDITS   the credits of the package(s), what was changed
    corpus/{train,valid,test}/<spk>/LICENSE   the package's copyright file, verbatim
    corpus/speakers.txt     speaker, split, sex, languages, name, packages, license
    corpus/sources.txt      utterance, package, file in the package, first and last sample kept
    corpus/lists/mix_2_spk_{tr,cv,tt}.txt   mixing lists in the WSJ0-2mix format

The mixing lists pair two utterances of two different speakers of one split, with gains +g and -g dB,
g uniform in [0, 2.5] (the WSJ0-2mix rule: relative levels of 0 to 5 dB).

The recipe never downloads anything; this script made the committed corpus from the Debian
packages (Debian 12 "bookworm" versions: asterisk-core-sounds-*-wav 1.6.1-1,
asterisk-prompt-es-co 0.20070403-2.1, asterisk-prompt-fr-armelle 20070613-2.2,
asterisk-prompt-it-menardi-wav 1:1.4.22+mm20110907-3.1), with the toolkit's Python (soundfile,
scipy) and dpkg-deb:

    mkdir -p /tmp/asterisk && cd /tmp/asterisk && apt-get download asterisk-core-sounds-en-wav \\
        asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav asterisk-core-sounds-it-wav \\
        asterisk-core-sounds-ru-wav asterisk-prompt-es-co asterisk-prompt-fr-armelle \\
        asterisk-prompt-it-menardi-wav
    cd egs2/mini_2mix/enh1 && ../../../tools/venv/bin/python local/make_corpus.py --deb_dir /tmp/asterisk

(defaults for everything else; seeded, so the same packages give the same corpus). The GSM prompts
are decoded by libsndfile (raw GSM 06.10). ``--lists_only`` rewrites the mixing lists from the FLAC
files already in ``--out_dir``.
"""

import argparse
import gzip
import hashlib
import random
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import scipy.signal
import soundfile as sf

FS = 8000
SOUNDS = "usr/share/asterisk/sounds"


@dataclass(frozen=True)
class Voice:
    spk: str  # 3 characters: WSJ0-mix tools take the first 3 characters of a file name as speaker
    split: str
    sex: str
    name: str
    sources: Tuple[Tuple[str, str, str], ...]  # (package, folder under SOUNDS, language)
    license: str
    credits: str  # attribution as the package gives it


VOICES = [
    Voice(
        "asm",
        "train",
        "f",
        "Allison Smith",
        (
            ("asterisk-core-sounds-en-wav", "en_US_f_Allison", "en"),
            ("asterisk-core-sounds-es-wav", "es_MX_f_Allison", "es"),
        ),
        "CC-BY-SA-3.0",
        "Recorded by:\n Allison Smith (http://www.theivrvoice.com)\n\n"
        "Financial Contributions by:\n Digium, Inc. (http://www.digium.com)\n\n"
        "Copyright: 2003-2010, Allison Smith. License: CC-BY-SA-3.0\n"
        "(the Asterisk core sounds CREDITS file, as quoted in the Debian copyright file)\n",
    ),
    Voice(
        "jwa",
        "train",
        "f",
        "June Wallack",
        (("asterisk-core-sounds-fr-wav", "fr_CA_f_June", "fr"),),
        "CC-BY-SA-3.0",
        "Recorded by:\n June Wallack (http://www.junewallack.com)\n\n"
        "Translated into French by:\n Clod Patry <cpatry@gmail.com>\n Kristopher Lalletti <kris@syneo.ca>\n"
        " June Wallack\n\nFinancial Contributions by:\n Digium, Inc. (http://www.digium.com)\n"
        " Unlimitel (http://www.unlimitel.ca)\n BGM Informatique (www.bgm.qc.ca)\n\n"
        "Copyright: 2006-2008, June Wallack. License: CC-BY-SA-3.0\n"
        "(the Asterisk core sounds CREDITS file for fr-*, as quoted in the Debian copyright file)\n",
    ),
    Voice(
        "cfl",
        "train",
        "m",
        "Carlo Flora",
        (("asterisk-core-sounds-it-wav", "it_IT_m_Carlo", "it"),),
        "CC-BY-3.0",
        "Recorded by:\n Carlo Flora (http://www.carloflora.com)\n"
        "Voice available making an order here:\n http://www.segreterietelefoniche.it\n\n"
        "Translated by Silvia Petrin (traduttore@segreterietelefoniche.it)\n"
        "The text was translated from original English distributed from http://www.digium.com\n\n"
        "Copyright: 2012 Carlo Flora, <http://www.segreterietelefoniche.it>. License: CC-BY-3.0\n"
        "(the Asterisk core sounds CREDITS file for it-*, as quoted in the Debian copyright file)\n",
    ),
    Voice(
        "ivr",
        "train",
        "f",
        "the ivrvoice.ru voice (provided by Maxim Topal)",
        (("asterisk-core-sounds-ru-wav", "ru_RU_f_IvrvoiceRU", "ru"),),
        "CC-BY-3.0",
        "Provided by: Maxim Topal\n\nhttp://www.ivrvoice.ru\n\n"
        "Copyright: 2010, Maxim. License: CC-BY-3.0\n"
        "(the Asterisk core sounds CREDITS file for ru-*, as quoted in the Debian copyright file)\n",
    ),
    Voice(
        "ade",
        "train",
        "f",
        "Armelle Desjardins",
        (("asterisk-prompt-fr-armelle", "fr", "fr"),),
        "BSD-style (Copyright (C) 2006 Michel Gutierrez)",
        "Voice actor: Armelle Desjardins <armelle.asterisk@aclap.com>\n"
        "Copyright holder (2006): Michel Gutierrez <mig.asterisk@aclap.com>\n"
        "Downloaded by Debian from <http://public.aclap.com/asterisk-1.2-sounds-fr-armelle.tar.gz>\n\n"
        "Copyright (C) 2006 Michel Gutierrez; redistribution and use, with or without modification,\n"
        "under the conditions in LICENSE.\n",
    ),
    Voice(
        "jej",
        "test",
        "f",
        "July E. Jimenez",
        (("asterisk-prompt-es-co", "es", "es"),),
        "GPL-2",
        "Sonidos grabados por Avatar Ltda. con la voz de July E. Jim\u00e9nez.\n"
        "Distribuidos bajo la licencia GNU GPL v2. Para mayor informaci\u00f3n lea el archivo LICENCIA.\n\n"
        "Copyright (C) 2006, Avatar Ltda. http://www.avatar.com.co/\n"
        "(Sounds recorded by Avatar Ltda. with the voice of July E. Jim\u00e9nez, neutral Colombian accent,\n"
        "distributed under the GNU GPL v2: the LEEME file of the package; LICENSE holds the Debian\n"
        "copyright file followed by the package's LICENCIA, the GPL v2.)\n",
    ),
    Voice(
        "mdz",
        "test",
        "f",
        "the Menardi voice (Marco Menardi and Paola Dal Zot)",
        (("asterisk-prompt-it-menardi-wav", "it_IT_f_Menardi", "it"),),
        "CC-BY-SA-3.0-IT",
        "I file di messaggi ('voci') qui distribuiti sono Copyright (C) 2006-2011\n"
        "di Marco Menardi e Paola Dal Zot.\n"
        "The sound files were made by Marco Menardi and his wife Paola Dal Zot;\n"
        "to download them, for updates or to ask for new voices: http://www.voip.ammdomus.it\n"
        "The English text of the messages, from which the Italian translation was derived, is\n"
        "Copyright Digium (http://www.digium.com).\n\n"
        "License: Creative Commons Attribuzione - Condividi allo stesso modo 3.0 Italia (CC-BY-SA-3.0 IT).\n"
        "The author's condition for attribution: whoever distributes the files must show the end user\n"
        "that the sound files were made by Marco Menardi and his wife, and the address\n"
        "http://www.voip.ammdomus.it (see LICENSE).\n",
    ),
]

# Not speech, by name: silence files, beeps, two-tone chimes, the conference join and leave chimes,
# the monkeys of tt-monkeys (the sound effects that every core-sounds package holds alike).
NOT_SPEECH = re.compile(r"(^|/)silence/|(^|/)beep(err)?\.|2tone\.|(^|/)confbridge-(join|leave)\.|(^|/)tt-monkeys\.")
CHANGES = (
    "Changes made (the original work has been modified): only phrases of {min_dur}-{max_dur} s kept; each\n"
    "high-passed at 70 Hz, trimmed of leading and trailing silence, stored as 16-bit FLAC at 8 kHz.\n"
    "corpus/sources.txt names the original file and the samples kept of every FLAC here. The mixtures\n"
    "that local/data.sh makes from them are derived works under the same terms.\n"
)


# ---------------------------------------------------------------- audio


def read_prompt(path: Path) -> np.ndarray:
    """A prompt as float64 [N] at 8 kHz: wav, or raw GSM 06.10 (``.gsm``) decoded by libsndfile."""
    if path.suffix == ".gsm":
        x, fs = sf.read(str(path), format="RAW", subtype="GSM610", samplerate=FS, channels=1, dtype="float64")
    else:
        x, fs = sf.read(str(path), dtype="float64", always_2d=True)
        x = x[:, 0]
    if fs != FS:
        raise ValueError(f"{path}: {fs} Hz, expected {FS}")
    return x


def frame_energy_db(x: np.ndarray, win: int = 160, hop: int = 80) -> np.ndarray:
    if len(x) < win:
        return np.full(1, -200.0)
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop]
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)


def trim(x: np.ndarray, below_db: float = 35.0, margin: int = 400) -> Tuple[int, int]:
    """First and one-past-last sample of ``x`` within ``below_db`` of its loudest 20 ms frame."""
    e = frame_energy_db(x)
    active = np.nonzero(e > e.max() - below_db)[0]
    start = max(active[0] * 80 - margin, 0)
    end = min(active[-1] * 80 + 160 + margin, len(x))
    return start, end


def yin(x: np.ndarray, win: int = 320, hop: int = 160, fmin: float = 60, fmax: float = 400):
    """YIN on the active frames of ``x`` (within 30 dB of the loudest): (voiced [T] bool, F0 [T] Hz).

    A frame is voiced when its cumulative mean normalised difference dips below 0.2 between the lags of
    ``fmax`` and ``fmin``; its F0 is at the bottom of the first such dip.
    """
    lo, hi = int(FS / fmax), int(FS / fmin)
    if len(x) < win + hi + hop:
        return np.zeros(0, bool), np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(x, win + hi)[::hop]
    e = 10 * np.log10(np.mean(frames[:, :win] ** 2, axis=1) + 1e-20)
    frames = frames[e > e.max() - 30]
    ref = frames[:, :win]
    d = np.stack([np.sum((ref - frames[:, t : t + win]) ** 2, axis=1) for t in range(1, hi + 1)], axis=1)
    cmnd = (d * np.arange(1, hi + 1) / (np.cumsum(d, axis=1) + 1e-20))[:, lo - 1 :]  # lags lo .. hi
    below = cmnd < 0.2
    voiced = below.any(axis=1)
    lag = np.argmax(below, axis=1)
    rows = np.arange(len(cmnd))
    for _ in range(hi - lo):  # down to the bottom of the dip
        step = (lag + 1 < cmnd.shape[1]) & (cmnd[rows, np.minimum(lag + 1, cmnd.shape[1] - 1)] < cmnd[rows, lag])
        if not step.any():
            break
        lag = lag + step
    return voiced, FS / (lag + lo)


def voiced_fraction(x: np.ndarray) -> float:
    """Fraction of the active frames that are voiced (YIN)."""
    voiced, _ = yin(x)
    return float(np.mean(voiced)) if len(voiced) else 0.0


def median_f0(x: np.ndarray) -> float:
    """Median F0 (Hz) of the voiced frames (YIN), 0 if none."""
    voiced, f0 = yin(x)
    return float(np.median(f0[voiced])) if voiced.any() else 0.0


def longest_tone_ms(x: np.ndarray, win: int = 256, hop: int = 128) -> float:
    """Longest run of frames whose energy is > 80% in one spectral peak above 400 Hz that stays put."""
    if len(x) < win:
        return 0.0
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop] * np.hanning(win)
    p = np.abs(np.fft.rfft(frames, 512, axis=1)) ** 2
    total = p.sum(axis=1)
    k = p.argmax(axis=1)
    padded = np.pad(p, ((0, 0), (2, 2)))
    rows = np.arange(len(p))
    peak = sum(padded[rows, k + 2 + d] for d in range(-2, 3)) / (total + 1e-20)
    tonal = (peak > 0.8) & (k * FS / 512 > 400) & (total > 1e-3 * total.max())
    best = run = 0
    for i in range(len(tonal)):
        run = run + 1 if tonal[i] and (run == 0 or abs(int(k[i]) - int(k[i - 1])) <= 1) else int(tonal[i])
        best = max(best, run)
    return best * hop / FS * 1000


HIGHPASS = scipy.signal.butter(4, 70, "highpass", fs=FS, output="sos")


def prepare(path: Path, min_dur: float, max_dur: float):
    """(trimmed int16 signal, start, end) of a prompt, or (None, reason) if it is left out."""
    x = read_prompt(path)
    if len(x) < 0.2 * FS or np.max(np.abs(x)) == 0:
        return None, "empty"
    y = scipy.signal.sosfiltfilt(HIGHPASS, x)
    start, end = trim(y)
    y = y[start:end]
    if not min_dur <= len(y) / FS <= max_dur:
        return None, "duration"
    if longest_tone_ms(y) >= 150:
        return None, "tone"
    if voiced_fraction(y) < 0.2:
        return None, "unvoiced"
    pcm = np.clip(np.round(y * 32768), -32768, 32767).astype(np.int16)
    return (pcm, start, end), ""


# ---------------------------------------------------------------- packages


def extract(deb_dir: Path, tmp: Path) -> Dict[str, Tuple[Path, str]]:
    """package -> (extracted root, version) for the .deb files that VOICES need."""
    roots = {}
    for voice in VOICES:
        for pkg, _, _ in voice.sources:
            if pkg in roots:
                continue
            debs = sorted(deb_dir.glob(f"{pkg}_*.deb"))
            if not debs:
                raise SystemExit(f"{deb_dir}/{pkg}_*.deb not found: apt-get download {pkg} (see --help)")
            root = tmp / pkg
            subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(root)], check=True)
            version = subprocess.run(
                ["dpkg-deb", "-f", str(debs[-1]), "Version"], check=True, capture_output=True, text=True
            ).stdout.strip()
            roots[pkg] = (root, version)
    return roots


def prompts(root: Path, folder: str) -> List[Path]:
    """The sound files of a package folder, sorted, without symbolic links (no file twice)."""
    base = root / SOUNDS / folder
    return sorted(p for p in base.rglob("*") if p.suffix in (".wav", ".gsm") and p.is_file() and not p.is_symlink())


def license_text(root: Path, pkg: str) -> str:
    doc = root / "usr/share/doc" / pkg
    text = (doc / "copyright").read_text(encoding="utf-8", errors="replace")
    if (doc / "LICENCIA.gz").exists():  # asterisk-prompt-es-co: the GPL v2 that its copyright file names
        text += "\n\n----- LICENCIA (from the package) -----\n\n"
        text += gzip.open(doc / "LICENCIA.gz", "rt", encoding="latin-1").read()
    return text


def make_audio(args, corpus: Path) -> None:
    seconds = {"train": args.train_seconds, "valid": args.valid_seconds, "test": args.test_seconds}
    rng = random.Random(args.seed)
    sources, speakers = [], []
    with tempfile.TemporaryDirectory() as tmp:
        roots = extract(args.deb_dir, Path(tmp))
        for voice in VOICES:
            candidates = []
            for pkg, folder, lang in voice.sources:
                root = roots[pkg][0]
                for path in prompts(root, folder):
                    rel = path.relative_to(root / SOUNDS / folder).as_posix()
                    if not NOT_SPEECH.search(rel):
                        candidates.append((pkg, folder, lang, path, rel))
            rng.shuffle(candidates)
            splits = ["valid", "train"] if voice.split == "train" else ["test"]
            budget = {s: seconds[s] for s in splits}
            stats: Dict[str, int] = {}
            used = set()
            for pkg, folder, lang, path, rel in candidates:
                split = next((s for s in splits if budget[s] > 0), None)
                if split is None:
                    break
                kept, reason = prepare(path, args.min_dur, args.max_dur)
                if kept is None:
                    stats[reason] = stats.get(reason, 0) + 1
                    continue
                pcm, start, end = kept
                digest = hashlib.sha1(pcm.tobytes()).hexdigest()
                if digest in used:  # the same recording under two names
                    stats["duplicate"] = stats.get("duplicate", 0) + 1
                    continue
                used.add(digest)
                utt = f"{voice.spk}-{lang}-" + re.sub(r"[^A-Za-z0-9]+", "-", Path(rel).with_suffix("").as_posix())
                out = corpus / split / voice.spk / f"{utt}.flac"
                out.parent.mkdir(parents=True, exist_ok=True)
                sf.write(str(out), pcm, FS, subtype="PCM_16")
                budget[split] -= len(pcm) / FS
                sources.append(f"{utt} {pkg} {SOUNDS}/{folder}/{rel} {start} {end}")
            for split in splits:
                if budget[split] > 0:
                    raise SystemExit(f"{voice.spk}: not enough phrases for {seconds[split]} s of {split}")
            print(f"{voice.spk} {voice.split}: left out {stats}")
            pkgs = ",".join(f"{p}={roots[p][1]}" for p, _, _ in voice.sources)
            langs = ",".join(lang for _, _, lang in voice.sources)
            speakers.append(f"{voice.spk} {voice.split} {voice.sex} {langs} {pkgs} {voice.license} # {voice.name}")
            for split in splits:
                d = corpus / split / voice.spk
                (d / "CREDITS").write_text(
                    f"{voice.name}: {langs}, from the Debian package(s) {pkgs}\n\n"
                    + voice.credits
                    + "\n"
                    + CHANGES.format(min_dur=args.min_dur, max_dur=args.max_dur)
                )
                texts = []
                for pkg, _, _ in voice.sources:
                    text = license_text(roots[pkg][0], pkg)
                    if text not in texts:
                        texts.append(text)
                (d / "LICENSE").write_text("\n\n".join(texts))
    (corpus / "speakers.txt").write_text(
        "# speaker split sex languages package=version license # name\n" + "\n".join(speakers) + "\n"
    )
    (corpus / "sources.txt").write_text(
        "# utterance package file-in-package first-sample end-sample (after the 70 Hz high-pass)\n"
        + "\n".join(sorted(sources))
        + "\n"
    )


def make_lists(corpus: Path, counts: Dict[str, int], seed: int, min_semitones: float = 2.0) -> None:
    """Write WSJ0-2mix style lists pairing utterances of two different speakers of one split.

    Training pairs also differ in pitch: the median F0 of the two utterances (YIN, ``median_f0``) at
    least ``min_semitones`` apart, the pairs a small model learns to separate first. Validation and
    test pairs are any two utterances of different speakers. Every utterance is in at least one
    mixture: first each one not yet used is paired with a random partner (one not yet used if there
    is one), then random pairs fill the list.
    """
    rng = random.Random(seed)
    (corpus / "lists").mkdir(exist_ok=True)
    for split, name in (("train", "tr"), ("valid", "cv"), ("test", "tt")):
        files = sorted(p.relative_to(corpus).as_posix() for p in (corpus / split).rglob("*.flac"))
        if counts[name] < (len(files) + 1) // 2:
            raise SystemExit(f"{name}: {counts[name]} mixtures cannot use all {len(files)} utterances")
        if name == "tr":
            f0 = {f: median_f0(sf.read(str(corpus / f), dtype="float64")[0]) for f in files}

        def can_pair(a: str, b: str) -> bool:
            if a.split("/")[1] == b.split("/")[1]:
                return False
            return name != "tr" or abs(12 * np.log2(f0[a] / f0[b])) >= min_semitones

        pairs = set()
        unused = files[:]
        rng.shuffle(unused)
        while unused:
            a = unused.pop()
            partners = [b for b in unused if can_pair(a, b)]
            if partners:
                b = rng.choice(partners)
                unused.remove(b)
            else:
                partners = [b for b in files if can_pair(a, b)]
                if not partners:
                    raise SystemExit(f"{a}: no utterance of another speaker to pair it with")
                b = rng.choice(partners)
            pairs.add((a, b))
        while len(pairs) < counts[name]:
            a, b = rng.sample(files, 2)
            if can_pair(a, b) and (b, a) not in pairs:
                pairs.add((a, b))
        with open(corpus / "lists" / f"mix_2_spk_{name}.txt", "w") as f:
            for a, b in sorted(pairs):
                g = rng.uniform(0, 2.5) * rng.choice([-1, 1])
                f.write(f"{a} {g:.5f} {b} {-g:.5f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deb_dir", type=Path, help="folder with the .deb files (apt-get download, see above)")
    parser.add_argument("--out_dir", type=Path, default=Path(__file__).parents[1] / "corpus")
    parser.add_argument("--train_seconds", type=float, default=85, help="speech per training voice")
    parser.add_argument("--valid_seconds", type=float, default=12, help="held-out phrases per training voice")
    parser.add_argument("--test_seconds", type=float, default=60, help="speech per test voice")
    parser.add_argument("--min_dur", type=float, default=1.5, help="shortest phrase kept (s, after trimming)")
    parser.add_argument("--max_dur", type=float, default=4.0, help="longest phrase kept (s, after trimming)")
    parser.add_argument("--mixtures", default="tr:800,cv:20,tt:40", help="mixtures in each list")
    parser.add_argument("--min_semitones", type=float, default=2.0, help="pitch difference of training pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lists_only", action="store_true", help="only rewrite the lists")
    args = parser.parse_args()
    counts = {k: int(v) for k, v in (x.split(":") for x in args.mixtures.split(","))}
    corpus = args.out_dir
    if not args.lists_only:
        if args.deb_dir is None:
            parser.error("--deb_dir is needed (or --lists_only)")
        if shutil.which("dpkg-deb") is None:
            raise SystemExit("dpkg-deb is needed to unpack the .deb files")
        for split in ("train", "valid", "test"):
            shutil.rmtree(corpus / split, ignore_errors=True)
        corpus.mkdir(parents=True, exist_ok=True)
        make_audio(args, corpus)
    make_lists(corpus, counts, args.seed, args.min_semitones)


if __name__ == "__main__":
    main()
