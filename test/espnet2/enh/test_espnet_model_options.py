"""ESPnet-Enh model options as ESPnet acts on them: only_for_test, weight 0, normalize_variance(_per_ch),
the deprecated loss_type / mask_type (ESPnet's test/espnet2/enh/test_espnet_model.py, test_criterion_behavior)."""

import argparse

import pytest
import torch

from espnet2.tasks.enh import EnhancementTask
from test.golden import load_case

PIT_SI_SNR = [dict(name="si_snr", conf=dict(eps=1e-7), wrapper="pit", wrapper_conf=dict(weight=1.0))]


def build_small(model_conf=None, criterions=PIT_SI_SNR):
    """The golden small model with other model_conf / criterions (same weights)."""
    meta, arrays, state = load_case("tisdiss_small_model")
    stft = dict(n_fft=meta["n_fft"], hop_length=meta["hop_length"])
    args = argparse.Namespace(
        encoder="stft", encoder_conf=stft, decoder="stft", decoder_conf=stft, separator="tisdiss",
        separator_conf=meta["separator_conf"], criterions=criterions, model_conf=model_conf or {},
    )  # fmt: skip
    model = EnhancementTask.build_model(args)
    model.load_state_dict(state, strict=True)
    mix = torch.from_numpy(arrays["mix"])
    refs = {f"speech_ref{j + 1}": torch.from_numpy(arrays[f"ref{j + 1}"]) for j in range(2)}
    return model, mix, refs


SNR_ONLY_FOR_TEST = dict(name="snr", conf=dict(only_for_test=True), wrapper="pit", wrapper_conf=dict(weight=1.0))


def test_an_only_for_test_criterion_leaves_the_training_loss_and_gradient_alone():
    """ESPnet skips only_for_test criteria in training and counts them in validation."""
    plain, mix, refs = build_small()
    extra, _, _ = build_small(criterions=PIT_SI_SNR + [SNR_ONLY_FOR_TEST])
    grads = []
    for model in (plain, extra):
        model.train()
        loss, stats, _ = model(mix, None, **refs)
        loss.backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
        assert "snr_loss" not in stats
    torch.testing.assert_close(grads[1], grads[0], rtol=0, atol=0)
    for model in (plain, extra):
        model.eval()
    with torch.no_grad():
        plain_loss, _, _ = plain(mix, None, **refs)
        extra_loss, stats, _ = extra(mix, None, **refs)
    snr_exits = [v for k, v in stats.items() if k.startswith("snr_loss_")]  # main and auxiliary estimates
    assert len(snr_exits) > 1
    torch.testing.assert_close(extra_loss, plain_loss + torch.stack(snr_exits).mean())  # weight 1


def test_no_criterion_left_for_training_is_an_attribute_error_as_in_espnet():
    only_test = [dict(PIT_SI_SNR[0], conf=dict(eps=1e-7, only_for_test=True))]
    model, mix, refs = build_small(criterions=only_test)
    model.train()
    with pytest.raises(AttributeError, match="only_for_test: false"):
        model(mix, None, **refs)
    model.eval()
    loss, stats, _ = model(mix, None, **refs)  # evaluation uses it
    assert torch.isfinite(loss) and "si_snr_loss" in stats


def test_a_zero_weight_criterion_is_reported_without_gradient():
    zero = dict(name="snr", conf={}, wrapper="pit", wrapper_conf=dict(weight=0.0))
    model, mix, refs = build_small(criterions=PIT_SI_SNR + [zero])
    plain, _, _ = build_small()
    model.train()
    plain.train()
    loss, stats, _ = model(mix, None, **refs)
    plain_loss, _, _ = plain(mix, None, **refs)
    assert "snr_loss" in stats and not stats["snr_loss"].requires_grad
    torch.testing.assert_close(loss, plain_loss)
    alone, _, _ = build_small(criterions=[zero])
    alone.train()
    with pytest.raises(AttributeError, match="weight 0"):
        alone(mix, None, **refs)


def test_normalize_variance_per_ch_divides_the_single_channel_mixture():
    plain, mix, _ = build_small()
    whole, _, _ = build_small(model_conf=dict(normalize_variance=True))
    per_ch, _, _ = build_small(model_conf=dict(normalize_variance_per_ch=True))
    with torch.no_grad():
        quiet = 1e-3 * mix  # the model is not scale-invariant: only the normalizing models give the same output
        out = {
            name: torch.stack(m.eval().separate(quiet), 1)
            for name, m in dict(plain=plain, whole=whole, per_ch=per_ch).items()
        }
        loud = torch.stack(per_ch.separate(mix), 1)
    torch.testing.assert_close(out["per_ch"], out["whole"], rtol=0, atol=0)
    scale = out["per_ch"].abs().max().item()
    torch.testing.assert_close(1e-3 * loud, out["per_ch"], rtol=0, atol=1e-4 * scale)  # float32 rounding
    assert (out["plain"] - out["per_ch"]).abs().max() > 1e-3 * out["per_ch"].abs().max()
    with pytest.raises(ValueError, match="normalize_variance and normalize_variance_per_ch"):
        build_small(model_conf=dict(normalize_variance=True, normalize_variance_per_ch=True))


@pytest.mark.parametrize("option, value", [("loss_type", "magnitude"), ("mask_type", "IRM")])
def test_deprecated_loss_and_mask_type_are_accepted_only_at_the_espnet_defaults(option, value):
    build_small(model_conf=dict(loss_type="mask_mse", mask_type=None))  # what ESPnet's config.yaml lists
    with pytest.raises(ValueError, match=f"model_conf: {option}='{value}'.*criterions"):
        build_small(model_conf={option: value})
