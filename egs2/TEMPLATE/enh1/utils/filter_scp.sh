#!/usr/bin/env bash
# Keep the lines of a Kaldi-style file whose first field is listed in an id list.
#
#   utils/filter_scp.sh [--exclude] <id_list> <in_file>  > out_file
#
# <id_list>: ids in its first field (e.g. utt2num_samples). Order of <in_file> is kept.
set -euo pipefail
exclude=0
if [ "${1:-}" = --exclude ]; then exclude=1; shift; fi
if [ $# -ne 2 ]; then
    echo "Usage: $0 [--exclude] <id_list> <in_file>" >&2; exit 1
fi
for f in "$1" "$2"; do [ -f "${f}" ] || { echo "$0: ${f} does not exist" >&2; exit 1; }; done
awk -v ex="${exclude}" 'NR == FNR { keep[$1] = 1; next } (($1 in keep) != ex)' "$1" "$2"
