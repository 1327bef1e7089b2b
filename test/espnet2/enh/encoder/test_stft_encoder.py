"""STFTEncoder against ESPnet's test/espnet2/enh/encoder/test_stft_encoder.py and the options it keeps."""

import pytest
import torch

from espnet2.enh.decoder.stft_decoder import STFTDecoder
from espnet2.enh.encoder.stft_encoder import STFTEncoder


@pytest.mark.parametrize("normalized", [True, False])
@pytest.mark.parametrize("onesided", [True, False])
def test_spectrum_is_torch_stft_and_differentiable(normalized, onesided):
    encoder = STFTEncoder(n_fft=64, win_length=64, hop_length=16, normalized=normalized, onesided=onesided)
    x = torch.rand(2, 800, requires_grad=True)
    y, flens = encoder(x, torch.tensor([800, 700]))
    expected = torch.stft(
        x.detach(), 64, 16, window=torch.hann_window(64), normalized=normalized, onesided=onesided,
        pad_mode="reflect", return_complex=True,
    ).transpose(1, 2)  # fmt: skip
    torch.testing.assert_close(y.detach(), expected)
    assert y.shape == (2, 51, 33 if onesided else 64) and flens.tolist() == [51, 44]
    y.abs().sum().backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
def test_float16_input_gives_a_complex32_spectrum_as_in_espnet():
    encoder = STFTEncoder(n_fft=64, hop_length=16)
    x = torch.rand(2, 800, dtype=torch.float16, requires_grad=True)
    y, _ = encoder(x, torch.tensor([800, 800]))
    assert y.dtype == torch.complex32
    torch.testing.assert_close(
        y.to(torch.complex64), encoder(x.detach().float(), torch.tensor([800, 800]))[0], rtol=1e-3, atol=1e-2
    )
    (y.real.pow(2) + y.imag.pow(2)).sum().backward()
    assert x.grad.dtype == torch.float16


@pytest.mark.parametrize("none", [None, "none"])
def test_spec_transform_none_is_the_identity_both_ways(none):
    conf = dict(n_fft=64, hop_length=16, spec_transform_type=none, spec_factor=0.3, spec_abs_exponent=0.7)
    x = torch.randn(2, 800)
    y, _ = STFTEncoder(**conf)(x, torch.tensor([800, 800]))
    torch.testing.assert_close(y, STFTEncoder(n_fft=64, hop_length=16)(x, torch.tensor([800, 800]))[0])
    wav, _ = STFTDecoder(**conf)(y, torch.tensor([800, 800]))
    torch.testing.assert_close(wav, x, rtol=0, atol=1e-4)  # float32 round trip


@pytest.mark.parametrize("cls, option", [(STFTEncoder, "encoder_conf"), (STFTDecoder, "decoder_conf")])
@pytest.mark.parametrize("transform", ["exponent", "log"])
def test_other_spectral_transforms_are_refused_by_name(cls, option, transform):
    with pytest.raises(ValueError, match=f"{option}: spec_transform_type='{transform}' is not implemented"):
        cls(n_fft=64, hop_length=16, spec_transform_type=transform)


def test_use_builtin_complex_false_is_refused():
    with pytest.raises(ValueError, match="use_builtin_complex: false"):
        STFTEncoder(use_builtin_complex=False)


def test_fs_is_taken_at_the_model_rate_only():
    encoder = STFTEncoder(n_fft=64, hop_length=16, default_fs=8000)
    x = torch.randn(1, 800)
    torch.testing.assert_close(encoder(x, torch.tensor([800]), fs=8000)[0], encoder(x, torch.tensor([800]))[0])
    with pytest.raises(ValueError, match="fs=16000 differs from default_fs=8000.*resample"):
        encoder(x, torch.tensor([800]), fs=16000)


def test_multi_channel_input_and_streaming_are_refused_by_name():
    encoder = STFTEncoder(n_fft=64, hop_length=16)
    with pytest.raises(ValueError, match="multi-channel input is not supported"):
        encoder(torch.randn(1, 800, 2), None)
    with pytest.raises(NotImplementedError, match="streaming STFT is not part of this toolkit"):
        encoder.streaming_frame(torch.randn(1, 800))
    with pytest.raises(NotImplementedError, match="forward_streaming"):
        encoder.forward_streaming(torch.randn(1, 64))
