# Environment of the recipe scripts (sourced by enh.sh and the job runners).
MAIN_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)

# Use the virtual environment made by tools/setup_venv.sh, if there is one.
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f "${MAIN_ROOT}/tools/venv/bin/activate" ]; then
    # shellcheck disable=SC1091
    . "${MAIN_ROOT}/tools/venv/bin/activate"
fi
# sph2pipe installed by tools/installers/install_sph2pipe.sh
export PATH="${MAIN_ROOT}/tools/sph2pipe:${PATH}"
# The toolkit itself, even when it is not pip-installed.
export PYTHONPATH="${MAIN_ROOT}${PYTHONPATH:+:${PYTHONPATH}}"
export LC_ALL=C
export PYTHONIOENCODING=UTF-8
