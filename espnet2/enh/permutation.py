"""The best assignment of J estimates to J references, from a matrix of pairwise scores.

One solver for every place that needs it: permutation-invariant training (the criterion of each
reference/estimate pair, minimised), scoring (SI-SNR, maximised) and the stitching of long recordings
(correlation on the overlap of two segments, maximised). J is small (2-3 speakers), so every
permutation is tried.
"""

from itertools import permutations
from typing import Tuple, Union

import numpy as np
import torch

Scores = Union[torch.Tensor, np.ndarray]


def all_permutations(num_spk: int, device=None) -> torch.Tensor:
    """[J!, J] long: every permutation of 0..J-1, the identity first (itertools order)."""
    return torch.tensor(list(permutations(range(num_spk))), dtype=torch.long, device=device)


def best_permutation(scores: Scores, maximize: bool = True) -> Tuple[Scores, Scores]:
    """The permutation with the best mean score.

    Args:
        scores: [..., J, J]; ``scores[..., j, k]`` is the score of reference j paired with estimate k
            (a torch tensor or a numpy array; the results are of the same kind).
        maximize: the best is the largest mean (SI-SNR, correlation) or, if False, the smallest (a loss).
    Returns:
        perm: [..., J] long; reference j goes with estimate ``perm[..., j]``. Of equal scores the first
            permutation in itertools order wins (so a tie keeps the identity).
        best: [...] the mean over j of ``scores[..., j, perm[..., j]]``.
    """
    is_numpy = isinstance(scores, np.ndarray)
    t = torch.from_numpy(scores) if is_numpy else scores
    num_spk = t.shape[-1]
    if t.shape[-2] != num_spk:
        raise ValueError(f"expected a square [..., J, J] score matrix, got {tuple(t.shape)}")
    perms = all_permutations(num_spk, t.device)  # [P, J]
    per_perm = t[..., torch.arange(num_spk, device=t.device), perms].mean(dim=-1)  # [..., P]
    best, index = per_perm.max(dim=-1) if maximize else per_perm.min(dim=-1)
    perm = perms[index]
    return (perm.numpy(), best.numpy()) if is_numpy else (perm, best)
