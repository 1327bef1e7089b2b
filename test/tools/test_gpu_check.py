"""tools/gpu_check.py without a GPU: the no-GPU exit, the data and command lines it builds, its report, and a
dry run of the train, ddp and separate checks on the CPU (the same command lines with --ngpu 0 / --device cpu)."""

import importlib.util
import re
import sys

import numpy as np
import pytest
import soundfile
import torch

from test.egs2.recipe_helpers import REPO, run

SCRIPT = REPO / "tools" / "gpu_check.py"
no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is visible")


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@no_gpu
def test_no_gpu_says_why_and_exits_3(monkeypatch):
    p = run([sys.executable, str(SCRIPT)], REPO, check=False)
    assert p.returncode == 3, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    if torch.version.cuda is None:
        assert f"no CUDA GPU: torch {torch.__version__} is a CPU-only build" in p.stdout
        assert "tools/setup_venv.sh --cuda cu126" in p.stdout
    assert p.stdout.endswith("exit status 3 (--allow_no_gpu makes it 0)\n")

    p = run([sys.executable, str(SCRIPT), "--allow_no_gpu", "--checks", "amp,train"], REPO)
    assert p.stdout.splitlines()[-1] == "gpu_check: --allow_no_gpu: 2 check(s) skipped, exit status 0"


@no_gpu
def test_no_gpu_reason_of_a_cuda_build(gpu_check, monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", "12.6")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    reason = gpu_check.no_gpu_reason()
    assert reason.startswith(f"torch {torch.__version__} is built for CUDA 12.6, but no GPU is visible")
    assert "(CUDA_VISIBLE_DEVICES='')" in reason and "nvidia-smi" in reason


def test_options_are_checked():
    p = run([sys.executable, str(SCRIPT), "--checks", "amp,speed"], REPO, check=False)
    assert p.returncode == 2 and "--checks amp,speed: unknown speed" in p.stderr
    p = run([sys.executable, str(SCRIPT), "--steps", "0"], REPO, check=False)
    assert p.returncode == 2 and "--steps 0: at least 1" in p.stderr


def test_data_dir_and_command_lines(gpu_check, tmp_path):
    ctx = gpu_check.Context("cuda", steps=3, seconds=0.5, preset="tiny", work=tmp_path, ddp_processes=4)
    cmd = gpu_check.trainer_command(ctx, tmp_path / "c.yaml", tmp_path / "exp", processes=4)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4"]
    assert cmd[:9] == launcher + ["-m", "espnet2.bin.enh_train", "--config", str(tmp_path / "c.yaml")]
    assert " --ngpu 1 --use_amp true " in " ".join(cmd)  # one GPU per process under torchrun
    assert f"--train_data_path_and_name_and_type {tmp_path}/data/train/spk2.scp,speech_ref2,sound" in " ".join(cmd)
    # 2 batches of the 4-process DDP check (2 utterances per process), one validation batch of 4
    train = (tmp_path / "data" / "train" / "wav.scp").read_text().splitlines()
    assert len(train) == 16 and train[3] == f"utt003 {tmp_path}/data/train/wav/utt003_wav.wav"
    assert (tmp_path / "data" / "valid" / "speech_ref1_shape").read_text() == "".join(
        f"utt{i:03d} 4000\n" for i in range(4)
    )
    mix, fs = soundfile.read(tmp_path / "data" / "train" / "wav" / "utt003_wav.wav", dtype="float32")
    refs = [
        soundfile.read(tmp_path / "data" / "train" / "wav" / f"utt003_spk{j}.wav", dtype="float32")[0] for j in (1, 2)
    ]
    assert fs == 8000 and len(mix) == 4000
    np.testing.assert_allclose(mix, refs[0] + refs[1], atol=1e-7)
    assert 0.02 < np.std(refs[0]) < 0.2 and np.corrcoef(refs[0], refs[1])[0, 1] < 0.3  # two different voices
    config = gpu_check.train_config(ctx, batch_size=8)
    assert (config["batch_size"], config["valid_batch_size"], config["num_iters_per_epoch"]) == (8, 4, 3)
    assert config["separator_conf"]["emb_dim"] == 16  # the tiny preset

    single = gpu_check.trainer_command(ctx, tmp_path / "c.yaml", tmp_path / "exp", processes=1)
    assert single[:3] == [sys.executable, "-m", "espnet2.bin.enh_train"] and "--num_threads" not in single
    sep = gpu_check.separate_command(ctx, tmp_path / "m.pth", tmp_path / "x.wav", tmp_path / "out")
    assert " ".join(sep[1:]) == (
        f"-m espnet2.bin.separate --model_path {tmp_path}/m.pth --device cuda --output_dir {tmp_path}/out "
        f"--subtype FLOAT {tmp_path}/x.wav"
    )


def test_one_failure_does_not_hide_the_others(gpu_check, monkeypatch, capsys):
    def broken(ctx):
        raise ValueError("first line\nsecond line")

    def skipped(ctx):
        raise gpu_check.Skip("one GPU is visible; DDP needs 2 or more")

    monkeypatch.setitem(gpu_check.CHECK_FUNCTIONS, "train", broken)
    monkeypatch.setitem(gpu_check.CHECK_FUNCTIONS, "ddp", skipped)
    monkeypatch.setitem(gpu_check.CHECK_FUNCTIONS, "separate", lambda ctx: "RTF 0.010")
    assert gpu_check.main(["--device", "cpu", "--checks", "train,ddp,separate"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"train      FAIL +\d+\.\d s  ValueError: first line", out[1])
    assert out[2] == "    second line" and out[3].startswith("    (raised at ") and out[3].endswith(", in broken)")
    assert re.fullmatch(r"ddp        SKIP +\d+\.\d s  one GPU is visible; DDP needs 2 or more", out[4])
    assert re.fullmatch(r"separate   PASS +\d+\.\d s  RTF 0.010", out[5])
    assert out[6] == "summary: 1 passed, 1 failed (train), 1 skipped"


def test_cpu_dry_run_of_train_ddp_and_separate(tmp_path):
    """The command lines end to end: enh_train with --use_amp true (bfloat16 on CPU), torchrun with 2 gloo
    processes, separate.py on the trained model."""
    work = tmp_path / "work"
    cmd = [sys.executable, str(SCRIPT), "--device", "cpu", "--checks", "train,ddp,separate"]
    p = run(cmd + ["--steps", "1", "--seconds", "0.25", "--keep", str(work)], REPO, check=False)
    out = p.stdout
    assert p.returncode == 0, out + p.stderr
    assert re.search(
        r"^train      PASS .* [0-9.]+ steps/s \(epoch 2: 1 steps of batch 2 x 0.25 s, tiny, AMP bfloat16", out, re.M
    )
    assert re.search(
        r"^ddp        PASS .* 2 processes \(gloo\): [0-9.]+ steps/s \(epoch 2: 1 steps of batch 4 x", out, re.M
    )
    assert re.search(r"^separate   PASS .* RTF [0-9.]+ \(0.25 s of audio, tiny trained by the train check\)", out, re.M)
    assert out.splitlines()[-1] == f"summary: 3 passed, 0 failed, 0 skipped; work dir kept in {work}"
    for exp in ("train", "ddp"):
        ckpt = torch.load(work / "exp" / exp / "checkpoint.pth", weights_only=True)
        assert ckpt["reporter"]["stats"][2]["train"]["total_count"] == 2  # 2 epochs of --steps 1
    est, fs = soundfile.read(work / "separated" / "two_voices_spk2.wav")
    assert fs == 8000 and len(est) == 2000 and np.isfinite(est).all() and np.abs(est).max() == pytest.approx(0.9, 1e-4)
