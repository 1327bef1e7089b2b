"""tools/time_published.py: the published separator and this toolkit's timed alternately in fresh processes,
the published seconds written as an enh_benchmark baseline. The official code is not in the repository, so the
test times this toolkit's own separator as the "published" tree (what is checked is the plumbing)."""

import subprocess
import sys

from espnet2.bin.enh_benchmark import load_baseline
from test.egs2.recipe_helpers import REPO

SCRIPT = REPO / "tools" / "time_published.py"


def test_times_both_sides_and_writes_a_baseline(tmp_path):
    out = tmp_path / "baseline.yaml"
    options = "--seconds 0.1 --m_re 1 2 --repeats 1 --train_repeats 1 --rounds 1 --published_allocator tuned".split()
    command = [sys.executable, str(SCRIPT), "--published_repo", str(REPO), "--out", str(out), *options]
    p = subprocess.run(command, capture_output=True, text=True, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    header, *lines = p.stdout.splitlines()
    assert header == "# 2 threads; glibc allocator: published code tuned, this toolkit tuned (as its entry points)"
    assert lines[0].startswith("forward 0.1 s, M_re 1: published ") and "this toolkit" in lines[0]
    assert lines[2].startswith("training step (tiny, batch 4 x 1 s): published ")
    assert "allocator tuned" in out.read_text().splitlines()[0]
    baseline = load_baseline(str(out))
    assert set(baseline["forward"]) == {(0.1, 1), (0.1, 2)}
    assert all(s > 0 for s in baseline["forward"].values()) and baseline["train_step"] > 0


def test_errors(tmp_path):
    p = subprocess.run([sys.executable, str(SCRIPT), "--published_repo", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 1 and "tisdiss_separator.py does not exist" in p.stderr
    p = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True)
    assert p.returncode == 2 and "--published_repo is required" in p.stderr
    # the published code fails to import (a tree whose separator module raises): the error names it
    bad = tmp_path / "bad" / "espnet2" / "enh" / "separator"
    bad.mkdir(parents=True)
    for package in (bad.parents[1], bad.parents[0], bad):  # espnet2, enh, separator
        (package / "__init__.py").write_text("")
    (bad / "tisdiss_separator.py").write_text("import not_a_module_anywhere\n")
    p = subprocess.run(
        [sys.executable, str(SCRIPT), "--published_repo", str(tmp_path / "bad"), "--skip_forward", "--rounds", "1"],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 1 and "the published code failed" in p.stderr and "not_a_module_anywhere" in p.stderr
