"""Tests of espnet2/utils/audio.py."""

import numpy as np
import pytest
import soundfile as sf
import soxr

from espnet2.utils.audio import (
    AudioError,
    StreamResampler,
    audio_extensions,
    audio_info,
    fit_length,
    iter_mono_blocks,
    read_audio,
    resample,
    to_mono,
    write_audio,
)


def test_to_mono_average_and_channel():
    stereo = np.array([[1.0, 3.0], [2.0, -2.0]], dtype=np.float32)
    np.testing.assert_array_equal(to_mono(stereo), [2.0, 0.0])
    np.testing.assert_array_equal(to_mono(stereo, channel=1), [3.0, -2.0])
    np.testing.assert_array_equal(to_mono(stereo[:, :1]), [1.0, 2.0])
    np.testing.assert_array_equal(to_mono(stereo[:, 0]), [1.0, 2.0])
    with pytest.raises(AudioError, match="x.wav: has 2 channels; --channel 2 does not exist"):
        to_mono(stereo, channel=2, name="x.wav")
    with pytest.raises(AudioError, match="has 1 channel"):
        to_mono(stereo[:, 0], channel=1)


def test_stream_resampler_equals_whole_signal():
    x = np.random.default_rng(0).standard_normal(22050).astype(np.float32)
    whole = resample(x, 22050, 8000)
    r = StreamResampler(22050, 8000)
    parts = [r.process(x[i : i + 999]) for i in range(0, len(x), 999)] + [r.flush()]
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-6)
    assert whole.shape == (8000,)
    np.testing.assert_allclose(whole, soxr.resample(x, 22050, 8000), atol=0)
    # multi-channel blocks [n, C]
    y = np.stack([x, -x], axis=1)
    r2 = StreamResampler(22050, 8000, num_channels=2)
    out = np.concatenate([r2.process(y[:10000]), r2.process(y[10000:]), r2.flush()])
    np.testing.assert_allclose(out[:, 0], whole, atol=1e-6)
    np.testing.assert_allclose(out[:, 1], -whole, atol=1e-6)
    # equal rates pass through
    same = StreamResampler(8000, 8000)
    np.testing.assert_array_equal(same.process(x[:10]), x[:10])
    assert resample(x, 8000, 8000) is x


def test_read_info_blocks_and_errors(tmp_path):
    x = (np.random.default_rng(1).standard_normal((1000, 2)) * 0.1).astype(np.float32)
    sf.write(tmp_path / "a.flac", x, 16000)
    assert audio_info(tmp_path / "a.flac") == (16000, 1000, 2)
    wav, fs = read_audio(tmp_path / "a.flac")
    assert fs == 16000 and wav.shape == (1000, 2)
    blocks = list(iter_mono_blocks(tmp_path / "a.flac", 300))
    assert [len(b) for b in blocks] == [300, 300, 300, 100]
    np.testing.assert_allclose(np.concatenate(blocks), wav.mean(axis=1), atol=1e-7)
    (tmp_path / "notes.wav").write_text("not audio at all")
    for fn in (audio_info, read_audio, lambda p: next(iter_mono_blocks(p, 10))):
        with pytest.raises(AudioError, match="notes.wav: cannot be read as audio"):
            fn(tmp_path / "notes.wav")


def test_write_counts_clipping_and_fit_length(tmp_path):
    x = np.array([0.5, 1.5, -2.0, 0.0], dtype=np.float32)
    assert write_audio(tmp_path / "a.wav", x, 8000) == 2
    assert write_audio(tmp_path / "b.wav", x, 8000, subtype="FLOAT") == 0
    np.testing.assert_array_equal(sf.read(tmp_path / "b.wav", dtype="float32")[0], x)
    np.testing.assert_array_equal(fit_length(x, 2), x[:2])
    np.testing.assert_array_equal(fit_length(x, 6), [0.5, 1.5, -2.0, 0.0, 0.0, 0.0])


def test_audio_extensions():
    exts = audio_extensions()
    assert {".wav", ".flac"} <= exts
    assert ".txt" not in exts and ".raw" not in exts
