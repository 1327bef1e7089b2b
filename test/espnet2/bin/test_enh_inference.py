"""Tests of espnet2/bin/enh_inference.py: a data directory in, spk{j}.scp and wavs out."""

import numpy as np
import pytest
import soundfile as sf
import torch

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


def test_get_parser_and_no_arguments_as_espnet(capsys):
    """ESPnet's test_enh_inference: get_parser() is an ArgumentParser; no arguments -> usage, exit status 2."""
    import argparse

    from espnet2.bin.enh_inference import get_parser

    assert isinstance(get_parser(), argparse.ArgumentParser)
    with pytest.raises(SystemExit) as e:
        main([])
    assert e.value.code == 2 and "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("batch_size", [1, 2])
@pytest.mark.parametrize(
    "input_size, segment_size, hop_size, normalize_segment_scale",
    [(1600, None, None, False), (3500, 0.24, 0.08, False), (3500, 0.24, 0.08, True)],
)
def test_separate_speech_with_espnet_keywords(
    tmp_path, tiny_config, batch_size, input_size, segment_size, hop_size, normalize_segment_scale
):
    """ESPnet's test_SeparateSpeech: a config.yaml written by `enh_train --dry_run true`, its keywords."""
    from espnet2.tasks.enh import EnhancementTask

    (tmp_path / "c.yaml").write_text(__import__("yaml").safe_dump(tiny_config))
    EnhancementTask.main(cmd=["--config", str(tmp_path / "c.yaml"), "--dry_run", "true", "--output_dir", str(tmp_path)])
    separate = SeparateSpeech(
        train_config=tmp_path / "config.yaml",
        segment_size=segment_size,
        hop_size=hop_size,
        normalize_segment_scale=normalize_segment_scale,
        device="cpu",
    )
    wav = np.random.default_rng(0).random((batch_size, input_size), dtype=np.float32) - 0.5
    out = separate(wav, fs=8000)
    assert len(out) == 2 and all(isinstance(o, np.ndarray) and o.shape == wav.shape for o in out)


def test_normalize_segment_scale_matches_each_segment_to_the_mixture(tiny_model):
    """ESPnet's normalize_segment_scale: per segment, the RMS of the summed outputs is the mixture's."""
    config, model_file = tiny_model
    separate = SeparateSpeech(config, model_file, segment_size=0.2, hop_size=0.15, normalize_segment_scale=True)
    segments = []
    plain = separate.separate_batch

    def record(mix, lengths=None):
        segments.append(mix[0].numpy().copy())
        return plain(mix, lengths)

    separate.separate_batch = record
    separate((np.random.default_rng(1).random(4000, dtype=np.float32) - 0.5) * 0.1)
    separate.separate_batch = plain
    assert len(segments) > 2
    for seg in segments:
        scaled = separate._separate_array(seg, [])
        est = plain(torch.from_numpy(seg)[None])[0][0].numpy()
        gain = np.sqrt(np.mean(seg**2)) / np.sqrt(np.mean(est.sum(0) ** 2))
        np.testing.assert_allclose(scaled, est * gain, rtol=1e-5, atol=1e-8)


def test_ref_channel_picks_the_channel_of_a_multi_channel_mixture(tiny_model):
    config, model_file = tiny_model
    mix = np.stack([mixture(1600, seed=1), mixture(1600, seed=2)], axis=-1)[None]  # [1, N, 2]
    with pytest.raises(ValueError, match="give ref_channel"):
        SeparateSpeech(config, model_file)(mix)
    out = SeparateSpeech(config, model_file, ref_channel=1)(mix)
    expected = SeparateSpeech(config, model_file)(mix[:, :, 1])
    for o, e in zip(out, expected):
        np.testing.assert_array_equal(o, e)


def test_what_the_toolkit_does_not_do_is_refused_by_name(tiny_model):
    config, model_file = tiny_model
    with pytest.raises(ValueError, match="enh_s2t_task=True"):
        SeparateSpeech(config, model_file, enh_s2t_task=True)
    with pytest.raises(ValueError, match="--dtype float64"):
        SeparateSpeech(config, model_file, dtype="float64")
    with pytest.raises(ValueError, match="model_tag='espnet/some_model'.*espnet_model_zoo"):
        SeparateSpeech.from_pretrained(model_tag="espnet/some_model", train_config=config, model_file=model_file)
    assert SeparateSpeech.from_pretrained(train_config=config, model_file=model_file).num_spk == 2
