"""tune_allocator: glibc takes the thresholds (once per process), and every entry point applies them at start-up."""

import platform
import subprocess
import sys

import pytest

import espnet2.bin.enh_inference as enh_inference
import espnet2.bin.separate as separate
import espnet2.tasks.abs_task as abs_task
from espnet2.tasks.enh import EnhancementTask

CHILD = "import sys; from espnet2.utils.allocator import tune_allocator; print(tune_allocator(), tune_allocator())"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt thresholds are glibc's")
@pytest.mark.parametrize("setting, expected", [("1", "True True"), ("0", "False False")])
def test_glibc_takes_the_thresholds_unless_turned_off(setting, expected, monkeypatch):
    monkeypatch.setenv("TISDISS_MALLOPT", setting)
    p = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    assert p.stdout.strip() == expected


@pytest.mark.parametrize(
    "module, main",
    [
        (separate, lambda: separate.main(["--help"])),
        (enh_inference, lambda: enh_inference.main(["--help"])),
        (abs_task, lambda: EnhancementTask.main(cmd=["--help"])),
    ],
    ids=["separate", "enh_inference", "enh_train"],
)
def test_entry_points_tune_the_allocator_first(module, main, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(module, "tune_allocator", lambda: calls.append(1))
    with pytest.raises(SystemExit):
        main()
    assert calls
