"""The mini_2mix recipe end to end (the committed corpus and its lists: test_mini_2mix_corpus.py).

The end-to-end test is the CI variant of run.sh: few mixtures, 2 training iterations, an M_re
sweep of 1 and 4 (the model is trained with 3); it checks that every stage leaves what the
next one and the user need, not the separation quality (see the recipe's RESULTS.md for that).
"""

import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from test.egs2.recipe_helpers import REPO, run

RECIPE = REPO / "egs2" / "mini_2mix" / "enh1"


def make_scratch_recipe(root: Path) -> Path:
    root.mkdir()
    for name in ("enh.sh", "utils", "scripts", "pyscripts", "conf", "corpus", "local", "run.sh",
                 "infer_run.sh", "path.sh", "cmd.sh", "db.sh"):  # fmt: skip
        (root / name).symlink_to(RECIPE / name)
    return root


def test_official_data_stages_as_written(tmp_path):
    # The official README's "./run.sh --stage 1 --stop_stage 5", here on the mini corpus.
    rec = make_scratch_recipe(tmp_path / "enh1")
    run(["./run.sh", "--stage", "1", "--stop_stage", "5"], rec)
    for name, n in (("tr", 800), ("cv", 20), ("tt", 40)):
        assert sum(1 for _ in open(rec / "data" / name / "wav.scp")) == n
        assert sum(1 for _ in open(rec / "dump" / "raw" / name / "spk2.scp")) == n
    assert sum(1 for _ in open(rec / "exp" / "enh_stats_8k" / "train" / "speech_mix_shape")) == 800
    assert not (rec / "exp" / "enh_train_tiny_raw").exists()


CI_DATA = "--num_train 8 --num_valid 2 --num_test 3"
CI_TRAIN = "--max_epoch 1 --num_iters_per_epoch 2 --batch_size 2 --num_threads 1"
FLAGSHIP = "conf/efficient_train/tisdiss/train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x6_l1+1x6.yaml"


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    """The CI variant of README command 1: run.sh with few mixtures and 2 training updates, M_re 1 and 4."""
    rec = make_scratch_recipe(tmp_path_factory.mktemp("mini") / "enh1")
    p = run(["./run.sh", "--local_data_opts", CI_DATA, "--enh_args", CI_TRAIN, "--nj", "1", "--inference_nj", "1",
             "--m_re_list", "1 4", "--stop_stage", "8"], rec)  # fmt: skip
    return rec, p


def test_run_sh_end_to_end_ci_variant(ci_run):
    rec, p = ci_run
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
    # progress on the terminal while stages 6 and 7 run (read from the jobs' logs)
    assert re.search(r"Training finished: epoch 1/1 done: train loss [-0-9.]+, valid loss", p.stdout)
    assert "tt: 3/3 utterances separated" in p.stdout


def test_official_gpu_training_command_without_gpu(ci_run):
    # The official README's training command, on a machine without CUDA: a message, not a traceback.
    rec, _ = ci_run
    p = run(["./run.sh", "--stage", "6", "--stop_stage", "6", "--enh_config", FLAGSHIP, "--ngpu", "1"], rec,
            check=False)  # fmt: skip
    out = p.stdout + p.stderr
    assert p.returncode != 0
    assert "--ngpu 1 but 0 CUDA GPU(s) are visible" in out and "--ngpu 0" in out
    assert "Traceback" not in out


def test_official_infer_run_as_written(ci_run):
    rec, _ = ci_run
    p = run(["./infer_run.sh"], rec)
    exp = rec / "exp" / "enh_train_tiny_raw"
    table = (exp / "m_re_sweep_tt.md").read_text()
    assert [int(m) for m in re.findall(r"^\|(\d+)\|", table, re.M)] == [1, 2, 3, 4]
    assert "Results:" in p.stdout


def si_snr_db(ref, est):
    ref = ref - ref.mean()
    est = est - est.mean()
    proj = np.dot(est, ref) / np.dot(ref, ref) * ref
    return 10 * np.log10(np.sum(proj**2) / np.sum((est - proj) ** 2))


def test_separate_py_outputs_can_be_listened_to(ci_run, tmp_path):
    # separate.py on the recipe's own test mixtures: no clipping, and the SI-SNR that stage 8 measured.
    rec, _ = ci_run
    exp = rec / "exp" / "enh_train_tiny_raw"
    tt = rec / "dump" / "raw" / "tt"
    out = tmp_path / "separated"
    run([sys.executable, str(REPO / "egs2" / "wsj0_2mix" / "enh1" / "separate.py"), "--model_path",
         str(exp / "valid.loss.best.pth"), "--audio_path", str(tt / "data" / "wav"), "--audio_output_dir", str(out),
         "--m_re", "4"], rec)  # fmt: skip
    mixtures = dict(line.split() for line in (tt / "wav.scp").read_text().splitlines())
    refs = [dict(line.split() for line in (tt / f"spk{j}.scp").read_text().splitlines()) for j in (1, 2)]
    full_scale = total = 0
    scores = []
    for utt, path in mixtures.items():
        stem = Path(path).stem
        est = [sf.read(out / f"{stem}_spk{j}.wav", dtype="float32")[0] for j in (1, 2)]
        ref = [sf.read(rec / refs[j][utt] if not Path(refs[j][utt]).is_absolute() else refs[j][utt],
                       dtype="float32")[0] for j in (0, 1)]  # fmt: skip
        for e in est:
            full_scale += int(np.count_nonzero(np.abs(e) >= 32767 / 32768))
            total += e.size
        perms = [[si_snr_db(ref[0], est[0]), si_snr_db(ref[1], est[1])],
                 [si_snr_db(ref[0], est[1]), si_snr_db(ref[1], est[0])]]  # fmt: skip
        scores.append(max(perms, key=sum))
    assert full_scale <= 0.001 * total
    scored = float((exp / "enhanced_re4_tt" / "scoring" / "result_si_snr.txt").read_text().split()[0])
    assert abs(np.mean(scores) - scored) < 0.1, (np.mean(scores), scored)


def test_published_experiment_folder(ci_run, tmp_path):
    # An experiment folder laid out as the official repository publishes it: config.yaml and
    # valid.loss.ave_5best.pth with RESULTS.md beside them. separate.py and infer_run.sh take it as it
    # is, and its RESULTS.md is kept.
    rec, _ = ci_run
    trained = rec / "exp" / "enh_train_tiny_raw"
    pub = rec / "exp" / "enh_train_enh_tisdiss_published_raw"
    pub.mkdir()
    shutil.copy(trained / "config.yaml", pub / "config.yaml")
    shutil.copy(trained / "valid.loss.best.pth", pub / "valid.loss.ave_5best.pth")
    published_results = "<!-- Generated by ./scripts/utils/show_enh_score.sh -->\n# RESULTS\n|en_2_re_6_tt|25.13|\n"
    (pub / "RESULTS.md").write_text(published_results)
    mix = rec / "dump" / "raw" / "tt" / "data" / "wav"
    first = sorted(mix.iterdir())[0]
    run([sys.executable, str(REPO / "egs2" / "wsj0_2mix" / "enh1" / "separate.py"), "--model_path",
         str(pub / "valid.loss.ave_5best.pth"), "--audio_path", str(first), "--audio_output_dir", str(tmp_path / "o")],
        rec)  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [f"{first.stem}_spk1.wav", f"{first.stem}_spk2.wav"]
    p = run(["./infer_run.sh", "--enh_exp", str(pub.relative_to(rec)), "--m_re_list", "2"], rec)
    assert "using valid.loss.ave_5best.pth" in p.stdout
    assert (pub / "m_re_sweep_tt.md").is_file() and (
        pub / "enhanced_re2_tt" / "scoring" / "result_si_snr.txt"
    ).is_file()
    assert (pub / "RESULTS.md").read_text() == published_results
    assert "enhanced_re2_tt" in (pub / "RESULTS.local.md").read_text()
