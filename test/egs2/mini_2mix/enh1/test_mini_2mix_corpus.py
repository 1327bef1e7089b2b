"""The committed mini_2mix corpus (egs2/mini_2mix/enh1/corpus): real voices, its lists, its mixtures.

- the files: 16-bit FLAC at 8 kHz, every FLAC in a list and every listed file present, credits and
  license beside every voice, under 8 MB;
- the speakers: no test voice in training or validation, validation phrases not in training;
- the mixtures: what the toolkit's mixing code (wsj0_mix.py, as local/data.sh runs it) makes from
  the lists equals the sources mixed here by the WSJ0-2mix rule, written out step by step.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from p56 import active_level  # egs2/TEMPLATE/enh1/pyscripts/utils (test/egs2/conftest.py)
from wsj0_mix import make_mixtures, read_mix_list

from test.egs2.recipe_helpers import REPO, run

RECIPE = REPO / "egs2" / "mini_2mix" / "enh1"
CORPUS = RECIPE / "corpus"
LISTS = {"tr": "train", "cv": "valid", "tt": "test"}
FS = 8000


def speakers():
    """speaker -> (split, the rest of its corpus/speakers.txt line)."""
    rows = [ln.split(maxsplit=2) for ln in (CORPUS / "speakers.txt").read_text().splitlines() if not ln.startswith("#")]
    return {row[0]: (row[1], row[2]) for row in rows}


def listed(name):
    return read_mix_list(CORPUS / "lists" / f"mix_2_spk_{name}.txt", num_spk=2)


def speaker_of(path: str) -> str:
    """<split>/<spk>/<spk>-<lang>-<prompt>.flac -> <spk>, checking that folder and name agree."""
    split, spk, name = Path(path).parts
    assert name.startswith(spk + "-"), path
    return spk


def test_corpus_files_8k_16bit_flac_under_8_mb():
    files = [f for f in CORPUS.rglob("*") if f.is_file()]
    # what du counts: whole 4 KiB blocks
    assert sum(-(-f.stat().st_size // 4096) * 4096 for f in files) <= 8 * 1024 * 1024
    flacs = [f for f in files if f.suffix == ".flac"]
    assert len(flacs) > 200
    for f in flacs:
        info = sf.info(str(f))
        assert (info.samplerate, info.channels, info.subtype, info.format) == (FS, 1, "PCM_16", "FLAC"), f
    minutes = sum(sf.info(str(f)).duration for f in flacs) / 60
    assert 8 < minutes < 15


def test_every_listed_file_exists_and_every_flac_is_listed():
    flacs = {f.relative_to(CORPUS).as_posix() for f in CORPUS.rglob("*.flac")}
    in_lists = set()
    for name, split in LISTS.items():
        entries = listed(name)
        assert len({e.mixture_id for e in entries}) == len(entries), name
        for e in entries:
            for p in e.paths:
                assert (CORPUS / p).is_file(), p
                assert Path(p).parts[0] == split, (name, p)
            in_lists.update(e.paths)
    assert in_lists == flacs
    sources = {ln.split()[0] for ln in (CORPUS / "sources.txt").read_text().splitlines() if not ln.startswith("#")}
    assert sources == {Path(f).stem for f in flacs}


def test_speakers_file_matches_the_folders_and_every_voice_has_credits_and_license():
    spk = speakers()
    for f in CORPUS.rglob("*.flac"):
        split = f.relative_to(CORPUS).parts[0]
        # a training voice's held-out phrases are in valid/
        assert spk[speaker_of(f.relative_to(CORPUS).as_posix())][0] == split.replace("valid", "train"), f
    for split in ("train", "valid", "test"):
        for d in (CORPUS / split).iterdir():
            assert d.name in spk
            credits, license_text = (d / "CREDITS").read_text(), (d / "LICENSE").read_text()
            assert "modified" in credits and len(license_text) > 500, d


def test_no_test_voice_in_training_or_validation():
    spk = speakers()
    voices = {name: {speaker_of(p) for e in listed(name) for p in e.paths} for name in LISTS}
    assert voices["tt"].isdisjoint(voices["tr"] | voices["cv"])
    assert len(voices["tt"]) >= 2
    assert {s for s, (split, _) in spk.items() if split == "test"} == voices["tt"]
    assert {s for s, (split, _) in spk.items() if split == "train"} == voices["tr"]
    # validation: held-out phrases of the training voices
    assert voices["cv"] <= voices["tr"]
    phrases = {name: {Path(p).stem for e in listed(name) for p in e.paths} for name in LISTS}
    assert phrases["cv"].isdisjoint(phrases["tr"]) and phrases["tt"].isdisjoint(phrases["tr"] | phrases["cv"])


@pytest.mark.parametrize("name", list(LISTS))
def test_lists_pair_two_speakers_with_wsj0_2mix_gains(name):
    for e in listed(name):
        a, b = e.paths
        assert speaker_of(a) != speaker_of(b)
        g1, g2 = (float(g) for g in e.snrs)
        assert g1 == -g2 and abs(g1) <= 2.5


def wsj0_2mix_by_hand(paths, gains):
    """The rule of create_wav_2speakers.m, written out: each source at unit P.56 active level times
    10**(gain/20), cut to the shorter, summed; mixture and sources scaled so that the largest peak is 0.9."""
    scaled = []
    for path, gain in zip(paths, gains):
        x, fs = sf.read(str(CORPUS / path), dtype="float64")
        assert fs == FS
        level, _ = active_level(x, fs)  # mean power over the active samples
        scaled.append(x / np.sqrt(level) * 10 ** (float(gain) / 20))
    n = min(len(s) for s in scaled)
    scaled = [s[:n] for s in scaled]
    mix = scaled[0] + scaled[1]
    peak = max(np.abs(s).max() for s in (mix, *scaled))
    return mix * 0.9 / peak, [s * 0.9 / peak for s in scaled]


@pytest.mark.parametrize("name", list(LISTS))
def test_mixtures_made_by_the_toolkit_are_the_listed_sources_at_the_listed_gains(name, tmp_path):
    entries = listed(name)
    ids = make_mixtures(entries, CORPUS, tmp_path, FS, "min", nj=2)
    assert ids == [e.mixture_id for e in entries]
    lsb = 1 / 32768
    for e in entries:
        mix, refs = wsj0_2mix_by_hand(e.paths, e.snrs)
        made_mix, fs = sf.read(str(tmp_path / "mix" / f"{e.mixture_id}.wav"), dtype="float64")
        assert fs == FS and len(made_mix) == len(mix)
        assert np.max(np.abs(made_mix - mix)) <= 1.01 * lsb, e.mixture_id  # 16-bit rounding
        for j, ref in enumerate(refs, 1):
            made, _ = sf.read(str(tmp_path / f"s{j}" / f"{e.mixture_id}.wav"), dtype="float64")
            assert np.max(np.abs(made - ref)) <= 1.01 * lsb, (e.mixture_id, j)
        assert 0.9 - 2 * lsb <= max(np.abs(made_mix).max(), *(np.abs(r).max() for r in refs)) <= 0.9 + lsb


def test_lists_are_what_the_generator_makes(tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / split).symlink_to(CORPUS / split)
    run(
        [sys.executable, str(RECIPE / "local" / "make_corpus.py"), "--lists_only", "--out_dir", str(tmp_path)], tmp_path
    )
    for name in LISTS:
        made = (tmp_path / "lists" / f"mix_2_spk_{name}.txt").read_text()
        assert made == (CORPUS / "lists" / f"mix_2_spk_{name}.txt").read_text()
