"""The mini_whamr recipe: WHAMR! made from the mini_2mix corpus, and run.sh end to end (CI-sized).

The end-to-end test is the CI variant of run.sh (few mixtures, 2 training updates): it checks that the noisy
reverberant data go through every stage, not the separation quality.
"""

import csv
import filecmp
import re
import sys

import numpy as np
import pytest
import soundfile as sf
import whamr  # egs2/TEMPLATE/enh1/pyscripts/utils (test/egs2/conftest.py)

from test.egs2.recipe_helpers import REPO, link_recipe, read_scp, run

RECIPE = REPO / "egs2" / "mini_whamr" / "enh1"
CORPUS = REPO / "egs2" / "mini_2mix" / "enh1" / "corpus"
CI_DATA = "--num_train 8 --num_valid 2 --num_test 3"
CI_TRAIN = "--max_epoch 1 --num_iters_per_epoch 2 --batch_size 2 --num_threads 1"


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    """run.sh with few mixtures and 2 training updates, stages 1-8."""
    # db.sh linked: it finds the corpus from where it is
    names = ("enh.sh", "utils", "scripts", "pyscripts", "conf", "local", "run.sh", "infer_run.sh", "path.sh", "cmd.sh",
             "db.sh")  # fmt: skip
    rec = link_recipe(tmp_path_factory.mktemp("mini_whamr") / "enh1", RECIPE, names)
    p = run(["./run.sh", "--local_data_opts", CI_DATA, "--enh_args", CI_TRAIN, "--nj", "1", "--inference_nj", "1",
             "--stop_stage", "8"], rec)  # fmt: skip
    return rec, p


def test_run_sh_end_to_end_ci_variant(ci_run):
    rec, p = ci_run
    for split, n in (("tr", 8), ("cv", 2), ("tt", 3)):
        d = rec / "data" / split
        assert sorted(f.name for f in d.glob("*.scp")) == ["dereverb1.scp", "noise1.scp", "spk1.scp", "spk2.scp",
                                                           "wav.scp"]  # fmt: skip
        wav, spk1 = read_scp(d / "wav.scp"), read_scp(d / "spk1.scp")
        assert len(wav) == n and all("/mix_both_reverb/" in v for v in wav.values())
        assert all("/s1_anechoic/" in v for v in spk1.values())  # the targets are the anechoic speakers
    exp = rec / "exp" / "enh_train_tiny_raw"
    for f in ("config.yaml", "valid.loss.best.pth", "train.log"):
        assert (exp / f).exists(), f
    assert re.search(r"Training finished: epoch 1/1 done: train loss [-0-9.]+, valid loss", p.stdout)
    assert "tt: 3/3 utterances separated" in p.stdout
    assert sum(1 for _ in open(exp / "enhanced_tt" / "spk2.scp")) == 3
    results = (exp / "RESULTS.md").read_text()
    assert re.search(r"^\|enhanced_tt\|[-0-9.]+\|", results, re.M)
    assert float((exp / "enhanced_tt" / "scoring" / "result_si_snr.txt").read_text().split()[0]) < 40


def test_infer_run_sweeps_m_re(ci_run):
    rec, _ = ci_run
    run(["./infer_run.sh", "--m_re_list", "1 4", "--inference_nj", "1"], rec)
    table = (rec / "exp/enh_train_tiny_raw/m_re_sweep_tt.md").read_text()
    assert "mini_whamr tt: M_re sweep (trained with M_re 3)" in table
    assert [int(m) for m in re.findall(r"^\|(\d+)\|", table, re.M)] == [1, 4]


def test_mixtures_are_made_by_the_whamr_code(ci_run):
    # The mixtures are what whamr.py makes of the corpus' WHAMR!-style metadata, sources and noises: the
    # WHAMR! recipe's code path, run in CI.
    rec, _ = ci_run
    meta = rec / "data/local/mini_whamr"
    rows = list(csv.DictReader(open(meta / "meta/mix_2_spk_filenames_tt.csv")))
    name = rows[1]["output_filename"]
    room = whamr.read_rooms(meta / "meta", "tt")[name]
    scaling = whamr.read_scaling(meta / "wham_noise/metadata/scaling_tt.npz", "8k", "min")[name]
    sources = [whamr.read_audio(meta / "wav16k" / rows[1][k]) for k in ("s1_path", "s2_path")]
    want = whamr.make_signals(sources, whamr.read_audio(meta / "wham_noise/tt" / name), room, scaling, 8000, "min")
    split_dir = rec / "data/local/mix/wav8k/min/tt"
    for folder in ("mix_both_reverb", "mix_both_anechoic", "s1_anechoic", "s2_reverb", "noise"):
        np.testing.assert_allclose(sf.read(split_dir / folder / name, dtype="float32")[0], want[folder], atol=1e-7)
    # the references are cleaner than the mixture: the noise at -6..3 dB against the louder speaker
    power = {k: np.mean(want[k] ** 2) for k in ("s1_anechoic", "s2_anechoic", "noise", "s1_reverb")}
    snr = 10 * np.log10(max(power["s1_anechoic"], power["s2_anechoic"]) / power["noise"])
    assert -6.5 < snr < 3.5
    assert power["s1_reverb"] != pytest.approx(power["s1_anechoic"], rel=1e-3)


def test_metadata_is_whamr_like_and_deterministic(tmp_path):
    # Rooms within WHAMR!'s ranges (T60 0.1-0.4 s), two-channel 16-kHz noises longer than the speech, and the
    # same draws for a mixture whatever the length of the list or the run.
    sys.path.insert(0, str(RECIPE / "local"))
    import make_whamr_meta

    lists = {}
    for split in whamr.SPLITS:
        lines = (CORPUS / "lists" / f"mix_2_spk_{split}.txt").read_text().splitlines()
        for n in (2, 3):
            (tmp_path / f"{split}{n}.txt").write_text("\n".join(lines[:n]) + "\n")
        lists[split] = tmp_path / f"{split}3.txt"
    assert make_whamr_meta.make_corpus(CORPUS, lists, tmp_path / "a", seed=0) == 9
    make_whamr_meta.make_corpus(CORPUS, {s: tmp_path / f"{s}2.txt" for s in whamr.SPLITS}, tmp_path / "b", seed=0)
    make_whamr_meta.make_corpus(CORPUS, lists, tmp_path / "c", seed=1)
    a, b, c = (whamr.read_rooms(tmp_path / x / "meta", "tt") for x in "abc")
    assert len(a) == 3 and len(b) == 2 and all(a[k] == b[k] for k in b) and a.keys() == c.keys() and a != c
    for name, room in a.items():
        x, y, z = room.dims
        assert 5 <= x <= 10 and 5 <= y <= 10 and 3 <= z <= 4 and 0.1 <= room.t60 <= 0.4
        centre = (np.array(room.mic_left) + np.array(room.mic_right)) / 2
        assert 0.15 <= np.linalg.norm(np.subtract(room.mic_left, room.mic_right)) <= 0.17 + 1e-9
        for speaker in room.speakers:
            assert 0.66 <= np.linalg.norm(np.subtract(speaker, centre)[:2]) <= 2 and 0.9 <= speaker[2] <= 1.8
        noise, fs = sf.read(tmp_path / "a/wham_noise/tt" / name)
        assert fs == 16000 and noise.shape[1] == 2
        if name in b:
            assert filecmp.cmp(tmp_path / "a/wham_noise/tt" / name, tmp_path / "b/wham_noise/tt" / name, shallow=False)
    files = whamr.read_filenames(tmp_path / "a/meta", "tt")
    scaling = whamr.read_scaling(tmp_path / "a/wham_noise/metadata/scaling_tt.npz", "16k", "max")
    for name, paths in files.items():
        longest = max(sf.info(str(tmp_path / "a/wav16k" / p)).frames for p in paths)
        extra = sf.info(str(tmp_path / "a/wham_noise/tt" / name)).frames - longest
        assert 1600 <= extra < 8000 and 0 <= scaling[name].start_16k < extra // 2
        assert scaling[name].speech <= 1 and scaling[name].noise > 0


def test_errors_name_the_problem(tmp_path):
    rec = link_recipe(tmp_path / "enh1", RECIPE, ("local", "utils", "pyscripts", "path.sh"), f"MINI_2MIX={tmp_path}\n")
    p = run(["local/data.sh"], rec, check=False)
    assert p.returncode == 1 and "mix_2_spk_tr.txt does not exist: MINI_2MIX in db.sh" in p.stdout
    p = run(["local/data.sh", "--mix", "single"], rec, check=False)
    assert p.returncode == 2 and "--mix must be both or clean, got 'single'" in p.stdout
