#!/usr/bin/env bash
# Check a Kaldi-style enhancement data directory; name the first bad line.
#
#   utils/validate_data_dir.sh [--num_spk N] [--no_check_files] <data_dir>
#
# See pyscripts/utils/validate_data_dir.py for the checks.
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -n "${TISDISS_PYTHON:-}" ] || . ./path.sh  # run from a recipe directory
exec "${TISDISS_PYTHON}" "${dir}/../pyscripts/utils/validate_data_dir.py" "$@"
