import re

from test.egs2.recipe_helpers import TEMPLATE, run

SCRIPT = """#!/usr/bin/env bash
set -eu
# not a title: no option follows directly

# General
nj=4            # Number of jobs.
use_gpu=false   # Use a GPU.
# Names
train_set=      # Training set.
help_message="Usage: $0 [options] <dir>"
. ./utils/parse_options.sh
echo "nj=${nj} use_gpu=${use_gpu} train_set=${train_set} rest=$*"
"""


def make(tmp_path):
    (tmp_path / "utils").symlink_to(TEMPLATE / "utils")
    (tmp_path / "s.sh").write_text(SCRIPT)
    (tmp_path / "s.sh").chmod(0o755)
    return tmp_path


def test_sets_options_and_keeps_positional(tmp_path):
    d = make(tmp_path)
    out = run("./s.sh --nj 8 --use-gpu true --train_set=tr_x a b", d).stdout
    assert out.strip() == "nj=8 use_gpu=true train_set=tr_x rest=a b"


def test_help_lists_every_option_with_default_and_titles(tmp_path):
    d = make(tmp_path)
    out = run("./s.sh --nj 3 --help", d).stdout
    assert out.startswith("Usage: ./s.sh [options] <dir>")
    assert re.search(r'--nj\s+\(default: "4"\) Number of jobs\.', out)  # default, not 3
    assert re.search(r'--use_gpu\s+\(default: "false"\) Use a GPU\.', out)
    assert re.search(r'--train_set\s+\(default: ""\) Training set\.', out)
    assert "\nGeneral\n" in out and "\nNames\n" in out
    assert "not a title" not in out and "help_message" not in out


def test_errors_name_the_option(tmp_path):
    d = make(tmp_path)
    p = run("./s.sh --njobs 3", d, check=False)
    assert p.returncode == 1 and "unknown option --njobs" in p.stderr
    p = run("./s.sh --use_gpu yes", d, check=False)
    assert p.returncode == 1 and "--use_gpu takes true or false, got 'yes'" in p.stderr
    p = run("./s.sh --nj", d, check=False)
    assert p.returncode == 1 and "option --nj needs a value" in p.stderr
    p = run("./s.sh --help_message x", d, check=False)
    assert p.returncode == 1 and "unknown option --help_message" in p.stderr


PASS_ON_SCRIPT = """#!/usr/bin/env bash
set -eu
nj=4            # Number of jobs.
help_message="Usage: $0 [options]"
declare -a pass_on=(--first 1)
declare pass_on_help="echo downstream-help"
. ./utils/parse_options.sh
echo "nj=${nj} pass_on=${pass_on[*]} rest=$*"
"""


def test_pass_on_collects_the_unknown_options_in_order(tmp_path):
    d = make(tmp_path)
    (d / "p.sh").write_text(PASS_ON_SCRIPT)
    (d / "p.sh").chmod(0o755)
    out = run("./p.sh --stage 6 --nj 2 --enh_args '--max_epoch 1' --use-gpu true x", d).stdout
    assert out.strip() == "nj=2 pass_on=--first 1 --stage 6 --enh_args --max_epoch 1 --use_gpu true rest=x"
    out = run("./p.sh --help", d).stdout
    assert re.search(r'--nj\s+\(default: "4"\)', out) and "and those of echo:\ndownstream-help" in out
    assert "pass_on" not in out.split("and those of")[0]
