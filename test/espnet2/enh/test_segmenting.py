"""Tests of espnet2/enh/segmenting.py with a stand-in separator."""

import numpy as np
import pytest

from espnet2.enh.segmenting import SegmentStitcher, crossfade_ramp, overlap_permutation, separate_long

SCALES = np.array([0.3, -0.7], dtype=np.float32)


class ShuffledScaler:
    """Stand-in separator: J scaled copies of the segment, in a random order per segment."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.lengths = []

    def __call__(self, seg):
        self.lengths.append(seg.shape[0])
        order = self.rng.permutation(len(SCALES))
        return SCALES[order, None] * seg[None, :]


def stitched(fn, mix, segment, hop, block):
    st = SegmentStitcher(fn, segment, hop)
    outs = []
    for i in range(0, len(mix), block):
        outs += st.feed(mix[i : i + block])
    outs += st.flush()
    return np.concatenate(outs, axis=1) if outs else np.zeros((2, 0), np.float32)


@pytest.mark.parametrize("n", [0, 500, 1000, 1001, 1300, 1000 + 3 * 600, 5321])
@pytest.mark.parametrize("block", [97, 10000])
def test_speakers_are_aligned_and_length_kept(n, block):
    mix = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    fn = ShuffledScaler(seed=n + block)
    out = stitched(fn, mix, segment=1000, hop=600, block=block)
    assert out.shape == (2, n)
    if n == 0:
        return
    # Whatever order each segment came out in, every output track is one speaker throughout.
    scales = out @ mix / (mix @ mix)
    np.testing.assert_allclose(np.sort(scales), np.sort(SCALES), atol=1e-5)
    for j in range(2):
        np.testing.assert_allclose(out[j], scales[j] * mix, atol=1e-5)
    # Segments: full ones of 1000 samples, the last one between overlap+1 and 1000, never padded.
    assert all(length == 1000 for length in fn.lengths[:-1])
    assert 400 < fn.lengths[-1] <= 1000 or (len(fn.lengths) == 1 and fn.lengths[0] == n)
    expected_segments = 1 if n <= 1000 else int(np.ceil((n - 400) / 600))
    assert len(fn.lengths) == expected_segments


def test_short_input_is_one_exact_call():
    mix = np.arange(700, dtype=np.float32)
    calls = []

    def fn(seg):
        calls.append(seg.copy())
        return np.stack([seg, 2 * seg])

    out = stitched(fn, mix, 1000, 600, block=50)
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], mix)
    np.testing.assert_array_equal(out, np.stack([mix, 2 * mix]))


def test_crossfade_blends_overlaps():
    """Outputs that differ per segment are blended with the raised-cosine ramp on the overlap."""
    mix = np.ones(1600, dtype=np.float32)
    values = iter([1.0, 3.0])

    def fn(seg):
        v = next(values)
        return np.stack([np.full_like(seg, v), np.full_like(seg, -v)])

    out = stitched(fn, mix, 1000, 600, block=1600)
    ramp = crossfade_ramp(400)
    np.testing.assert_allclose(out[0, :600], 1.0)
    np.testing.assert_allclose(out[0, 600:1000], 1.0 * (1 - ramp) + 3.0 * ramp, rtol=1e-6)
    np.testing.assert_allclose(out[0, 1000:], 3.0)
    np.testing.assert_allclose(out[1], -out[0])
    assert ramp[0] < 0.01 and ramp[-1] > 0.99 and np.all(np.diff(ramp) > 0)


def test_overlap_permutation():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 200))
    np.testing.assert_array_equal(overlap_permutation(a, a[[2, 0, 1]] * 5), [1, 2, 0])
    # a silent overlap keeps the order
    np.testing.assert_array_equal(overlap_permutation(np.zeros((2, 50)), np.zeros((2, 50))), [0, 1])


def test_separate_long_equals_streaming():
    mix = np.random.default_rng(1).standard_normal(4321).astype(np.float32)
    seen = []
    out = separate_long(ShuffledScaler(seed=3), mix, 1000, 700, num_spk=2, progress=seen.append)
    ref = stitched(ShuffledScaler(seed=3), mix, 1000, 700, block=123)
    np.testing.assert_array_equal(out, ref)
    assert seen[-1] == 4321


def test_hop_must_leave_an_overlap():
    with pytest.raises(ValueError, match="shorter than the segment"):
        SegmentStitcher(lambda x: x[None], segment=100, hop=100)
