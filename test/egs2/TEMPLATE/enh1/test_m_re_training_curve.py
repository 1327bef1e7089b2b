"""pyscripts/utils/m_re_training_curve.py: SI-SNRi per M_re for every epoch checkpoint, against training time."""

import re

import m_re_training_curve  # pyscripts/utils (test/egs2/conftest.py)
import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet2.enh.inference import SeparateSpeech
from espnet2.enh.metrics import si_snr, si_snr_permutation
from espnet2.enh.presets import preset_config
from espnet2.tasks.enh import EnhancementTask
from test.egs2.recipe_helpers import write_data_dir

# two lines as the trainer writes them (cut), epochs 1 and 2 of a run with 5 updates per epoch
LOG = (
    "[vm] INFO: 1epoch results: [train] iter_time=0.005, forward_time=0.77, loss=0.1, time=0:01:49, total_count=5, "
    "[valid] loss=0.2, time=0:00:11, total_count=2\n"
    "[vm] INFO: 2epoch results: [train] iter_time=0.005, forward_time=0.77, loss=0.1, time=0:02:01, total_count=10, "
    "[valid] loss=0.2, time=0:00:09, total_count=4\n"
)


def make_exp(tmp_path, epochs=(1, 2), log=LOG):
    exp = tmp_path / "exp"
    exp.mkdir()
    config = preset_config("tiny")
    config["encoder_conf"] = dict(config["encoder_conf"], default_fs=8000)
    config["num_iters_per_epoch"] = 5
    (exp / "config.yaml").write_text(yaml.safe_dump(config))
    for epoch in epochs:
        torch.manual_seed(epoch)
        model, _ = EnhancementTask.build_model_from_file(exp / "config.yaml")
        torch.save(model.state_dict(), exp / f"{epoch}epoch.pth")
    if log is not None:
        (exp / "train.log").write_text(log)
    data = tmp_path / "data"
    write_data_dir(data, n=2, fs=8000)
    return exp, data


def direct_si_snri(exp, data, epoch, m_re):
    """The same number computed without the script: SeparateSpeech and the metric, utterance by utterance."""
    separate = SeparateSpeech(exp / "config.yaml", exp / f"{epoch}epoch.pth", m_re=m_re, device="cpu")
    wav = dict(line.split() for line in (data / "wav.scp").read_text().splitlines())
    spk = [dict(line.split() for line in (data / f"spk{j}.scp").read_text().splitlines()) for j in (1, 2)]
    values = []
    for key in sorted(wav):
        mix = sf.read(wav[key])[0]
        ref = np.stack([sf.read(s[key])[0] for s in spk])
        est = np.stack([e[0] for e in separate(mix[None].astype(np.float32))])
        est = est[si_snr_permutation(ref, est)]
        values.append(np.mean(si_snr(ref, est) - si_snr(ref, np.stack([mix, mix]))))
    return float(np.mean(values))


def test_table_and_plot(tmp_path, capsys):
    exp, data = make_exp(tmp_path)
    out = tmp_path / "curve"
    argv = ["--enh_exp", str(exp), "--data_dir", str(data), "--out", str(out), "--m_re_list", "1 2"]
    assert m_re_training_curve.main(argv) == 0
    lines = (tmp_path / "curve.md").read_text().splitlines()
    assert lines[0] == "|epoch|updates|minutes|M_re 1|M_re 2|"
    rows = [line.strip("|").split("|") for line in lines[2:]]
    assert [r[:3] for r in rows] == [["1", "5", "2.0"], ["2", "10", "4.2"]]  # 1:49 + 0:11, then + 2:01 + 0:09
    for r, epoch in zip(rows, (1, 2)):
        for col, m_re in ((3, 1), (4, 2)):
            assert float(r[col]) == pytest.approx(direct_si_snri(exp, data, epoch, m_re), abs=0.006)
    assert rows[0][3] != rows[1][3]  # two different checkpoints were scored
    assert (tmp_path / "curve.png").stat().st_size > 1000


def test_resumed_log_and_epoch_choice(tmp_path):
    # a log that starts at epoch 2 (a resumed run): updates from the log, no cumulative minutes;
    # epoch 1 is not in the log: updates from num_iters_per_epoch
    exp, data = make_exp(tmp_path, log=LOG.splitlines(keepends=True)[1])
    out = tmp_path / "curve"
    m_re_training_curve.main(["--enh_exp", str(exp), "--data_dir", str(data), "--out", str(out), "--m_re_list", "1",
                        "--epochs", "2,1", "--no_plot"])  # fmt: skip
    rows = [line.strip("|").split("|") for line in (tmp_path / "curve.md").read_text().splitlines()[2:]]
    assert [r[:3] for r in rows] == [["2", "10", "-"], ["1", "5", "-"]]
    assert not (tmp_path / "curve.png").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(epochs="3"), "no checkpoint for epoch(s) [3]"),
        (dict(m_re_list="0"), "M_re values >= 1"),
        (dict(m_re_list="x"), "integers"),
        (dict(data_dir="nowhere"), "wav.scp does not exist"),
        (dict(enh_exp="nowhere"), "config.yaml does not exist"),
    ],
)
def test_errors_name_the_option(tmp_path, change, message):
    exp, data = make_exp(tmp_path, epochs=(1,))
    args = dict(enh_exp=str(exp), data_dir=str(data), out=str(tmp_path / "c"), m_re_list="1")
    for key, value in change.items():
        args[key] = value if key not in ("data_dir", "enh_exp") else str(tmp_path / value)
    argv = [x for key, value in args.items() for x in (f"--{key}", value)]
    with pytest.raises(SystemExit, match=re.escape(message)):
        m_re_training_curve.main(argv)


def test_no_epoch_checkpoints(tmp_path):
    exp, data = make_exp(tmp_path, epochs=())
    with pytest.raises(SystemExit, match="keep_nbest_models"):
        m_re_training_curve.main(["--enh_exp", str(exp), "--data_dir", str(data), "--out", str(tmp_path / "c")])
