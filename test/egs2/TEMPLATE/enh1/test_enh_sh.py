"""enh.sh: option parsing, --help, stage selection, and the arguments each stage passes.

Stages 1-4 run for real on a tiny data set; the python entry points of stages 5-9 are replaced
by a fake interpreter that records its command line and writes the files the next stage needs.
"""

import re
import stat
import sys

import pytest

from test.egs2.recipe_helpers import TEMPLATE, run, write_data_dir

FAKE_PYTHON = """#!/usr/bin/env bash
if [ "$1" = -m ] && [[ $2 == espnet2.bin.* ]]; then
    echo "$*" >> "$FAKE_LOG"
    exec "$REAL_PYTHON" "$FAKE_BIN" "$@"
fi
exec "$REAL_PYTHON" "$@"
"""

FAKE_BIN = r"""
import sys, os
from pathlib import Path
args = sys.argv[3:]
prog = sys.argv[2]
def opt(name, many=False):
    vals = [args[i + 1] for i, a in enumerate(args) if a == name]
    return vals if many else (vals[-1] if vals else None)
out = Path(opt("--output_dir") or ".")
if prog == "espnet2.bin.enh_train" and opt("--collect_stats") == "true":
    for mode in ("train", "valid"):
        keys = [l.split()[0] for l in open(opt(f"--{mode}_shape_file"))]
        (out / mode).mkdir(parents=True, exist_ok=True)
        for triple in opt(f"--{mode}_data_path_and_name_and_type", many=True):
            name = triple.split(",")[1]
            (out / mode / f"{name}_shape").write_text("".join(f"{k} 100\n" for k in keys))
elif prog == "espnet2.bin.enh_train":
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text("config: conf/x.yaml\n")
    (out / "valid.loss.ave.pth").write_text("fake")
elif prog == "espnet2.bin.enh_inference":
    out.mkdir(parents=True, exist_ok=True)
    keys = [l.split()[0] for l in open(opt("--key_file"))]
    for j in (1, 2):
        (out / f"spk{j}.scp").write_text("".join(f"{k} /x/{k}_{j}.wav\n" for k in keys))
    print(f"Separated: processing {len(keys):.2f} s, audio {4 * len(keys):.2f} s, RTF=0.25")
elif prog == "espnet2.bin.enh_scoring":
    out.mkdir(parents=True, exist_ok=True)
    if opt("--merge_dirs"):
        for m, v in (("stoi", "90.00"), ("si_snr", "10.00"), ("si_snri", "9.50"), ("sdr", "11.00")):
            (out / f"result_{m}.txt").write_text(v + "\n")
elif prog == "espnet2.bin.pack_model":
    Path(opt("--outpath")).write_text("zip")
"""

DATA_SH = """#!/usr/bin/env bash
set -eu
echo "data.sh $*" >> local/calls
mkdir -p data
"""

BASE = [
    "--train_set",
    "tr",
    "--valid_set",
    "cv",
    "--test_sets",
    "tt",
    "--fs",
    "8k",
    "--nj",
    "2",
    "--inference_nj",
    "2",
    "--enh_config",
    "conf/x.yaml",
]


@pytest.fixture
def rec(recipe):
    for name, n in (("tr", 4), ("cv", 2), ("tt", 3)):
        write_data_dir(recipe / "data" / name, n=n, fs=16000, seed=len(name) + n)
    (recipe / "local").mkdir()
    (recipe / "local/data.sh").write_text(DATA_SH)
    (recipe / "local/data.sh").chmod(stat.S_IRWXU)
    (recipe / "fake_python").write_text(FAKE_PYTHON)
    (recipe / "fake_python").chmod(stat.S_IRWXU)
    (recipe / "fake_bin.py").write_text(FAKE_BIN)
    return recipe


def enh(rec, *extra, check=True):
    env = {
        "FAKE_LOG": str(rec / "calls.log"),
        "FAKE_BIN": str(rec / "fake_bin.py"),
        "REAL_PYTHON": sys.executable,
        "PYTHON": sys.executable,
    }
    return run(["./enh.sh", *BASE, "--python", str(rec / "fake_python"), *extra], rec, env=env, check=check)


def calls(rec, prog):
    path = rec / "calls.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return [ln for ln in lines if ln.startswith(f"-m espnet2.bin.{prog} ")]


def test_help_lists_every_option_with_its_default():
    out = run(["./enh.sh", "--help"], TEMPLATE).stdout
    source = (TEMPLATE / "enh.sh").read_text().split("parse_options.sh")[0]
    options = re.findall(r"^([a-z_]+)=(\S*)", source, re.M)
    options = [(n, v) for n, v in options if n not in ("help_message", "run_args")]
    assert len(options) > 40
    for name, default in options:
        default = default.strip('"')
        if default.startswith("$"):
            continue
        assert re.search(rf"--{name}\s+\(default: \"{re.escape(default)}", out), name
    assert "Stages (--stage N --stop_stage M runs N..M)" in out


def test_bad_options_are_refused(rec):
    p = enh(rec, "--stages", "3", check=False)
    assert p.returncode != 0 and "unknown option --stages" in p.stderr
    p = enh(rec, "--skip_train", "maybe", check=False)
    assert "--skip_train takes true or false" in p.stderr
    p = enh(rec, "--fs", "8kHz", "--stage", "3", "--stop_stage", "3", check=False)
    assert p.returncode == 2 and "--fs 8kHz" in p.stdout


def test_stage_selection_and_data_stages(rec):
    enh(rec, "--stage", "1", "--stop_stage", "1", "--local_data_opts", "--foo 1")
    assert (rec / "local/calls").read_text() == "data.sh --foo 1\n"
    assert not (rec / "dump").exists()

    p = enh(rec, "--stage", "3", "--stop_stage", "4")
    assert "Stage 3" in p.stdout and "Stage 4" in p.stdout
    assert "Stage 1" not in p.stdout and "Stage 5" not in p.stdout
    assert (rec / "local/calls").read_text() == "data.sh --foo 1\n"  # stage 1 not re-run
    for s in ("tr", "cv"):
        for f in ("wav.scp", "spk1.scp", "spk2.scp", "utt2num_samples", "utt2spk", "spk2utt"):
            assert (rec / f"dump/raw/{s}/{f}").is_file()
    assert (rec / "dump/raw/tt/spk2.scp").is_file() and not (rec / "dump/raw/org/tt").exists()
    n = (rec / "dump/raw/tr/utt2num_samples").read_text().split()
    assert n[1] == "4000"  # 0.5 s at 16 kHz -> 8 kHz
    assert calls(rec, "enh_train") == []


def test_filtering_removes_short_and_long_utterances(rec):
    write_data_dir(rec / "data" / "tr", n=3, fs=8000, lengths=[400, 8000, 24000])
    enh(rec, "--stage", "3", "--stop_stage", "4", "--min_wav_duration", "0.1", "--max_wav_duration", "2")
    kept = (rec / "dump/raw/tr/wav.scp").read_text().split()[0::2]
    assert kept == ["utt01"]
    assert (rec / "dump/raw/tr/spk2utt").read_text() == "utt01 utt01\n"


def test_training_to_packing_arguments(rec):
    enh(
        rec,
        "--stage",
        "3",
        "--stop_stage",
        "9",
        "--skip_packing",
        "false",
        "--m_re",
        "5",
        "--inference_enh_config",
        "conf/re_5.yaml",
        "--inference_tag",
        "enhanced_re5",
        "--enh_args",
        "--max_epoch 1",
    )
    stats = calls(rec, "enh_train")[:2]
    assert len(stats) == 2 and all("--collect_stats true" in c for c in stats)
    assert "--train_data_path_and_name_and_type dump/raw/tr/spk2.scp,speech_ref2,sound" in stats[0]
    assert (rec / "exp/enh_stats_8k/train/speech_ref1_shape").read_text().count("\n") == 4

    (train,) = calls(rec, "enh_train")[2:]
    for piece in (
        "--config conf/x.yaml",
        "--output_dir exp/enh_x_raw",
        "--resume true",
        "--train_shape_file exp/enh_stats_8k/train/speech_mix_shape",
        "--valid_data_path_and_name_and_type dump/raw/cv/spk1.scp,speech_ref1,sound",
        "--max_epoch 1",
        "--ngpu 1",
    ):
        assert piece in train
    assert (rec / "exp/enh_x_raw/run.sh").is_file()

    inf = calls(rec, "enh_inference")
    assert len(inf) == 2  # 3 utterances, --inference_nj 2
    for piece in (
        "--m_re 5",
        "--inference_config conf/re_5.yaml",
        "--fs 8000",
        "--ngpu 0",
        "--normalize_output_wav true",
        "--model_file exp/enh_x_raw/valid.loss.ave.pth",
        "--data_path_and_name_and_type dump/raw/tt/wav.scp,speech_mix,sound",
    ):
        assert piece in inf[0]
    out_dir = rec / "exp/enh_x_raw/enhanced_re5_tt"
    assert (out_dir / "spk2.scp").read_text().split()[0::2] == ["utt00", "utt01", "utt02"]
    assert (out_dir / "rtf.txt").read_text().startswith("RTF 0.2500")

    scoring = calls(rec, "enh_scoring")
    assert len(scoring) == 3  # 2 jobs + merge
    assert scoring[0].count("--ref_scp") == 2 and scoring[0].count("--inf_scp") == 2
    assert "--mix_scp dump/raw/tt/wav.scp" in scoring[0]
    assert "--merge_dirs" in scoring[2]
    results = (rec / "exp/enh_x_raw/RESULTS.md").read_text()
    assert "|dataset|STOI|SAR|SDR|SIR|SI_SNR|SI_SNRi|RTF|" in results
    assert "|enhanced_re5_tt|90.00|-|11.00|-|10.00|9.50|0.2500|" in results
    assert (rec / "exp/enh_x_raw/packed_model.zip").read_text() == "zip"


def test_print_enh_exp_and_skip_flags(rec):
    p = enh(rec, "--enh_tag", "mine", "--print_enh_exp", "true")
    assert p.stdout.strip().splitlines()[-1] == "exp/enh_mine"
    p = enh(rec, "--skip_data_prep", "true", "--skip_train", "true", "--skip_eval", "true")
    assert "Skip the stages for data preparation" in p.stdout
    assert not (rec / "calls.log").exists()
    p = enh(rec, "--stage", "7", "--stop_stage", "7", check=False)
    assert p.returncode == 1 and "exp/enh_x_raw/config.yaml does not exist" in p.stdout
