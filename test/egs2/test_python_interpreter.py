"""The recipes run Python only through ${TISDISS_PYTHON}, which path.sh chooses.

A bare `python3` in a recipe script runs whatever Python is first on the user's PATH, often a system
Python without soxr, matplotlib or torch: the script then fails on the user's machine and passes on
one whose system Python happens to have them.
"""

import re
import subprocess
from pathlib import Path

import pytest

from test.egs2.recipe_helpers import REPO, run

# A command word that starts Python: bare python/python3 (or a python script run by its shebang) at
# the start of a command, or as the fall-back of a variable (${PYTHON:-python3}).
COMMAND_START = r"(?:^|[;&|({`]|\$\(|\b(?:then|do|else|exec|time|env)(?=\s))\s*"
BARE_PYTHON = re.compile(COMMAND_START + r"(?:python3?(?:\.\d+)?|[\w./-]+\.py)(?=\s|$|[;&|)`])|:-python3?\}")


def bare_python_calls(text: str):
    """(line number, line) of every bare Python call in a shell script (comments ignored)."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        code = re.sub(r"(^|\s)#.*$", "", line)  # comments (a '#' after a blank or at the start)
        if BARE_PYTHON.search(code):
            found.append((number, line.strip()))
    return found


def recipe_scripts():
    files = subprocess.run(["git", "ls-files", "egs2"], cwd=REPO, capture_output=True, text=True).stdout.split()
    scripts = []
    for name in files:
        path = REPO / name
        if path.is_symlink() or not path.is_file():
            continue
        head = path.read_bytes()[:64]
        if name.endswith(".sh") or head.startswith(b"#!/usr/bin/env bash") or head.startswith(b"#!/bin/bash"):
            scripts.append(path)
    return scripts


@pytest.mark.parametrize(
    "line,bare",
    [
        ('python3 pyscripts/utils/m_re_sweep.py --out "${out}"', True),
        ("    python -m espnet2.bin.enh_train", True),
        ('exec "${PYTHON:-python3}" "${dir}/x.py"', True),
        ("foo && python3 x.py", True),
        ('x=$(python3 -c "print(1)")', True),
        ("local/make_infer_configs.py --out_dir conf", True),
        ('"${TISDISS_PYTHON}" pyscripts/utils/m_re_sweep.py --out "${out}"', False),
        ('"${python}" -m espnet2.bin.enh_train \\', False),
        ("# python3 is not used here", False),
        ('echo "run python3 yourself"', False),
        ('log "Error: see pyscripts/utils/x.py"', False),
        ('"${python}" pyscripts/utils/download_mix_lists.py "${url}"', False),
        ("for x in a; do python3 x.py; done", True),
    ],
)
def test_the_check_finds_bare_calls(line, bare):
    assert bool(bare_python_calls(line)) is bare


def test_no_recipe_script_runs_a_bare_python():
    scripts = recipe_scripts()
    assert len(scripts) > 15  # run.sh, infer_run.sh, enh.sh, utils/, scripts/, local/ of every recipe
    offenders = []
    for path in scripts:
        if path.name == "path.sh":
            continue  # it chooses the interpreter (python3 on PATH is its last resort)
        offenders += [f"{path.relative_to(REPO)}:{n}: {line}" for n, line in bare_python_calls(path.read_text())]
    assert not offenders, 'run Python as "${TISDISS_PYTHON}" (set by path.sh):\n' + "\n".join(offenders)


def fake_tree(tmp_path: Path, with_setup_venv: bool) -> Path:
    """A copy of path.sh at egs2/r/enh1 of a fake toolkit tree, with tools/venv/bin/python if asked."""
    recipe = tmp_path / "egs2" / "r" / "enh1"
    recipe.mkdir(parents=True)
    (recipe / "path.sh").write_text((REPO / "egs2" / "TEMPLATE" / "enh1" / "path.sh").read_text())
    if with_setup_venv:
        python = tmp_path / "tools" / "venv" / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text("#!/bin/sh\n")
        python.chmod(0o755)
    return recipe


def chosen_python(recipe: Path, **env) -> str:
    show = '. ./path.sh && echo "${TISDISS_PYTHON}"'
    unset = {"TISDISS_PYTHON": "", "VIRTUAL_ENV": "", "CONDA_PREFIX": ""}
    return run(["bash", "-c", show], recipe, env={**unset, **env}).stdout.strip()


def test_path_sh_chooses_the_toolkit_python(tmp_path):
    venv = tmp_path / "active"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\n")
    (venv / "bin" / "python").chmod(0o755)
    # 1. the environment made by tools/setup_venv.sh, even with another one active
    recipe = fake_tree(tmp_path / "a", with_setup_venv=True)
    assert chosen_python(recipe, VIRTUAL_ENV=str(venv)) == str(tmp_path / "a" / "tools" / "venv" / "bin" / "python")
    # 2. else the active virtual environment, or conda environment
    recipe = fake_tree(tmp_path / "b", with_setup_venv=False)
    assert chosen_python(recipe, VIRTUAL_ENV=str(venv)) == str(venv / "bin" / "python")
    assert chosen_python(recipe, CONDA_PREFIX=str(venv)) == str(venv / "bin" / "python")
    # 3. else python3 on PATH (here: the tests' shim)
    assert chosen_python(recipe).endswith("/python3")
    # a value set beforehand wins
    assert chosen_python(recipe, TISDISS_PYTHON="/opt/py/bin/python") == "/opt/py/bin/python"


def test_the_shim_names_the_script(tmp_path):
    (tmp_path / "uses_system_python.sh").write_text("#!/usr/bin/env bash\npython3 -c 'print(1)'\n")
    (tmp_path / "uses_system_python.sh").chmod(0o755)
    p = run(["./uses_system_python.sh"], tmp_path, check=False)
    assert p.returncode == 97
    assert "system Python used by" in p.stderr and "uses_system_python.sh" in p.stderr
