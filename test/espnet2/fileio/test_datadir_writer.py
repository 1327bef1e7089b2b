"""Tests of espnet2/fileio/datadir_writer.py."""

import pytest

from espnet2.fileio.datadir_writer import DatadirWriter


def test_writes_kaldi_lines_in_order(tmp_path):
    with DatadirWriter(tmp_path / "out") as writer:
        writer["text"]["utt2"] = "b"
        writer["text"]["utt1"] = "a a"
        writer["sub"]["spk1.scp"]["utt1"] = "x.wav"
    assert (tmp_path / "out" / "text").read_text() == "utt2 b\nutt1 a a\n"
    assert (tmp_path / "out" / "sub" / "spk1.scp").read_text() == "utt1 x.wav\n"


def test_mismatching_keys_and_duplicates_warn(tmp_path):
    with pytest.warns(UserWarning, match="Ids are mismatching"):
        with DatadirWriter(tmp_path) as writer:
            writer["a"]["u1"] = "1"
            writer["b"]["u2"] = "2"
    with pytest.warns(UserWarning, match="duplicated key u1"):
        with DatadirWriter(tmp_path) as writer:
            writer["c"]["u1"] = "1"
            writer["c"]["u1"] = "2"


def test_misuse_is_refused(tmp_path):
    with DatadirWriter(tmp_path) as writer:
        writer["a"]["u1"] = "1"
        with pytest.raises(RuntimeError, match="is a file"):
            writer["a"]["sub"]
        with pytest.raises(RuntimeError, match="is a directory"):
            writer["x"] = "1"
        with pytest.raises(ValueError, match="white space"):
            writer["a"]["u 2"] = "1"
