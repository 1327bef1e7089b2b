import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from espnet2.enh.layers import cpu_kernels
from espnet2.enh.layers import tflocoformer_ops as ops
from espnet2.enh.layers.tflocoformer import MultiHeadSelfAttention, RMSGroupNorm, RotaryEmbedding
from espnet2.enh.layers.tflocoformer_ops import RMSGroupNormFunction
from test.espnet2.enh.conftest import require_cpu_kernels

REPO = Path(__file__).resolve().parents[4]


def reference(qkv: torch.Tensor, rope: RotaryEmbedding, n_heads: int) -> torch.Tensor:
    """RoPE attention along axis 1 of qkv [A, L, R, 3*H*h], written out directly."""
    a, seq_len, r, _ = qkv.shape
    q, k, v = qkv.view(a, seq_len, r, 3, n_heads, -1).permute(3, 0, 2, 4, 1, 5).unbind(0)  # [A, R, H, L, h]
    cos, sin = (t.to(qkv.dtype) for t in rope.cos_sin(seq_len, qkv.device))

    def rotate(x):
        x0, x1 = x[..., 0::2], x[..., 1::2]
        return torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], -1).flatten(-2)

    scores = rotate(q) @ rotate(k).transpose(-1, -2) / q.shape[-1] ** 0.5
    return (scores.softmax(-1) @ v).permute(0, 3, 1, 2, 4).reshape(a, seq_len, r, -1)


def run_kernel(qkv64: torch.Tensor, rope: RotaryEmbedding, n_heads: int, dout64: torch.Tensor):
    qkv = qkv64.detach().float().requires_grad_()
    out = cpu_kernels.rope_attention(qkv, *rope.cos_sin(qkv.shape[1], "cpu"), n_heads)
    (grad,) = torch.autograd.grad(out, qkv, dout64.float())
    return out, grad


def assert_rel_close(actual: torch.Tensor, expected: torch.Tensor, rel: float):
    err = (actual.double() - expected).abs().max() / expected.abs().max()
    assert err < rel, f"max error {err:.2e} relative to the largest magnitude"


@pytest.mark.parametrize(
    "a, seq_len, r, n_heads, head_dim",
    [
        (2, 1, 3, 2, 8),  # one key: softmax is 1
        (4, 2, 5, 2, 8),  # the speaker path (scalar code)
        (2, 3, 2, 1, 4),
        (3, 7, 2, 3, 6),  # any even head dimension (generic code)
        (2, 17, 1, 2, 8),  # one full vector of keys plus a tail
        (1, 65, 3, 2, 8),  # frequency path of the tiny config
        (1, 126, 2, 2, 16),
        (2, 65, 1, 2, 32),  # the flagship's heads (forward: row-major values, query rows in pairs), odd length
        (1, 10, 2, 1, 64),  # even length
        (2, 9, 1, 2, 18),  # values padded to whole vectors
    ],
)
def test_forward_and_gradient_match_direct_formula(a, seq_len, r, n_heads, head_dim):
    require_cpu_kernels()
    torch.manual_seed(0)
    rope = RotaryEmbedding(head_dim)
    qkv = torch.randn(a, seq_len, r, 3 * n_heads * head_dim, dtype=torch.float64, requires_grad=True)
    expected = reference(qkv, rope, n_heads)
    dout = torch.randn_like(expected)
    (expected_grad,) = torch.autograd.grad(expected, qkv, dout)
    out, grad = run_kernel(qkv, rope, n_heads, dout)
    assert out.shape == expected.shape and grad.shape == qkv.shape
    assert_rel_close(out, expected, 2e-6)
    assert_rel_close(grad, expected_grad, 2e-6)


@pytest.mark.parametrize("head_dim", [8, 32])
def test_large_scores_are_as_exact_as_pytorch_in_float32(head_dim):
    """Scores of several hundred (the softmax must subtract the row maximum in both passes): the error, from
    rounding the scores to float32, is no larger than that of PyTorch's float32 computation."""
    require_cpu_kernels()
    torch.manual_seed(1)
    rope = RotaryEmbedding(head_dim)
    scale = 12 * (8 / head_dim) ** 0.25  # scores of the same size for both head dimensions
    qkv = (torch.randn(2, 40, 2, 6 * head_dim, dtype=torch.float64) * scale).requires_grad_()
    expected = reference(qkv, rope, 2)
    dout = torch.randn_like(expected)
    (expected_grad,) = torch.autograd.grad(expected, qkv, dout)
    out, grad = run_kernel(qkv, rope, 2, dout)
    qkv32 = qkv.detach().float().requires_grad_()
    out32 = reference(qkv32, rope, 2)
    (grad32,) = torch.autograd.grad(out32, qkv32, dout.float())

    def rel_err(actual, exact):
        return ((actual.double() - exact).abs().max() / exact.abs().max()).item()

    assert torch.isfinite(out).all() and torch.isfinite(grad).all()
    assert rel_err(out, expected) <= max(2 * rel_err(out32, expected), 1e-6)
    assert rel_err(grad, expected_grad) <= max(2 * rel_err(grad32, expected_grad), 1e-6)


@pytest.mark.parametrize("head_dim", [8, 32])
def test_nan_inputs_give_nan_outputs_as_in_pytorch(head_dim):
    """A diverging model must not be hidden: NaN in a key reaches every row's output, NaN in a gate its unit."""
    require_cpu_kernels()
    rope = RotaryEmbedding(head_dim)
    qkv = torch.randn(1, 20, 1, 6 * head_dim)  # [q | k | v] of 2 heads
    qkv[0, 3, 0, 2 * head_dim + 1] = float("nan")  # key 3 of head 0
    out = cpu_kernels.rope_attention(qkv, *rope.cos_sin(20, "cpu"), 2)
    assert torch.isnan(out[..., :head_dim]).all() and not torch.isnan(out[..., head_dim:]).any()
    h = torch.randn(2, 40)
    h[1, 25] = float("nan")  # gate of unit 5, row 1
    assert torch.isnan(cpu_kernels.swiglu(h)).nonzero().tolist() == [[1, 5]]


def test_thread_count_does_not_change_results():
    require_cpu_kernels()
    torch.manual_seed(0)
    rope = RotaryEmbedding(8)
    qkv = torch.randn(3, 33, 4, 48, dtype=torch.float64)
    dout = torch.randn(3, 33, 4, 16, dtype=torch.float64)
    threads = torch.get_num_threads()
    try:
        results = []
        for n in (1, 2):
            torch.set_num_threads(n)
            results.append(run_kernel(qkv, rope, 2, dout))
    finally:
        torch.set_num_threads(threads)
    for one, two in zip(*results):
        assert torch.equal(one, two)


def test_module_gives_the_same_outputs_and_gradients_on_both_kernels():
    require_cpu_kernels()
    torch.manual_seed(0)
    mhsa = MultiHeadSelfAttention(12, 16, 2, RotaryEmbedding(8)).train()
    x = torch.randn(2, 30, 3, 12)
    dy = torch.randn(2, 30, 3, 12)
    results = []
    for context in (torch.enable_grad(), cpu_kernels.disabled()):
        with context:
            xi = x.clone().requires_grad_()
            out = mhsa(xi)
            grads = torch.autograd.grad(out, [xi, *(p for p in mhsa.parameters() if p.requires_grad)], dy)
        results.append((out, *grads))
    for native, pytorch in zip(*results):
        torch.testing.assert_close(native, pytorch, rtol=1e-5, atol=1e-6)


def test_used_only_where_it_applies():
    require_cpu_kernels()
    small, large, too_large = torch.zeros(1, 4, 1, 48), torch.zeros(1, 4, 1, 96), torch.zeros(1, 4, 1, 3 * 4 * 66)
    assert cpu_kernels.attention_usable(small.requires_grad_(), head_dim=8)
    assert not cpu_kernels.attention_usable(large.requires_grad_(), head_dim=32)  # training, large heads: PyTorch
    assert cpu_kernels.attention_usable(large.detach(), head_dim=32)  # inference: up to 64 ...
    assert cpu_kernels.attention_usable(torch.zeros(1, 2048, 1, 96), head_dim=32)  # ... on sequences of <= 2048
    assert not cpu_kernels.attention_usable(torch.zeros(1, 2049, 1, 96), head_dim=32)
    assert cpu_kernels.attention_usable(torch.zeros(1, 1000, 1, 48), head_dim=8)  # small heads: any length
    assert not cpu_kernels.attention_usable(too_large, head_dim=66)
    assert not cpu_kernels.attention_usable(torch.zeros(1, 4, 1, 48, dtype=torch.float64), head_dim=8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert cpu_kernels.attention_usable(small.detach().bfloat16(), head_dim=8)  # inference under autocast
        assert not cpu_kernels.attention_usable(small.bfloat16().requires_grad_(), head_dim=8)
        assert not cpu_kernels.attention_usable(small.detach().half(), head_dim=8)
    with cpu_kernels.disabled():
        assert not cpu_kernels.attention_usable(small.detach(), head_dim=8)


def test_bfloat16_inference_attention_runs_the_kernel_in_float32():
    """Under autocast the module widens q, k, v to float32 for the kernel: the output equals the float32 kernel's
    on the same bfloat16 projection, and stays within bfloat16 rounding of the float32 module."""
    require_cpu_kernels()
    torch.manual_seed(0)
    mhsa = MultiHeadSelfAttention(64, 64, 2, RotaryEmbedding(32)).eval()
    x = torch.randn(2, 40, 3, 64)
    with torch.inference_mode():
        expected = mhsa(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = mhsa(x)
            qkv = mhsa.qkv(x)
        widened = cpu_kernels.rope_attention(qkv.float(), *mhsa.rope.cos_sin(40, "cpu"), 2)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert torch.equal(out, mhsa.aggregate_heads(widened))
    assert out.dtype == torch.bfloat16
    assert_rel_close(out.float(), expected.double(), 2e-2)


@pytest.mark.parametrize("shape, groups", [((3, 7, 12), 3), ((2, 5, 1, 16), 4), ((40, 128), 4), ((4, 6), 1)])
def test_rms_group_norm_kernel_matches_the_pytorch_function(shape, groups):
    require_cpu_kernels()
    torch.manual_seed(0)
    x = torch.randn(*shape, dtype=torch.float64)
    x.view(-1, shape[-1])[1, : shape[-1] // groups] = 0.0  # an all-zero group: finite gradients
    gamma = torch.linspace(0.5, 2.0, shape[-1], dtype=torch.float64)
    dy = torch.randn(*shape, dtype=torch.float64)
    results = []
    for fn, dtype in ((cpu_kernels.rms_group_norm, torch.float32), (RMSGroupNormFunction.apply, torch.float64)):
        xi, gi = x.to(dtype).requires_grad_(), gamma.to(dtype).requires_grad_()
        y = fn(xi, gi, groups, 1e-5)
        results.append((y, *torch.autograd.grad(y, (xi, gi), dy.to(dtype))))
    for kernel, exact in zip(*results):
        assert kernel.dtype == torch.float32 and torch.isfinite(kernel).all()
        assert_rel_close(kernel, exact, 1e-6)


def test_rms_group_norm_gradients_are_reproducible_with_threads():
    """dgamma sums per-thread partials in thread order: repeated runs agree bit for bit (seeded training repeats)."""
    require_cpu_kernels()
    torch.manual_seed(0)
    x, dy = torch.randn(20000, 16), torch.randn(20000, 16)
    gamma = torch.rand(16).requires_grad_()
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        grads = [torch.autograd.grad(cpu_kernels.rms_group_norm(x, gamma, 4, 1e-5), gamma, dy)[0] for _ in range(5)]
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(g, grads[0]) for g in grads)


def test_rms_group_norm_module_uses_the_kernel_for_float32_only():
    require_cpu_kernels()
    norm = RMSGroupNorm(2, 8)
    assert cpu_kernels.usable(torch.zeros(3, 8), norm.gamma)
    assert not cpu_kernels.usable(torch.zeros(3, 8, dtype=torch.float64), norm.gamma.double())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert norm(torch.randn(3, 8, dtype=torch.bfloat16)).dtype == torch.bfloat16  # PyTorch path


@pytest.mark.parametrize("channels, groups", [(128, 4), (20, 4)])  # whole SIMD vectors per group; a tail only
def test_rms_group_norm_of_bfloat16_in_autocast_inference(channels, groups):
    """The residual stream is bfloat16 under autocast: the kernel normalises it in float32 and rounds once, within
    one bfloat16 step of PyTorch's float32 statistics (RMSGroupNormFunction), and only in inference."""
    require_cpu_kernels()
    torch.manual_seed(0)
    norm = RMSGroupNorm(groups, channels, eps=1e-5)
    norm.gamma.data.uniform_(0.5, 2.0)
    x = (torch.randn(3, 7, channels) * 5).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with torch.inference_mode():
            out = norm(x)
            with cpu_kernels.disabled():
                expected = norm(x)
        assert norm(x).grad_fn is not None  # a gradient is wanted: the differentiable PyTorch path
    assert out.dtype == expected.dtype == torch.bfloat16
    step = expected.float().abs().clamp(min=1e-3) * 2**-7
    assert ((out.float() - expected.float()).abs() <= step).all()
    assert (out != expected).float().mean() < 0.05  # mostly bit-identical


@pytest.mark.parametrize("hidden", [32, 12, 5])  # whole SIMD vectors, vectors and a tail, scalar only
def test_swiglu_gate_matches_formula_forward_and_backward(hidden):
    require_cpu_kernels()
    torch.manual_seed(0)
    h = torch.randn(9, 2 * hidden, dtype=torch.float64) * 4
    du = torch.randn(9, hidden, dtype=torch.float64)
    hh = h.clone().requires_grad_()
    expected = hh[:, :hidden] * torch.nn.functional.silu(hh[:, hidden:])
    (expected_dh,) = torch.autograd.grad(expected, hh, du)
    assert_rel_close(cpu_kernels.swiglu(h.float()), expected.detach(), 1e-6)
    dh, u = cpu_kernels.swiglu_backward(h.float(), du.float())
    assert_rel_close(dh, expected_dh, 1e-6)
    assert_rel_close(u, expected.detach(), 1e-6)


@pytest.mark.parametrize("shape", [(2, 9, 3, 4, 32), (3, 7, 1, 4, 21), (1, 5, 2, 3, 5)])  # vectors, tail, scalar
def test_shifted_sum_kernel_is_pytorchs_sum_and_bias_add(shape):
    """float32: bit-identical to PyTorch's sum over the strided view followed by add_ of the bias; bfloat16: the
    float32 result rounded once."""
    require_cpu_kernels()
    torch.manual_seed(0)
    z = torch.randn(*shape)
    seq_len, bias = shape[1] - shape[3] + 1, torch.randn(shape[4])
    expected = ops._shifted_sum(z, seq_len).add_(bias)
    assert torch.equal(cpu_kernels.shifted_sum(z, seq_len, bias), expected)
    assert torch.equal(cpu_kernels.shifted_sum(z, seq_len), ops._shifted_sum(z, seq_len))
    zb = z.bfloat16()
    expected_bf16 = ops._shifted_sum(zb.float(), seq_len).add_(bias).bfloat16()
    assert torch.equal(cpu_kernels.shifted_sum(zb, seq_len, bias), expected_bf16)
    with pytest.raises(ValueError, match="contiguous"):
        cpu_kernels.shifted_sum(z.transpose(3, 4), seq_len)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("hidden", [32, 12, 5])
def test_swiglu_gate_adds_the_bias_in_place(dtype, hidden):
    """h + bias replaces h (the backward's pre-activation) and the gate reads it: float32 to rounding; bfloat16
    exactly as PyTorch rounds (the sum rounded in h, the gate computed in float32 and rounded once)."""
    require_cpu_kernels()
    torch.manual_seed(0)
    h = (torch.randn(9, 2 * hidden) * 4).to(dtype)
    bias = torch.randn(2 * hidden)
    expected_h = (h.float() + bias).to(dtype)
    expected_u = (expected_h[:, :hidden].float() * torch.nn.functional.silu(expected_h[:, hidden:].float())).to(dtype)
    u = cpu_kernels.swiglu(h, bias)
    assert torch.equal(h, expected_h) and u.dtype == dtype
    if dtype == torch.bfloat16:
        assert torch.equal(u, expected_u)
    else:
        assert_rel_close(u, expected_u.double(), 1e-6)
    h.copy_((torch.randn(9, 2 * hidden) * 4).to(dtype))
    h_before = h.clone()
    assert torch.equal(cpu_kernels.swiglu(h, bias, store_h=False), cpu_kernels.swiglu(h_before.clone(), bias))
    assert torch.equal(h, h_before)  # store_h=False (inference): h is left as it was
    with pytest.raises(ValueError, match="contiguous"):
        cpu_kernels.swiglu(h.t().contiguous().t(), bias)


def test_a_refused_shape_raises_naming_the_kernel_and_its_status():
    require_cpu_kernels()
    cos = sin = torch.ones(3, 33)
    with pytest.raises(ValueError, match="rope_attention_forward .* status 2: .*even and at most 64"):
        cpu_kernels.rope_attention(torch.randn(1, 3, 1, 3 * 66), cos, sin, 1)  # head dimension 66 > 64
    with pytest.raises(ValueError, match="rms_group_norm_forward .* status 2: .*multiple of num_groups"):
        cpu_kernels.rms_group_norm(torch.randn(2, 6), torch.ones(6), 4, 1e-5)  # 6 channels in 4 groups


@pytest.mark.parametrize("status, error", [(1, MemoryError), (2, ValueError), (7, RuntimeError)])
def test_every_non_zero_status_raises(status, error):
    cpu_kernels.check_status(0, "swiglu_forward")
    with pytest.raises(error, match=f"swiglu_forward .* status {status}"):
        cpu_kernels.check_status(status, "swiglu_forward")


PROBE = """
import torch
from espnet2.enh.layers import cpu_kernels
from espnet2.enh.layers.tflocoformer import MultiHeadSelfAttention, RotaryEmbedding
mhsa = MultiHeadSelfAttention(8, 8, 2, RotaryEmbedding(4))
out = mhsa(torch.randn(2, 5, 8))
print(cpu_kernels.attention_usable(torch.zeros(1, 1, 1, 24), 4), tuple(out.shape))
"""


def run_probe(tmp_path: Path, **env) -> subprocess.CompletedProcess:
    env = {**os.environ, "TISDISS_KERNEL_DIR": str(tmp_path / "kernels"), "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=tmp_path)


def test_without_a_compiler_the_model_falls_back_with_a_warning(tmp_path):
    result = run_probe(tmp_path, CC=str(tmp_path / "no-such-cc"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "(2,", "5,", "8)"]
    assert "CPU kernels unavailable" in result.stderr and "no-such-cc" in result.stderr
    assert not list((tmp_path / "kernels").glob("*"))  # no half-written library left behind


def test_switched_off_by_environment(tmp_path):
    result = run_probe(tmp_path, TISDISS_CPU_KERNELS="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"


def test_built_once_into_the_cache_folder_and_reused(tmp_path):
    require_cpu_kernels()
    first = run_probe(tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split()[0] == "True"
    (library,) = (tmp_path / "kernels").glob("*")
    assert library.name.startswith("cpu_kernels_") and library.suffix == ".so"
    stamp = library.stat().st_mtime_ns
    second = run_probe(tmp_path)
    assert second.stdout.split()[0] == "True"
    assert [p.name for p in (tmp_path / "kernels").glob("*")] == [library.name]
    assert library.stat().st_mtime_ns == stamp
