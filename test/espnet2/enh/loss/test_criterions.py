import numpy as np
import pytest
import torch

from espnet2.enh.loss.criterions.time_domain import CISDRLoss, SISNRLoss, SNRLoss, TimeDomainL1, TimeDomainMSE


def si_snr_numpy(ref, est):
    """The textbook SI-SNR (dB) on zero-mean signals, no eps anywhere."""
    ref = ref - ref.mean()
    est = est - est.mean()
    target = np.dot(est, ref) / np.dot(ref, ref) * ref
    noise = est - target
    return 10 * np.log10((target @ target) / (noise @ noise))


def test_si_snr_is_the_textbook_formula_and_scale_invariant():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((3, 400))
    est = ref + 0.3 * rng.standard_normal((3, 400)) + 0.2
    loss = SISNRLoss()(torch.from_numpy(ref), torch.from_numpy(est)).numpy()
    expected = [-si_snr_numpy(r, e) for r, e in zip(ref, est)]
    np.testing.assert_allclose(loss, expected, rtol=1e-10)
    scaled = SISNRLoss(eps=1e-7)(torch.from_numpy(ref), torch.from_numpy(7.0 * est)).numpy()
    np.testing.assert_allclose(scaled, loss, rtol=1e-9)  # far from the 70 dB clamp: eps changes nothing
    assert SISNRLoss().name == "si_snr_loss"


def test_si_snr_eps_only_sets_the_clamp():
    """eps 1e-7 -> SI-SNR clamped to +-70 dB (the published criterion); no eps is added to any energy."""
    ref = torch.randn(2, 300, dtype=torch.float64)
    criterion = SISNRLoss(eps=1e-7)
    assert criterion.clamp_db == pytest.approx(70.0, abs=1e-5)
    bound = 10 * np.log10(1e-7 / (1 - 1e-7))
    np.testing.assert_allclose(criterion(ref, ref).numpy(), [bound, bound], rtol=1e-9)  # perfect -> -70 dB
    silent = torch.zeros(2, 300, dtype=torch.float64)
    np.testing.assert_allclose(criterion(silent, ref).numpy(), [-bound, -bound], rtol=1e-9)  # silent ref -> +70
    np.testing.assert_allclose(SISNRLoss(clamp_db=30.0)(ref, ref).numpy(), [-30.0, -30.0], rtol=1e-9)
    assert torch.isinf(SISNRLoss()(silent, ref)).all()  # no clamp, as fast_bss_eval without clamp_db
    # tiny signals are as good as large ones (an eps added to the energies would bias them)
    est = ref + 0.1 * torch.randn(2, 300, dtype=torch.float64)
    torch.testing.assert_close(criterion(1e-6 * ref, 1e-6 * est), criterion(ref, est), rtol=1e-9, atol=0)


def edge_cases(dtype):
    g = torch.Generator().manual_seed(0)
    ref = torch.randn(4, 640, generator=g, dtype=dtype)
    noisy = ref + 0.5 * torch.randn(4, 640, generator=g, dtype=dtype) + 0.3
    yield "random", ref, noisy
    yield "uncorrelated", ref, torch.randn(4, 640, generator=g, dtype=dtype)
    yield "negated", ref, -2.0 * ref
    yield "equal", ref, ref.clone()
    yield "nearly equal", ref, ref + 1e-6 * torch.randn(4, 640, generator=g, dtype=dtype)
    yield "silent reference", torch.zeros_like(ref), noisy
    yield "silent estimate", ref, torch.zeros_like(ref)
    yield "both silent", torch.zeros_like(ref), torch.zeros_like(ref)
    yield "constant estimate", ref, torch.full_like(ref, 0.7)
    yield "tiny energies", 1e-7 * ref, 1e-7 * noisy
    yield "tiny estimate", ref, 1e-9 * noisy
    yield "huge energies", 1e4 * ref, 1e4 * noisy


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "conf", [dict(eps=1e-7), dict(eps=1e-8), dict(clamp_db=30.0), dict(clamp_db=50.0, zero_mean=False), dict()]
)
def test_si_snr_equals_fast_bss_eval(conf, dtype):
    """The published criterion is fast_bss_eval.si_sdr_loss(est, ref, zero_mean, clamp_db, pairwise=False)."""
    fast_bss_eval = pytest.importorskip("fast_bss_eval")
    criterion = SISNRLoss(**conf)
    for case, ref, est in edge_cases(dtype):
        expected = fast_bss_eval.si_sdr_loss(
            est, ref, zero_mean=criterion.zero_mean, clamp_db=criterion.clamp_db, pairwise=False
        )
        torch.testing.assert_close(criterion(ref, est), expected, rtol=0, atol=0, equal_nan=True, msg=case)


def test_snr_l1_mse_values():
    ref = torch.tensor([[1.0, -1.0, 2.0, 0.0]])
    est = torch.tensor([[1.5, -1.0, 1.0, 0.5]])
    noise = (est - ref).numpy()
    snr = 20 * np.log10(np.linalg.norm(ref.numpy()) / np.linalg.norm(noise))
    np.testing.assert_allclose(SNRLoss()(ref, est).numpy(), [-snr], rtol=1e-6)
    np.testing.assert_allclose(TimeDomainL1()(ref, est).numpy(), [np.abs(noise).mean()], rtol=1e-6)
    np.testing.assert_allclose(TimeDomainMSE()(ref, est).numpy(), [(noise**2).mean()], rtol=1e-6)


def test_ci_sdr_ignores_a_short_filter():
    torch.manual_seed(0)
    ref = torch.randn(2, 4000, dtype=torch.float64)
    filtered = torch.nn.functional.conv1d(ref[:, None], torch.tensor([[[0.2, 0.5, 1.0]]], dtype=torch.float64),
                                          padding=2)[:, 0, :4000]  # fmt: skip
    est = filtered + 0.01 * torch.randn(2, 4000, dtype=torch.float64)
    ci = CISDRLoss(filter_length=16)(ref, est)
    plain_sdr = SNRLoss()(ref, est)
    assert (ci < plain_sdr - 10).all()  # the convolution is forgiven, not the noise
    assert (ci > -60).all()


def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match="shape"):
        SISNRLoss()(torch.zeros(1, 10), torch.zeros(1, 11))


def test_si_snr_mixed_precision_promotes():
    ref = torch.randn(2, 100)
    est = (ref + 0.1 * torch.randn(2, 100)).double()
    loss = SISNRLoss(eps=1e-7)(ref, est)
    assert loss.dtype == torch.float64
    torch.testing.assert_close(loss, SISNRLoss(eps=1e-7)(ref.double(), est))


@pytest.mark.parametrize("criterion_class", [TimeDomainL1, TimeDomainMSE])
def test_l1_mse_take_batch_samples_and_channels_as_espnet(criterion_class):
    """ESPnet's test_tf_domain_l1_l2_forward: [B, N] and [B, N, C] give [B]; more axes are a ValueError."""
    criterion = criterion_class()
    ref, est = torch.rand(2, 200, 3), torch.rand(2, 200, 3)
    loss = criterion(ref, est)
    torch.testing.assert_close(loss, torch.stack([criterion(ref[..., c], est[..., c]) for c in range(3)], 1).mean(1))
    with pytest.raises(ValueError, match=r"\[batch, samples, channels\], got \(2, 200, 3, 1\)"):
        criterion(ref[..., None], est[..., None])
    with pytest.raises(ValueError, match=criterion.name):
        criterion(ref[..., 0], est[..., 1:, 0])


def test_si_snr_is_computed_in_float32_under_autocast():
    """bfloat16 autocast would round 1 - coh to 0 for a near-perfect estimate (-inf loss, NaN gradients)."""
    torch.manual_seed(0)
    ref = torch.randn(2, 800)
    est = (ref + 1e-4 * torch.randn(2, 800)).requires_grad_()
    expected = SISNRLoss(eps=1e-7)(ref, est)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = SISNRLoss(eps=1e-7)(ref, est)
    assert loss.dtype == torch.float32 and torch.equal(loss, expected)
    loss.sum().backward()
    assert torch.isfinite(est.grad).all()
