#!/usr/bin/env bash
# utt2spk (sorted by utterance) -> spk2utt (sorted by speaker), as Kaldi's utt2spk_to_spk2utt.pl.
#
#   utils/utt2spk_to_spk2utt.sh <utt2spk>  > spk2utt
set -euo pipefail
if [ $# -ne 1 ]; then echo "Usage: $0 <utt2spk>" >&2; exit 1; fi
awk '{ if (!($2 in u)) order[n++] = $2; u[$2] = u[$2] " " $1 }
     END { for (i = 0; i < n; i++) print order[i] u[order[i]] }' "$1" | LC_ALL=C sort -k1,1
