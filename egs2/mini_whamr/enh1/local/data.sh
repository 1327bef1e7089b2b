#!/usr/bin/env bash
# mini_whamr data preparation (stage 1 of enh.sh): WHAMR! in miniature, from the mini_2mix corpus (MINI_2MIX=
# in db.sh) and its lists corpus/lists/mix_2_spk_{tr,cv,tt}.txt:
#   1. local/make_whamr_meta.py: the sources at 16 kHz, a room per mixture (WHAMR!'s ranges, T60 0.1-0.4 s),
#      WHAM!-like noise made from the corpus (babble of other speakers, shaped noise) and WHAM!'s gains, in the
#      layout of WSJ0 as wav, the WHAMR! metadata and WHAM! noise; all drawn from --seed;
#   2. the rooms and mixtures with the WHAMR! recipe's code (pyscripts/utils/whamr.py), and data/{tr,cv,tt}.
set -e
set -u
set -o pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

stage=1                 # 1: sources, rooms, noises and gains; 2: mixtures and data directories.
stop_stage=2            # Last stage to run.
min_or_max=min          # min (cut to the shorter source) or max (the noise's length).
sample_rate=8k          # 8k (the corpus rate) or 16k (from the 16-kHz rooms).
mix=both                # both (s1 + s2 + noise) or clean (s1 + s2).
cond=reverb             # reverb (reverberant mixtures) or anechoic.
reference=anechoic      # The speakers' references: anechoic (separation with dereverberation) or reverb.
num_train=              # Use only the first N training mixtures (default: all).
num_valid=              # Use only the first N validation mixtures (default: all).
num_test=               # Use only the first N test mixtures (default: all).
seed=0                  # Seed of the rooms, noises and gains.
meta_dir=data/local/mini_whamr # Sources, WHAMR! metadata and WHAM!-like noise (stage 1).
mix_dir=data/local/mix  # Mixtures: <mix_dir>/wav<sample_rate>/<min_or_max>/{tr,cv,tt}/.
nj=2                    # Parallel processes for the mixtures.
redo=false              # Redo the steps made before (else skipped: see utils/done_marker.sh).
python=                 # Python interpreter (default: ${TISDISS_PYTHON}, from path.sh).

help_message="Usage: $0 [options]
Makes data/{tr,cv,tt} (noisy reverberant mixtures) from the mini_2mix corpus (MINI_2MIX= in db.sh)."

. ./db.sh
. ./path.sh
. utils/parse_options.sh
. utils/done_marker.sh
[ -z "${python}" ] && python=${TISDISS_PYTHON}

case "${min_or_max}" in min|max) ;; *) log "Error: --min_or_max must be min or max, got '${min_or_max}'"; exit 2 ;; esac
case "${sample_rate}" in 8k|16k) ;; *) log "Error: --sample_rate must be 8k or 16k, got '${sample_rate}'"; exit 2 ;; esac
case "${mix}" in both|clean) ;; *) log "Error: --mix must be both or clean, got '${mix}'"; exit 2 ;; esac
case "${cond}" in reverb|anechoic) ;; *) log "Error: --cond must be reverb or anechoic, got '${cond}'"; exit 2 ;; esac

# The lists, cut to --num_* mixtures.
lists=()
for x in tr cv tt; do
    list="${MINI_2MIX}/lists/mix_2_spk_${x}.txt"
    if [ ! -f "${list}" ]; then
        log "Error: ${list} does not exist: MINI_2MIX in db.sh must point at the mini_2mix corpus"
        exit 1
    fi
    case "${x}" in tr) n=${num_train} ;; cv) n=${num_valid} ;; tt) n=${num_test} ;; esac
    mkdir -p data/local
    if [ -n "${n}" ]; then
        head -n "${n}" "${list}" > "data/local/mix_2_spk_${x}.txt"
    else
        cp "${list}" "data/local/mix_2_spk_${x}.txt"
    fi
    lists+=("data/local/mix_2_spk_${x}.txt")
done

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    _what="lists=$(cat "${lists[@]}" | md5sum | cut -d' ' -f1) seed=${seed} corpus=${MINI_2MIX}"
    if is_done "${meta_dir}" "${_what}"; then
        log "Stage 1: ${meta_dir} was made before, skipped (--redo true, or delete it, to make it again)"
    else
        log "Stage 1: sources, rooms, noises and gains -> ${meta_dir}"
        "${python}" local/make_whamr_meta.py --corpus "${MINI_2MIX}" --out_dir "${meta_dir}" --seed "${seed}" \
            "${lists[@]}"
        mark_done "${meta_dir}" "${_what}"
    fi
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    _root="${mix_dir}/wav${sample_rate}/${min_or_max}"
    log "Stage 2: ${mix} ${min_or_max} ${sample_rate} mixtures -> ${_root}, data/{tr,cv,tt}"
    for x in tr cv tt; do
        _what="meta=$(cat "${meta_dir}/.done") mix=${mix}"
        if is_done "${_root}/${x}/mix_${mix}_reverb" "${_what}"; then
            log "Stage 2: ${_root}/${x}/mix_${mix}_* were made before, skipped"
        else
            "${python}" pyscripts/utils/whamr.py mix --meta "${meta_dir}/meta" --split "${x}" \
                --wsj0_wav "${meta_dir}/wav16k" --wham_noise "${meta_dir}/wham_noise" --out_dir "${_root}/${x}" \
                --fs "${sample_rate}" --mode "${min_or_max}" --types "mix_${mix}_anechoic" "mix_${mix}_reverb" \
                --nj "${nj}"
            mark_done "${_root}/${x}/mix_${mix}_reverb" "${_what}"
        fi
        rm -rf "data/${x}"  # the name does not say the condition: no file of another may stay
        "${python}" pyscripts/utils/whamr.py datadir --mix "${mix}" --cond "${cond}" --reference "${reference}" \
            --data_dir "data/${x}" "${_root}/${x}"
        utils/validate_data_dir.sh --num_spk 2 "data/${x}"
    done
fi
log "Successfully finished. [elapsed=${SECONDS}s]"
