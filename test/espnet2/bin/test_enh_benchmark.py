import pytest
import torch

from espnet2.bin import enh_benchmark
from espnet2.bin.enh_benchmark import count_flops
from espnet2.enh.layers.tflocoformer import MultiHeadSelfAttention, RotaryEmbedding


def test_attention_flops_are_counted_on_cpu():
    q = torch.randn(3, 2, 10, 8)
    assert count_flops(lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q)) == 4 * 3 * 2 * 10 * 10 * 8


def test_benchmark_prints_one_row_per_m_re_and_path(capsys, tmp_path):
    baseline = tmp_path / "published.yaml"
    baseline.write_text("source: the official code, timed the same way\nforward: {0.25: {1: 0.5}}\ntrain_step: 2.0\n")
    enh_benchmark.main(
        ["--preset", "tiny", "--seconds", "0.25", "--m_re", "1", "2", "--repeats", "1", "--train_batch", "1",
         "--train_seconds", "0.25", "--train_repeats", "1", "--threads", "1", "--dtypes", "float32", "bfloat16",
         "--baseline", str(baseline)]
    )  # fmt: skip
    out = capsys.readouterr().out
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines() if line.startswith("| 0.25 |")]
    assert [(r[1], r[2]) for r in rows] == [
        ("1", "float32"), ("2", "float32"), ("1", "bfloat16"), ("2", "bfloat16"),
        ("1", "published order, float32"), ("2", "published order, float32"),
    ]  # fmt: skip
    published = {r[1]: float(r[3]) for r in rows[4:]}
    for r in rows[:4]:
        seconds, gflop, share = float(r[3]), float(r[6]), r[8]
        assert seconds > 0 and gflop > 0 and share.endswith("%")
        assert r[5].endswith("MiB")  # peak memory measured in a fresh process
        assert float(r[9][:-1]) == pytest.approx(published[r[1]] / seconds, rel=0.05)  # the same run's published order
    assert float(rows[1][6]) > float(rows[0][6])  # M_re 2 does more work than M_re 1
    assert float(rows[0][10][:-1]) == pytest.approx(0.5 / float(rows[0][3]), rel=0.05)
    assert rows[1][10] == "-"  # the baseline has M_re 1 only
    assert "training step (tiny config" in out and "published order of operations)" in out
    assert "baseline 2.000 s" in out and "float32 matmul" in out and "bfloat16 matmul" in out


def test_a_baseline_file_of_another_shape_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("forward: [1, 2]\n")
    with pytest.raises(ValueError, match="bad.yaml"):
        enh_benchmark.load_baseline(str(bad))
    bad.write_text("forwards: {}\n")
    with pytest.raises(ValueError, match="expected the keys"):
        enh_benchmark.load_baseline(str(bad))


def test_flops_of_small_heads_include_attention():
    """Small heads run on the fused C kernel, which the counter cannot see: FLOPs are counted on PyTorch's."""
    mhsa = MultiHeadSelfAttention(8, 8, 2, RotaryEmbedding(4)).eval()
    x = torch.randn(3, 10, 8)  # [N, L, C]
    projections = 2 * 3 * 10 * 8 * (24 + 8)
    attention = 4 * 3 * 2 * 10 * 10 * 4
    assert count_flops(lambda: mhsa(x)) == projections + attention
