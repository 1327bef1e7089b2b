"""EnhancementTask model building: registries, config files, published checkpoints, M_re overrides."""

import argparse

import pytest
import torch
import yaml

from espnet2.bin.enh_benchmark import preset_config
from espnet2.tasks.enh import EnhancementTask, separator_choices
from test.golden import assert_close_rel, load_case


def test_registry_builds_separator_from_config_values():
    conf = preset_config("tiny")["separator_conf"]
    sep = separator_choices.get_class("tisdiss")(input_dim=65, **conf)
    assert sep.num_spk == 2 and sep.reconstructor_repeat_times == 3
    with pytest.raises(ValueError, match="--separator: unknown choice 'dprnn'"):
        separator_choices.get_class("dprnn")


@pytest.mark.parametrize("preset, expected", [("flagship", 8_011_827), ("tflocoformer_m", 14_975_652)])
def test_parameter_counts(preset, expected):
    model = EnhancementTask.build_model(argparse.Namespace(**preset_config(preset)))
    assert sum(p.numel() for p in model.parameters()) == expected


def write_golden_checkpoint(tmp_path):
    """A config.yaml + .pth pair as ESPnet writes them, from the golden model case."""
    meta, arrays, state = load_case("tisdiss_small_model")
    stft = dict(n_fft=meta["n_fft"], hop_length=meta["hop_length"])
    config = dict(
        encoder="stft", encoder_conf=stft, decoder="stft", decoder_conf=stft, separator="tisdiss",
        separator_conf=meta["separator_conf"], model_conf=dict(normalize_variance=True),
        criterions=[dict(name="si_snr", conf=dict(eps=1e-7), wrapper="pit", wrapper_conf=dict(independent_perm=True))],
        optim="adamw", optim_conf=dict(lr=1e-3), max_epoch=1, batch_type="folded", seed=0,
    )  # fmt: skip
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    torch.save(state, tmp_path / "valid.loss.ave.pth")
    return meta, arrays


def test_build_model_from_file_loads_published_format(tmp_path):
    meta, arrays = write_golden_checkpoint(tmp_path)
    assert meta["separator_conf"]["flash_attention"] is False  # an unknown-but-harmless key is accepted
    model, args = EnhancementTask.build_model_from_file(tmp_path / "config.yaml", tmp_path / "valid.loss.ave.pth")
    assert not model.training and args.optim == "adamw"
    with torch.no_grad():
        est = torch.stack(model.separate(torch.from_numpy(arrays["mix"])), 1)
    assert_close_rel(est, torch.from_numpy(arrays["est_mre3"]))


def test_m_re_override_from_inference_config(tmp_path):
    _, arrays = write_golden_checkpoint(tmp_path)
    override = {"separator_conf": {"reconstructor_repeat_times": 5}}
    model, args = EnhancementTask.build_model_from_file(
        tmp_path / "config.yaml", tmp_path / "valid.loss.ave.pth", overrides=override
    )
    assert model.separator.reconstructor_repeat_times == 5 == args.separator_conf["reconstructor_repeat_times"]
    assert args.separator_conf["emb_dim"] == 16  # merged, not replaced
    with torch.no_grad():
        est = torch.stack(model.separate(torch.from_numpy(arrays["mix"])), 1)
    assert_close_rel(est, torch.from_numpy(arrays["est_mre5"]))


def test_unsupported_ablation_in_config_names_the_option(tmp_path):
    write_golden_checkpoint(tmp_path)
    with pytest.raises(ValueError, match="encoder_multi_decoder"):
        EnhancementTask.build_model_from_file(
            tmp_path / "config.yaml", overrides={"separator_conf": {"encoder_multi_decoder": True}}
        )


def test_mismatched_checkpoint_is_refused_with_the_file_name(tmp_path):
    write_golden_checkpoint(tmp_path)
    with pytest.raises(ValueError, match="valid.loss.ave.pth does not match"):
        EnhancementTask.build_model_from_file(
            tmp_path / "config.yaml", tmp_path / "valid.loss.ave.pth", overrides={"separator_conf": {"emb_dim": 32}}
        )


def test_checkpoint_needing_code_is_refused(tmp_path):
    write_golden_checkpoint(tmp_path)
    torch.save({"model": argparse.Namespace(a=1)}, tmp_path / "evil.pth")
    with pytest.raises(ValueError, match="evil.pth: cannot be read as a weights-only"):
        EnhancementTask.build_model_from_file(tmp_path / "config.yaml", tmp_path / "evil.pth")


def test_bad_config_errors_name_the_option(tmp_path):
    base = preset_config("tiny")
    with pytest.raises(ValueError, match="encoder_conf"):
        EnhancementTask.build_model(argparse.Namespace(**{**base, "encoder_conf": {"nfft": 128}}))
    with pytest.raises(ValueError, match=r"criterions\[0\]"):
        EnhancementTask.build_model(argparse.Namespace(**{**base, "criterions": [{"name": "si_snr"}]}))
    with pytest.raises(ValueError, match="model_conf"):
        EnhancementTask.build_model(argparse.Namespace(**{**base, "model_conf": {"normalise_variance": True}}))
    (tmp_path / "broken.yaml").write_text("separator: [tisdiss\n")
    with pytest.raises(ValueError, match="broken.yaml: not valid YAML"):
        EnhancementTask.build_model_from_file(tmp_path / "broken.yaml")


def test_recipe_flagship_config_is_the_8m_model():
    from test.golden import REPO

    config = REPO / "egs2/wsj0_2mix/enh1/conf/efficient_train/tisdiss"
    config = config / "train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x6_l1+1x6.yaml"
    model, args = EnhancementTask.build_model_from_file(config)
    assert sum(p.numel() for p in model.parameters()) == 8_011_827
    assert args.init == "xavier_uniform" and args.preprocessor == "enh"


@pytest.mark.parametrize("init", [None, "none", "null"])
def test_init_none_keeps_module_defaults(init):
    torch.manual_seed(0)
    a = EnhancementTask.build_model(argparse.Namespace(**preset_config("tiny"), init=init))
    torch.manual_seed(0)
    b = EnhancementTask.build_model(argparse.Namespace(**preset_config("tiny")))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    with pytest.raises(ValueError, match="init: 'uniform' is not supported"):
        EnhancementTask.build_model(argparse.Namespace(**preset_config("tiny"), init="uniform"))
