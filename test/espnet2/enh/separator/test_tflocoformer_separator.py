import torch

from espnet2.enh.separator.tflocoformer_separator import TFLocoformerSeparator
from test.golden import assert_close_rel, complex_of, load_case


def test_golden_tflocoformer(cpu_kernels):
    meta, arrays, state = load_case("tflocoformer_small_separator")
    sep = TFLocoformerSeparator(input_dim=65, **meta["separator_conf"])
    sep.load_state_dict(state, strict=True)
    sep.eval()
    with torch.no_grad():
        est, _, others = sep(complex_of(arrays, "input"), None)
    assert others == {}
    assert_close_rel(torch.stack(est, 1), complex_of(arrays, "est"))


def test_three_speakers_shapes_and_gradients():
    sep = TFLocoformerSeparator(input_dim=9, num_spk=3, n_layers=1, emb_dim=8, attention_dim=8, n_heads=2,
                                num_groups=2, ffn_hidden_dim=[8, 8])  # fmt: skip
    x = torch.randn(2, 5, 9, dtype=torch.cfloat)
    est, _, _ = sep(x, torch.tensor([5, 5]))
    assert len(est) == 3 and est[0].shape == (2, 5, 9)
    sum(e.abs().sum() for e in est).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in sep.parameters() if p.requires_grad)
