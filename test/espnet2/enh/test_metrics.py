"""Tests of espnet2/enh/metrics.py against mir_eval and pystoi on generated signals."""

import logging
import sys
import warnings

import numpy as np
import pytest
from mir_eval.separation import bss_eval_sources as mir_bss_eval_sources
from pystoi import stoi as pystoi_stoi
from scipy.signal import lfilter

from espnet2.enh.metrics import bss_eval_sources, score_utterance, si_snr, si_snr_permutation
from espnet2.utils import optional_import as optional_import_module

FS = 8000


def make_signals(seed=0, n=int(1.5 * FS)):
    """Two speech-like sources (AR noise with an on/off envelope), their mixture and estimates.

    Returns ref [2, N], est [2, N] (estimate of source 1 in row 1, of source 0 in row 0
    swapped, i.e. est = [~s1, ~s0]), mix [N].
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    s0 = lfilter([1.0], [1.0, -0.9], rng.standard_normal(n)) * (1.2 + np.sin(2 * np.pi * 3 * t))
    s1 = lfilter([1.0], [1.0, -0.4, 0.3], rng.standard_normal(n)) * (1.2 + np.cos(2 * np.pi * 2 * t))
    ref = np.stack([s0, s1]) * 0.1
    mix = ref.sum(0)
    est = np.stack(
        [
            lfilter([1.0, 0.3], [1.0], ref[1]) + 0.15 * ref[0] + 0.01 * rng.standard_normal(n),
            0.8 * ref[0] + 0.05 * ref[1] + 0.02 * rng.standard_normal(n),
        ]
    )
    return ref, est, mix


def mir_eval_scores(ref, est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return mir_bss_eval_sources(ref, est, compute_permutation=True)


def test_si_snr_matches_formula_and_is_scale_invariant():
    ref, est, _ = make_signals()
    r = ref[0] - ref[0].mean()
    e = est[1] - est[1].mean()
    target = (e @ r) / (r @ r) * r
    expected = 10 * np.log10((target @ target) / ((e - target) @ (e - target)))
    assert si_snr(ref[0], est[1]) == pytest.approx(expected, abs=1e-6)
    assert si_snr(ref[0], 7.0 * est[1] + 0.3) == pytest.approx(expected, abs=1e-6)
    # A near-perfect estimate scores high, the wrong source scores low.
    assert si_snr(ref[0], ref[0] + 1e-4 * ref[1]) > 70
    assert si_snr(ref[0], ref[1]) < -10


def test_permutation_is_the_best_si_snr():
    ref, est, _ = make_signals()
    np.testing.assert_array_equal(si_snr_permutation(ref, est), [1, 0])
    np.testing.assert_array_equal(si_snr_permutation(ref, est[::-1]), [0, 1])


def test_bss_eval_agrees_with_mir_eval():
    ref, est, _ = make_signals(seed=1)
    sdr, sir, sar = bss_eval_sources(ref, est[[1, 0]])
    m_sdr, m_sir, m_sar, m_perm = mir_eval_scores(ref, est)
    np.testing.assert_array_equal(m_perm, [1, 0])
    np.testing.assert_allclose(sdr, m_sdr, atol=0.01)
    np.testing.assert_allclose(sir, m_sir, atol=0.01)
    np.testing.assert_allclose(sar, m_sar, atol=0.01)


def test_bss_eval_mir_eval_fallback_agrees(monkeypatch, tmp_path, caplog):
    """When fast_bss_eval cannot be imported, whatever it raises, the same numbers come from mir_eval.

    fast_bss_eval 0.1.4 installed without `packaging` fails with a TypeError (an ``except [A, B]``
    clause), not an ImportError: a broken package on sys.path does the same here.
    """
    ref, est, _ = make_signals(seed=2)
    fast = bss_eval_sources(ref, est[[1, 0]])
    broken = tmp_path / "fast_bss_eval"
    broken.mkdir()
    (broken / "__init__.py").write_text(
        "raise TypeError('catching classes that do not inherit from BaseException is not allowed')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "fast_bss_eval" or m.startswith("fast_bss_eval.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(optional_import_module, "_failed", {})
    with caplog.at_level(logging.WARNING):
        slow = bss_eval_sources(ref, est[[1, 0]])
    assert "fast_bss_eval is installed but cannot be imported (TypeError" in caplog.text
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, atol=0.01)


def test_score_utterance_against_references():
    ref, est, mix = make_signals(seed=3)
    scores, perm = score_utterance(ref, est, FS, mix=mix)
    np.testing.assert_array_equal(perm, [1, 0])
    m_sdr, m_sir, m_sar, _ = mir_eval_scores(ref, est)
    np.testing.assert_allclose(scores["SDR"], m_sdr, atol=0.01)
    np.testing.assert_allclose(scores["SIR"], m_sir, atol=0.01)
    np.testing.assert_allclose(scores["SAR"], m_sar, atol=0.01)
    for j in range(2):
        expected_stoi = 100 * pystoi_stoi(ref[j], est[perm[j]], FS)
        assert scores["STOI"][j] == pytest.approx(expected_stoi, abs=1e-6)
        assert scores["SI_SNR"][j] == pytest.approx(si_snr(ref[j], est[perm[j]]), abs=1e-9)
        assert scores["SI_SNRi"][j] == pytest.approx(si_snr(ref[j], est[perm[j]]) - si_snr(ref[j], mix), abs=1e-9)
    m_sdr_mix, _, _, _ = mir_eval_scores(ref, np.stack([mix, mix]))
    np.testing.assert_allclose(scores["SDRi"], m_sdr - m_sdr_mix, atol=0.02)
    assert np.all(scores["SI_SNRi"] > 5)
    assert "PESQ" not in scores
    # The order of the estimates does not matter.
    swapped, perm2 = score_utterance(ref, est[::-1], FS, mix=mix)
    np.testing.assert_array_equal(perm2, [0, 1])
    for metric in scores:
        np.testing.assert_allclose(swapped[metric], scores[metric], atol=1e-9)


def test_score_utterance_rejects_shape_mismatch():
    ref, est, _ = make_signals()
    with pytest.raises(ValueError, match="must both be"):
        score_utterance(ref, est[:, :-1], FS)
