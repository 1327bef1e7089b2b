"""Active speech level after ITU-T Recommendation P.56, method B.

This is the level the WSJ0-2mix mixing scripts normalise every source to (MATLAB
``activlev(x, fs, 'n')``). The algorithm follows the ITU-T reference implementation
(``sv-p56.c`` of the G.191 Software Tool Library):

1. Envelope: two cascaded first-order smoothers of ``|x|`` with time constant
   ``T = 0.03 s``, ``g = exp(-1 / (T * fs))``::

       p[n] = g * p[n-1] + (1 - g) * |x[n]|
       q[n] = g * q[n-1] + (1 - g) * p[n]

2. Activity: for each of 15 thresholds ``c_j = 2**(j - 15)`` (``j = 0..14``, i.e.
   -90.3 .. -6.0 dBFS for signals in [-1, 1]) a sample counts as active when
   ``q >= c_j`` or when it lies within the hangover ``H = 0.2 s`` after such a sample.
   ``a_j`` is the number of active samples.
3. Level: ``A_j = 10 log10(sum(x**2) / a_j)`` (active level if ``c_j`` were the
   threshold), ``C_j = 20 log10(c_j)``. The active speech level is where the margin
   ``A - C`` falls to ``M = 15.9 dB``, interpolated linearly between the two thresholds
   that enclose it (the reference code bisects the same segment to a tolerance).

The input is expected on the usual float scale (16-bit PCM read as ``int / 32768``):
the thresholds are absolute, as in the standard.
"""

from typing import Tuple

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.signal import lfilter

TIME_CONSTANT = 0.03  # T, seconds
HANGOVER = 0.2  # H, seconds
MARGIN_DB = 15.9  # M, dB
THRESHOLDS = 2.0 ** np.arange(-15, 0)  # c_j, j = 0..14


def envelope(x: np.ndarray, fs: int, time_constant: float = TIME_CONSTANT) -> np.ndarray:
    """Return the P.56 envelope ``q`` [N] of a signal ``x`` [N] (zero initial state)."""
    g = np.exp(-1.0 / (time_constant * fs))
    p = lfilter([1.0 - g], [1.0, -g], np.abs(x))
    return lfilter([1.0 - g], [1.0, -g], p)


def activity_counts(
    q: np.ndarray,
    fs: int,
    thresholds: np.ndarray = THRESHOLDS,
    hangover: float = HANGOVER,
) -> np.ndarray:
    """Count active samples per threshold.

    Args:
        q: envelope [N]
        fs: sampling rate in Hz
        thresholds: c_j [K]
    Returns:
        a_j [K] (int): samples with ``q >= c_j`` at that sample or at one of the
        ``round(H * fs)`` samples before it.
    """
    n_hang = int(hangover * fs + 0.5)
    # Causal running maximum over the window [n - n_hang, n].
    width = n_hang + 1
    qmax = maximum_filter1d(q, size=width, origin=(width - 1) // 2, mode="constant", cval=0.0)
    return (qmax[None, :] >= thresholds[:, None]).sum(axis=1)


def level_from_counts(
    sum_sq: float,
    counts: np.ndarray,
    thresholds: np.ndarray = THRESHOLDS,
    margin_db: float = MARGIN_DB,
) -> float:
    """Active level in dB (power, re 1.0) from the energy and the activity counts.

    Raises:
        ValueError: when the margin never falls to ``margin_db`` inside the threshold
            range (silent, or far too quiet or loud a signal).
    """
    if sum_sq <= 0.0 or counts[0] == 0:
        raise ValueError("the signal is silent: P.56 active level is undefined")
    c_db = 20.0 * np.log10(thresholds)
    a_db = np.full(len(counts), np.inf)
    nz = counts > 0
    a_db[nz] = 10.0 * np.log10(sum_sq / counts[nz])
    delta = a_db - c_db
    if delta[0] <= margin_db:
        raise ValueError(
            f"the signal is too quiet for P.56 (margin {delta[0]:.1f} dB at the lowest "
            f"threshold {c_db[0]:.1f} dB): scale it towards the range [-1, 1]"
        )
    below = np.nonzero(delta <= margin_db)[0]
    if len(below) == 0:
        raise ValueError(
            "the signal is too loud for P.56 (margin above "
            f"{margin_db} dB at every threshold): scale it to the range [-1, 1]"
        )
    j = below[0]
    t = (delta[j - 1] - margin_db) / (delta[j - 1] - delta[j])
    return float(a_db[j - 1] + t * (a_db[j] - a_db[j - 1]))


def active_level(x: np.ndarray, fs: int) -> Tuple[float, float]:
    """ITU-T P.56 method B active speech level.

    Args:
        x: signal [N], float, roughly in [-1, 1]
        fs: sampling rate in Hz
    Returns:
        (level, activity): the active level as a power (mean square over the active
        part, linear, not dB) and the activity factor in [0, 1].
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"expected a 1-D signal, got shape {x.shape}")
    sum_sq = float(np.dot(x, x))
    counts = activity_counts(envelope(x, fs), fs)
    level_db = level_from_counts(sum_sq, counts)
    level = 10.0 ** (level_db / 10.0)
    activity = sum_sq / (len(x) * level)
    return level, float(activity)


def normalize_active_level(x: np.ndarray, fs: int) -> Tuple[np.ndarray, float]:
    """Scale ``x`` [N] to unit active level (0 dB), like MATLAB ``activlev(x, fs, 'n')``.

    Returns:
        (y, level): ``y = x / sqrt(level)`` [N] float64 and the active level of ``x``.
    """
    level, _ = active_level(x, fs)
    return np.asarray(x, dtype=np.float64) / np.sqrt(level), level
