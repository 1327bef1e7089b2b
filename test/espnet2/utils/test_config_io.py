import pytest

from espnet2.utils.config_argparse import ArgumentParser
from espnet2.utils.config_io import load_config, merge_config


def test_load_config_reads_a_mapping_and_an_empty_file(tmp_path):
    (tmp_path / "c.yaml").write_text("optim: adam\noptim_conf:\n    lr: 1.0e-3\n")
    assert load_config(tmp_path / "c.yaml") == {"optim": "adam", "optim_conf": {"lr": 1.0e-3}}
    (tmp_path / "empty.yaml").write_text("")
    assert load_config(tmp_path / "empty.yaml") == {}


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"gone.yaml: no such file; check the path"):
        load_config(tmp_path / "gone.yaml")
    with pytest.raises(FileNotFoundError, match=r"is a directory, not a YAML file"):
        load_config(tmp_path)


def test_invalid_yaml_names_the_file_and_the_line(tmp_path):
    (tmp_path / "broken.yaml").write_text("optim: adam\nseparator_conf:\n    num_spk: 2\n     emb_dim: 3\n")
    with pytest.raises(
        ValueError, match=r"broken.yaml: not valid YAML \(line 4, column 13\): mapping values are not allowed here; fix"
    ):
        load_config(tmp_path / "broken.yaml")
    (tmp_path / "latin1.yaml").write_bytes(b"optim: adam\nname: caf\xe9\n")
    with pytest.raises(ValueError, match=r"latin1.yaml: not UTF-8 text \(line 2\)"):
        load_config(tmp_path / "latin1.yaml")


def test_top_level_must_be_a_mapping(tmp_path):
    (tmp_path / "list.yaml").write_text("- adam\n- sgd\n")
    with pytest.raises(
        ValueError, match=r"list.yaml: expected a mapping of option: value at the top level, got a list"
    ):
        load_config(tmp_path / "list.yaml")


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("gone.yaml", None, "gone.yaml: no such file"),
        ("broken.yaml", "lr: [0.1\n", "broken.yaml: not valid YAML (line 2, column 1)"),
        ("list.yaml", "- 0.1\n", "list.yaml: expected a mapping"),
    ],
)
def test_config_option_reports_the_loader_error(tmp_path, capsys, name, text, message):
    if text is not None:
        (tmp_path / name).write_text(text)
    parser = ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    with pytest.raises(SystemExit) as e:
        parser.parse_args(["--config", str(tmp_path / name)])
    assert e.value.code == 2
    assert f"error: --config: {tmp_path}/{message}" in capsys.readouterr().err


def test_merge_config_merges_dicts_and_leaves_the_base_alone():
    base = {"separator_conf": {"num_spk": 2, "emb_dim": 128}, "optim": "adam"}
    merged = merge_config(base, {"separator_conf": {"emb_dim": 64}, "optim": "sgd"})
    assert merged == {"separator_conf": {"num_spk": 2, "emb_dim": 64}, "optim": "sgd"}
    assert base["separator_conf"]["emb_dim"] == 128
