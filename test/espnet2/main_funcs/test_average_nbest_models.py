import torch

from espnet2.main_funcs.average_nbest_models import average_nbest_models
from espnet2.train.reporter import Reporter


def test_average_of_the_n_best_epochs(tmp_path):
    r = Reporter()
    valid = {1: 5.0, 2: 1.0, 3: 4.0, 4: 2.0, 5: 3.0}
    for epoch, v in valid.items():
        r.set_epoch(epoch)
        with r.observe("valid") as sub:
            sub.register({"loss": v, "si_snr": -v})
            sub.next()
        torch.save({"w": torch.full((2,), float(epoch)), "n": torch.tensor(epoch)}, tmp_path / f"{epoch}epoch.pth")

    average_nbest_models(
        tmp_path, r, [("valid", "loss", "min"), ("valid", "si_snr", "max"), ("valid", "acc", "max")], nbest=[1, 3]
    )
    ave3 = torch.load(tmp_path / "valid.loss.ave_3best.pth", weights_only=True)
    # best three by loss: epochs 2, 4, 5
    assert torch.allclose(ave3["w"], torch.full((2,), (2 + 4 + 5) / 3))
    assert ave3["n"].item() == 2  # integer buffers come from the best epoch
    assert (tmp_path / "valid.loss.ave_1best.pth").resolve() == (tmp_path / "2epoch.pth").resolve()
    assert (tmp_path / "valid.loss.ave.pth").resolve() == (tmp_path / "valid.loss.ave_3best.pth").resolve()
    assert (tmp_path / "valid.si_snr.ave_3best.pth").exists()
    assert not list(tmp_path.glob("valid.acc.*"))  # not reported: skipped

    # more best models asked for than epochs: the average of all of them
    average_nbest_models(tmp_path, r, [("valid", "loss", "min")], nbest=10)
    ave = torch.load(tmp_path / "valid.loss.ave.pth", weights_only=True)
    assert torch.allclose(ave["w"], torch.full((2,), 3.0))
