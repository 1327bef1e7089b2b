import itertools

import numpy as np
import torch

from espnet2.enh.permutation import all_permutations, best_permutation


def test_all_permutations_identity_first():
    assert all_permutations(3).tolist() == [list(p) for p in itertools.permutations(range(3))]


def test_best_permutation_against_exhaustive_search():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((5, 3, 3))
    perm, best = best_permutation(scores)
    tperm, tbest = best_permutation(torch.from_numpy(scores), maximize=False)
    for b in range(5):
        means = {p: np.mean([scores[b, j, p[j]] for j in range(3)]) for p in itertools.permutations(range(3))}
        assert tuple(perm[b]) == max(means, key=means.get) and best[b] == max(means.values())
        assert tuple(tperm[b].tolist()) == min(means, key=means.get) and tbest[b] == min(means.values())
    assert isinstance(perm, np.ndarray) and isinstance(tperm, torch.Tensor)


def test_ties_keep_the_identity():
    perm, best = best_permutation(np.zeros((2, 2)))
    assert perm.tolist() == [0, 1] and best == 0
