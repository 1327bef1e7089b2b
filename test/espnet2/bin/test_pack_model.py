"""Tests of espnet2/bin/pack_model.py."""

import zipfile

import pytest
import yaml

from espnet2.bin.pack_model import main
from espnet2.main_funcs.pack_funcs import pack_model, unpack_model


def test_pack_and_unpack_roundtrip(tmp_path, monkeypatch):
    exp = tmp_path / "exp" / "enh_train_x"
    (exp / "images").mkdir(parents=True)
    (exp / "config.yaml").write_text("separator: tisdiss\n")
    (exp / "valid.loss.best.pth").write_bytes(b"weights")
    (exp / "RESULTS.md").write_text("# results\n")
    (exp / "images" / "loss.png").write_bytes(b"png")
    monkeypatch.chdir(tmp_path)
    main(
        [
            "enh",
            "--train_config",
            "exp/enh_train_x/config.yaml",
            "--model_file",
            "exp/enh_train_x/valid.loss.best.pth",
            "--option",
            "exp/enh_train_x/RESULTS.md",
            "--option",
            "exp/enh_train_x/images",
            "--outpath",
            "exp/enh_train_x/packed.zip",
        ]
    )
    packed = exp / "packed.zip"
    with zipfile.ZipFile(packed) as zf:
        names = set(zf.namelist())
        meta = yaml.safe_load(zf.read("meta.yaml"))
    assert names == {
        "meta.yaml",
        "exp/enh_train_x/config.yaml",
        "exp/enh_train_x/valid.loss.best.pth",
        "exp/enh_train_x/RESULTS.md",
        "exp/enh_train_x/images/loss.png",
    }
    assert meta["files"] == {"model_file": "exp/enh_train_x/valid.loss.best.pth"}
    assert meta["yaml_files"] == {"train_config": "exp/enh_train_x/config.yaml"}
    assert {"timestamp", "python", "torch", "tisdiss"} <= set(meta)

    files = unpack_model(packed, tmp_path / "unpacked")
    assert open(files["model_file"], "rb").read() == b"weights"
    assert open(files["train_config"]).read() == "separator: tisdiss\n"
    assert not (exp / "packed.zip.tmp").exists()


def test_pack_missing_file_is_named(tmp_path):
    (tmp_path / "config.yaml").write_text("a: 1\n")
    with pytest.raises(FileNotFoundError, match="--model_file .*missing.pth"):
        pack_model(tmp_path / "config.yaml", tmp_path / "missing.pth", tmp_path / "p.zip")
    with pytest.raises(FileNotFoundError, match="--option"):
        (tmp_path / "m.pth").write_bytes(b"w")
        pack_model(tmp_path / "config.yaml", tmp_path / "m.pth", tmp_path / "p.zip", ["nothere"])


def test_unpack_refuses_bad_archives(tmp_path):
    (tmp_path / "not.zip").write_text("hello")
    with pytest.raises(ValueError, match="not a packed model zip"):
        unpack_model(tmp_path / "not.zip", tmp_path / "o")
    with zipfile.ZipFile(tmp_path / "nometa.zip", "w") as zf:
        zf.writestr("config.yaml", "a: 1")
    with pytest.raises(ValueError, match="has no meta.yaml"):
        unpack_model(tmp_path / "nometa.zip", tmp_path / "o")
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("meta.yaml", "files: {model_file: ../m.pth}\nyaml_files: {train_config: c.yaml}\n")
        zf.writestr("../m.pth", "x")
    with pytest.raises(ValueError, match="unsafe member"):
        unpack_model(tmp_path / "evil.zip", tmp_path / "o")
    with zipfile.ZipFile(tmp_path / "incomplete.zip", "w") as zf:
        zf.writestr("meta.yaml", "files: {model_file: m.pth}\nyaml_files: {train_config: c.yaml}\n")
        zf.writestr("c.yaml", "a: 1")
    with pytest.raises(ValueError, match="names model_file 'm.pth', which the archive lacks"):
        unpack_model(tmp_path / "incomplete.zip", tmp_path / "o")
