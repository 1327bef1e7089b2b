import pytest
import torch

from espnet2.enh.separator.tisdiss_separator import TISDiSSSeparator
from test.golden import assert_close_rel, complex_of, load_case

TINY = dict(
    emb_dim=8, attention_dim=8, n_heads=2, num_groups=2, ffn_hidden_dim=[12, 12],
    encoder_repeat_times=2, reconstructor_repeat_times=3,
)  # fmt: skip


def test_golden_separator_main_and_aux(cpu_kernels):
    meta, arrays, state = load_case("tisdiss_small_separator")
    sep = TISDiSSSeparator(input_dim=65, **meta["separator_conf"])
    sep.load_state_dict(state, strict=True)
    sep.eval()
    with torch.no_grad():
        main, _, others = sep(complex_of(arrays, "input"), None, {"return_aux": True})
    assert_close_rel(torch.stack(main, 1), complex_of(arrays, "est"))
    aux = others["aux_speech_pre"]
    assert len(aux) == meta["n_aux"] == 3
    for k, est in enumerate(aux):
        assert_close_rel(torch.stack(est, 1), complex_of(arrays, f"aux{k}"))


def test_eval_mode_decodes_only_main():
    sep = TISDiSSSeparator(input_dim=17, **TINY).eval()
    x = torch.randn(1, 6, 17, dtype=torch.cfloat)
    main, _, others = sep(x, torch.tensor([6]))
    assert "aux_speech_pre" not in others
    with torch.no_grad():
        main_aux, _, _ = sep(x, None, {"return_aux": True})
    torch.testing.assert_close(torch.stack(main, 1), torch.stack(main_aux, 1))


@pytest.mark.parametrize("num_spk", [2, 3])
def test_shapes_and_gradients(num_spk):
    sep = TISDiSSSeparator(input_dim=17, num_spk=num_spk, **TINY).train()
    x = torch.randn(2, 7, 17, dtype=torch.cfloat)
    main, lens, others = sep(x, torch.tensor([7, 7]))
    assert len(main) == num_spk and all(m.shape == (2, 7, 17) and m.is_complex() for m in main)
    aux = others["aux_speech_pre"]
    assert len(aux) == 1 + (3 - 1)  # split output + every refinement repeat but the last
    loss = sum(m.abs().mean() for m in main) + sum(a.abs().mean() for est in aux for a in est)
    loss.backward()
    for name, p in sep.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
            assert p.grad.abs().sum() > 0, f"no gradient reaches {name}"


def test_m_re_changes_depth_not_weights():
    sep = TISDiSSSeparator(input_dim=17, **TINY).eval()
    x = torch.randn(1, 5, 17, dtype=torch.cfloat)
    before = {k: v.clone() for k, v in sep.state_dict().items()}
    steps = dict(sep.iter_refinements(x, 5))
    for m in (1, 4, 5):
        sep.set_m_re(m)
        with torch.no_grad():
            main, _, _ = sep(x, None)
        torch.testing.assert_close(torch.stack(main, 1), torch.stack(steps[m], 1))
    assert sep.reconstructor_repeat_times == 5
    assert all(torch.equal(before[k], v) for k, v in sep.state_dict().items())
    # different depths really differ
    assert not torch.allclose(torch.stack(steps[1], 1), torch.stack(steps[5], 1))


@pytest.mark.parametrize("bad", [0, -1, 2.5, "6", True])
def test_invalid_m_re(bad):
    sep = TISDiSSSeparator(input_dim=17, **TINY)
    with pytest.raises(ValueError, match="M_re"):
        sep.set_m_re(bad)


@pytest.mark.parametrize(
    "option, value",
    [("encoder_decoder", True), ("mask", True), ("spk_spliter_type", "linear"),
     ("reconstructor_repeat_residual_module", True), ("input_type", "bandsplit"), ("spk_path_enable", False)],
)  # fmt: skip
def test_unsupported_ablation_is_refused_by_name(option, value):
    with pytest.raises(ValueError, match=option):
        TISDiSSSeparator(input_dim=17, **TINY, **{option: value})


def test_flagship_ablation_values_and_flash_attention_accepted():
    TISDiSSSeparator(
        input_dim=17, **TINY, flash_attention=True, encoder_decoder=False, encoder_multi_decoder=False,
        encoder_n_layers_multi_decoder=False, reconstructor_repeat_residual_module=False, spk_path_enable=True,
        split_compress=False, mask=False, spk_spliter_type="conv2d", input_type="conv",
    )  # fmt: skip


def test_unknown_option_is_refused():
    with pytest.raises(ValueError, match="reconstructor_repeat_tims"):
        TISDiSSSeparator(input_dim=17, **TINY, reconstructor_repeat_tims=3)


def test_invalid_structure_options():
    with pytest.raises(ValueError, match="num_groups"):
        TISDiSSSeparator(input_dim=17, **{**TINY, "num_groups": 3})
    with pytest.raises(ValueError, match="ffn_type"):
        TISDiSSSeparator(input_dim=17, **TINY, ffn_type=["conv1d", "swiglu_conv1d"])
    with pytest.raises(ValueError, match="reconstructor_n_layers_multi_decoder"):
        TISDiSSSeparator(input_dim=17, **TINY, reconstructor_n_layers=2)


def test_bfloat16_autocast_runs_and_stays_close():
    """The autocast path (bfloat16 matmuls, float32 norms/RoPE) used on CUDA, exercised on the CPU."""
    torch.manual_seed(0)
    sep = TISDiSSSeparator(input_dim=17, **TINY).train()
    x = torch.randn(2, 6, 17, dtype=torch.cfloat)
    ref, _, _ = sep(x, None)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, _, others = sep(x, None)
    assert all(o.dtype == torch.complex64 for o in out)
    for a, b in zip(out, ref):  # bfloat16 keeps ~3 significant digits through every block
        assert (a - b).norm() <= 0.05 * b.norm()
    sum(o.abs().mean() for o in out).backward()
    assert all(p.grad is not None and p.grad.dtype == p.dtype for p in sep.parameters() if p.requires_grad)


@pytest.mark.parametrize("frames", [1, 2, 3])  # fewer frames than the FFN kernel: the short-sequence path
def test_very_short_inputs(frames):
    sep = TISDiSSSeparator(input_dim=17, **TINY).eval()
    with torch.no_grad():
        main, _, _ = sep(torch.randn(2, frames, 17, dtype=torch.cfloat), None)
    assert main[0].shape == (2, frames, 17) and all(torch.isfinite(torch.view_as_real(m)).all() for m in main)
