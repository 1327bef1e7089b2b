"""The Libri2Mix recipe's configs, run.sh's options and the M_re sweep (infer_run.sh)."""

import argparse
import re
import subprocess
import sys

import pytest
import yaml

from espnet2.tasks.enh import EnhancementTask
from test.egs2.recipe_helpers import REPO, run

RECIPE = REPO / "egs2" / "librimix" / "enh1"
TISDISS = "conf/efficient_train/tisdiss/train_enh_tisdiss_tflocoformer_en-residual_en1x2_{}.yaml"


@pytest.mark.parametrize(
    "config,params,exits",
    [
        (TISDISS.format("re1x3_l1+1x3"), 8_011_827, [0, 1, 2, 3]),  # the paper's 8.0M
        (TISDISS.format("re2x2_l1+2x2"), 11_163_059, [0, 1, 2, 3, 4]),  # the paper's 11.2M
        ("conf/tuning/train_enh_tflocoformer.yaml", 14_975_652, None),  # TF-Locoformer-M, 15.0M
    ],
)
def test_training_configs_parse_and_build(config, params, exits):
    # The trainer accepts every key of the config; the model is built from what it resolves.
    p = subprocess.run(
        [sys.executable, "-m", "espnet2.bin.enh_train", "--config", config, "--print_config"],
        cwd=RECIPE,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    conf = yaml.safe_load(p.stdout)
    assert conf["separator_conf"]["num_spk"] == 2 and conf["encoder_conf"]["n_fft"] == 128
    model = EnhancementTask.build_model(argparse.Namespace(**conf))
    assert sum(p.numel() for p in model.parameters()) == params
    if exits is not None:  # a loss at the split and after every refinement layer
        assert model.separator.exits(conf["separator_conf"]["reconstructor_repeat_times"]) == exits


def test_inference_configs_are_wsj0_2mix_s():
    infer = RECIPE / "conf" / "efficient_infer"
    assert infer.resolve() == (REPO / "egs2/wsj0_2mix/enh1/conf/efficient_infer").resolve()
    assert yaml.safe_load((infer / "re" / "re_4.yaml").read_text()) == {
        "separator_conf": {"reconstructor_repeat_times": 4}
    }


def test_run_sh_help_and_experiment_name():
    out = run(["./run.sh", "--help"], RECIPE).stdout
    assert re.search(r'--mix\s+\(default: "clean"\)', out) and re.search(
        r'--train_subset\s+\(default: "train-360"\)', out
    )
    assert re.search(r'--min_or_max\s+\(default: "min"\)', out) and "--local_data_opts" in out
    assert re.search(r'--inference_tag\s+\(default: "enhanced"\)', out)  # enh.sh's options too
    out = run(["./run.sh", "--print_enh_exp", "true"], RECIPE).stdout.splitlines()[-1]
    assert out == "exp/enh_train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x3_l1+1x3_raw"
    out = run(["./local/data.sh", "--help"], RECIPE).stdout
    assert re.search(r'--metadata_dir\s+\(default: ""\)', out) and "--librimix " in out
    out = run(["./infer_run.sh", "--help"], RECIPE).stdout
    assert re.search(r'--m_re_list\s+\(default: "2 3 4 6"\)', out)
    assert re.search(r'--test_set\s+\(default: "test_clean_min_8k"\)', out)


FAKE_RUN = """#!/usr/bin/env bash
# Fake run.sh: record the call; for stage 7-8 calls write what stages 7-8 leave.
echo "$*" >> calls
args=("$@"); exp=; tag=; conf=; test_set=
for ((i = 0; i < $#; i++)); do
    case "${args[i]}" in
        --enh_exp) exp=${args[i + 1]} ;;
        --inference_tag) tag=${args[i + 1]} ;;
        --inference_enh_config) conf=${args[i + 1]} ;;
        --test_sets) test_set=${args[i + 1]} ;;
    esac
done
n=$(sed -n 's/.*reconstructor_repeat_times: //p' "${conf}")
d=${exp}/${tag}_${test_set}
mkdir -p "${d}/scoring"
for m in stoi sar sdr sir si_snr; do echo "1${n}.00" > "${d}/scoring/result_${m}.txt"; done
echo "2${n}.50" > "${d}/scoring/result_si_snri.txt"
echo "RTF 0.0${n}00 (processing 1 s, audio 10 s, 1 jobs)" > "${d}/rtf.txt"
"""


def test_infer_run_sweeps_m_re_into_one_table(tmp_path):
    for name in ("infer_run.sh", "conf", "pyscripts", "scripts", "utils", "path.sh"):
        (tmp_path / name).symlink_to(RECIPE / name)
    (tmp_path / "exp" / "m").mkdir(parents=True)
    (tmp_path / "exp" / "m" / "config.yaml").write_text("separator: tisdiss\n")
    (tmp_path / "fake_run.sh").write_text(FAKE_RUN)
    (tmp_path / "fake_run.sh").chmod(0o755)
    run(["./infer_run.sh", "--run", "./fake_run.sh", "--enh_exp", "exp/m", "--mix", "both", "--test_set",
         "test_both_min_8k"], tmp_path)  # fmt: skip
    calls = (tmp_path / "calls").read_text().splitlines()
    assert len(calls) == 4  # M_re 2 3 4 6
    assert calls[0].startswith("--mix both --stage 7 --stop_stage 8")  # run.sh's options reach run.sh
    assert "--inference_enh_config conf/efficient_infer/re/re_6.yaml" in calls[3]
    table = (tmp_path / "exp/m/m_re_sweep_test_both_min_8k.md").read_text()
    assert "|M_re|STOI|SAR|SDR|SIR|SI_SNR|SI-SNRi|RTF|" in table
    assert "|3|13.00|13.00|13.00|13.00|13.00|23.50|0.0300|" in table
    assert (tmp_path / "exp/m/m_re_sweep_test_both_min_8k.png").stat().st_size > 1000
