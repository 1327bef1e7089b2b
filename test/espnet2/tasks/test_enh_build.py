"""EnhancementTask model building: registries, config files, published checkpoints, M_re overrides."""

import argparse

import pytest
import torch
import yaml

from espnet2.tasks.enh import EnhancementTask, separator_choices
from espnet2.utils.config_io import load_config
from test.golden import REPO, assert_close_rel, load_case

RECIPE_CONF = REPO / "egs2/wsj0_2mix/enh1/conf"
FLAGSHIP = RECIPE_CONF / "efficient_train/tisdiss/train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x6_l1+1x6.yaml"
TFLOCOFORMER_M = RECIPE_CONF / "tuning/train_enh_tflocoformer.yaml"
STFT_8K = dict(n_fft=128, hop_length=64)
PIT_SI_SNR = [dict(name="si_snr", conf=dict(eps=1e-7), wrapper="pit", wrapper_conf=dict(independent_perm=True))]


def tiny_config():
    """The flagship's separator at emb 16 with M_re 3 (the mini recipe's size), every flagship value explicit."""
    conf = load_config(FLAGSHIP)
    separator_conf = {**conf["separator_conf"], "emb_dim": 16, "attention_dim": 16, "n_heads": 2,
                      "ffn_hidden_dim": [32, 32], "reconstructor_repeat_times": 3}  # fmt: skip
    return dict(
        encoder="stft", encoder_conf=STFT_8K, decoder="stft", decoder_conf=STFT_8K, separator="tisdiss",
        separator_conf=separator_conf, criterions=PIT_SI_SNR, model_conf=dict(normalize_variance=True),
    )  # fmt: skip


def test_registry_builds_separator_from_config_values():
    conf = tiny_config()["separator_conf"]
    sep = separator_choices.get_class("tisdiss")(input_dim=65, **conf)
    assert sep.num_spk == 2 and sep.m_re == 3
    with pytest.raises(ValueError, match="--separator: unknown choice 'dprnn'"):
        separator_choices.get_class("dprnn")


@pytest.mark.parametrize("config, expected", [(FLAGSHIP, 8_011_827), (TFLOCOFORMER_M, 14_975_652)])
def test_recipe_configs_build_the_published_sizes(config, expected):
    model, _ = EnhancementTask.build_model_from_file(config)
    assert sum(p.numel() for p in model.parameters()) == expected


def test_flagship_config_builds_the_flagship_exits():
    """Split output + refinement repeats 1..5 auxiliary, repeat 6 main ("l1+1x6"); no residual refinement."""
    model, _ = EnhancementTask.build_model_from_file(FLAGSHIP)
    sep = model.separator
    assert sep.exits(6) == [0, 1, 2, 3, 4, 5, 6] and sep.repeat_residual_module and not sep.refinement_residual
    assert type(sep.spk_spliter).__name__ == "SwiGLUSpeakerSplit" and sep.compress == 1 and not sep.mask


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
    assert model.separator.m_re == 5 == args.separator_conf["reconstructor_repeat_times"]
    assert args.separator_conf["emb_dim"] == 16  # merged, not replaced
    with torch.no_grad():
        est = torch.stack(model.separate(torch.from_numpy(arrays["mix"])), 1)
    assert_close_rel(est, torch.from_numpy(arrays["est_mre5"]))


def test_published_options_in_config_are_built(tmp_path):
    meta, arrays = write_golden_checkpoint(tmp_path)
    model, _ = EnhancementTask.build_model_from_file(
        tmp_path / "config.yaml", overrides={"separator_conf": {"encoder_decoder": True, "encoder_multi_decoder": True}}
    )
    assert model.separator.exits(3) == [-1, 0, 1, 2, 3]


def test_unimplemented_option_in_config_names_the_option(tmp_path):
    write_golden_checkpoint(tmp_path)
    with pytest.raises(ValueError, match="band_split"):
        EnhancementTask.build_model_from_file(
            tmp_path / "config.yaml", overrides={"separator_conf": {"band_split": True}}
        )


def test_omitted_options_take_the_published_defaults(tmp_path):
    """config.yaml holds separator_conf as written: what it omits is the published code's default."""
    meta, arrays, state = load_case("tisdiss_published_defaults_model")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(dict(
        encoder="stft", encoder_conf=STFT_8K, decoder="stft", decoder_conf=STFT_8K, separator="tisdiss",
        separator_conf=meta["separator_conf"], model_conf=dict(normalize_variance=True), criterions=PIT_SI_SNR,
    )))  # fmt: skip
    torch.save(state, tmp_path / "model.pth")
    model, _ = EnhancementTask.build_model_from_file(tmp_path / "config.yaml", tmp_path / "model.pth")
    assert model.separator.m_re == 3 and model.separator.refinement_residual
    # M_re 1: the published code's own rounding sensitivity stays below 1e-4 (see test_espnet_model)
    model.set_m_re(1)
    with torch.no_grad():
        est = torch.stack(model.separate(torch.from_numpy(arrays["mix"])), 1)
    assert_close_rel(est, torch.from_numpy(arrays["est_mre1"]))
    with pytest.raises(ValueError, match="norm_type: the published default"):
        conf = {k: v for k, v in meta["separator_conf"].items() if k != "norm_type"}
        EnhancementTask.build_model(argparse.Namespace(**{**tiny_config(), "separator_conf": conf}))


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
    base = tiny_config()
    with pytest.raises(ValueError, match="encoder_conf"):
        EnhancementTask.build_model(argparse.Namespace(**{**base, "encoder_conf": {"nfft": 128}}))
    with pytest.raises(ValueError, match=r"criterions\[0\]"):
        EnhancementTask.build_model(argparse.Namespace(**{**base, "criterions": [{"name": "si_snr"}]}))
    with pytest.raises(ValueError, match="model_conf"):
        EnhancementTask.build_model(argparse.Namespace(**{**base, "model_conf": {"normalise_variance": True}}))
    (tmp_path / "broken.yaml").write_text("separator: [tisdiss\n")
    with pytest.raises(ValueError, match="broken.yaml: not valid YAML"):
        EnhancementTask.build_model_from_file(tmp_path / "broken.yaml")


def test_recipe_flagship_config_training_settings():
    model, args = EnhancementTask.build_model_from_file(FLAGSHIP)
    assert args.init == "xavier_uniform" and args.preprocessor == "enh"


@pytest.mark.parametrize("init", [None, "none", "null"])
def test_init_none_keeps_module_defaults(init):
    torch.manual_seed(0)
    a = EnhancementTask.build_model(argparse.Namespace(**tiny_config(), init=init))
    torch.manual_seed(0)
    b = EnhancementTask.build_model(argparse.Namespace(**tiny_config()))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    with pytest.raises(ValueError, match="init: 'uniform' is not supported"):
        EnhancementTask.build_model(argparse.Namespace(**tiny_config(), init="uniform"))


MINI_CONF = REPO / "egs2/mini_2mix/enh1/conf"


@pytest.mark.parametrize(
    "name, m_re, exits",
    [
        ("train_tiny.yaml", 3, 4),  # the split, then every refinement repeat
        ("tuning/train_tiny_residual_refinement.yaml", 4, 4),  # every refinement repeat
        ("tuning/train_tiny_no_separation_blocks.yaml", 4, 4),
    ],
)
def test_mini_recipe_configs_build_their_stated_exits(name, m_re, exits):
    model, _ = EnhancementTask.build_model_from_file(MINI_CONF / name)
    assert model.separator.m_re == m_re
    model.train()
    with torch.no_grad():
        main, aux = model.forward_enhance(torch.randn(1, 4000))
    assert len(aux) + 1 == exits and len(main) == 2


def test_a_criterion_espnet_has_and_this_toolkit_does_not_is_named():
    config = dict(tiny_config(), criterions=[dict(name="mr_l1_tfd", conf={}, wrapper="pit", wrapper_conf={})])
    with pytest.raises(ValueError, match="--criterion: unknown choice 'mr_l1_tfd'.*Differences from ESPnet"):
        EnhancementTask.build_model(argparse.Namespace(**config))
