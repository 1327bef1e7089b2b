import numpy as np
import pytest
import soundfile

from espnet2.fileio.read_text import KaldiTextError, load_num_sequence_text, read_2columns_text_with_lineno
from espnet2.fileio.sound_scp import SoundScpReader, SoundScpWriter


def test_read_2columns_with_line_numbers_and_duplicate_error(tmp_path):
    f = tmp_path / "wav.scp"
    f.write_text("a /x/a.wav\n\nb /x/b c.wav\n")
    data, lineno = read_2columns_text_with_lineno(f)
    assert data == {"a": "/x/a.wav", "b": "/x/b c.wav"}
    assert lineno == {"a": 1, "b": 3}
    f.write_text("a 1\nb 2\na 3\n")
    with pytest.raises(KaldiTextError, match=r"wav.scp:3: key 'a' is duplicated \(first at line 1\)"):
        read_2columns_text_with_lineno(f)


def test_shape_file_csv_and_error(tmp_path):
    f = tmp_path / "speech_mix_shape"
    f.write_text("a 16000\nb 8000,2\n")
    assert load_num_sequence_text(f) == {"a": [16000], "b": [8000, 2]}
    f.write_text("a 16000\nb x\n")
    with pytest.raises(KaldiTextError, match="speech_mix_shape:2"):
        load_num_sequence_text(f)


def test_sound_scp_roundtrip_mono_multichannel_flac(tmp_path):
    rng = np.random.default_rng(0)
    mono = (rng.standard_normal(100) * 0.1).astype(np.float32)
    stereo = (rng.standard_normal((50, 2)) * 0.1).astype(np.float32)
    with SoundScpWriter(tmp_path / "w", tmp_path / "w.scp", dtype="FLOAT") as w:
        w["m"] = 8000, mono
        w["s"] = 8000, stereo
    soundfile.write(tmp_path / "f.flac", mono, 16000)
    (tmp_path / "all.scp").write_text((tmp_path / "w.scp").read_text() + f"f {tmp_path / 'f.flac'}\n")
    r = SoundScpReader(tmp_path / "all.scp", dtype="float32")
    rate, x = r["m"]
    assert rate == 8000 and x.shape == (100,) and np.array_equal(x, mono)
    rate, x = r["s"]
    assert x.shape == (50, 2) and np.array_equal(x, stereo)
    rate, x = r["f"]
    assert rate == 16000 and np.allclose(x, mono, atol=1e-4)  # 16-bit flac
    assert r.info("s") == (8000, 50, 2)


def test_missing_audio_names_scp_file_and_line(tmp_path):
    (tmp_path / "spk1.scp").write_text(f"a {tmp_path}/nothing.wav\n")
    r = SoundScpReader(tmp_path / "spk1.scp")
    with pytest.raises(
        FileNotFoundError, match=r"spk1.scp:1: audio file .*nothing.wav' of utterance 'a' does not exist"
    ):
        r["a"]
