#!/usr/bin/env bash
# Split a list into contiguous parts of (nearly) equal size (Kaldi's split_scp.pl).
#
#   utils/split_scp.sh <in.scp> <out.1.scp> [<out.2.scp> ...]
#
# Part k gets lines in order; sizes differ by at most one. Asking for more parts than the
# list has lines is an error (callers use min(nj, lines) jobs).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "Usage: $0 <in.scp> <out.1.scp> [<out.2.scp> ...]" >&2; exit 1
fi
in=$1; shift
if [ ! -f "${in}" ]; then echo "$0: ${in} does not exist" >&2; exit 1; fi
n=$(wc -l < "${in}")
if [ "$#" -gt "${n}" ]; then
    echo "$0: cannot split ${in} (${n} lines) into $# parts: use at most ${n} jobs" >&2; exit 1
fi
for out in "$@"; do mkdir -p "$(dirname "${out}")"; done
awk -v n="${n}" -v parts="$#" -v outs="$*" '
    BEGIN { split(outs, out, " "); base = int(n / parts); extra = n % parts; k = 1;
            size = base + (k <= extra); count = 0; printf "" > out[1] }
    { if (count == size) { close(out[k]); k++; size = base + (k <= extra); count = 0;
                           printf "" > out[k] }
      print > out[k]; count++ }' "${in}"
