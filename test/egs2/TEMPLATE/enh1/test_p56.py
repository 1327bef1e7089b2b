import numpy as np
import pytest
from p56 import active_level, normalize_active_level  # egs2/TEMPLATE/enh1/pyscripts/utils


def direct_p56(x, fs):
    """Sample-by-sample transcription of sv-p56.c (ITU-T G.191), bisection included."""
    t, h, m = 0.03, 0.2, 15.9
    c = [2.0 ** (j - 15) for j in range(15)]
    g = np.exp(-1.0 / (fs * t))
    n_hang = int(0.5 + h * fs)
    a = [0] * 15
    hang = [n_hang] * 15
    p = q = sq = 0.0
    for v in x:
        sq += v * v
        p = g * p + (1 - g) * abs(v)
        q = g * q + (1 - g) * p
        for j in range(15):
            if q >= c[j]:
                a[j] += 1
                hang[j] = 0
            if q < c[j] and hang[j] < n_hang:
                a[j] += 1
                hang[j] += 1
    adb = [10 * np.log10(sq / a[j]) if a[j] else 100.0 for j in range(15)]
    cdb = [20 * np.log10(c[j]) for j in range(15)]
    for j in range(1, 15):
        if adb[j] - cdb[j] <= m:
            up_a, up_c, lw_a, lw_c = adb[j], cdb[j], adb[j - 1], cdb[j - 1]
            for _ in range(200):  # bisection on the segment, to a tight tolerance
                mid_a, mid_c = (up_a + lw_a) / 2, (up_c + lw_c) / 2
                if (mid_a - mid_c) - m > 0:
                    lw_a, lw_c = mid_a, mid_c
                else:
                    up_a, up_c = mid_a, mid_c
            level_db = (up_a + lw_a) / 2
            return 10 ** (level_db / 10), sq / (len(x) * 10 ** (level_db / 10))
    raise AssertionError("no crossing")


def speechlike(fs, seconds, seed):
    """Bursts of modulated noise separated by silences (a crude speech stand-in)."""
    rng = np.random.default_rng(seed)
    n = int(fs * seconds)
    x = rng.standard_normal(n) * 0.05
    gate = np.zeros(n)
    pos = 0
    while pos < n:
        on = int(fs * rng.uniform(0.1, 0.4))
        off = int(fs * rng.uniform(0.4, 1.0))
        gate[pos : pos + on] = rng.uniform(0.3, 1.0)
        pos += on + off
    return x * gate + 1e-5 * rng.standard_normal(n)


@pytest.mark.parametrize("fs,seed", [(8000, 0), (16000, 1), (8000, 2)])
def test_matches_direct_computation(fs, seed):
    x = speechlike(fs, 1.5, seed)
    level, activity = active_level(x, fs)
    ref_level, ref_activity = direct_p56(x, fs)
    assert level == pytest.approx(ref_level, rel=1e-9)
    assert activity == pytest.approx(ref_activity, rel=1e-9)
    assert 0.2 < activity < 0.8


def test_steady_tone_is_fully_active():
    fs = 8000
    t = np.arange(fs * 2) / fs
    x = 0.1 * np.sin(2 * np.pi * 440 * t)
    level, activity = active_level(x, fs)
    # Fully active once the envelope has risen (a few ms): level = power 0.1**2 / 2.
    assert level == pytest.approx(0.005, rel=0.02)
    assert activity == pytest.approx(1.0, abs=0.02)


def test_level_ignores_pauses():
    fs = 8000
    t = np.arange(fs) / fs
    tone = 0.1 * np.sin(2 * np.pi * 300 * t)
    x = np.concatenate([tone, np.zeros(2 * fs), tone])
    level, activity = active_level(x, fs)
    # Half the signal is silent: activity is 0.5 plus part of the 0.2 s hangover after
    # each tone; the level is the tone power diluted by those hangover samples only.
    assert 0.5 < activity < 0.6
    assert level * activity == pytest.approx(0.005 / 2, rel=1e-3)  # = mean power
    assert 0.005 * 0.5 / 0.6 < level < 0.005


def test_normalize_gives_unit_active_level():
    fs = 16000
    x = speechlike(fs, 2.0, 3)
    y, level = normalize_active_level(x, fs)
    np.testing.assert_allclose(y * np.sqrt(level), x)
    assert active_level(y, fs)[0] == pytest.approx(1.0, rel=1e-3)
    # Scaling by a power of two moves the envelope by whole threshold steps (6.02 dB):
    # the level scales exactly.
    assert active_level(x / 8, fs)[0] * 64 == pytest.approx(level, rel=1e-9)


def test_silence_is_refused():
    with pytest.raises(ValueError, match="silent"):
        active_level(np.zeros(8000), 8000)
