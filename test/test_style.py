"""The tree is formatted and linted as pyproject.toml says (ruff, installed by the dev extra)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def ruff(*args):
    try:
        import ruff  # noqa: F401
    except ImportError:
        pytest.fail(
            "ruff is not installed: install the dev extra (pip install -e '.[dev]' or tools/setup_venv.sh --extras dev)"
        )
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True)


def test_ruff_lint_passes():
    p = ruff("check", "--no-cache", ".")
    assert p.returncode == 0, f"ruff check . found problems (fix with `ruff check --fix .`):\n{p.stdout}{p.stderr}"


def test_ruff_format_leaves_the_tree_unchanged():
    p = ruff("format", "--check", "--no-cache", ".")
    assert p.returncode == 0, f"files not formatted (run `ruff format .`):\n{p.stdout}{p.stderr}"
