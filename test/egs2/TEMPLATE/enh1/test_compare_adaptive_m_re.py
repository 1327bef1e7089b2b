"""pyscripts/utils/compare_adaptive_m_re.py: one table row per fixed M_re and per adaptive threshold."""

import importlib.util

import torch
import yaml

from espnet2.enh.presets import preset_config
from test.egs2.recipe_helpers import TEMPLATE, write_data_dir


def load_script():
    path = TEMPLATE / "pyscripts" / "utils" / "compare_adaptive_m_re.py"
    spec = importlib.util.spec_from_file_location("compare_adaptive_m_re", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    load_script().main(["--model_path", str(tmp_path / "model.pth"), "--data_dir", str(data), "--fixed", "1", "2",
                        "--auto_max", "3", "--thresholds", "1e-9", "10"])  # fmt: skip
    rows = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("| M_re") or line.startswith("| auto")
    ]
    assert len(rows) == 4
    mean_m_re = [float(r.split("|")[2]) for r in rows]
    assert mean_m_re[:2] == [1.0, 2.0]
    assert mean_m_re[2] == 3.0  # a threshold no change meets: refine up to the maximum
    assert mean_m_re[3] == 2.0  # any change meets it: stop at the first comparison
