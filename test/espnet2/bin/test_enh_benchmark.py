import torch

from espnet2.bin import enh_benchmark
from espnet2.bin.enh_benchmark import count_flops
from espnet2.enh.layers.tflocoformer import MultiHeadSelfAttention, RotaryEmbedding


def test_attention_flops_are_counted_on_cpu():
    q = torch.randn(3, 2, 10, 8)
    assert count_flops(lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q)) == 4 * 3 * 2 * 10 * 10 * 8


def test_benchmark_prints_one_row_per_m_re(capsys):
    enh_benchmark.main(
        [
            "--preset",
            "tiny",
            "--seconds",
            "0.25",
            "--m_re",
            "1",
            "2",
            "--repeats",
            "1",
            "--train_batch",
            "1",
            "--train_seconds",
            "0.25",
            "--train_repeats",
            "1",
            "--threads",
            "1",
        ]
    )
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        seconds, gflop, ratio = float(cells[1]), float(cells[4]), cells[6]
        assert seconds > 0 and gflop > 0 and ratio.endswith("%")
        assert cells[3].endswith("MiB")  # peak memory measured in a fresh process
    assert float(rows[1].split("|")[5]) > float(rows[0].split("|")[5])  # M_re 2 does more work than M_re 1
    assert "training step (tiny config" in out and "matmul" in out and "# CPU kernels" in out


def test_flops_of_small_heads_include_attention():
    """Small heads run on the fused C kernel, which the counter cannot see: FLOPs are counted on PyTorch's."""
    mhsa = MultiHeadSelfAttention(8, 8, 2, RotaryEmbedding(4)).eval()
    x = torch.randn(3, 10, 8)  # [N, L, C]
    projections = 2 * 3 * 10 * 8 * (24 + 8)
    attention = 4 * 3 * 2 * 10 * 10 * 4
    assert count_flops(lambda: mhsa(x)) == projections + attention
