"""Separation metrics on arrays: SI-SNR, BSS Eval (SDR, SIR, SAR), STOI, PESQ, and every one of them for one
utterance with the best assignment of estimates to references (``score_utterance``).

``python -m espnet2.bin.enh_scoring`` applies them to scp lists and writes ESPnet's result files.
"""

import warnings
from typing import Dict, Optional, Tuple

import numpy as np
import torch

from espnet2.enh.permutation import best_permutation
from espnet2.utils.optional_import import optional_import

# Order in which metrics are reported (and in which RESULTS.md lists them).
METRICS = ("STOI", "SDR", "SAR", "SIR", "SI_SNR", "SDRi", "SI_SNRi", "PESQ")


def si_snr(ref: np.ndarray, est: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Scale-invariant SNR in dB.

    Args:
        ref: [..., N] reference signals
        est: [..., N] estimates (same shape as ``ref``)
    Returns:
        [...] SI-SNR of each pair, computed in float64 on zero-mean signals:
        ``10 log10(|a s|^2 / |e - a s|^2)`` with ``a = <e, s> / |s|^2``.
    """
    ref = np.asarray(ref, dtype=np.float64)
    est = np.asarray(est, dtype=np.float64)
    ref = ref - ref.mean(axis=-1, keepdims=True)
    est = est - est.mean(axis=-1, keepdims=True)
    scale = np.sum(est * ref, axis=-1, keepdims=True) / (np.sum(ref**2, axis=-1, keepdims=True) + eps)
    target = scale * ref
    noise = est - target
    return 10 * np.log10((np.sum(target**2, axis=-1) + eps) / (np.sum(noise**2, axis=-1) + eps))


def si_snr_permutation(ref: np.ndarray, est: np.ndarray) -> np.ndarray:
    """The assignment of estimates to references with the best mean SI-SNR.

    Args:
        ref: [J, N] references
        est: [J, N] estimates
    Returns:
        perm [J] (int): reference j is matched with ``est[perm[j]]``.
    """
    pair = si_snr(ref[:, None, :], est[None, :, :])  # pair[j, k] = SI-SNR(ref j, est k)
    return best_permutation(pair)[0]


def bss_eval_sources(ref: np.ndarray, est: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BSS Eval v3 SDR, SIR, SAR of ``est[j]`` against ``ref[j]`` (no permutation search).

    Agrees with ``mir_eval.separation.bss_eval_sources(ref, est, compute_permutation=False)``
    to well within 0.01 dB; computed with fast_bss_eval (torch backend, float64), or with
    mir_eval when fast_bss_eval is not installed.

    Args:
        ref: [J, N] references
        est: [J, N] estimates, already in reference order
    Returns:
        sdr, sir, sar: each [J] in dB
    """
    ref = np.asarray(ref, dtype=np.float64)
    est = np.asarray(est, dtype=np.float64)
    fast_bss_eval = optional_import("fast_bss_eval")
    if fast_bss_eval is not None:
        # The torch backend: fast_bss_eval 0.1.4's numpy backend breaks with numpy >= 2.
        sdr, sir, sar = fast_bss_eval.bss_eval_sources(
            torch.from_numpy(ref), torch.from_numpy(est), compute_permutation=False
        )
        return sdr.numpy(), sir.numpy(), sar.numpy()
    mir_eval_separation = optional_import("mir_eval.separation")
    if mir_eval_separation is None:
        raise ImportError("SDR/SIR/SAR need fast_bss_eval (or mir_eval): pip install fast_bss_eval packaging")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        sdr, sir, sar, _ = mir_eval_separation.bss_eval_sources(ref, est, compute_permutation=False)
    return sdr, sir, sar


def stoi(ref: np.ndarray, est: np.ndarray, fs: int) -> float:
    """STOI (pystoi) of one estimate [N] against its reference [N], in percent."""
    pystoi = optional_import("pystoi")
    if pystoi is None:
        raise ImportError("STOI needs pystoi: pip install pystoi")
    return 100.0 * float(pystoi.stoi(ref, est, fs, extended=False))


def pesq_available() -> bool:
    """Whether the optional ``pesq`` package can be imported."""
    return optional_import("pesq") is not None


def pesq_score(ref: np.ndarray, est: np.ndarray, fs: int) -> float:
    """PESQ (``pesq`` package): narrow band at 8 kHz, wide band at 16 kHz."""
    from pesq import pesq

    mode = {8000: "nb", 16000: "wb"}[fs]
    return float(pesq(fs, ref, est, mode))


def score_utterance(
    ref: np.ndarray,
    est: np.ndarray,
    fs: int,
    mix: Optional[np.ndarray] = None,
    use_pesq: bool = False,
) -> Tuple[Dict[str, np.ndarray], np.ndarray]:
    """Every metric of one utterance.

    Args:
        ref: [J, N] reference of each speaker
        est: [J, N] estimates in any order
        fs: sampling rate (Hz)
        mix: [N] the mixture, for the improvements SDRi and SI_SNRi (skipped when None)
        use_pesq: also compute PESQ (fs must be 8000 or 16000)
    Returns:
        scores: metric name -> [J] values in reference order
        perm: [J] int, reference j is scored against ``est[perm[j]]``
    """
    ref = np.asarray(ref, dtype=np.float64)
    est = np.asarray(est, dtype=np.float64)
    if ref.shape != est.shape or ref.ndim != 2:
        raise ValueError(f"references {ref.shape} and estimates {est.shape} must both be [J, N] of one shape")
    perm = si_snr_permutation(ref, est)
    est = est[perm]
    num_spk = ref.shape[0]

    sdr, sir, sar = bss_eval_sources(ref, est)
    scores = {
        "STOI": np.array([stoi(ref[j], est[j], fs) for j in range(num_spk)]),
        "SDR": sdr,
        "SAR": sar,
        "SIR": sir,
        "SI_SNR": si_snr(ref, est),
    }
    if mix is not None:
        mix = np.asarray(mix, dtype=np.float64)
        if mix.shape != ref.shape[1:]:
            raise ValueError(f"mixture {mix.shape} and references {ref.shape} differ in length")
        mix_j = np.broadcast_to(mix, ref.shape).copy()
        sdr_mix, _, _ = bss_eval_sources(ref, mix_j)
        scores["SDRi"] = sdr - sdr_mix
        scores["SI_SNRi"] = scores["SI_SNR"] - si_snr(ref, mix_j)
    if use_pesq:
        scores["PESQ"] = np.array([pesq_score(ref[j], est[j], fs) for j in range(num_spk)])
    return scores, perm
