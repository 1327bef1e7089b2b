"""pyscripts/utils/compare_adaptive_m_re.py: one table row per fixed M_re and per adaptive threshold."""

import compare_adaptive_m_re  # pyscripts/utils (test/egs2/conftest.py)
import pytest
import torch
import yaml

from espnet2.enh.presets import preset_config
from test.egs2.recipe_helpers import write_data_dir


def test_table_rows(tmp_path, capsys):
    data = tmp_path / "data"
    write_data_dir(data, n=2, fs=8000)
    config = preset_config("tiny")
    config["encoder_conf"] = dict(config["encoder_conf"], default_fs=8000)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    torch.manual_seed(0)
    from espnet2.tasks.enh import EnhancementTask

    model, _ = EnhancementTask.build_model_from_file(tmp_path / "config.yaml")
    torch.save(model.state_dict(), tmp_path / "model.pth")
    options = "--fixed 1 2 --auto_max 3 --thresholds 1e-9 10".split()
    compare_adaptive_m_re.main(["--model_path", str(tmp_path / "model.pth"), "--data_dir", str(data), *options])
    rows = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("| M_re") or line.startswith("| auto")
    ]
    assert len(rows) == 4
    mean_m_re = [float(r.split("|")[2]) for r in rows]
    assert mean_m_re[:2] == [1.0, 2.0]
    assert mean_m_re[2] == 3.0  # a threshold no change meets: refine up to the maximum
    assert mean_m_re[3] == 2.0  # any change meets it: stop at the first comparison


def test_load_set_errors_name_the_file(tmp_path):
    with pytest.raises(SystemExit, match="wav.scp does not exist"):
        compare_adaptive_m_re.load_set(tmp_path)
    data = tmp_path / "data"
    write_data_dir(data, n=2, fs=8000)
    kept, dropped = sorted((data / "spk2.scp").read_text().splitlines())
    (data / "spk2.scp").write_text(kept + "\n")
    with pytest.raises(SystemExit, match=f"spk2.scp has no line for {dropped.split()[0]}"):
        compare_adaptive_m_re.load_set(data)
    # the first utterance alone has its references: loaded
    ((key, mix, refs),) = compare_adaptive_m_re.load_set(data, limit=1)
    assert key == kept.split()[0] and refs.shape == (2, len(mix))
