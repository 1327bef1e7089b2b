"""Segment-wise separation of long recordings with bounded memory.

A recording of N samples is cut into segments of S samples starting every H samples (overlap
O = S - H > 0). Each segment is separated on its own; its J outputs are put in the speaker order
of what has been stitched so far (the permutation with the best summed normalized correlation on
the overlap), and the overlap is cross-faded (raised-cosine ramp). The last segment is shorter
(between O + 1 and S samples) and is not padded; a recording of at most S samples is a single
segment, separated exactly as a whole.

The stitcher consumes the input block by block and gives back finished output as soon as no later
segment can change it, so the memory in use depends on S, not N.
"""

from typing import Callable, List, Optional

import numpy as np

from espnet2.enh.permutation import best_permutation


def overlap_permutation(prev: np.ndarray, cur: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """The speaker order of ``cur`` that matches ``prev`` best.

    Args:
        prev: [J, O] stitched output on the overlap
        cur: [J, O] the new segment's outputs on the overlap
    Returns:
        perm [J] (int): ``cur[perm]`` is in the order of ``prev``. The score of an order is the sum
        over speakers of the normalized correlation; ties (e.g. a silent overlap) keep the order.
    """
    prev = prev.astype(np.float64)
    cur = cur.astype(np.float64)
    norms = np.linalg.norm(prev, axis=1)[:, None] * np.linalg.norm(cur, axis=1)[None, :]
    corr = (prev @ cur.T) / (norms + eps)  # corr[j, k]: prev speaker j vs. cur speaker k
    return best_permutation(corr)[0]


def crossfade_ramp(length: int) -> np.ndarray:
    """[length] raised-cosine ramp rising from near 0 to near 1 (weight of the new segment)."""
    n = np.arange(length, dtype=np.float64) + 0.5
    return (0.5 - 0.5 * np.cos(np.pi * n / length)).astype(np.float32)


class SegmentStitcher:
    """Separate a stream of samples segment by segment and stitch the outputs.

    Usage::

        stitcher = SegmentStitcher(separate_fn, segment=S, hop=H)
        for block in blocks:                 # [n] float32 blocks of any size
            for out in stitcher.feed(block):  # [J, m] finished output
                ...
        for out in stitcher.flush():
            ...

    The outputs concatenated along time have exactly as many samples as the input.

    Args:
        separate_fn: [L] float32 mixture -> [J, L] float32 separated signals
        segment: S, segment length in samples
        hop: H, segment shift in samples (0 < H < S)
    """

    def __init__(self, separate_fn: Callable[[np.ndarray], np.ndarray], segment: int, hop: int):
        if not 0 < hop < segment:
            raise ValueError(
                f"the hop ({hop} samples) must be positive and shorter than the segment "
                f"({segment} samples), so that segments overlap and speakers can be aligned"
            )
        self.separate_fn = separate_fn
        self.segment = segment
        self.hop = hop
        self.overlap = segment - hop
        self.ramp = crossfade_ramp(self.overlap)
        self.buffer = np.zeros(0, dtype=np.float32)  # input from the start of the next segment
        self.tail: Optional[np.ndarray] = None  # [J, O] stitched output not final yet
        self.num_segments = 0

    def _stitch(self, seg: np.ndarray) -> np.ndarray:
        """Separate one segment [L]; returns the stitched output from its start, [J, L]."""
        out = np.asarray(self.separate_fn(seg), dtype=np.float32)
        if out.ndim != 2 or out.shape[1] != seg.shape[0]:
            raise ValueError(f"separate_fn returned shape {out.shape} for a segment of {seg.shape[0]} samples")
        self.num_segments += 1
        if self.tail is None:
            return out
        o = self.overlap
        out = out[overlap_permutation(self.tail, out[:, :o])]
        out[:, :o] = self.tail * (1.0 - self.ramp) + out[:, :o] * self.ramp
        return out

    def feed(self, block: np.ndarray) -> List[np.ndarray]:
        """Add input samples [n]; returns the output blocks [J, m] that are final now."""
        self.buffer = np.concatenate([self.buffer, np.asarray(block, dtype=np.float32).reshape(-1)])
        ready = []
        while self.buffer.shape[0] >= self.segment:
            out = self._stitch(self.buffer[: self.segment])
            ready.append(out[:, : self.hop])
            self.tail = out[:, self.hop :].copy()
            self.buffer = self.buffer[self.hop :]
        return ready

    def flush(self) -> List[np.ndarray]:
        """End of input: separate what is left and return the rest of the output."""
        if self.tail is None:
            # The whole input is shorter than one segment: separate it at once.
            if self.buffer.shape[0] == 0:
                return []
            out = [self._stitch(self.buffer)]
        elif self.buffer.shape[0] > self.overlap:
            # Samples beyond the last segment remain: one last, shorter segment.
            out = [self._stitch(self.buffer)]
        else:
            # The last full segment ended exactly at the end of the input.
            out = [self.tail]
        self.buffer = np.zeros(0, dtype=np.float32)
        self.tail = None
        return out


def separate_long(
    separate_fn: Callable[[np.ndarray], np.ndarray],
    mix: np.ndarray,
    segment: int,
    hop: int,
    num_spk: int,
    progress: Optional[Callable[[int], None]] = None,
) -> np.ndarray:
    """Separate an in-memory recording [N] segment by segment into [J, N].

    Working memory besides the input and the output is bounded by the segment length.

    Args:
        separate_fn: [L] -> [J, L], as for SegmentStitcher
        mix: [N] the recording
        segment, hop: S and H in samples
        num_spk: J
        progress: called with the number of input samples consumed after each block
    """
    stitcher = SegmentStitcher(separate_fn, segment, hop)
    out = np.zeros((num_spk, mix.shape[0]), dtype=np.float32)
    pos = 0

    def put(blocks):
        nonlocal pos
        for b in blocks:
            out[:, pos : pos + b.shape[1]] = b
            pos += b.shape[1]

    for start in range(0, mix.shape[0], segment):
        put(stitcher.feed(mix[start : start + segment]))
        if progress is not None:
            progress(min(start + segment, mix.shape[0]))
    put(stitcher.flush())
    assert pos == mix.shape[0], (pos, mix.shape)
    return out
