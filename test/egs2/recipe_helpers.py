"""Helpers for the recipe tests: a throw-away recipe directory using the template, data dirs."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np
import soundfile as sf
import yaml

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "egs2" / "TEMPLATE" / "enh1"


# Stands in for python3/python on the PATH of every script the tests start: a script that runs a
# bare python3 (the system Python, which on a user's machine may lack soxr, matplotlib, torch ...)
# fails here with this message instead of passing on a machine whose system Python has them.
PYTHON_SHIM = """#!/bin/sh
caller=$(tr '\\0' ' ' < /proc/$PPID/cmdline 2> /dev/null)
msg="run Python through \\${TISDISS_PYTHON} (set by path.sh)"
echo "system Python used by ${caller:-an unknown script} (${0##*/} $*): $msg" >&2
exit 97
"""


def shim_dir() -> Path:
    """A folder holding the python3/python shim (made once per test session)."""
    d = Path(tempfile.gettempdir()) / f"tisdiss_python_shim_{os.getuid()}"
    d.mkdir(exist_ok=True)
    for name in ("python3", "python"):
        f = d / name
        if not f.exists() or f.read_text() != PYTHON_SHIM:
            tmp = d / f".{name}.{os.getpid()}"
            tmp.write_text(PYTHON_SHIM)
            tmp.chmod(0o755)
            os.replace(tmp, f)
    return d


def toolkit_env(**extra) -> dict:
    """The environment of a script started by a test: the toolkit's Python is this interpreter, given
    as TISDISS_PYTHON (what path.sh would choose), and python3/python on PATH are the shim."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONHOME")}
    env.update(
        PATH=f"{shim_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONPATH=str(REPO),
        TISDISS_PYTHON=sys.executable,
    )
    env.update(extra)
    return env


def run(cmd, cwd, env=None, check=True, system_python=False):
    """Run a command; return CompletedProcess with text stdout/stderr.

    The command gets ``toolkit_env()`` (python3 is the shim), except with ``system_python`` (for
    tools/setup_venv.sh, whose job is to make an environment out of the system Python).
    """
    full_env = dict(os.environ, PYTHONPATH=str(REPO)) if system_python else toolkit_env()
    full_env.update(env or {})
    proc = subprocess.run(cmd, cwd=cwd, shell=isinstance(cmd, str), env=full_env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_recipe(root: Path) -> Path:
    """A recipe directory like egs2/<corpus>/enh1: links to the template, local cmd.sh/path.sh."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("enh.sh", "utils", "scripts", "pyscripts"):
        (root / name).symlink_to(TEMPLATE / name)
    (root / "cmd.sh").write_text(
        'export train_cmd="utils/run_local.sh"\nexport cuda_cmd="utils/run_local.sh"\n'
        'export decode_cmd="utils/run_local.sh"\n'
    )
    (root / "path.sh").write_text("export LC_ALL=C\n")
    return root


def link_recipe(root: Path, recipe: Path, names, db: Optional[str] = None) -> Path:
    """A scratch copy of a recipe at ``root``: ``names`` linked from ``recipe`` (links in it resolved), and
    ``db.sh`` written from ``db`` when given."""
    root.mkdir(parents=True)
    for name in names:
        src = recipe / name
        (root / name).symlink_to(src.resolve() if src.is_symlink() else src)
    if db is not None:
        (root / "db.sh").write_text(db)
    return root


def read_scp(path: Path) -> dict:
    """``{utt_id: value}`` of a Kaldi-style file of two columns."""
    return dict(line.split(maxsplit=1) for line in Path(path).read_text().splitlines())


def resolved_config(recipe: Path, config: str) -> dict:
    """A training config as the trainer resolves it (``enh_train --print_config``, run in ``recipe``)."""
    p = subprocess.run(
        [sys.executable, "-m", "espnet2.bin.enh_train", "--config", config, "--print_config"],
        cwd=recipe,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    return yaml.safe_load(p.stdout)


def write_data_dir(d: Path, n: int = 3, fs: int = 16000, seed: int = 0, lengths=None) -> None:
    """A two-speaker data dir with random audio: wav.scp = spk1 + spk2."""
    rng = np.random.default_rng(seed)
    audio = d / "audio"
    audio.mkdir(parents=True, exist_ok=True)
    rows = {"wav.scp": [], "spk1.scp": [], "spk2.scp": [], "utt2spk": []}
    for i in range(n):
        utt = f"utt{i:02d}"
        length = lengths[i] if lengths else fs // 2 + 100 * i
        s1 = 0.1 * rng.standard_normal(length)
        s2 = 0.1 * rng.standard_normal(length)
        for name, x in (("spk1", s1), ("spk2", s2), ("mix", s1 + s2)):
            sf.write(audio / f"{utt}_{name}.wav", x, fs, subtype="PCM_16")
        rows["wav.scp"].append(f"{utt} {audio / f'{utt}_mix.wav'}")
        rows["spk1.scp"].append(f"{utt} {audio / f'{utt}_spk1.wav'}")
        rows["spk2.scp"].append(f"{utt} {audio / f'{utt}_spk2.wav'}")
        rows["utt2spk"].append(f"{utt} {utt}")
    for name, lines in rows.items():
        (d / name).write_text("\n".join(lines) + "\n")
    (d / "spk2utt").write_text("".join(f"utt{i:02d} utt{i:02d}\n" for i in range(n)))
