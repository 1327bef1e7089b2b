import math

import numpy as np
import pytest
import torch

from espnet2.enh.layers.tflocoformer import (
    ConvDeconv1d,
    MultiHeadSelfAttention,
    RMSGroupNorm,
    RotaryEmbedding,
    SwiGLUConvDeconv1d,
    TFLocoformerBlock,
)


def test_rms_group_norm_matches_formula():
    torch.manual_seed(0)
    norm = RMSGroupNorm(num_groups=2, dim=6, eps=1e-5)
    norm.gamma.data = torch.arange(1.0, 7.0)
    x = torch.randn(3, 4, 6)
    y = norm(x).detach().numpy()
    xn = x.numpy().reshape(3, 4, 2, 3)
    rms = np.sqrt((xn**2).sum(-1, keepdims=True)) / math.sqrt(3)
    expected = (xn / (rms + 1e-5)).reshape(3, 4, 6) * np.arange(1.0, 7.0)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_rms_group_norm_backward_equals_autograd_of_formula():
    torch.manual_seed(0)
    norm = RMSGroupNorm(num_groups=2, dim=6, eps=1e-3).double()
    norm.gamma.data = torch.linspace(0.5, 2.0, 6, dtype=torch.float64)
    x = torch.randn(4, 5, 6, dtype=torch.float64, requires_grad=True)
    x.data[0, 0, :3] = 0.0  # an all-zero group keeps finite gradients
    dy = torch.randn(4, 5, 6, dtype=torch.float64)
    grads = torch.autograd.grad((norm(x) * dy).sum(), (x, norm.gamma))
    xg = x.unflatten(-1, (2, 3))
    direct = (xg / (xg.pow(2).sum(-1, keepdim=True).add(1e-300).sqrt() / 3**0.5 + 1e-3)).flatten(-2) * norm.gamma
    expected = torch.autograd.grad((direct * dy).sum(), (x, norm.gamma))
    for g, e in zip(grads, expected):
        assert torch.isfinite(g).all()
        torch.testing.assert_close(g, e, rtol=1e-8, atol=1e-8)


def test_rms_group_norm_eps_outside_sqrt():
    norm = RMSGroupNorm(num_groups=1, dim=2, eps=0.5)
    y = norm(torch.tensor([[3.0, 4.0]]))  # rms = 5 / sqrt(2)
    np.testing.assert_allclose(y.detach().numpy(), np.array([[3.0, 4.0]]) / (5 / math.sqrt(2) + 0.5), rtol=1e-6)


def test_rope_frequencies_and_rotation_match_direct_formula():
    h = 8
    rope = RotaryEmbedding(h)
    np.testing.assert_allclose(rope.freqs.numpy(), [10000 ** (-2 * i / h) for i in range(h // 2)], rtol=1e-6)
    assert not rope.freqs.requires_grad
    x = torch.randn(2, 5, h)
    y = rope.rotate(x).numpy()
    xn = x.numpy()
    expected = np.empty_like(xn)
    for p in range(5):
        for i in range(h // 2):
            a = p * 10000 ** (-2 * i / h)
            x0, x1 = xn[:, p, 2 * i], xn[:, p, 2 * i + 1]
            expected[:, p, 2 * i] = x0 * math.cos(a) - x1 * math.sin(a)
            expected[:, p, 2 * i + 1] = x1 * math.cos(a) + x0 * math.sin(a)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_attention_matches_explicit_computation(cpu_kernels):
    torch.manual_seed(0)
    emb, att, heads, seq = 6, 8, 2, 5
    rope = RotaryEmbedding(att // heads)
    mhsa = MultiHeadSelfAttention(emb, att, heads, rope).eval()
    x = torch.randn(3, seq, emb)
    out = mhsa(x)
    qkv = (x @ mhsa.qkv.weight.T).view(3, seq, 3, heads, att // heads)
    q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))  # [N, H, L, h]
    q, k = rope.rotate(q), rope.rotate(k)
    w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(att // heads), dim=-1)
    ref = (w @ v).transpose(1, 2).reshape(3, seq, att) @ mhsa.aggregate_heads[0].weight.T
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


def conv_modules_reference(ffn, x):
    """The FFN through PyTorch's Conv1d/ConvTranspose1d along axis 1 of [A, L, R, C]."""
    a, length, r, c = x.shape
    y = ffn._forward_general(x.transpose(1, 2).reshape(a * r, length, c))
    return y.view(a, r, length, c).transpose(1, 2)


@pytest.mark.parametrize("seq", [2, 5])  # the short-sequence path and the fused kernel
def test_attention_on_4d_layout_matches_folded_3d(seq, cpu_kernels):
    torch.manual_seed(0)
    mhsa = MultiHeadSelfAttention(6, 8, 2, RotaryEmbedding(4)).eval()
    x = torch.randn(3, seq, 4, 6)  # [A, L, R, C]: attend along L
    out = mhsa(x)
    folded = mhsa(x.transpose(1, 2).reshape(12, seq, 6)).view(3, 4, seq, 6).transpose(1, 2)
    torch.testing.assert_close(out, folded, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kernel, shift, length", [(4, 1, 7), (4, 1, 1), (4, 1, 2), (4, 1, 3), (3, 1, 10), (4, 2, 9), (5, 3, 4)]
)
def test_swiglu_matmul_path_equals_conv_modules(kernel, shift, length):
    torch.manual_seed(0)
    ffn = SwiGLUConvDeconv1d(6, 10, kernel, shift)
    x = torch.randn(2, length, 3, 6)
    y = ffn(x)
    torch.testing.assert_close(y, conv_modules_reference(ffn, x), rtol=1e-5, atol=1e-5)
    assert y.shape == x.shape


@pytest.mark.parametrize("length", [2, 3, 9])  # short (block-Toeplitz) and long (hand-written backward) paths
def test_swiglu_gradients_equal_conv_modules(length):
    torch.manual_seed(0)
    ffn = SwiGLUConvDeconv1d(6, 10, 4, 1).double()
    x = torch.randn(2, length, 3, 6, dtype=torch.float64, requires_grad=True)
    dy = torch.randn(2, length, 3, 6, dtype=torch.float64)
    grads = torch.autograd.grad((ffn(x) * dy).sum(), [x] + list(ffn.parameters()))
    expected = torch.autograd.grad((conv_modules_reference(ffn, x) * dy).sum(), [x] + list(ffn.parameters()))
    for g, e in zip(grads, expected):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-10)


def test_swiglu_padding_rule():
    ffn = SwiGLUConvDeconv1d(2, 2, kernel=4, shift=1)
    left, right = ffn.padding(10)
    assert (left, right) == (3, 3)  # Lp = ceil((10 + 6 - 4) / 1) * 1 + 4 = 16
    ffn = SwiGLUConvDeconv1d(2, 2, kernel=4, shift=2)
    assert ffn.padding(9) == (2, 3)  # D = 2, Lp = ceil((9 + 4 - 4) / 2) * 2 + 4 = 14, right = 14 - 9 - 2


@pytest.mark.parametrize("kernel, shift, length", [(1, 1, 7), (2, 1, 7), (2, 1, 2), (3, 3, 9), (3, 2, 7)])
def test_conv_ffn_equals_direct_formula(kernel, shift, length):
    """`ffn_type: conv1d`: conv (no padding) -> SiLU -> transposed conv, positions D//2 .. D//2+L-1 kept."""
    torch.manual_seed(0)
    ffn = ConvDeconv1d(6, 10, kernel, shift).double()
    x = torch.randn(2, length, 3, 6, dtype=torch.float64)
    seqs = x.transpose(1, 2).reshape(6, length, 6).transpose(1, 2)  # [A*R, C, L]
    conv, deconv = ffn.net[0], ffn.net[3]
    h = torch.nn.functional.silu(torch.nn.functional.conv1d(seqs, conv.weight, conv.bias, stride=shift))
    y = torch.nn.functional.conv_transpose1d(h, deconv.weight, deconv.bias, stride=shift)
    offset = (kernel - shift) // 2
    expected = y[..., offset : offset + length].transpose(1, 2).reshape(2, 3, length, 6).transpose(1, 2)
    torch.testing.assert_close(ffn(x), expected, rtol=1e-12, atol=1e-12)
    assert [k for k, _ in ffn.named_parameters()] == ["net.0.weight", "net.0.bias", "net.3.weight", "net.3.bias"]


def test_conv_ffn_refuses_what_cannot_cover_the_sequence():
    with pytest.raises(ValueError, match="conv1d_kernel - conv1d_shift"):
        ConvDeconv1d(6, 10, 4, 1)  # the published crop would be 2 samples short
    with pytest.raises(ValueError, match="does not fit"):
        ConvDeconv1d(6, 10, 3, 3)(torch.randn(1, 10, 1, 6))


def test_speaker_path_has_one_swiglu_ffn_of_the_last_hidden_size():
    rope = RotaryEmbedding(4)
    block = TFLocoformerBlock(rope, rope, rope, emb_dim=8, num_groups=2, n_heads=2, attention_dim=8,
                              ffn_type=["swiglu_conv1d", "conv1d"], ffn_hidden_dim=[12, 20], conv1d_kernel=2,
                              norm_type="layernorm")  # fmt: skip
    assert [type(f).__name__ for f in block.freq_path.ffn] == ["ConvDeconv1d", "SwiGLUConvDeconv1d"]  # reversed
    assert [type(f).__name__ for f in block.spk_path.ffn] == ["SwiGLUConvDeconv1d"]
    assert block.spk_path.ffn[0].hidden == 20
    out = block(torch.randn(1, 2, 5, 7, 8))
    assert out.shape == (1, 2, 5, 7, 8) and torch.isfinite(out).all()


@pytest.mark.parametrize("seq_len", [2, 9])  # the block-Toeplitz short-sequence form and the im2col form
def test_swiglu_ffn_computes_in_the_autocast_dtype(seq_len):
    """Under CPU bfloat16 autocast the FFN's matmuls run in bfloat16 (not float32 behind autocast's back), close to
    the float32 result, with gradients in the parameters' dtype."""
    torch.manual_seed(0)
    ffn = SwiGLUConvDeconv1d(16, 24, kernel=4, shift=1)
    x = torch.randn(2, seq_len, 3, 16, requires_grad=True)
    expected = ffn(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = ffn(x)
    assert y.dtype == torch.bfloat16
    assert (y.float() - expected).abs().max() <= 0.02 * expected.abs().max()
    y.float().sum().backward()
    assert x.grad.dtype == torch.float32 and ffn.conv1d.weight.grad.dtype == torch.float32


@pytest.mark.parametrize("shape", [(3, 9, 5, 16), (2, 2, 40, 16), (40, 6, 1, 16)])  # frame, speaker, freq layouts
def test_swiglu_ffn_inference_in_chunks_equals_at_once(shape, monkeypatch):
    """Inference splits long inputs along a batch axis to bound the hidden activations: the same result."""
    from espnet2.enh.layers import tflocoformer_ops

    torch.manual_seed(0)
    ffn = SwiGLUConvDeconv1d(16, 24, kernel=4, shift=1).eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        whole = ffn(x)
        monkeypatch.setattr(tflocoformer_ops, "INFERENCE_HIDDEN_BYTES", 4096)
        assert tflocoformer_ops.inference_chunks(x, ffn.conv1d.weight) > 1
        chunked = ffn(x)
    torch.testing.assert_close(chunked, whole, rtol=1e-6, atol=1e-6)
    y = ffn(x.requires_grad_())  # training keeps one piece (the backward needs the saved activations)
    torch.testing.assert_close(y.detach(), whole, rtol=1e-6, atol=1e-6)
