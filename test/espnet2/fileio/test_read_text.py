"""Kaldi-style text readers against ESPnet's test/espnet2/fileio/test_read_text.py."""

import pytest

from espnet2.fileio.read_text import load_num_sequence_text, read_2columns_text, read_multi_columns_text


def test_a_key_alone_on_its_line_has_an_empty_value(tmp_path):
    p = tmp_path / "dummy.scp"
    p.write_text("abc /some/path/a.wav\ndef /some/path/b.wav\nghi\n")
    assert read_2columns_text(p) == {"abc": "/some/path/a.wav", "def": "/some/path/b.wav", "ghi": ""}
    assert read_2columns_text(p, keys_to_load={"def"}) == {"def": "/some/path/b.wav"}


@pytest.mark.parametrize("return_unsplit", [True, False])
def test_multi_columns_return_type(tmp_path, return_unsplit):
    p = tmp_path / "dummy.scp"
    p.write_text("abc /some/path/a.wav /some/path/a2.wav\ndef /some/path/b.wav\nghi\n")
    d, d2 = read_multi_columns_text(p, return_unsplit=return_unsplit)
    assert d == {"abc": ["/some/path/a.wav", "/some/path/a2.wav"], "def": ["/some/path/b.wav"], "ghi": [""]}
    if return_unsplit:
        assert d2 == {"abc": "/some/path/a.wav /some/path/a2.wav", "def": "/some/path/b.wav", "ghi": ""}
    else:
        assert d2 is None


def test_duplicated_key_is_a_runtime_error_naming_file_and_line(tmp_path):
    p = tmp_path / "dummy.scp"
    p.write_text("abc /some/path/a.wav\nabc /some/path/b.wav\n")
    with pytest.raises(RuntimeError, match=r"dummy.scp:2: key 'abc' is duplicated"):
        read_2columns_text(p)


@pytest.mark.parametrize("loader_type, text", [("text_int", "0 1 2"), ("text_float", "0 1 2"),
                                               ("csv_int", "0,1,2"), ("csv_float", "0,1,2")])  # fmt: skip
def test_load_num_sequence_text(tmp_path, loader_type, text):
    p = tmp_path / "dummy.txt"
    p.write_text(f"abc {text}\n")
    assert load_num_sequence_text(p, loader_type=loader_type) == {"abc": [0, 1, 2]}
    with pytest.raises(ValueError, match="loader_type=dummy"):
        load_num_sequence_text(p, loader_type="dummy")


def test_unreadable_numbers_are_a_value_error_naming_file_and_line(tmp_path):
    p = tmp_path / "speech_mix_shape"
    p.write_text("abc 16000\ndef 12.3.3.,4.44\n")
    with pytest.raises(ValueError, match=r"speech_mix_shape:2: cannot read '12.3.3.,4.44' as csv_int"):
        load_num_sequence_text(p)
    p.write_text("abc 16000\ndef\n")
    with pytest.raises(ValueError, match=r"speech_mix_shape:2: .* \(the line has no value\)"):
        load_num_sequence_text(p)
    p.write_text("abc 1 2\nabc 2 4\n")
    with pytest.raises(RuntimeError):
        load_num_sequence_text(p)
