"""The mini_2mix recipe: the committed corpus and its lists, and the recipe end to end.

The end-to-end test is the CI variant of run.sh: few mixtures, 2 training iterations, an M_re
sweep of 1 and 4 (the model is trained with 3); it checks that every stage leaves what the
next one and the user need, not the separation quality (see the recipe's RESULTS.md for that).
"""

import re
import sys
from pathlib import Path

import pytest
import soundfile as sf

from espnet2.utils.wsj0_mix import read_mix_list
from test.egs2.recipe_helpers import REPO, run

RECIPE = REPO / "egs2" / "mini_2mix" / "enh1"
CORPUS = RECIPE / "corpus"


def speakers(column=1):
    """speaker -> split (column 1) or espeak-ng voice (column 2), from corpus/speakers.txt."""
    rows = [ln.split() for ln in (CORPUS / "speakers.txt").read_text().splitlines()
            if not ln.startswith("#")]
    return {row[0]: row[column] for row in rows}


def test_corpus_is_small_8k_16bit_with_disjoint_speakers():
    files = sorted(CORPUS.rglob("*"))
    assert sum(f.stat().st_size for f in files if f.is_file()) <= 5 * 1024 * 1024
    spk = speakers()
    assert sorted(set(spk.values())) == ["test", "train", "valid"]
    assert sum(s == "train" for s in spk.values()) >= 12
    flacs = [f for f in files if f.suffix == ".flac"]
    assert len(flacs) > 100
    for f in flacs:
        info = sf.info(str(f))
        assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16"), f
        split, speaker = f.relative_to(CORPUS).parts[:2]
        assert spk[speaker] == split and f.name.startswith(speaker)
    texts = dict(ln.split(maxsplit=1) for ln in (CORPUS / "text").read_text().splitlines())
    assert set(texts) == {f.stem for f in flacs}


@pytest.mark.parametrize("name,split", [("tr", "train"), ("cv", "valid"), ("tt", "test")])
def test_lists_pair_two_speakers_of_one_split(name, split):
    entries = read_mix_list(CORPUS / "lists" / f"mix_2_spk_{name}.txt", num_spk=2)
    assert len({e.mixture_id for e in entries}) == len(entries)
    spk = speakers()
    for e in entries:
        a, b = (Path(p) for p in e.paths)
        assert (CORPUS / a).is_file() and (CORPUS / b).is_file()
        assert a.parts[0] == b.parts[0] == split
        assert a.parts[1] != b.parts[1] and spk[a.parts[1]] == split
        g1, g2 = (float(g) for g in e.snrs)
        assert g1 == -g2 and abs(g1) <= 2.5
        # a low (m*, klatt*) and a high (f*) voice in every mixture
        variants = {speakers(2)[p.parts[1]].split("+")[1][0] for p in (a, b)}
        assert "f" in variants and len(variants) == 2


def test_lists_are_what_the_generator_makes(tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / split).symlink_to(CORPUS / split)
    run([sys.executable, str(RECIPE / "local" / "make_corpus.py"), "--lists_only",
         "--out_dir", str(tmp_path)], tmp_path)
    for name in ("tr", "cv", "tt"):
        made = (tmp_path / "lists" / f"mix_2_spk_{name}.txt").read_text()
        assert made == (CORPUS / "lists" / f"mix_2_spk_{name}.txt").read_text()


def make_scratch_recipe(root: Path) -> Path:
    root.mkdir()
    for name in ("enh.sh", "utils", "scripts", "pyscripts", "conf", "corpus", "local", "run.sh",
                 "path.sh", "cmd.sh", "db.sh"):
        (root / name).symlink_to(RECIPE / name)
    return root


def test_run_sh_end_to_end_ci_variant(tmp_path):
    rec = make_scratch_recipe(tmp_path / "enh1")
    p = run(["./run.sh", "--local_data_opts", "--num_train 8 --num_valid 2 --num_test 3",
             "--enh_args", "--max_epoch 1 --num_iters_per_epoch 2 --batch_size 2 --num_threads 1",
             "--nj", "1", "--inference_nj", "1", "--m_re_list", "1 4",
             "--stop_stage", "8"], rec)
    exp = rec / "exp" / "enh_train_tiny_raw"
    for f in ("config.yaml", "valid.loss.best.pth", "train.log", "m_re_sweep_tt.png"):
        assert (exp / f).exists(), f
    results = (exp / "RESULTS.md").read_text()
    table = results.split("## mini_2mix tt: M_re sweep")[1]
    assert "|M_re|STOI|SAR|SDR|SIR|SI_SNR|SI-SNRi|RTF|" in table
    rows = re.findall(r"^\|(\d+)\|([-0-9.]+)\|.*\|([-0-9.]+)\|([0-9.]+)\|$", table, re.M)
    assert [r[0] for r in rows] == ["1", "4"]
    assert "|enhanced_re1_tt|" in results and "|enhanced_re4_tt|" in results
    n = sum(1 for _ in open(exp / "enhanced_re4_tt" / "spk2.scp"))
    assert n == 3
    assert "Results:" in p.stdout
