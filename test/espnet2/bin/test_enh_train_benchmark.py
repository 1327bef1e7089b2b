import io
import re
from contextlib import redirect_stdout

from espnet2.bin import enh_train_benchmark
from test.espnet2.train.tiny_enh_data import write_config


def test_benchmark_reports_speed_and_data_wait_share(tmp_path):
    config = write_config(tmp_path / "tiny.yaml")
    out = io.StringIO()
    with redirect_stdout(out):
        r = enh_train_benchmark.main(
            [
                "--config",
                str(config),
                "--steps",
                "3",
                "--warmup_steps",
                "1",
                "--num_utts",
                "8",
                "--utt_seconds",
                "0.15",
                "--batch_size",
                "2",
                "--speech_segment",
                "800",
                "--num_workers",
                "2",
            ]  # fmt: skip
        )
    assert r["steps"] == 3
    assert r["steps_per_sec"] > 0 and abs(r["step_time"] * r["steps_per_sec"] - 1) < 1e-6
    assert 0 <= r["data_wait_share"] < 1
    line = out.getvalue()
    assert re.search(
        r"steps/s: [0-9.]+ .* = [0-9.]+% of step time +\(3 steps, batch 2, segment 800, 2 workers\)", line
    ), line
