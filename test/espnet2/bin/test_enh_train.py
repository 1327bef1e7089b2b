"""enh_train end to end on CPU with the real (tiny) TISDiSS: stats stage, training, exp/ files, resume, errors."""

import argparse
import io
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from espnet2.bin import enh_train
from espnet2.tasks.abs_task import optim_classes
from espnet2.tasks.enh import EnhancementTask
from espnet2.train.dataset import DataError
from espnet2.train.distributed_utils import cpu_threads
from espnet2.train.trainer import NonFiniteError
from espnet2.utils.config_io import get_default_kwargs
from test.espnet2.train.tiny_enh_data import TINY_TRAIN_CONFIG, make_data_dir, train_args, write_config

REPO = Path(__file__).resolve().parents[3]

# The published flagship training config (keys and values from the paper's recipe).
FLAGSHIP_YAML = """
init: xavier_uniform
max_epoch: 150
batch_type: folded
batch_size: 4
valid_batch_size: 4
num_workers: 4
preprocessor: enh
speech_segment: 32000
iterator_type: sequence
shuffle_within_batch: true
model_conf:
    normalize_variance: true
optim: adamw
optim_conf:
    lr: 1.0e-03
    eps: 1.0e-08
    weight_decay: 1.0e-02
patience: 20
val_scheduler_criterion:
- valid
- loss
best_model_criterion:
-   - valid
    - si_snr
    - max
-   - valid
    - loss
    - min
keep_nbest_models: 5
scheduler: warmupreducelronplateau
scheduler_conf:
    warmup_steps: 4000
    mode: min
    factor: 0.5
    patience: 3
use_amp: true
num_att_plot: 0
encoder: stft
encoder_conf:
    n_fft: 128
    hop_length: 64
decoder: stft
decoder_conf:
    n_fft: 128
    hop_length: 64
separator: tisdiss
separator_conf:
    num_spk: 2
    emb_dim: 128
    norm_type: rmsgroupnorm
    num_groups: 4
    tf_order: ft
    n_heads: 4
    flash_attention: false
    attention_dim: 128
    ffn_type:
    - swiglu_conv1d
    - swiglu_conv1d
    ffn_hidden_dim:
    - 384
    - 384
    conv1d_kernel: 4
    conv1d_shift: 1
    dropout: 0.0
    eps: 1.0e-05
    encoder_n_layers: 1
    encoder_repeat_times: 2
    reconstructor_n_layers: 1
    reconstructor_repeat_times: 6
    repeat_residual_module: true
    reconstructor_repeat_residual_module: false
    encoder_decoder: false
    encoder_multi_decoder: false
    encoder_n_layers_multi_decoder: false
    reconstructor_multi_decoder: true
    reconstructor_n_layers_multi_decoder: true
    spliter_loss: true
criterions:
-   name: si_snr
    conf:
        eps: 1.0e-07
    wrapper: pit
    wrapper_conf:
        weight: 1.0
        independent_perm: true
"""


def assert_subset(expected, got, where="config"):
    if isinstance(expected, dict):
        for k, v in expected.items():
            assert k in got, f"{where}.{k} missing"
            assert_subset(v, got[k], f"{where}.{k}")
    elif expected == "none":
        assert got is None, f"{where}: {got!r} != None"  # argparse: 'none' -> None, as ESPnet
    else:
        assert got == expected, f"{where}: {got!r} != {expected!r}"


def print_config(options) -> str:
    """`enh_train --print_config <options>`: what it prints; it exits with status 0, as ESPnet's."""
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as e:
        enh_train.main(options + ["--print_config"])
    assert e.value.code == 0
    return out.getvalue()


def test_get_parser_and_no_arguments_as_espnet(capsys):
    """ESPnet's test_enh_train: no arguments -> the usage and exit status 2 (argparse's), not a traceback."""
    assert isinstance(enh_train.get_parser(), argparse.ArgumentParser)
    with pytest.raises(SystemExit) as e:
        enh_train.main([])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage:") and "error: the following arguments are required: --output_dir" in err


def test_print_config_to_a_file_with_espnet_signature(tmp_path, monkeypatch):
    """ESPnet's AbsTask.print_config(file): the options of this process's command line, resolved."""
    monkeypatch.setattr("sys.argv", ["enh_train.py", "--max_epoch", "3"])
    out = io.StringIO()
    EnhancementTask.print_config(out)
    printed = yaml.safe_load(out.getvalue())
    assert printed["max_epoch"] == 3 and printed["separator"] == "tisdiss" and "required" not in printed


@pytest.mark.parametrize(
    "config", ["inline"] + sorted(str(p.relative_to(REPO)) for p in REPO.glob("egs2/*/enh1/conf/**/train*.yaml"))
)
def test_flagship_config_print_config(tmp_path, config):
    if config == "inline":
        config = tmp_path / "flagship.yaml"
        config.write_text(FLAGSHIP_YAML)
    else:
        config = REPO / config
    printed = yaml.safe_load(print_config(["--config", str(config)]))
    assert_subset(yaml.safe_load(Path(config).read_text()), printed)
    # the class defaults are filled in, as ESPnet does
    assert set(get_default_kwargs(optim_classes[printed["optim"]])) <= set(printed["optim_conf"])
    if printed["scheduler"] == "warmupreducelronplateau":
        assert printed["scheduler_conf"]["threshold"] == 1e-4


def test_command_line_overrides_config(tmp_path):
    config = write_config(tmp_path / "c.yaml")
    options = ["--config", str(config), "--max_epoch", "7", "--separator_conf", "emb_dim=4", "--optim_conf", "lr=0.5"]
    printed = yaml.safe_load(print_config(options))
    assert printed["max_epoch"] == 7
    assert printed["separator_conf"]["emb_dim"] == 4 and printed["separator_conf"]["n_heads"] == 2
    assert printed["optim_conf"]["lr"] == 0.5 and printed["optim_conf"]["eps"] == 1e-8


def test_unsupported_espnet_option_is_refused(tmp_path):
    config = write_config(tmp_path / "c.yaml", {"use_wandb": True})
    with pytest.raises(ValueError, match="--use_wandb True: not supported"):
        enh_train.main(["--config", str(config), "--print_config"])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Tiny train/valid data dirs and their shape files written by the stats stage (--collect_stats)."""
    root = tmp_path_factory.mktemp("enh_data")
    tr = make_data_dir(root, "tr", n_utt=4, seed=0, lengths=[1200, 1100, 1300, 1200])
    cv = make_data_dir(root, "cv", n_utt=2, seed=1, lengths=[900, 1000])
    config = write_config(root / "train.yaml")
    data_opts = []
    for phase, files in [("train", tr), ("valid", cv)]:
        data_opts += [f"--{phase}_data_path_and_name_and_type", f"{files['wav.scp']},speech_mix,sound"]
        for j in (1, 2):
            data_opts += [f"--{phase}_data_path_and_name_and_type", f"{files[f'spk{j}.scp']},speech_ref{j},sound"]
    enh_train.main(
        ["--config", str(config), "--collect_stats", "true", "--output_dir", str(root / "stats"), *data_opts]
    )
    shapes = {
        phase: {name: root / "stats" / phase / f"{name}_shape" for name in ("speech_mix", "speech_ref1", "speech_ref2")}
        for phase in ("train", "valid")
    }
    return dict(root=root, tr=tr, cv=cv, config=config, args=train_args(root, tr, cv, shapes["train"], shapes["valid"]))


def test_collect_stats_writes_shape_files(data):
    stats = data["root"] / "stats"
    assert (stats / "train" / "speech_mix_shape").read_text() == "utt000 1200\nutt001 1100\nutt002 1300\nutt003 1200\n"
    assert (stats / "valid" / "speech_ref2_shape").read_text() == "utt000 900\nutt001 1000\n"
    # ESPnet's default extract_feats_in_collect_stats: false -> shape files only, no feature statistics
    assert not (stats / "train" / "feats_stats.npz").exists()
    assert (stats / "train" / "batch_keys").read_text().split() == ["speech_mix", "speech_ref1", "speech_ref2"]


def test_collect_stats_extracts_feats_when_the_model_asks(data, tmp_path):
    data_opts = []
    for phase, files in [("train", data["tr"]), ("valid", data["cv"])]:
        data_opts += [f"--{phase}_data_path_and_name_and_type", f"{files['wav.scp']},speech_mix,sound"]
        for j in (1, 2):
            data_opts += [f"--{phase}_data_path_and_name_and_type", f"{files[f'spk{j}.scp']},speech_ref{j},sound"]
    out = tmp_path / "stats"
    enh_train.main(
        ["--config", str(data["config"]), "--collect_stats", "true", "--output_dir", str(out), *data_opts,
         "--model_conf", "extract_feats_in_collect_stats=true"]
    )  # fmt: skip
    feats = np.load(out / "train" / "feats_stats.npz")
    assert feats["count"] == 1200 + 1100 + 1300 + 1200  # every sample of every training mixture


@pytest.fixture(scope="module")
def trained(data):
    """5 epochs of the tiny config with every output switched on."""
    exp = data["root"] / "exp" / "enh_train_tiny_raw"
    enh_train.main(
        [
            "--config",
            str(data["config"]),
            "--output_dir",
            str(exp),
            "--use_matplotlib",
            "true",
            "--use_tensorboard",
            "true",
            "--log_interval",
            "1",
            *data["args"],
        ]
    )
    return exp


def test_tiny_config_trains_into_an_espnet_exp_dir(trained):
    exp = trained
    for name in [
        "config.yaml",
        "train.log",
        "checkpoint.pth",
        "5epoch.pth",
        "valid.loss.best.pth",
        "valid.loss.ave_5best.pth",
        "valid.loss.ave.pth",
        "images/loss.png",
        "images/si_snr_loss.png",
    ]:
        assert (exp / name).exists(), name
    assert (exp / "valid.loss.ave.pth").resolve() == (exp / "valid.loss.ave_5best.pth").resolve()
    assert list((exp / "tensorboard").glob("events.out.tfevents.*"))
    assert not list(exp.glob("*.tmp"))

    ckpt = torch.load(exp / "checkpoint.pth", weights_only=True)
    stats = ckpt["reporter"]["stats"]
    losses = [stats[e]["train"]["loss"] for e in range(1, 6)]
    assert losses[-1] < losses[0] - 5, losses  # SI-SNR loss in dB falls
    assert stats[5]["valid"]["loss"] < stats[1]["valid"]["loss"]

    log = (exp / "train.log").read_text()
    assert "steps/s" in log and "training time left" in log and "loss=" in log
    assert "5epoch results" in log

    # config.yaml holds every resolved option and rebuilds the trained model
    config = yaml.safe_load((exp / "config.yaml").read_text())
    assert config["separator_conf"]["emb_dim"] == 8 and config["optim"] == "adamw"
    model, _ = EnhancementTask.build_model_from_file(exp / "config.yaml", exp / "valid.loss.ave.pth")
    assert model.num_spk == 2


def test_killed_and_resumed_run_ends_with_the_same_parameters(data, trained, tmp_path):
    exp = tmp_path / "exp"
    base = ["--config", str(data["config"]), "--output_dir", str(exp), *data["args"]]
    enh_train.main(base + ["--max_epoch", "2"])
    # a kill while checkpoint.pth was being rewritten leaves a broken temporary file beside the intact one
    (exp / "checkpoint.pth.tmp").write_bytes(b"\x80\x02half a checkpoint")
    enh_train.main(base + ["--resume", "true"])

    for name in ["5epoch.pth", "valid.loss.ave_5best.pth"]:
        a = torch.load(trained / name, weights_only=True)
        b = torch.load(exp / name, weights_only=True)
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), f"{name}: {k} differs"
    a = torch.load(trained / "checkpoint.pth", weights_only=True)
    b = torch.load(exp / "checkpoint.pth", weights_only=True)
    for k, v in a["optimizers"][0]["state"].items():
        assert torch.equal(v["exp_avg_sq"], b["optimizers"][0]["state"][k]["exp_avg_sq"])
    assert a["schedulers"][0]["step_num"] == b["schedulers"][0]["step_num"] == 10
    assert "resumed" in (exp / "train.log").read_text()


def test_non_finite_steps_are_skipped_counted_and_stop_the_run(data, tmp_path):
    import argparse

    model = EnhancementTask.build_model(argparse.Namespace(**TINY_TRAIN_CONFIG))
    state = model.state_dict()
    state["separator.conv.0.weight"][0, 0, 0, 0] = float("nan")
    torch.save(state, tmp_path / "nan.pth")
    exp = tmp_path / "exp"
    with pytest.raises(NonFiniteError, match="2 consecutive steps had a non-finite loss"):
        enh_train.main(
            [
                "--config",
                str(data["config"]),
                "--output_dir",
                str(exp),
                "--init_param",
                str(tmp_path / "nan.pth"),
                "--max_nonfinite_steps",
                "2",
                *data["args"],
            ]
        )
    log = (exp / "train.log").read_text()
    assert "The loss is nan. Skipping updating the model (1 non-finite step(s) in a row)" in log
    assert "(2 non-finite step(s) in a row)" in log
    assert not (exp / "checkpoint.pth").exists()


def test_bad_data_error_through_enh_train(data, tmp_path):
    cv = tmp_path / "cv"
    shutil.copytree(data["cv"]["wav.scp"].parent, cv)
    (cv / "spk2.scp").write_text((cv / "spk2.scp").read_text().splitlines()[0] + "\n")
    args = [a.replace(str(data["cv"]["wav.scp"].parent), str(cv)) for a in data["args"]]
    with pytest.raises(DataError, match=r"cv/wav.scp:2: utterance 'utt001' has no entry in .*cv/spk2.scp"):
        enh_train.main(["--config", str(data["config"]), "--output_dir", str(tmp_path / "exp"), *args])


def test_chunk_iterator_dynamic_mixing_accum_grad_bf16(data, tmp_path):
    exp = tmp_path / "exp"
    enh_train.main(
        [
            "--config",
            str(data["config"]),
            "--output_dir",
            str(exp),
            "--max_epoch",
            "1",
            "--iterator_type",
            "chunk",
            "--valid_iterator_type",
            "sequence",
            "--chunk_length",
            "800",
            "--dynamic_mixing",
            "true",
            "--dynamic_mixing_gain_db",
            "3",
            "--accum_grad",
            "2",
            "--use_amp",
            "true",
            *data["args"],
        ]  # fmt: skip
    )
    ckpt = torch.load(exp / "checkpoint.pth", weights_only=True)
    stats = ckpt["reporter"]["stats"][1]
    # 4 utterances of 1100..1300 samples -> one chunk of 800 each (shift 400) -> 2 batches of 2 -> 1 update
    assert stats["train"]["total_count"] == 2
    assert ckpt["schedulers"][0]["step_num"] == 1
    assert stats["train"]["nonfinite_rate"] == 0.0 and stats["valid"]["loss"] < 100
    assert ckpt["scaler"] is None  # bfloat16 on CPU needs no loss scaling


def test_cpu_threads_leave_cores_to_loader_workers(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(16)))
    assert cpu_threads(None, ngpu=0, num_workers=4, local_processes=1) == 12
    assert cpu_threads(None, ngpu=0, num_workers=2, local_processes=4) == 2  # (16 - 8) // 4
    assert cpu_threads(None, ngpu=0, num_workers=8, local_processes=2) == 1
    assert cpu_threads(3, ngpu=0, num_workers=8, local_processes=2) == 3
