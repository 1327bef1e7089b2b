import argparse

import pytest
import torch

from espnet2.tasks.enh import EnhancementTask
from test.golden import assert_close_rel, load_case

PIT_SI_SNR = [dict(name="si_snr", conf=dict(eps=1e-7), wrapper="pit", wrapper_conf=dict(weight=1.0, independent_perm=True))]


def golden_model(name):
    meta, arrays, state = load_case(name)
    stft = dict(n_fft=meta["n_fft"], hop_length=meta["hop_length"])
    args = argparse.Namespace(
        encoder="stft", encoder_conf=stft, decoder="stft", decoder_conf=stft, separator="tisdiss",
        separator_conf=meta["separator_conf"], criterions=PIT_SI_SNR,
        model_conf=dict(normalize_variance=meta["normalize_variance"]),
    )  # fmt: skip
    model = EnhancementTask.build_model(args)
    model.load_state_dict(state, strict=True)
    num_spk = meta["separator_conf"]["num_spk"]
    mix = torch.from_numpy(arrays["mix"])
    refs = {f"speech_ref{j + 1}": torch.from_numpy(arrays[f"ref{j + 1}"]) for j in range(num_spk)}
    return meta, arrays, model, mix, refs


@pytest.mark.parametrize("name", ["tisdiss_small_model", "tisdiss_small_model_oddlen"])
def test_golden_inference_every_m_re(name, cpu_kernels):
    meta, arrays, model, mix, _ = golden_model(name)
    model.eval()
    for m_re in meta["m_re"]:
        model.set_m_re(m_re)
        with torch.no_grad():
            est = torch.stack(model.separate(mix), dim=1)
        assert est.shape == arrays[f"est_mre{m_re}"].shape
        assert_close_rel(est, torch.from_numpy(arrays[f"est_mre{m_re}"]))


@pytest.mark.parametrize("name", ["tisdiss_small_model", "tisdiss_small_model_oddlen"])
def test_golden_training_loss_and_stats(name, cpu_kernels):
    """Loss of the main and every auxiliary estimate, and their mean.

    Tolerance 1e-4 relative to the loss value: with these random weights the SI-SNR losses are extremely
    sensitive (perturbing the weights by 1e-6 moves them by 0.03 dB), and the reference values sit ~2e-4 dB
    from this model evaluated in float64 (which equals its float32 value), i.e. within 1e-5 relative.
    """
    meta, arrays, model, mix, refs = golden_model(name)
    model.train()
    loss, stats, weight = model(mix, None, **refs)
    expected = meta["train_stats"]
    assert set(stats) == set(expected)
    for key, value in expected.items():
        assert stats[key].item() == pytest.approx(value, rel=1e-4), key
    assert loss.item() == pytest.approx(float(arrays["loss"][0]), rel=1e-4)
    aux = [v for k, v in stats.items() if k.startswith("si_snr_loss_aux")]
    assert loss.item() == pytest.approx(torch.stack(aux + [stats["si_snr_loss_mainloss"]]).mean().item(), abs=1e-5)
    assert weight.item() == mix.shape[0]


def test_separate_equals_last_refinement_and_m_re_is_used():
    _, _, model, mix, _ = golden_model("tisdiss_small_model")
    model.eval()
    with torch.no_grad():
        steps = dict(model.iter_refinements(mix, max_m_re=4))
        model.set_m_re(4)
        out4 = model.separate(mix)
    assert sorted(steps) == [1, 2, 3, 4]
    for a, b in zip(out4, steps[4]):
        torch.testing.assert_close(a, b)


def test_silent_input_gives_finite_output():
    _, _, model, _, _ = golden_model("tisdiss_small_model")
    model.eval()
    with torch.no_grad():
        out = model.separate(torch.zeros(1, 800))
    assert all(torch.isfinite(o).all() and o.abs().max() < 1e-5 for o in out)


def test_missing_reference_is_named():
    _, _, model, mix, refs = golden_model("tisdiss_small_model")
    with pytest.raises(ValueError, match="speech_ref2"):
        model(mix, None, speech_ref1=refs["speech_ref1"])
