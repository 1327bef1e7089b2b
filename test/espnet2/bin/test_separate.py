"""Tests of espnet2/bin/separate.py: inputs of every kind, output safety, and long-recording memory."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from espnet2.bin.separate import main
from espnet2.enh.inference import SeparateSpeech
from espnet2.main_funcs.pack_funcs import pack_model

FS = 8000
PCM16 = 1 / 2**15


def noise(n, seed=0, channels=None):
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal((n,) if channels is None else (n, channels))).astype(np.float32)


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def read(path):
    wav, fs = sf.read(path, dtype="float32")
    return wav, fs


def test_outputs_equal_separate_speech(tiny_model, tmp_path, capsys):
    config, model_file = tiny_model
    x = noise(2400)
    sf.write(tmp_path / "mix.wav", x, FS, subtype="FLOAT")
    rc, out, err = run(
        capsys, "--model_path", model_file, tmp_path / "mix.wav", "-o", tmp_path / "out", "--device", "cpu",
        "--no_normalize_output_wav",
    )  # fmt: skip
    assert rc == 0, err
    expected = SeparateSpeech(config, model_file)(x)
    for j in (1, 2):
        wav, fs = read(tmp_path / "out" / f"mix_spk{j}.wav")
        assert fs == FS
        np.testing.assert_allclose(wav, expected[j - 1][0], atol=PCM16)
    assert "Separated 1 file(s), 0 skipped, 0 failed" in out
    assert re.search(r"on cpu, loaded in \d+\.\d s", out)  # loading reported apart from the real-time factor
    assert re.search(r"0\.3 s of audio in \d+\.\d s, real-time factor \d+\.\d{3}", out)
    assert not list((tmp_path / "out").glob(".*partial"))


def test_outputs_normalized_to_peak_by_default(tiny_model, tmp_path, capsys):
    # SI-SNR training leaves the scale free: by default each output is scaled to a peak of 0.9 (the
    # official separate.py's rule), the raw estimates times one gain per output.
    config, model_file = tiny_model
    x = noise(3000, seed=11)
    sf.write(tmp_path / "mix.wav", x, FS, subtype="FLOAT")
    rc, out, err = run(capsys, "--model_path", model_file, tmp_path / "mix.wav", "-o", tmp_path / "out")
    assert rc == 0, err
    raw = SeparateSpeech(config, model_file)(x)
    for j in (1, 2):
        wav, _ = read(tmp_path / "out" / f"mix_spk{j}.wav")
        assert abs(np.abs(wav).max() - 0.9) <= PCM16
        np.testing.assert_allclose(wav, raw[j - 1][0] * (0.9 / np.abs(raw[j - 1][0]).max()), atol=PCM16)
    assert not list((tmp_path / "out").glob(".*partial"))
    assert "peak of 0.9" in " ".join(get_parser_help().split())


def get_parser_help():
    from espnet2.bin.separate import get_parser

    return get_parser().format_help()


def test_official_readme_flags(tiny_model, tmp_path, capsys):
    # The official TISDiSS README: separate.py --model_path M --audio_path FILE_OR_DIR --audio_output_dir OUT
    config, model_file = tiny_model
    (tmp_path / "in").mkdir()
    x = noise(2000, seed=12)
    sf.write(tmp_path / "in" / "a.wav", x, FS)
    for audio_path, out_name in ((tmp_path / "in", "o_dir"), (tmp_path / "in" / "a.wav", "o_file")):
        rc, out, err = run(
            capsys, "--model_path", model_file, "--audio_path", audio_path, "--audio_output_dir", tmp_path / out_name
        )
        assert rc == 0, err
        assert sorted(p.name for p in (tmp_path / out_name).iterdir()) == ["a_spk1.wav", "a_spk2.wav"]
    # the same outputs as the positional input and -o
    rc, out, err = run(capsys, "--model_path", model_file, tmp_path / "in" / "a.wav", "-o", tmp_path / "o_pos")
    for j in (1, 2):
        assert (tmp_path / "o_pos" / f"a_spk{j}.wav").read_bytes() == (
            tmp_path / "o_file" / f"a_spk{j}.wav"
        ).read_bytes()
    with pytest.raises(SystemExit):
        main(["--model_path", str(model_file)])
    assert "no input" in capsys.readouterr().err


def test_bad_inputs(tiny_model, tmp_path, capsys):
    config, model_file = tiny_model
    stereo = noise(44100, seed=1, channels=2)
    sf.write(tmp_path / "stereo44.flac", stereo, 44100)
    sf.write(tmp_path / "silence.wav", np.zeros(4000, np.float32), FS)
    sf.write(tmp_path / "tiny.wav", noise(20, seed=2), FS)
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00garbage")
    (tmp_path / "notes.txt").write_text("hello")
    out_dir = tmp_path / "out"
    files = ["stereo44.flac", "silence.wav", "tiny.wav", "broken.wav", "notes.txt", "missing.wav"]
    rc, out, err = run(
        capsys, "--model_path", model_file, *[tmp_path / f for f in files], "-o", out_dir, "--no_normalize_output_wav"
    )
    assert rc == 1
    for name in ("broken.wav", "notes.txt", "missing.wav"):
        assert re.search(rf"FAILED .*{name}", err), err
        assert not list(out_dir.glob(f"{Path(name).stem}_spk*"))
    assert "Separated 3 file(s), 0 skipped, 3 failed" in out
    assert "2 channels averaged to mono" in out and "resampled 44100 Hz -> 8000 Hz -> 44100 Hz" in out

    # any rate: outputs at the input's rate and length, equal to resample -> separate -> resample back
    separate = SeparateSpeech(config, model_file)
    down = soxr.resample(stereo.mean(axis=1), 44100, FS)
    expected = separate(down)
    for j in (1, 2):
        wav, fs = read(out_dir / f"stereo44_spk{j}.wav")
        assert fs == 44100 and wav.shape == (44100,)
        back = soxr.resample(expected[j - 1][0], FS, 44100)[:44100]
        np.testing.assert_allclose(wav, back, atol=2e-4)
    # silence: silent outputs; shorter than one STFT frame: padded for the model, same length out
    for j in (1, 2):
        wav, _ = read(out_dir / f"silence_spk{j}.wav")
        assert wav.shape == (4000,) and np.all(wav == 0)
        wav, _ = read(out_dir / f"tiny_spk{j}.wav")
        assert wav.shape == (20,) and np.all(np.isfinite(wav)) and np.any(wav != 0)


def test_channel_option(tiny_model, tmp_path, capsys):
    config, model_file = tiny_model
    stereo = noise(2000, seed=3, channels=2)
    sf.write(tmp_path / "st.wav", stereo, FS, subtype="FLOAT")
    rc, out, err = run(
        capsys, "--model_path", model_file, tmp_path / "st.wav", "-o", tmp_path / "o", "--channel", "1",
        "--no_normalize_output_wav",
    )  # fmt: skip
    assert rc == 0 and "averaged" not in out
    expected = SeparateSpeech(config, model_file)(stereo[:, 1])
    np.testing.assert_allclose(read(tmp_path / "o" / "st_spk2.wav")[0], expected[1][0], atol=PCM16)
    rc, out, err = run(capsys, "--model_path", model_file, tmp_path / "st.wav", "-o", tmp_path / "o2", "--channel", "2")
    assert rc == 1 and "has 2 channels; --channel 2 does not exist" in err


def test_folder_of_links_to_files_elsewhere(tiny_model, tmp_path, capsys):
    """A folder whose files are symbolic links to audio kept elsewhere, e.g. test mixtures linked from a corpus:
    each output takes its link's name and place (this raised ValueError). A linked sub-folder is not entered
    with --recursive (as find without -L: no cycles), a real one is."""
    _, model_file = tiny_model
    corpus, links = tmp_path / "corpus" / "wav", tmp_path / "links"
    (corpus / "more").mkdir(parents=True)
    links.mkdir()
    sf.write(corpus / "mix1.wav", noise(1000, seed=8), FS)
    sf.write(corpus / "more" / "mix2.wav", noise(1000, seed=9), FS)
    (links / "first.wav").symlink_to(corpus / "mix1.wav")
    (links / "linked_dir").symlink_to(corpus / "more", target_is_directory=True)
    (links / "sub").mkdir()
    (links / "sub" / "second.wav").symlink_to(corpus / "more" / "mix2.wav")
    out_dir = tmp_path / "out"
    rc, out, err = run(capsys, "--model_path", model_file, links, "-o", out_dir, "--recursive")
    assert rc == 0, err
    assert sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.wav")) == [
        "first_spk1.wav", "first_spk2.wav", "sub/second_spk1.wav", "sub/second_spk2.wav"
    ]  # fmt: skip
    assert sorted(p.name for p in corpus.rglob("*")) == ["mix1.wav", "mix2.wav", "more"]  # nothing written there


def test_folders_mirror_and_never_overwrite(tiny_model, tmp_path, capsys):
    _, model_file = tiny_model
    src = tmp_path / "in"
    (src / "sub" / "deeper").mkdir(parents=True)
    sf.write(src / "a.wav", noise(1000, seed=4), FS)
    sf.write(src / "sub" / "b.flac", noise(1000, seed=5), 16000)
    sf.write(src / "sub" / "deeper" / "c.wav", noise(1000, seed=6), FS)
    (src / "readme.txt").write_text("not audio: ignored in folders")
    out_dir = tmp_path / "out"

    rc, out, err = run(capsys, "--model_path", model_file, src, "-o", out_dir)
    assert rc == 0, err
    assert sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.wav")) == ["a_spk1.wav", "a_spk2.wav"]

    rc, out, err = run(capsys, "--model_path", model_file, src, "-o", out_dir, "--recursive")
    assert rc == 0, err
    assert sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.wav")) == [
        "a_spk1.wav", "a_spk2.wav", "sub/b_spk1.wav", "sub/b_spk2.wav",
        "sub/deeper/c_spk1.wav", "sub/deeper/c_spk2.wav",
    ]  # fmt: skip
    assert "a.wav: " in err and "exists; skipped (use --overwrite" in err
    assert read(out_dir / "sub" / "b_spk1.wav")[1] == 16000

    # an existing output is kept unless --overwrite
    sf.write(out_dir / "a_spk1.wav", np.full(10, 0.5, np.float32), FS)
    rc, out, err = run(capsys, "--model_path", model_file, src / "a.wav", "-o", out_dir)
    assert rc == 0 and "skipped" in err
    assert read(out_dir / "a_spk1.wav")[0].shape == (10,)
    rc, out, err = run(capsys, "--model_path", model_file, src / "a.wav", "-o", out_dir, "--overwrite")
    assert rc == 0 and read(out_dir / "a_spk1.wav")[0].shape == (1000,)

    # an output that would replace an input is refused, even with --overwrite
    sf.write(src / "a_spk1.wav", noise(500, seed=7), FS)
    before = (src / "a_spk1.wav").read_bytes()
    rc, out, err = run(capsys, "--model_path", model_file, src / "a.wav", src / "a_spk1.wav", "-o", src, "--overwrite")
    assert rc == 1 and "would replace the input file" in err
    assert (src / "a_spk1.wav").read_bytes() == before
    # a folder separated into itself: earlier outputs are not taken as inputs
    rc, out, err = run(capsys, "--model_path", model_file, src, "-o", src)
    assert rc == 0, err
    assert "a_spk1.wav ->" not in out and "a.wav: " in err and "skipped" in err
    assert (src / "a_spk1.wav").read_bytes() == before
    # outputs below the input folder are not taken as inputs on the next run
    rc, out, err = run(capsys, "--model_path", model_file, tmp_path, "-o", tmp_path / "out", "-r")
    assert "out/a_spk1.wav" not in out


def test_packed_model_and_m_re(tiny_model, tmp_path, capsys):
    config, model_file = tiny_model
    packed = pack_model(config, model_file, tmp_path / "model.zip")
    x = noise(1500, seed=8)
    sf.write(tmp_path / "m.wav", x, FS, subtype="FLOAT")
    rc, out, err = run(
        capsys, "--model_path", packed, tmp_path / "m.wav", "-o", tmp_path / "o", "--m_re", "1", "--subtype", "FLOAT",
        "--no_normalize_output_wav",
    )  # fmt: skip
    assert rc == 0, err
    assert "M_re 1" in out
    expected = SeparateSpeech(config, model_file, m_re=1)(x)
    np.testing.assert_allclose(read(tmp_path / "o" / "m_spk1.wav")[0], expected[0][0], atol=1e-6)
    rc, out, err = run(
        capsys,
        "--model_path",
        packed,
        tmp_path / "m.wav",
        "-o",
        tmp_path / "o2",
        "--m_re",
        "auto",
        "--m_re_threshold",
        "1e9",
    )
    assert rc == 0 and "M_re 2)" in out
    rc, out, err = run(capsys, "--model_path", tmp_path / "nothing.pth", tmp_path / "m.wav")
    assert rc == 2 and "cannot load the model" in err


PEAK_SCRIPT = """
import resource, sys, tracemalloc, torch
torch.set_num_threads(1)
from espnet2.bin.separate import main
tracemalloc.start()  # numpy arrays (audio blocks, resampler and stitcher buffers) are traced
rc = main(sys.argv[1:])
print("TRACED_PEAK_KB", tracemalloc.get_traced_memory()[1] // 1024)
print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(rc)
"""


def write_long(path, minutes, fs=FS):
    """A speech-like (amplitude-modulated) noise recording, written block by block as 16-bit PCM."""
    rng = np.random.default_rng(minutes)
    with sf.SoundFile(path, "w", samplerate=fs, channels=1, subtype="PCM_16") as f:
        for start in range(0, minutes * 60 * fs, 60 * fs):
            t = (start + np.arange(60 * fs)) / fs
            f.write((0.05 * rng.standard_normal(60 * fs) * (1.1 + np.sin(2 * np.pi * 0.5 * t))).astype(np.float32))


def peak_memory_kb(model_file, wav, out_dir):
    """Run separate.py in a fresh process; returns (peak resident memory, peak traced by tracemalloc) in kB."""
    cmd = [sys.executable, "-c", PEAK_SCRIPT, "--model_path", str(model_file), str(wav), "-o", str(out_dir),
           "--segment_size", "40", "--quiet"]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return int(re.search(r"\bPEAK_KB (\d+)", proc.stdout).group(1)), int(
        re.search(r"TRACED_PEAK_KB (\d+)", proc.stdout).group(1)
    )


def test_long_recording_memory_does_not_grow(tiny_config, model_writer, tmp_path):
    # The tiny model works at 50 Hz so that 10 minutes pass through it in a few seconds; reading,
    # resampling (8 kHz -> 50 Hz -> 8 kHz), stitching and writing still handle the full 8 kHz recording.
    tiny_config["encoder_conf"]["default_fs"] = 50
    _, model_file = model_writer(tmp_path / "model50", tiny_config)
    write_long(tmp_path / "one.wav", 1)
    write_long(tmp_path / "ten.wav", 10)
    rss1, traced1 = peak_memory_kb(model_file, tmp_path / "one.wav", tmp_path / "out")
    rss10, traced10 = peak_memory_kb(model_file, tmp_path / "ten.wav", tmp_path / "out")
    for name in ("one", "ten"):
        minutes = 1 if name == "one" else 10
        for j in (1, 2):
            info = sf.info(str(tmp_path / "out" / f"{name}_spk{j}.wav"))
            assert info.frames == minutes * 60 * FS and info.samplerate == FS
    wav, _ = sf.read(tmp_path / "out" / "ten_spk1.wav", start=9 * 60 * FS, frames=FS, dtype="float32")
    assert np.any(wav != 0) and np.all(np.isfinite(wav))
    # 10 minutes at 8 kHz are 19 MB as float32 (38 MB for two outputs): holding any of that in
    # memory would show. The arrays traced by tracemalloc stay the same size; the peak resident
    # memory (which also counts torch and the model) stays within a few MB of the 1-minute run.
    print(
        f"peak RSS: 1 min {rss1 / 1024:.1f} MB, 10 min {rss10 / 1024:.1f} MB; "
        f"peak traced arrays: 1 min {traced1 / 1024:.2f} MB, 10 min {traced10 / 1024:.2f} MB"
    )
    assert (traced10 - traced1) / 1024 < 1.0
    assert traced10 / 1024 < 10.0
    assert (rss10 - rss1) / 1024 < 5.0
