import argparse

import pytest
import torch

from espnet2.tasks.enh import EnhancementTask
from test.golden import assert_close_rel, load_case

PIT_SI_SNR = [
    dict(name="si_snr", conf=dict(eps=1e-7), wrapper="pit", wrapper_conf=dict(weight=1.0, independent_perm=True))
]


def golden_model(name):
    meta, arrays, state = load_case(name)
    stft = dict(n_fft=meta["n_fft"], hop_length=meta["hop_length"])
    args = argparse.Namespace(
        encoder="stft", encoder_conf=stft, decoder="stft", decoder_conf=stft, separator="tisdiss",
        separator_conf=meta["separator_conf"], criterions=PIT_SI_SNR,
        model_conf=dict(normalize_variance=meta["normalize_variance"]),
    )  # fmt: skip
    model = EnhancementTask.build_model(args)
    model.load_state_dict(state, strict=True)
    num_spk = meta["separator_conf"]["num_spk"]
    mix = torch.from_numpy(arrays["mix"])
    refs = {f"speech_ref{j + 1}": torch.from_numpy(arrays[f"ref{j + 1}"]) for j in range(num_spk)}
    return meta, arrays, model, mix, refs


MODEL_CASES = ["tisdiss_small_model", "tisdiss_small_model_oddlen", "tisdiss_published_defaults_model"]

# Values of tisdiss_published_defaults_model (residual refinement with random weights) that no float32
# implementation can match at the golden README's bounds unless it rounds exactly as the published code: fed the
# golden mixture changed by 1e-7 (float32 rounding), the published code itself moves est_mre3 by up to 7.7e-4,
# est_mre5 by up to 4.9e-3 and the main loss by up to 3.5e-5 relative (test_published_defaults_golden_is_ill_conditioned
# shows the same here). The published order of operations (`published_arithmetic`) holds every value to 1e-4
# (outputs) and 1e-5 (losses); the fast paths hold every other value to them.
ILL_CONDITIONED = {
    ("tisdiss_published_defaults_model", "est_mre3"): 2e-3,
    ("tisdiss_published_defaults_model", "est_mre5"): 1e-2,
    ("tisdiss_published_defaults_model", "si_snr_loss"): 1e-4,
    ("tisdiss_published_defaults_model", "si_snr_loss_mainloss"): 1e-4,
}


def tolerance(name: str, key: str, arithmetic: str, bound: float) -> float:
    return bound if arithmetic == "published" else ILL_CONDITIONED.get((name, key), bound)


@pytest.mark.parametrize("name", MODEL_CASES)
def test_golden_inference_every_m_re(name, arithmetic):
    meta, arrays, model, mix, _ = golden_model(name)
    model.eval()
    for m_re in meta["m_re"]:
        model.set_m_re(m_re)
        with torch.no_grad():
            est = torch.stack(model.separate(mix), dim=1)
        key = f"est_mre{m_re}"
        assert est.shape == arrays[key].shape
        assert_close_rel(est, torch.from_numpy(arrays[key]), tolerance(name, key, arithmetic, 1e-4))


@pytest.mark.parametrize("name", MODEL_CASES)
def test_golden_training_loss_of_every_exit(name, arithmetic):
    """The loss of the main and of every auxiliary estimate as the published criterion computes it, and their
    mean; the same in evaluation mode (the published forward returns the exits in both modes)."""
    meta, arrays, model, mix, refs = golden_model(name)
    expected = meta["train_stats"]
    for training in (True, False):
        model.train(training)
        loss, stats, weight = model(mix, None, **refs)
        assert set(stats) == set(expected)
        for key, value in expected.items():
            assert stats[key].item() == pytest.approx(value, rel=tolerance(name, key, arithmetic, 1e-5)), key
        assert loss.item() == pytest.approx(float(arrays["loss"][0]), rel=1e-5)
        exits = [v for k, v in stats.items() if k.startswith("si_snr_loss_aux")] + [stats["si_snr_loss_mainloss"]]
        assert loss.item() == pytest.approx(torch.stack(exits).mean().item(), rel=1e-6)
        assert weight.item() == mix.shape[0]


def test_published_defaults_golden_is_ill_conditioned():
    """Why ILL_CONDITIONED exists: a rounding-sized change of the mixture moves these outputs beyond 1e-4."""
    meta, arrays, model, mix, _ = golden_model("tisdiss_published_defaults_model")
    model.eval()
    model.set_m_re(5)
    with torch.no_grad():
        ref = torch.stack(model.separate(mix), 1)
        moved = []
        for seed in range(3):
            torch.manual_seed(seed)
            est = torch.stack(model.separate(mix * (1 + 1e-7 * torch.randn(mix.shape))), 1)
            moved.append(((est - ref).abs().max() / ref.abs().max()).item())
    assert max(moved) > 1e-3


def test_separate_equals_last_refinement_and_m_re_is_used():
    _, _, model, mix, _ = golden_model("tisdiss_small_model")
    model.eval()
    with torch.no_grad():
        steps = dict(model.iter_refinements(mix, max_m_re=4))
        model.set_m_re(4)
        out4 = model.separate(mix)
    assert sorted(steps) == [1, 2, 3, 4]
    for a, b in zip(out4, steps[4]):
        torch.testing.assert_close(a, b)


def test_silent_input_gives_finite_output():
    _, _, model, _, _ = golden_model("tisdiss_small_model")
    model.eval()
    with torch.no_grad():
        out = model.separate(torch.zeros(1, 800))
    assert all(torch.isfinite(o).all() and o.abs().max() < 1e-5 for o in out)


def test_missing_reference_is_named():
    _, _, model, mix, refs = golden_model("tisdiss_small_model")
    with pytest.raises(ValueError, match="speech_ref2"):
        model(mix, None, speech_ref1=refs["speech_ref1"])


def two_wrappers():
    from espnet2.enh.loss.criterions.time_domain import SISNRLoss, SNRLoss
    from espnet2.enh.loss.wrappers.pit_solver import PITSolver

    return [PITSolver(SISNRLoss(eps=1e-7), weight=1.0, independent_perm=True),
            PITSolver(SNRLoss(), weight=0.5, independent_perm=False)]  # fmt: skip


def test_loss_per_wrapper_is_the_mean_over_exits_and_permutations_follow_the_published_chain():
    """Wrapper w on the main estimate inherits wrapper w-1's permutation; on an auxiliary estimate, the one
    wrapper w found on the main estimate (used without independent_perm)."""
    _, _, model, _, _ = golden_model("tisdiss_small_model")
    model.loss_wrappers = torch.nn.ModuleList(two_wrappers())
    torch.manual_seed(0)
    refs = [torch.randn(2, 400), torch.randn(2, 400)]
    main = [refs[1] + 0.1 * torch.randn(2, 400), refs[0] + 0.1 * torch.randn(2, 400)]  # swapped
    aux = [[refs[0] + 0.3 * torch.randn(2, 400), refs[1] + 0.3 * torch.randn(2, 400)]]  # in order
    loss, stats = model.forward_loss(refs, main, aux)

    def pair(criterion, est, order):  # mean over speakers and batch, reference s against estimate order[s]
        return torch.stack([criterion(refs[s], est[t]) for s, t in enumerate(order)], 1).mean()

    si_snr, snr = model.loss_wrappers[0].criterion, model.loss_wrappers[1].criterion
    expected = {
        "si_snr_loss_mainloss": pair(si_snr, main, [1, 0]), "si_snr_loss_aux0loss": pair(si_snr, aux[0], [0, 1]),
        "snr_loss_mainloss": pair(snr, main, [1, 0]), "snr_loss_aux0loss": pair(snr, aux[0], [1, 0]),  # inherited
    }  # fmt: skip
    for key, value in expected.items():
        torch.testing.assert_close(stats[key], value, msg=key)
    assert stats["si_snr_loss"] == stats["si_snr_loss_mainloss"] and stats["snr_loss"] == stats["snr_loss_mainloss"]
    total = (expected["si_snr_loss_mainloss"] + expected["si_snr_loss_aux0loss"]) / 2 + 0.5 * (
        expected["snr_loss_mainloss"] + expected["snr_loss_aux0loss"]
    ) / 2
    torch.testing.assert_close(loss, total)


def test_only_for_test_criteria_count_in_validation_only():
    from espnet2.enh.loss.criterions.time_domain import SNRLoss
    from espnet2.enh.loss.wrappers.pit_solver import PITSolver

    _, _, model, _, _ = golden_model("tisdiss_small_model")
    wrappers = two_wrappers()
    wrappers[1] = PITSolver(SNRLoss(only_for_test=True), weight=0.5)
    model.loss_wrappers = torch.nn.ModuleList(wrappers)
    refs = [torch.randn(1, 300), torch.randn(1, 300)]
    est = [refs[0] + 0.1, refs[1] - 0.1]
    model.train()
    _, stats = model.forward_loss(refs, est, [])
    assert "snr_loss" not in stats and "si_snr_loss_mainloss" in stats  # an empty exit list is still reported
    model.eval()
    _, stats = model.forward_loss(refs, est, None)
    assert "snr_loss" in stats and "si_snr_loss_mainloss" not in stats  # no exits (e.g. tflocoformer)


def test_duplicate_loss_names_are_refused():
    from espnet2.enh.espnet_model import ESPnetEnhancementModel

    _, _, model, _, _ = golden_model("tisdiss_small_model")
    wrappers = two_wrappers()
    with pytest.raises(ValueError, match="duplicated loss names"):
        ESPnetEnhancementModel(model.encoder, model.separator, model.decoder, loss_wrappers=[wrappers[0], wrappers[0]])
