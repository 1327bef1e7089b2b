import inspect

import pytest
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
                                num_groups=2, norm_type="rmsgroupnorm", ffn_type=["swiglu_conv1d", "swiglu_conv1d"],
                                ffn_hidden_dim=[8, 8])  # fmt: skip
    x = torch.randn(2, 5, 9, dtype=torch.cfloat)
    est, _, _ = sep(x, torch.tensor([5, 5]))
    assert len(est) == 3 and est[0].shape == (2, 5, 9)
    sum(e.abs().sum() for e in est).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in sep.parameters() if p.requires_grad)


def test_defaults_are_the_published_code_s():
    """MERL's TF-Locoformer defaults; the first two below cannot build there and are refused here."""
    params = inspect.signature(TFLocoformerSeparator).parameters
    defaults = {k: p.default for k, p in params.items() if k != "input_dim"}
    assert defaults == dict(
        num_spk=2, n_layers=6, emb_dim=128, norm_type="rmsgrouporm", num_groups=4, tf_order="ft", n_heads=4,
        flash_attention=False, attention_dim=128, ffn_type="swiglu_conv1d", ffn_hidden_dim=384, conv1d_kernel=4,
        conv1d_shift=1, dropout=0.0, eps=1.0e-5,
    )  # fmt: skip
    with pytest.raises(ValueError, match="norm_type: the published default 'rmsgrouporm' is a misspelling"):
        TFLocoformerSeparator(input_dim=9)
    with pytest.raises(ValueError, match="ffn_type: a single string"):
        TFLocoformerSeparator(input_dim=9, norm_type="rmsgroupnorm")
    with pytest.raises(ValueError, match="ffn_hidden_dim: 384"):
        TFLocoformerSeparator(input_dim=9, norm_type="rmsgroupnorm", ffn_type=["swiglu_conv1d", "swiglu_conv1d"])
    with pytest.raises(TypeError, match="n_layer"):
        TFLocoformerSeparator(input_dim=9, n_layer=6)


def test_tf_locoformer_m_size():
    sep = TFLocoformerSeparator(input_dim=65, norm_type="rmsgroupnorm", ffn_type=["swiglu_conv1d", "swiglu_conv1d"],
                                ffn_hidden_dim=[384, 384])  # fmt: skip
    assert sum(p.numel() for p in sep.parameters()) == 14_975_652
