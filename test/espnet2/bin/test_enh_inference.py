"""Tests of espnet2/bin/enh_inference.py: a data directory in, spk{j}.scp and wavs out."""

import numpy as np
import pytest
import soundfile as sf

from espnet2.bin.enh_inference import main
from espnet2.enh.inference import SeparateSpeech
from test.espnet2.enh.test_inference import FS, mixture


def write_data(tmp_path, lengths, fs=FS):
    wav_dir = tmp_path / "wav"
    wav_dir.mkdir()
    lines, mixes = [], {}
    for i, n in enumerate(lengths):
        key = f"utt{i}"
        mixes[key] = mixture(n, seed=10 + i)
        sf.write(wav_dir / f"{key}.wav", mixes[key], fs, subtype="FLOAT")
        lines.append(f"{key} {wav_dir / f'{key}.wav'}\n")
    (tmp_path / "wav.scp").write_text("".join(lines))
    return mixes


def test_command_line(tiny_model, tmp_path, caplog):
    config, model_file = tiny_model
    mixes = write_data(tmp_path, [1800, 2400, 2000])
    out_dir = tmp_path / "enhanced"
    (tmp_path / "keys").write_text("utt0 x\nutt2 x\n")
    with caplog.at_level("INFO"):
        main(
            [
                "--data_path_and_name_and_type", f"{tmp_path / 'wav.scp'},speech_mix,sound",
                "--train_config", str(config), "--model_file", str(model_file),
                "--output_dir", str(out_dir), "--key_file", str(tmp_path / "keys"),
                "--m_re", "auto", "--m_re_threshold", "1e9", "--batch_size", "2", "--fs", "8000",
                "--show_progressbar", "false",
            ]
        )  # fmt: skip
    assert "RTF=" in caplog.text
    for j in (1, 2):
        scp = dict(line.split() for line in (out_dir / f"spk{j}.scp").read_text().splitlines())
        assert sorted(scp) == ["utt0", "utt2"]
        for key, path in scp.items():
            assert path == str(out_dir / "wavs" / str(j) / f"{key}.wav")
            wav, fs = sf.read(path, dtype="float32")
            assert fs == FS and wav.shape == mixes[key].shape
    # batch_size 2 pads utt0 to utt2's length; compare with SeparateSpeech on the same padded batch
    padded = np.zeros((2, 2000), np.float32)
    padded[0, :1800] = mixes["utt0"]
    padded[1] = mixes["utt2"]
    expected = SeparateSpeech(config, model_file, m_re="auto", m_re_threshold=1e9)(padded, lengths=[1800, 2000])
    wav, _ = sf.read(out_dir / "wavs" / "2" / "utt2.wav", dtype="float32")
    np.testing.assert_allclose(wav, expected[1][1], atol=1 / 2**15)
    assert (out_dir / "m_re").read_text() == "utt0 2\nutt2 2\n"


def test_command_line_rejects_wrong_rate(tiny_model, tmp_path):
    config, model_file = tiny_model
    write_data(tmp_path, [1000], fs=16000)
    argv = [
        "--data_path_and_name_and_type", f"{tmp_path / 'wav.scp'},speech_mix,sound",
        "--train_config", str(config), "--model_file", str(model_file), "--output_dir", str(tmp_path / "o"),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="utt0' is at 16000 Hz but --fs is 8000"):
        main(argv + ["--fs", "8000"])
    with pytest.raises(ValueError, match="model works at 8000 Hz"):
        main(argv + ["--fs", "16000"])
