"""STFTDecoder against ESPnet's test/espnet2/enh/decoder/test_stft_decoder.py and the options it keeps."""

import pytest
import torch

from espnet2.enh.decoder.stft_decoder import STFTDecoder
from espnet2.enh.encoder.stft_encoder import STFTEncoder


@pytest.mark.parametrize("normalized", [True, False])
@pytest.mark.parametrize("onesided", [True, False])
def test_decoder_inverts_the_encoder_and_is_differentiable(normalized, onesided):
    conf = dict(n_fft=64, win_length=64, hop_length=16, normalized=normalized, onesided=onesided)
    x = torch.randn(2, 800)
    spec, _ = STFTEncoder(**conf)(x, torch.tensor([800, 800]))
    spec = spec.detach().requires_grad_()
    y, ilens = STFTDecoder(**conf)(spec, torch.tensor([800, 750]))
    assert y.shape == (2, 800) and ilens.tolist() == [800, 750]
    torch.testing.assert_close(y.detach(), x, rtol=0, atol=1e-4)  # float32 round trip
    y.sum().backward()
    assert torch.isfinite(spec.grad).all()


def test_real_input_is_a_type_error_as_in_espnet():
    decoder = STFTDecoder(n_fft=64, hop_length=16)
    with pytest.raises(TypeError, match="expected a complex spectrum.*real tensor of dtype torch.float32"):
        decoder(torch.rand(2, 51, 33), torch.tensor([800, 800]))


@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
def test_complex32_input_is_inverted_in_complex64():
    """ESPnet's test_STFTDecoder_complex32_dtype: the half-precision spectrum of AMP training."""
    decoder = STFTDecoder(n_fft=64, hop_length=16)
    spec = torch.randn(2, 51, 33, dtype=torch.complex64)
    half = spec.to(torch.complex32).requires_grad_()
    y, _ = decoder(half, torch.tensor([800, 800]))
    assert y.dtype == torch.float16
    torch.testing.assert_close(
        y.float(), decoder(half.detach().to(torch.complex64), torch.tensor([800]))[0].half().float()
    )
    y.float().pow(2).sum().backward()
    assert half.grad.dtype == torch.complex32


def test_fs_other_than_the_model_rate_and_streaming_are_refused_by_name():
    decoder = STFTDecoder(n_fft=64, hop_length=16, default_fs=8000)
    spec = torch.randn(1, 51, 33, dtype=torch.complex64)
    torch.testing.assert_close(decoder(spec, torch.tensor([800]), fs=8000)[0], decoder(spec, torch.tensor([800]))[0])
    with pytest.raises(ValueError, match="STFTDecoder: fs=32000 differs from default_fs=8000"):
        decoder(spec, torch.tensor([800]), fs=32000)
    with pytest.raises(NotImplementedError, match="streaming_merge"):
        decoder.streaming_merge([torch.zeros(1, 64)], torch.tensor([64]))
    with pytest.raises(NotImplementedError, match="forward_streaming"):
        decoder.forward_streaming(spec[:, :1])
