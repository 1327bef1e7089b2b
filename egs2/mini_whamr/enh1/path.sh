# Environment of the recipe scripts: sourced by run.sh, infer_run.sh, enh.sh and local/*.sh.
MAIN_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)

# The toolkit's Python. Every recipe script runs Python as "${TISDISS_PYTHON}", never as a bare
# python3 (which may be a system Python without the toolkit's packages). Chosen here, once:
#   1. TISDISS_PYTHON if it is already set (e.g. exported by a cluster prologue or the tests);
#   2. the environment made by tools/setup_venv.sh (tools/venv);
#   3. the active virtual environment ($VIRTUAL_ENV), else the active conda environment;
#   4. python3 on PATH.
if [ -z "${TISDISS_PYTHON:-}" ]; then
    if [ -x "${MAIN_ROOT}/tools/venv/bin/python" ]; then
        TISDISS_PYTHON=${MAIN_ROOT}/tools/venv/bin/python
    elif [ -n "${VIRTUAL_ENV:-}" ] && [ -x "${VIRTUAL_ENV}/bin/python" ]; then
        TISDISS_PYTHON=${VIRTUAL_ENV}/bin/python
    elif [ -n "${CONDA_PREFIX:-}" ] && [ -x "${CONDA_PREFIX}/bin/python" ]; then
        TISDISS_PYTHON=${CONDA_PREFIX}/bin/python
    else
        TISDISS_PYTHON=$(command -v python3 || echo python3)
    fi
fi
export TISDISS_PYTHON
# sph2pipe installed by tools/installers/install_sph2pipe.sh
export PATH="${MAIN_ROOT}/tools/sph2pipe:${PATH}"
# The toolkit itself, even when it is not pip-installed.
export PYTHONPATH="${MAIN_ROOT}${PYTHONPATH:+:${PYTHONPATH}}"
export LC_ALL=C
export PYTHONIOENCODING=UTF-8
