import pytest
import yaml

from espnet2.utils.config_argparse import LOG_LEVELS, ArgumentParser
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import str2bool


def make_parser():
    p = ArgumentParser()
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--use_amp", type=str2bool, default=False)
    p.add_argument("--optim_conf", action=NestedDictAction, default={})
    return p


def test_config_gives_defaults_and_command_line_overrides(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"lr": 0.5, "use_amp": True, "optim_conf": {"eps": 1e-8, "betas": [0.9, 0.98]}}))
    args = make_parser().parse_args(["--config", str(cfg), "--lr", "0.25", "--optim_conf", "eps=1.0e-6"])
    assert args.lr == 0.25
    assert args.use_amp is True
    # key=value merges into the dict from the file
    assert args.optim_conf == {"eps": 1e-6, "betas": [0.9, 0.98]}


def test_unknown_key_in_config_is_an_error_naming_key_and_file(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("lr: 0.1\nlearning_rat: 3\n")
    with pytest.raises(SystemExit):
        make_parser().parse_args(["--config", str(cfg)])
    err = capsys.readouterr().err
    assert "learning_rat" in err and str(cfg) in err


def test_nested_dict_action_yaml_mapping_and_dotted_keys():
    p = make_parser()
    assert p.parse_args(["--optim_conf", "{lr: 2, betas: [1, 2]}"]).optim_conf == {"lr": 2, "betas": [1, 2]}
    assert p.parse_args(["--optim_conf", "a.b=3", "--optim_conf", "a.c=x"]).optim_conf == {"a": {"b": 3, "c": "x"}}
    # the default is never modified in place
    assert p.parse_args([]).optim_conf == {}


@pytest.mark.parametrize("module", ["enh_train", "enh_inference", "enh_scoring"])
def test_one_log_level_option_for_every_entry_point(module):
    """Training, inference and scoring share add_log_level_argument: any case, CRITICAL..NOTSET, INFO by default."""
    import importlib

    from espnet2.tasks.enh import EnhancementTask

    get_parser = (
        EnhancementTask.get_parser
        if module == "enh_train"
        else importlib.import_module(f"espnet2.bin.{module}").get_parser
    )
    action = next(a for a in get_parser()._actions if a.dest == "log_level")
    assert action.default == "INFO" and tuple(action.choices) == LOG_LEVELS
    assert action.type("critical") == "CRITICAL" and action.type("Debug") == "DEBUG"
