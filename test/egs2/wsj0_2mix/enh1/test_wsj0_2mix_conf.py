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
    p = subprocess.run([sys.executable, "-m", "espnet2.bin.enh_train", "--config", config,
                        "--print_config"], cwd=RECIPE, capture_output=True, text=True)
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
    assert '--min_or_max   ("min")' in out and "--sample_rate" in out
    assert re.search(r'--inference_tag\s+\(default: "enhanced"\)', out)
    out = run(["./run.sh", "--print_enh_exp", "true"], RECIPE).stdout.splitlines()[-1]
    assert out == "exp/enh_train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x6_l1+1x6_raw"
    out = run(["./infer_run.sh", "--help"], RECIPE).stdout
    assert '--m_re_list        ("3 6 8")' in out
