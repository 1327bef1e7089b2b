#!/usr/bin/env bash
# mini_2mix data preparation (stage 1 of enh.sh): mix the committed corpus by its
# WSJ0-2mix style lists (corpus/lists/mix_2_spk_{tr,cv,tt}.txt) with the same P.56 mixing
# code as WSJ0-2mix, into data/{tr,cv,tt}.
set -e
set -u
set -o pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

min_or_max=min          # min (cut to the shorter source) or max (zero-pad to the longer).
sample_rate=8k          # 8k (the corpus rate) or 16k (upsampled).
mix_dir=data/local/mix  # Mixtures go to <mix_dir>/{tr,cv,tt}/{mix,s1,s2}.
num_train=              # Use only the first N training mixtures (default: all).
num_valid=              # Use only the first N validation mixtures (default: all).
num_test=               # Use only the first N test mixtures (default: all).
nj=2                    # Parallel processes.
redo=false              # Redo the mixtures made before (else skipped: see utils/done_marker.sh).
python=                 # Python interpreter (default: ${TISDISS_PYTHON}, from path.sh).

help_message="Usage: $0 [options]
Makes data/{tr,cv,tt} from the mini_2mix corpus (MINI_2MIX= in db.sh)."

. ./db.sh
. ./path.sh
. utils/parse_options.sh
. utils/done_marker.sh
[ -z "${python}" ] && python=${TISDISS_PYTHON}

for x in tr cv tt; do
    list="${MINI_2MIX}/lists/mix_2_spk_${x}.txt"
    if [ ! -f "${list}" ]; then
        log "Error: ${list} does not exist: MINI_2MIX in db.sh must point at the corpus"
        exit 1
    fi
    case "${x}" in tr) n=${num_train} ;; cv) n=${num_valid} ;; tt) n=${num_test} ;; esac
    if [ -n "${n}" ]; then
        mkdir -p data/local
        head -n "${n}" "${list}" > "data/local/mix_2_spk_${x}.txt"
        list="data/local/mix_2_spk_${x}.txt"
    fi
    _what="list=$(md5sum < "${list}" | cut -d' ' -f1) fs=${sample_rate} mode=${min_or_max} corpus=${MINI_2MIX}"
    if is_done "${mix_dir}/${x}" "${_what}"; then
        log "${mix_dir}/${x} was made before, skipped (--redo true, or delete it, to make it again)"
        "${python}" pyscripts/utils/wsj0_mix.py datadir --list "${list}" --mix_dir "${mix_dir}/${x}" --num_spk 2 \
            --data_dir "data/${x}"
    else
        "${python}" pyscripts/utils/wsj0_mix.py mix --list "${list}" --wav_root "${MINI_2MIX}" \
            --out_dir "${mix_dir}/${x}" --fs "${sample_rate}" --mode "${min_or_max}" --num_spk 2 \
            --nj "${nj}" --data_dir "data/${x}"
        mark_done "${mix_dir}/${x}" "${_what}"
    fi
    utils/validate_data_dir.sh --num_spk 2 "data/${x}"
done
log "Successfully finished. [elapsed=${SECONDS}s]"
