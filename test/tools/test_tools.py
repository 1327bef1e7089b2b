import os
import shutil
import subprocess
import sys
import tarfile

import pytest

from test.egs2.recipe_helpers import REPO, run

TOOLS = REPO / "tools"


def test_check_install_reports_versions_and_optional_parts():
    p = run([sys.executable, str(TOOLS / "check_install.py")], REPO)
    out = p.stdout
    import numpy
    import torch

    assert f"[x] torch          {torch.__version__}" in out
    assert f"[x] numpy          {numpy.__version__}" in out
    assert "Optional:" in out and "pystoi" in out and "pesq" in out and "tensorboard" in out
    assert "CUDA:" in out and "toolkit: tisdiss" in out
    assert "CPU kernels: built" in out or shutil.which(os.environ.get("CC", "gcc")) is None
    assert "All required parts are installed." in out


def test_setup_venv_prefers_a_local_cpu_wheel(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "torch-9.9.9+cpu-cp311-cp311-linux_x86_64.whl").write_text("")
    env = {"PIP_FIND_LINKS": str(wheels)}
    script = str(TOOLS / "setup_venv.sh")
    out = run(
        [script, "--dry_run", "true", "--venv", str(tmp_path / "v"), "--torch_version", "9.9.9"],
        REPO,
        env=env,
        system_python=True,
    ).stdout
    assert f"+ python3 -m venv {tmp_path / 'v'}" in out
    assert "pip install torch==9.9.9+cpu\n" in out
    assert f"pip install -e {REPO}[train,eval]" in out
    out = run(
        [script, "--dry_run", "true", "--venv", str(tmp_path / "v"), "--torch_version", "9.9.9", "--cuda", "cu126"],
        REPO,
        env=env,
        system_python=True,
    ).stdout
    assert "pip install torch==9.9.9 --index-url https://download.pytorch.org/whl/cu126" in out
    out = run([script, "--dry_run", "true", "--torch_version", "9.9.8"], REPO, env=env, system_python=True).stdout
    assert "--index-url https://download.pytorch.org/whl/cpu" in out  # no local wheel of 9.9.8
    p = run([script, "--cuda", "rocm"], REPO, check=False)
    assert p.returncode == 1 and "--cuda must be cpu or a CUDA tag" in p.stderr
    p = run([script, "--bogus", "1"], REPO, check=False)
    assert p.returncode == 1 and "unknown option --bogus" in p.stderr
    assert '--torch_version (default: "2.13.0")' in run([script, "--help"], REPO).stdout


def test_setup_venv_with_a_python_that_has_no_pip(tmp_path):
    # a fresh machine's python3 often has no pip (Debian without python3-pip): the find-links lookup
    # must not stop the script, and a Python that cannot make environments gets a clear error
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    assert subprocess.run([str(bare / "bin" / "python"), "-m", "pip", "--version"], capture_output=True).returncode
    script = str(TOOLS / "setup_venv.sh")
    out = run([script, "--dry_run", "true", "--python", str(bare / "bin" / "python"), "--venv", str(tmp_path / "v")],
              REPO).stdout  # fmt: skip
    assert f"-m venv {tmp_path / 'v'}" in out and "pip install torch==2.13.0" in out
    fake = tmp_path / "python-without-venv"
    fake.write_text("#!/bin/sh\necho 'No module named venv' >&2\nexit 1\n")
    fake.chmod(0o755)
    p = run([script, "--python", str(fake), "--venv", str(tmp_path / "w")], REPO, check=False)
    assert p.returncode == 1 and "cannot make environments" in p.stderr and "python3-venv" in p.stderr
    assert not (tmp_path / "w").exists()


@pytest.mark.skipif(subprocess.run(["which", "gcc"], capture_output=True).returncode != 0, reason="no C compiler")
def test_sph2pipe_installer_builds_from_a_tarball(tmp_path):
    src = tmp_path / "sph2pipe-2.5"
    src.mkdir()
    (src / "sph2pipe.c").write_text(
        '#include <stdio.h>\nint helper(void);\nint main(void) { printf("sph2pipe %d\\n", helper()); return 0; }\n'
    )
    (src / "file_headers.c").write_text("int helper(void) { return 25; }\n")
    with tarfile.open(tmp_path / "src.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="sph2pipe-2.5")
    installer = str(TOOLS / "installers" / "install_sph2pipe.sh")
    run([installer, "--tarball", str(tmp_path / "src.tar.gz"), "--prefix", str(tmp_path / "bin")], REPO)
    assert (
        subprocess.run([str(tmp_path / "bin" / "sph2pipe")], capture_output=True, text=True).stdout == "sph2pipe 25\n"
    )
    p = run([installer, "--tarball", str(tmp_path / "nope.tar.gz")], REPO, check=False)
    assert p.returncode == 1 and "does not exist" in p.stderr
    os.remove(src / "sph2pipe.c")
    with tarfile.open(tmp_path / "bad.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="x")
    p = run([installer, "--tarball", str(tmp_path / "bad.tar.gz"), "--prefix", str(tmp_path / "b2")], REPO, check=False)
    assert p.returncode == 1 and "holds no sph2pipe.c" in p.stderr
