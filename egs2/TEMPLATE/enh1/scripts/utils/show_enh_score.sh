#!/usr/bin/env bash
# Print the scores of enhancement experiments as markdown (RESULTS.md); see
# pyscripts/utils/show_enh_score.py.
#
#   scripts/utils/show_enh_score.sh [--metrics "STOI SAR SDR SIR SI_SNR SI_SNRi"] <exp_dir>...
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -n "${TISDISS_PYTHON:-}" ] || . ./path.sh  # run from a recipe directory
exec "${TISDISS_PYTHON}" "${dir}/../../pyscripts/utils/show_enh_score.py" "$@"
