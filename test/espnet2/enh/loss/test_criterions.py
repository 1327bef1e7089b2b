import numpy as np
import pytest
import torch

from espnet2.enh.loss.criterions.time_domain import CISDRLoss, SISNRLoss, SNRLoss, TimeDomainL1, TimeDomainMSE


def si_snr_numpy(ref, est, eps=1e-8):
    ref = ref - ref.mean()
    est = est - est.mean()
    target = np.dot(est, ref) / (np.dot(ref, ref) + eps) * ref
    noise = est - target
    return 10 * np.log10((target @ target) / (noise @ noise + eps) + eps)


def test_si_snr_matches_numpy_and_is_scale_invariant():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((3, 400))
    est = ref + 0.3 * rng.standard_normal((3, 400)) + 0.2
    loss = SISNRLoss(eps=1e-8)(torch.from_numpy(ref), torch.from_numpy(est)).numpy()
    expected = [-si_snr_numpy(r, e) for r, e in zip(ref, est)]
    np.testing.assert_allclose(loss, expected, rtol=1e-10)
    scaled = SISNRLoss(eps=1e-8)(torch.from_numpy(ref), torch.from_numpy(7.0 * est)).numpy()
    np.testing.assert_allclose(scaled, loss, rtol=1e-9)
    assert SISNRLoss().name == "si_snr_loss"


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
