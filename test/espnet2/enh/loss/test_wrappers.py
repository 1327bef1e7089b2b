import torch

from espnet2.enh.loss.criterions.time_domain import SISNRLoss
from espnet2.enh.loss.wrappers.fixed_order import FixedOrderSolver
from espnet2.enh.loss.wrappers.pit_solver import PITSolver


def test_pit_finds_the_permutation_of_swapped_references():
    torch.manual_seed(0)
    refs = [torch.randn(4, 800) for _ in range(3)]
    order = [[2, 0, 1], [0, 1, 2], [1, 2, 0], [2, 1, 0]]  # estimate t of utterance b is reference order[b][t]
    ests = [torch.stack([refs[order[b][t]][b] + 0.05 * torch.randn(800) for b in range(4)]) for t in range(3)]
    loss, stats, others = PITSolver(SISNRLoss())(refs, ests)
    perm = others["perm"]
    for b in range(4):
        for s in range(3):  # reference s is matched with the estimate t that holds it
            assert order[b][perm[b, s].item()] == s
    fixed, _, _ = FixedOrderSolver(SISNRLoss())(refs, ests)
    assert loss < -20 and fixed > loss + 20
    assert torch.equal(stats["si_snr_loss"], loss.detach())


def test_pit_reuses_given_permutation_when_not_independent():
    torch.manual_seed(0)
    refs = [torch.randn(2, 100) for _ in range(2)]
    ests = [refs[1] + 0.01, refs[0] + 0.01]
    forced = torch.tensor([[0, 1], [0, 1]])
    loss_forced, _, others = PITSolver(SISNRLoss(), independent_perm=False)(refs, ests, {"perm": forced})
    loss_best, _, best = PITSolver(SISNRLoss(), independent_perm=True)(refs, ests, {"perm": forced})
    assert torch.equal(others["perm"], forced)
    assert torch.equal(best["perm"], torch.tensor([[1, 0], [1, 0]]))
    assert loss_forced > loss_best + 20
