#!/usr/bin/env bash
# Make a Python virtual environment with PyTorch and this toolkit.
#
#   tools/setup_venv.sh                       # tools/venv, CPU torch
#   tools/setup_venv.sh --cuda cu126          # CUDA 12.6 torch wheels
#   tools/setup_venv.sh --venv /path/to/venv --torch_version 2.6.0
#
# The CPU build of torch comes first, so that installing the toolkit does not pull the
# multi-GB CUDA build from PyPI: a "+cpu" wheel of --torch_version found in pip's
# --find-links directories (pip config / PIP_FIND_LINKS) is used as it is; otherwise the
# wheel comes from the PyTorch index for the chosen build (--torch_index). Then the toolkit is
# installed in editable mode with its training and evaluation extras. The recipes' path.sh
# runs Python from tools/venv when it exists (for an environment elsewhere, activate it or set
# TISDISS_PYTHON). Finally tools/check_install.py reports what is there.
set -euo pipefail

python=python3           # Python used to create the environment (3.9 or newer).
venv=                    # Where to create it (default: tools/venv).
torch_version=2.13.0     # torch version.
cuda=cpu                 # cpu, or a CUDA wheel tag: cu118, cu121, cu124, cu126, ...
torch_index=             # Index for the torch wheel (default: https://download.pytorch.org/whl/<cuda>).
extras=train,eval        # Extras of the toolkit (train: tensorboard, matplotlib, pyroomacoustics; eval: pystoi, fast_bss_eval; dev: pytest...).
dry_run=false            # Print the commands instead of running them.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
help_message="Usage: $0 [options]"
while [ $# -gt 0 ]; do
    case "$1" in
        --help|-h)
            echo "${help_message}"
            sed -n '/^python=/,/^dry_run=/p' "$0" | sed -E 's/^([a-z_]+)=([^ ]*) +# (.*)$/  --\1 (default: "\2") \3/'
            exit 0 ;;
        --python|--venv|--torch_version|--cuda|--torch_index|--extras|--dry_run)
            [ $# -ge 2 ] || { echo "$0: $1 needs a value" >&2; exit 1; }
            declare "${1#--}=$2"; shift 2 ;;
        *) echo "$0: unknown option $1 (see --help)" >&2; exit 1 ;;
    esac
done
[ -z "${venv}" ] && venv=${root}/tools/venv
case "${cuda}" in
    cpu|cu[0-9]*) ;;
    *) echo "$0: --cuda must be cpu or a CUDA tag such as cu126, got '${cuda}'" >&2; exit 1 ;;
esac

run() {
    echo "+ $*"
    if ! ${dry_run}; then "$@"; fi
}

if [ ! -x "${venv}/bin/python" ]; then
    if ! run "${python}" -m venv "${venv}"; then
        echo "$0: '${python} -m venv ${venv}' failed: this Python cannot make environments (Debian/Ubuntu:" \
            "apt-get install python3-venv), or give another Python with --python" >&2
        exit 1
    fi
fi

# A local "+<build>" wheel of torch in pip's find-links directories? pip's configuration is read by the
# environment's pip (the system Python may have no pip at all; with --dry_run there may be no environment).
local_wheel=
config_python=${venv}/bin/python
[ -x "${config_python}" ] || config_python=${python}
links=$({ "${config_python}" -m pip config list 2> /dev/null || true; } | sed -n "s/^.*find-links='\(.*\)'$/\1/p")
for d in ${PIP_FIND_LINKS:-} ${links}; do
    d=${d#file://}
    for w in "${d}"/torch-"${torch_version}"+"${cuda}"-*.whl; do
        [ -f "${w}" ] && { local_wheel=${w}; break 2; }
    done
done

pip=("${venv}/bin/python" -m pip)
if [ -n "${local_wheel}" ]; then
    echo "Using the local wheel ${local_wheel}"
    run "${pip[@]}" install "torch==${torch_version}+${cuda}"
else
    [ -z "${torch_index}" ] && torch_index=https://download.pytorch.org/whl/${cuda}
    run "${pip[@]}" install "torch==${torch_version}" --index-url "${torch_index}"
fi
run "${pip[@]}" install -e "${root}[${extras}]"
run "${venv}/bin/python" "${root}/tools/check_install.py"
echo "Done. The recipes use it by themselves (path.sh runs Python from tools/venv); for your own shell: . ${venv}/bin/activate"
