import argparse
import re
import subprocess
import sys

import pytest
import yaml

from espnet2.tasks.enh import EnhancementTask
from test.egs2.recipe_helpers import REPO, run

RECIPE = REPO / "egs2" / "wsj0_2mix" / "enh1"
FLAGSHIP = "conf/efficient_train/tisdiss/train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x6_l1+1x6.yaml"


@pytest.mark.parametrize("config,params", [(FLAGSHIP, 8_011_827), ("conf/tuning/train_enh_tflocoformer.yaml", None)])
def test_training_configs_parse_and_build(config, params):
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
    n = sum(p.numel() for p in model.parameters())
    if params is not None:
        assert n == params  # the paper's 8.0M
    else:
        assert 14.5e6 < n < 15.5e6  # TF-Locoformer-M, 15.0M


def test_inference_configs_are_generated_and_current(tmp_path):
    run([sys.executable, "local/make_infer_configs.py", "--out_dir", str(tmp_path)], RECIPE)
    for sub in ("re", "en_re"):
        made = sorted(p.name for p in (tmp_path / sub).iterdir())
        committed = sorted(p.name for p in (RECIPE / "conf/efficient_infer" / sub).iterdir())
        assert made == committed
        for name in made:
            assert (tmp_path / sub / name).read_text() == (RECIPE / "conf/efficient_infer" / sub / name).read_text()
    conf = yaml.safe_load((RECIPE / "conf/efficient_infer/re/re_8.yaml").read_text())
    assert conf == {"separator_conf": {"reconstructor_repeat_times": 8}}
    conf = yaml.safe_load((RECIPE / "conf/efficient_infer/en_re/en_3_re_2.yaml").read_text())
    assert conf == {"separator_conf": {"encoder_repeat_times": 3, "reconstructor_repeat_times": 2}}


def test_run_sh_help_and_experiment_name():
    out = run(["./run.sh", "--help"], RECIPE).stdout
    assert re.search(r'--min_or_max\s+\(default: "min"\)', out) and "--sample_rate" in out
    assert re.search(r'--inference_tag\s+\(default: "enhanced"\)', out)
    out = run(["./run.sh", "--print_enh_exp", "true"], RECIPE).stdout.splitlines()[-1]
    assert out == "exp/enh_train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x6_l1+1x6_raw"
    out = run(["./infer_run.sh", "--help"], RECIPE).stdout
    assert re.search(r'--m_re_list\s+\(default: "3 6 8"\)', out)


FAKE_RUN = """#!/usr/bin/env bash
# Fake run.sh: record the call; for stage 7-8 calls write what stages 7-8 leave.
echo "$*" >> calls
args=("$@"); exp=; tag=; conf=
for ((i = 0; i < $#; i++)); do
    case "${args[i]}" in
        --enh_exp) exp=${args[i + 1]} ;;
        --inference_tag) tag=${args[i + 1]} ;;
        --inference_enh_config) conf=${args[i + 1]} ;;
    esac
done
n=$(sed -n 's/.*reconstructor_repeat_times: //p' "${conf}")
d=${exp}/${tag}_tt_min_8k
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
    run(
        [
            "./infer_run.sh",
            "--run",
            "./fake_run.sh",
            "--enh_exp",
            "exp/m",
            "--m_re_list",
            "3 8",
            "--gpu_inference",
            "true",
        ],
        tmp_path,
    )
    calls = (tmp_path / "calls").read_text().splitlines()
    assert len(calls) == 2
    assert "--stage 7 --stop_stage 8" in calls[0] and "--gpu_inference true" in calls[0]
    assert "--inference_enh_config conf/efficient_infer/re/re_8.yaml" in calls[1]
    table = (tmp_path / "exp/m/m_re_sweep_tt_min_8k.md").read_text()
    assert "|M_re|STOI|SAR|SDR|SIR|SI_SNR|SI-SNRi|RTF|" in table
    assert "|3|13.00|13.00|13.00|13.00|13.00|23.50|0.0300|" in table
    assert "|8|18.00|18.00|18.00|18.00|18.00|28.50|0.0800|" in table
    assert (tmp_path / "exp/m/m_re_sweep_tt_min_8k.png").stat().st_size > 1000
    p = run(
        ["./infer_run.sh", "--run", "./fake_run.sh", "--enh_exp", "exp/m", "--m_re_list", "99"], tmp_path, check=False
    )
    assert p.returncode == 1 and "re_99.yaml does not exist" in p.stderr
