"""SoundScpReader/Writer against ESPnet's test/espnet2/fileio/test_sound_scp.py."""

import numpy as np
import pytest
import soundfile

from espnet2.fileio.sound_scp import SoundScpReader, SoundScpWriter


def test_reader_with_a_numpy_dtype(tmp_path):
    audio = np.random.default_rng(0).integers(-100, 100, 16, dtype=np.int16)
    soundfile.write(tmp_path / "a1.wav", audio, 16)
    (tmp_path / "dummy.scp").write_text(f"abc {tmp_path / 'a1.wav'}\n")
    reader = SoundScpReader(tmp_path / "dummy.scp", dtype=np.int16)
    rate, wav = reader["abc"]
    assert rate == 16 and wav.dtype == np.int16 and np.array_equal(wav, audio)
    assert tuple(reader) == ("abc",) and reader.get_path("abc") == str(tmp_path / "a1.wav")


def test_writer_takes_either_order_and_refuses_bad_values_as_espnet(tmp_path):
    rng = np.random.default_rng(0)
    audio1, audio2 = (rng.integers(-100, 100, 16, dtype=np.int16) for _ in range(2))
    with SoundScpWriter(tmp_path, tmp_path / "wav.scp") as writer:
        writer["abc"] = 16, audio1
        writer["def"] = audio2, 16
        with pytest.raises(RuntimeError, match=r"\[N\] or \[N, C\]"):
            writer["ghi"] = 16, rng.integers(-100, 100, [16, 1, 1])
        with pytest.raises(ValueError, match="got 3 elements"):
            writer["ghi"] = [None, None, None]
        with pytest.raises(TypeError, match=r"got \(NoneType, NoneType\)"):
            writer["ghi"] = None, None
    reader = SoundScpReader(tmp_path / "wav.scp", dtype=np.int16)
    assert list(reader) == ["abc", "def"]
    assert np.array_equal(reader["abc"][1], audio1) and np.array_equal(reader["def"][1], audio2)
    assert writer.get_path("def") == str(tmp_path / "def.wav")


def test_writer_subtype_and_output_name_format(tmp_path):
    with SoundScpWriter(
        tmp_path / "w", tmp_path / "w.scp", subtype="FLOAT", output_name_format="{key}_x.{audio_format}"
    ) as w:
        w["a"] = 8000, np.full(8, 0.25, dtype=np.float32)
    assert soundfile.info(tmp_path / "w" / "a_x.wav").subtype == "FLOAT"
    with pytest.raises(ValueError, match="differ"):
        SoundScpWriter(tmp_path / "w", tmp_path / "w2.scp", subtype="FLOAT", dtype="PCM_16")


@pytest.mark.parametrize("cls", [SoundScpReader, SoundScpWriter])
def test_multi_column_scp_is_refused_by_name(tmp_path, cls):
    (tmp_path / "wav.scp").write_text("")
    with pytest.raises(ValueError, match=r"multi_columns=True\): one audio file per channel"):
        cls(*([tmp_path] if cls is SoundScpWriter else []), tmp_path / "wav.scp", multi_columns=True)


def test_a_line_without_a_path_is_named_on_access(tmp_path):
    (tmp_path / "wav.scp").write_text("abc\n")
    reader = SoundScpReader(tmp_path / "wav.scp")
    with pytest.raises(ValueError, match=r"wav.scp:1: utterance 'abc' has no audio path"):
        reader["abc"]
