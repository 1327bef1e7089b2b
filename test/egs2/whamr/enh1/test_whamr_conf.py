"""The WHAMR! recipe's configs, run.sh's options and the M_re sweep (infer_run.sh)."""

import argparse
import re

import pytest

from espnet2.tasks.enh import EnhancementTask
from test.egs2.librimix.enh1.test_librimix_conf import FAKE_RUN
from test.egs2.recipe_helpers import REPO, link_recipe, resolved_config, run

RECIPE = REPO / "egs2" / "whamr" / "enh1"
FLAGSHIP = "conf/efficient_train/tisdiss/train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x6_l1+1x6.yaml"


@pytest.mark.parametrize(
    "config,params,n_fft",
    [
        (FLAGSHIP, 8_011_827, 128),  # the flagship, wsj0_2mix's
        ("conf/tuning/train_enh_tflocoformer.yaml", 14_966_436, 256),  # TF-Locoformer-M, MERL's WHAMR! settings
    ],
)
def test_training_configs_parse_and_build(config, params, n_fft):
    # The trainer accepts every key of the config; the model is built from what it resolves.
    conf = resolved_config(RECIPE, config)
    assert conf["separator_conf"]["num_spk"] == 2 and conf["encoder_conf"]["n_fft"] == n_fft
    model = EnhancementTask.build_model(argparse.Namespace(**conf))
    assert sum(p.numel() for p in model.parameters()) == params
    if conf["separator"] == "tflocoformer":  # MERL's: 32-ms frames, FFNs of 192 with kernel 8
        assert conf["separator_conf"]["ffn_hidden_dim"] == [192, 192] and conf["separator_conf"]["conv1d_kernel"] == 8


def test_configs_are_wsj0_2mix_s():
    for name in ("efficient_train", "efficient_infer"):
        assert (RECIPE / "conf" / name).resolve() == (REPO / "egs2/wsj0_2mix/enh1/conf" / name).resolve()


def test_run_sh_help_and_experiment_name():
    out = run(["./run.sh", "--help"], RECIPE).stdout
    assert re.search(r'--mix\s+\(default: "both"\)', out) and re.search(r'--cond\s+\(default: "reverb"\)', out)
    assert re.search(r'--min_or_max\s+\(default: "min"\)', out) and "--local_data_opts" in out
    assert re.search(r'--inference_tag\s+\(default: "enhanced"\)', out)  # enh.sh's options too
    out = run(["./run.sh", "--print_enh_exp", "true"], RECIPE).stdout.splitlines()[-1]
    assert out == "exp/enh_train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x6_l1+1x6_raw"
    out = run(["./local/data.sh", "--help"], RECIPE).stdout
    assert re.search(r'--whamr_meta\s+\(default: ""\)', out) and "--whamr " in out
    assert re.search(r'--reference\s+\(default: "anechoic"\)', out)
    out = run(["./infer_run.sh", "--help"], RECIPE).stdout
    assert re.search(r'--m_re_list\s+\(default: "3 6 8"\)', out)
    assert re.search(r'--test_set\s+\(default: "tt_mix_both_reverb_min_8k"\)', out)


def test_infer_run_sweeps_m_re_into_one_table(tmp_path):
    rec = link_recipe(tmp_path / "enh1", RECIPE, ("infer_run.sh", "conf", "pyscripts", "scripts", "utils", "path.sh"))
    (rec / "exp" / "m").mkdir(parents=True)
    (rec / "exp" / "m" / "config.yaml").write_text("separator: tisdiss\n")
    (rec / "fake_run.sh").write_text(FAKE_RUN)
    (rec / "fake_run.sh").chmod(0o755)
    run(["./infer_run.sh", "--run", "./fake_run.sh", "--enh_exp", "exp/m", "--cond", "anechoic", "--test_set",
         "tt_mix_both_anechoic_min_8k"], rec)  # fmt: skip
    calls = (rec / "calls").read_text().splitlines()
    assert len(calls) == 3  # M_re 3 6 8
    assert calls[0].startswith("--cond anechoic --stage 7 --stop_stage 8")  # run.sh's options reach run.sh
    assert "--inference_enh_config conf/efficient_infer/re/re_8.yaml" in calls[2]
    table = (rec / "exp/m/m_re_sweep_tt_mix_both_anechoic_min_8k.md").read_text()
    assert "|6|16.00|16.00|16.00|16.00|16.00|26.50|0.0600|" in table
