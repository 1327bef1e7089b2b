import pytest
import torch

from espnet2.torch_utils.load_pretrained_model import load_pretrained_model


def test_init_param_reads_a_trainer_checkpoint_and_a_sub_module(tmp_path):
    src = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    torch.save({"model": src.state_dict(), "epoch": 3}, tmp_path / "checkpoint.pth")
    dst = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    load_pretrained_model(f"{tmp_path / 'checkpoint.pth'}:1:1", dst)
    torch.testing.assert_close(dst[1].weight, src[1].weight)
    assert not torch.equal(dst[0].weight, src[0].weight)


def test_init_param_names_a_missing_or_unreadable_file(tmp_path):
    model = torch.nn.Linear(2, 2)
    with pytest.raises(FileNotFoundError, match="gone.pth does not exist"):
        load_pretrained_model(str(tmp_path / "gone.pth"), model)
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="text.pth: cannot be read as a weights-only PyTorch checkpoint"):
        load_pretrained_model(str(tmp_path / "text.pth"), model)
