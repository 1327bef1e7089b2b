"""Tests of espnet2/enh/inference.py (SeparateSpeech) on a tiny model."""

import numpy as np
import pytest
import torch
import yaml

from espnet2.enh.inference import SeparateSpeech, find_model_files, parse_m_re
from espnet2.main_funcs.pack_funcs import pack_model
from espnet2.tasks.enh import EnhancementTask

FS = 8000


def mixture(n=4000, seed=0, batch=None):
    rng = np.random.default_rng(seed)
    shape = (n,) if batch is None else (batch, n)
    return (0.1 * rng.standard_normal(shape)).astype(np.float32)


def direct(config, model_file, mix, m_re=None):
    """The model's own forward (ESPnetEnhancementModel.separate) -> [J, B, N] numpy."""
    model, _ = EnhancementTask.build_model_from_file(config, model_file)
    if m_re is not None:
        model.set_m_re(m_re)
    with torch.no_grad():
        return torch.stack(model.separate(torch.from_numpy(mix))).numpy()


def test_output_equals_direct_forward(tiny_model):
    config, model_file = tiny_model
    separate = SeparateSpeech(config, model_file, device="cpu")
    mix = mixture(1600, batch=2)
    out = separate(mix)
    assert len(out) == 2 and out[0].shape == (2, 1600)
    np.testing.assert_array_equal(np.stack(out), direct(config, model_file, mix))
    assert separate.last_m_re == [3.0, 3.0]
    assert separate.fs == FS and separate.device == "cpu"
    # a 1-D input is a batch of one; a tensor works as well
    one = separate(torch.from_numpy(mix[1]))
    np.testing.assert_allclose(one[1][0], out[1][1], atol=1e-6)


def golden_model_files(name, tmp_path):
    """config.yaml + model.pth of a golden model case -> (meta, arrays, config path, model path)."""
    from test.golden import load_case

    meta, arrays, state = load_case(name)
    stft = {"n_fft": meta["n_fft"], "hop_length": meta["hop_length"]}
    config = {
        "encoder": "stft", "encoder_conf": stft, "decoder": "stft", "decoder_conf": stft,
        "separator": "tisdiss", "separator_conf": meta["separator_conf"],
        "model_conf": {"normalize_variance": meta["normalize_variance"]},
    }  # fmt: skip
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    torch.save(state, tmp_path / "model.pth")
    return meta, arrays, tmp_path / "config.yaml", tmp_path / "model.pth"


def test_matches_golden_reference_outputs(tmp_path):
    """SeparateSpeech on the published reference's weights reproduces its inference outputs."""
    meta, arrays, config, model_file = golden_model_files("tisdiss_small_model", tmp_path)
    for m in meta["m_re"]:
        separate = SeparateSpeech(config, model_file, m_re=m, device="cpu")
        est = np.stack(separate(arrays["mix"]), axis=1)  # [B, J, N]
        expected = arrays[f"est_mre{m}"]
        assert np.abs(est - expected).max() <= 1e-4 * np.abs(expected).max()


def test_published_arithmetic_reproduces_an_ill_conditioned_model(tmp_path):
    """published_arithmetic=True: the golden outputs that rounding moves by 5e-3, within the README's 1e-4 (two
    threads, as recorded)."""
    meta, arrays, config, model_file = golden_model_files("tisdiss_published_defaults_model", tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        separate = SeparateSpeech(config, model_file, m_re=5, device="cpu", published_arithmetic=True)
        est = np.stack(separate(arrays["mix"]), axis=1)
    finally:
        torch.set_num_threads(threads)
    expected = arrays["est_mre5"]
    assert np.abs(est - expected).max() <= 1e-4 * np.abs(expected).max()


def test_m_re_overrides(tiny_model, tiny_config, tmp_path):
    config, model_file = tiny_model
    mix = mixture(n=1200, seed=1)
    infer = tmp_path / "re_5.yaml"
    # a published-style override: the whole separator_conf with another M_re
    infer.write_text(
        yaml.safe_dump({"separator_conf": dict(tiny_config["separator_conf"], reconstructor_repeat_times=5)})
    )
    expected5 = direct(config, model_file, mix[None], m_re=5)
    expected1 = direct(config, model_file, mix[None], m_re=1)
    by_file = SeparateSpeech(config, model_file, inference_config=infer)
    assert by_file.current_m_re == 5
    np.testing.assert_array_equal(np.stack(by_file(mix)), expected5)
    # a partial override works too, and --m_re wins over the file
    partial = tmp_path / "partial.yaml"
    partial.write_text("separator_conf:\n  reconstructor_repeat_times: 5\n")
    assert SeparateSpeech(config, model_file, inference_config=partial).current_m_re == 5
    short = SeparateSpeech(config, model_file, inference_config=partial, m_re=1)
    np.testing.assert_array_equal(np.stack(short(mix)), expected1)
    assert not np.allclose(expected1, expected5)

    bad = tmp_path / "bad.yaml"
    bad.write_text("optim: adam\n")
    with pytest.raises(ValueError, match="bad.yaml: unsupported top-level key.*optim"):
        SeparateSpeech(config, model_file, inference_config=bad)
    with pytest.raises(Exception, match="--m_re"):
        parse_m_re("0")
    assert parse_m_re("4") == 4 and parse_m_re("auto") == "auto"


def relative_changes(config, model_file, mix, max_m_re):
    """Per utterance, the relative change of the outputs after each repeat m = 2..max_m_re."""
    model, _ = EnhancementTask.build_model_from_file(config, model_file)
    prev, changes = None, []
    with torch.no_grad():
        for m, wavs in model.iter_refinements(torch.from_numpy(mix), max_m_re=max_m_re):
            cur = torch.stack(wavs, 1).double()
            if prev is not None:
                changes.append(((cur - prev).pow(2).sum((1, 2)) / cur.pow(2).sum((1, 2))).sqrt().numpy())
            prev = cur
    return np.stack(changes, axis=1)  # [B, max_m_re - 1], column k is repeat m = k + 2


def test_adaptive_m_re(tiny_model):
    config, model_file = tiny_model
    mix = np.stack([mixture(1200, seed=2), mixture(1200, seed=3)])
    changes = relative_changes(config, model_file, mix, max_m_re=5)
    # A threshold in the middle of the observed changes, so that the choice is not trivial.
    threshold = float(np.median(changes))
    expected_m = []
    for row in changes:
        below = np.nonzero(row < threshold)[0]
        expected_m.append(int(below[0]) + 2 if len(below) else 5)
    separate = SeparateSpeech(config, model_file, m_re="auto", m_re_max=5, m_re_threshold=threshold)
    out = np.stack(separate(mix))  # [J, B, N]
    assert separate.last_m_re == [float(m) for m in expected_m]
    for b, m in enumerate(expected_m):
        # each utterance's output is the fixed-M_re output at the M_re chosen for it
        np.testing.assert_allclose(out[:, b], direct(config, model_file, mix[b : b + 1], m_re=m)[:, 0], atol=1e-5)
    # the bounds: a huge threshold stops after the second repeat, a tiny one runs to the maximum
    loose = SeparateSpeech(config, model_file, m_re="auto", m_re_threshold=1e9)
    loose(mix)
    assert loose.last_m_re == [2.0, 2.0]
    strict = SeparateSpeech(config, model_file, m_re="auto", m_re_max=4, m_re_threshold=1e-12)
    np.testing.assert_allclose(np.stack(strict(mix)), direct(config, model_file, mix, m_re=4), atol=1e-5)
    assert strict.last_m_re == [4.0, 4.0]


def test_silence_short_and_padding(tiny_model):
    config, model_file = tiny_model
    separate = SeparateSpeech(config, model_file, m_re="auto")
    silent = separate(np.zeros(2000, np.float32))
    assert all(np.all(s == 0) for s in silent) and separate.last_m_re == [0.0]
    # shorter than one STFT frame (n_fft 128): padded for the model, cut back
    short = separate(mixture(10))
    assert short[0].shape == (1, 10) and np.all(np.isfinite(short[0]))
    # a batch with a silent utterance and lengths: zero beyond each length
    mix = mixture(2000, batch=2)
    mix[1] = 0
    mix[0, 1500:] = 0
    out = SeparateSpeech(config, model_file)(mix, lengths=[1500, 2000])
    assert np.all(out[0][1] == 0) and np.all(out[0][0, 1500:] == 0) and np.any(out[0][0] != 0)


def test_segmented_long_input(tiny_model):
    config, model_file = tiny_model
    mix = mixture(4000, seed=4)
    whole = SeparateSpeech(config, model_file, segment_size=0.5)
    # not longer than one segment: exactly the direct output
    np.testing.assert_array_equal(np.stack(whole(mix)), direct(config, model_file, mix[None]))
    seg = SeparateSpeech(config, model_file, segment_size=0.25, hop_size=0.2)
    out = np.stack(seg(mix))
    assert out.shape == (2, 1, 4000) and np.all(np.isfinite(out))
    # away from the overlaps, a segment's output is its own direct output (up to speaker order)
    ref = direct(config, model_file, mix[None, 0:2000])[:, 0, :1600]
    got = out[:, 0, :1600]
    err = min(np.abs(got - ref).max(), np.abs(got[::-1] - ref).max())
    assert err < 1e-5
    with pytest.raises(ValueError, match="--hop_size"):
        SeparateSpeech(config, model_file, segment_size=0.25, hop_size=0.25)
    with pytest.raises(ValueError, match="works at 8000 Hz .* given is 16000 Hz"):
        SeparateSpeech(config, model_file, fs=16000)


def test_model_path_forms(tiny_model, model_writer, tmp_path):
    config, model_file = tiny_model
    mix = mixture(2000, seed=5)
    expected = np.stack(SeparateSpeech(config, model_file)(mix))
    assert find_model_files(model_file) == (config, model_file)
    assert find_model_files(model_file.parent) == (config, model_file)
    packed = pack_model(config, model_file, tmp_path / "packed.zip")
    np.testing.assert_array_equal(np.stack(SeparateSpeech.from_model_path(packed)(mix)), expected)
    lonely = tmp_path / "lonely" / "m.pth"
    lonely.parent.mkdir()
    lonely.write_bytes(model_file.read_bytes())
    with pytest.raises(FileNotFoundError, match="no config.yaml beside it"):
        SeparateSpeech.from_model_path(lonely)
    two = tmp_path / "two"
    model_writer(two, name="1epoch.pth")
    model_writer(two, name="2epoch.pth")
    with pytest.raises(ValueError, match="cannot tell which model file"):
        find_model_files(two)
    trained = tmp_path / "trained"  # as the trainer leaves it: valid.loss.ave.pth links to the averaged model
    model_writer(trained, name="valid.loss.ave_5best.pth")
    (trained / "valid.loss.ave.pth").symlink_to("valid.loss.ave_5best.pth")
    model_writer(trained, name="checkpoint.pth")
    assert find_model_files(trained)[1].name == "valid.loss.ave_5best.pth"


def test_published_arithmetic_option_on_both_command_lines():
    from espnet2.bin import enh_inference, separate

    required = ["--output_dir", "out", "--data_path_and_name_and_type", "wav.scp,speech_mix,sound"]
    args = enh_inference.get_parser().parse_args(required + ["--published_arithmetic", "true"])
    assert args.published_arithmetic is True
    assert enh_inference.get_parser().parse_args(required).published_arithmetic is False
    args = separate.get_parser().parse_args(["a.wav", "--model_path", "m.pth", "--published_arithmetic", "true"])
    assert args.published_arithmetic is True
