import os
import signal
import stat
import subprocess
import time

import pytest

from test.egs2.recipe_helpers import TEMPLATE, run, toolkit_env

LOCAL = str(TEMPLATE / "utils" / "run_local.sh")
SLURM = str(TEMPLATE / "utils" / "run_slurm.sh")


def test_local_array_jobs_have_their_own_logs(tmp_path):
    run([LOCAL, "JOB=1:3", "log/x.JOB.log", "echo", "job JOB of 3", "|", "tr", "a-z", "A-Z"], tmp_path)
    for i in (1, 2, 3):
        text = (tmp_path / f"log/x.{i}.log").read_text()
        assert f"JOB {i} OF 3" in text
        assert "# Ended (code 0)" in text
        assert "# Accounting: time=" in text


def test_local_failure_names_the_log(tmp_path):
    p = run([LOCAL, "JOB=1:4", "log/y.JOB.log", "test", "JOB", "-lt", "3"], tmp_path, check=False)
    assert p.returncode == 1
    assert "2 / 4 jobs failed, log is in log/y.3.log" in p.stderr
    assert "# Ended (code 1)" in (tmp_path / "log/y.4.log").read_text()


def test_local_single_job_and_threads(tmp_path):
    run([LOCAL, "--num_threads", "3", "--gpu", "0", "a.log", "echo", "threads=$OMP_NUM_THREADS"], tmp_path)
    assert "threads=3" in (tmp_path / "a.log").read_text()
    p = run([LOCAL, "b.JOB.log", "true"], tmp_path, check=False)
    assert p.returncode == 1 and "contains JOB but no JOB=1:N" in p.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_local_stop_stops_every_job_whole(tmp_path, sig):
    # Ctrl-C (SIGINT) or a kill of the runner stops the jobs with their children: a training must not
    # go on in the background after the recipe stopped.
    cmd = "echo $$ > pid.JOB; sleep 60 & echo $! > child.JOB; wait"
    # as from a terminal: SIGINT at its default (a suite started in the background inherits it ignored, and a shell
    # cannot trap a signal ignored at its start)
    proc = subprocess.Popen([LOCAL, "JOB=1:2", "log/s.JOB.log", "bash", "-c", cmd], cwd=tmp_path, env=toolkit_env(),
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    deadline = time.time() + 10
    while not all((tmp_path / f"child.{i}").exists() for i in (1, 2)) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and "stopped; the logs so far are in log/s.*.log" in err
    pids = {(name, i): int((tmp_path / f"{name}.{i}").read_text()) for name in ("pid", "child") for i in (1, 2)}
    deadline = time.time() + 10  # a loaded machine may take a moment to reap them
    while any(alive(pid) for pid in pids.values()) and time.time() < deadline:
        time.sleep(0.05)
    assert not [key for key, pid in pids.items() if alive(pid)]


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie)."""
    try:
        return "Z" not in open(f"/proc/{pid}/stat").read().split()[2]
    except OSError:
        return False


def test_local_max_jobs_run(tmp_path):
    # At most 2 jobs at a time: each job checks how many marker files exist while it runs.
    cmd = "touch m/JOB; sleep 0.3; ls m | wc -l > n.JOB; rm m/JOB"
    (tmp_path / "m").mkdir()
    run([LOCAL, "--max_jobs_run", "2", "JOB=1:4", "log/z.JOB.log", "bash", "-c", cmd], tmp_path)
    counts = [int((tmp_path / f"n.{i}").read_text()) for i in (1, 2, 3, 4)]
    assert max(counts) <= 2


FAKE_SBATCH = """#!/usr/bin/env bash
# Fake sbatch: record the arguments, then run every array task of the script in turn.
echo "$@" >> "$FAKE_SLURM_LOG"
array=; script=
for a in "$@"; do
  case "$a" in --array=*) array=${a#--array=}; array=${array%%%*} ;; -*) ;; *) script=$a ;; esac
done
rc=0
for i in $(seq ${array%-*} ${array#*-}); do SLURM_ARRAY_TASK_ID=$i bash "$script" || rc=1; done
echo 12345
exit $rc
"""
FAKE_SRUN = """#!/usr/bin/env bash
echo "srun $@" >> "$FAKE_SLURM_LOG"
while [[ $1 == --* ]]; do shift; done
exec "$@"
"""


def fake_slurm(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("srun", FAKE_SRUN)):
        (bindir / name).write_text(text)
        (bindir / name).chmod(stat.S_IRWXU)
    return {"PATH": f"{bindir}:{os.environ['PATH']}", "FAKE_SLURM_LOG": str(tmp_path / "slurm.log")}


def test_slurm_sbatch_array(tmp_path):
    env = fake_slurm(tmp_path)
    run(
        [
            SLURM,
            "--gpu",
            "2",
            "--mem",
            "8G",
            "--partition",
            "gpu",
            "--num_threads",
            "4",
            "JOB=1:3",
            "exp/log/inf.JOB.log",
            "echo",
            "part JOB",
            "threads=$OMP_NUM_THREADS",
        ],
        tmp_path,
        env=env,
    )
    submitted = (tmp_path / "slurm.log").read_text()
    for opt in ("--wait", "--array=1-3", "--gres=gpu:2", "--mem=8G", "--partition=gpu", "--cpus-per-task=4"):
        assert opt in submitted
    for i in (1, 2, 3):
        log = (tmp_path / f"exp/log/inf.{i}.log").read_text()
        assert f"part {i} threads=4" in log and "# Ended (code 0)" in log
    assert (tmp_path / "exp/log/q/inf.sh").is_file()


def test_slurm_srun_and_failure(tmp_path):
    env = fake_slurm(tmp_path)
    p = run(
        [SLURM, "--launcher", "srun", "JOB=1:2", "log/t.JOB.log", "test", "JOB", "-eq", "1"],
        tmp_path,
        env=env,
        check=False,
    )
    assert p.returncode == 1
    assert "job 2 of 1-2 failed" in p.stderr and "log/t.2.log" in p.stderr
    assert (tmp_path / "slurm.log").read_text().count("srun --ntasks=1") == 2


def test_slurm_missing_scheduler(tmp_path):
    env = {"PATH": "/usr/bin:/bin"}
    p = run([SLURM, "x.log", "true"], tmp_path, env=env, check=False)
    assert p.returncode == 1 and "'sbatch' is not installed" in p.stderr
