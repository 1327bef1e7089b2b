#!/usr/bin/env bash
# Libri2Mix data preparation (stage 1 of enh.sh), as LibriMix (github.com/JorisCos/LibriMix) makes it:
#   1. the metadata libri2mix_<subset>.csv (downloaded from a pinned LibriMix commit, or --metadata_dir DIR);
#   2. --mix both: the speed-perturbed WHAM! noises that train-360 names (LibriMix's augment_train_noise.py);
#   3. the mixtures (LibriMix's create_librimix_from_metadata.py) and the data directories
#      data/{<train_subset>,dev,test}_<mix>_<min_or_max>_<sample_rate>.
# With --librimix DIR (or LIBRIMIX= in db.sh: a Libri2Mix made elsewhere, e.g. by LibriMix's
# generate_librimix.sh) only the data directories are written, for
# DIR/wav<sample_rate>/<min_or_max>/{train-100,train-360,dev,test}/{mix_<mix>,s1,s2[,noise]}.
set -e
set -u
set -o pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

stage=1                 # 1: metadata, 2: speed-perturbed noises (--mix both), 3: mixtures and data directories.
stop_stage=3            # Last stage to run.
min_or_max=min          # min (cut to the shorter source) or max (zero-pad to the longer).
sample_rate=8k          # 8k or 16k.
mix=clean               # clean (mix_clean = s1 + s2) or both (mix_both = s1 + s2 + WHAM! noise, and noise1.scp).
train_subset=train-360  # train-100, train-360 or train (train-100 and train-360 in one data directory).
metadata_dir=           # Directory with LibriMix's libri2mix_<subset>.csv (default: download them).
metadata_url=           # Where to download them from (default: the LibriMix commit pinned in pyscripts/utils/librimix.py).
librimix_dir=data/local/Libri2Mix  # Mixtures: <librimix_dir>/wav<sample_rate>/<min_or_max>/<subset>/.
noise_speed_dir=data/local/wham_noise_speed  # Speed-perturbed WHAM! noises made here (tr/<name>sp08.wav ...).
speed_tool=             # sox (LibriMix's command) or soxr (default: sox if installed, else soxr).
librimix=               # An existing Libri2Mix folder: only write data/ for it (default: LIBRIMIX in db.sh).
nj=8                    # Parallel processes for the noises and the mixtures.
redo=false              # Redo the mixtures made before (else skipped: see utils/done_marker.sh).
python=                 # Python interpreter (default: ${TISDISS_PYTHON}, from path.sh).

help_message="Usage: $0 [options]
Makes data/{<train_subset>,dev,test}_<mix>_<min_or_max>_<sample_rate> from LibriSpeech and WHAM! noise
(LIBRISPEECH=, WHAM_NOISE= in db.sh), or for an existing Libri2Mix (--librimix DIR, or LIBRIMIX= in db.sh)."

. ./db.sh
. ./path.sh
. utils/parse_options.sh
. utils/done_marker.sh
[ -z "${python}" ] && python=${TISDISS_PYTHON}
[ -z "${librimix}" ] && librimix=${LIBRIMIX:-}

case "${min_or_max}" in
    min|max) ;;
    *) log "Error: --min_or_max must be min or max, got '${min_or_max}'"; exit 2 ;;
esac
case "${sample_rate}" in
    8k|16k) ;;
    *) log "Error: --sample_rate must be 8k or 16k, got '${sample_rate}'"; exit 2 ;;
esac
case "${mix}" in
    clean|both) ;;
    *) log "Error: --mix must be clean or both, got '${mix}'"; exit 2 ;;
esac
case "${train_subset}" in
    train-100|train-360) train_parts=${train_subset} ;;
    train) train_parts="train-100 train-360" ;;
    *) log "Error: --train_subset must be train-100, train-360 or train, got '${train_subset}'"; exit 2 ;;
esac
subsets="${train_parts} dev test"      # LibriMix subset folders, made in this order
suffix="${mix}_${min_or_max}_${sample_rate}"
md_dir=data/local/metadata

# data/<name>_<suffix> from the LibriMix subset folders <root>/<subset>; <name>: train_subset, dev, test.
write_data_dirs() {  # write_data_dirs <root>
    local _root=$1 _name _dirs _s
    for _name in "${train_subset}" dev test; do
        _dirs=()
        if [ "${_name}" = "${train_subset}" ]; then
            for _s in ${train_parts}; do _dirs+=("${_root}/${_s}"); done
        else
            _dirs+=("${_root}/${_name}")
        fi
        "${python}" pyscripts/utils/librimix.py datadir --mix "${mix}" --num_spk 2 \
            --data_dir "data/${_name}_${suffix}" "${_dirs[@]}"
        utils/validate_data_dir.sh --num_spk 2 "data/${_name}_${suffix}"
    done
}

if [ -n "${librimix}" ]; then
    _root="${librimix}/wav${sample_rate}/${min_or_max}"
    for _s in ${subsets}; do
        if [ ! -d "${_root}/${_s}/mix_${mix}" ]; then
            log "Error: ${_root}/${_s}/mix_${mix} does not exist: --librimix (LIBRIMIX in db.sh) must be the" \
                "Libri2Mix folder, made with the ${mix} mixtures at ${sample_rate} ${min_or_max}"
            exit 1
        fi
    done
    log "Data directories for ${_root}: data/*_${suffix}"
    write_data_dirs "${_root}"
    log "Successfully finished. [elapsed=${SECONDS}s]"
    exit 0
fi

check_dir() {  # check_dir <db.sh variable>
    if [ -z "${!1}" ] || [ ! -d "${!1}" ]; then
        log "Error: $1='${!1}' is not a directory: set $1= in db.sh (or give an existing Libri2Mix with" \
            "--local_data_opts \"--librimix DIR\")"
        exit 1
    fi
}
csv_of() {  # csv_of <subset>: the metadata file of a subset
    case "$1" in
        train-100) echo "${md_dir}/libri2mix_train-clean-100.csv" ;;
        train-360) echo "${md_dir}/libri2mix_train-clean-360.csv" ;;
        *) echo "${md_dir}/libri2mix_$1-clean.csv" ;;
    esac
}

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    mkdir -p "${md_dir}"
    _missing=()
    for _s in ${subsets}; do
        _csv=$(csv_of "${_s}")
        if [ -n "${metadata_dir}" ]; then
            if [ ! -f "${metadata_dir}/$(basename "${_csv}")" ]; then
                log "Error: ${metadata_dir}/$(basename "${_csv}") does not exist: --metadata_dir must be the" \
                    "directory holding LibriMix's metadata/Libri2Mix/libri2mix_<subset>.csv"
                exit 1
            fi
            cp "${metadata_dir}/$(basename "${_csv}")" "${_csv}"
        elif [ ! -f "${_csv}" ]; then
            _missing+=("${_s}")
        fi
    done
    if [ -n "${metadata_dir}" ]; then
        log "Stage 1: metadata from ${metadata_dir}"
    elif [ ${#_missing[@]} -gt 0 ]; then
        [ "${stop_stage}" -ge 3 ] && check_dir LIBRISPEECH  # before a download that would be of no use
        log "Stage 1: downloading the metadata of ${_missing[*]}"
        "${python}" pyscripts/utils/librimix.py download --out_dir "${md_dir}" \
            ${metadata_url:+--url "${metadata_url}"} "${_missing[@]}"
    else
        log "Stage 1: metadata already in ${md_dir}"
    fi
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    if [ "${mix}" = both ]; then
        check_dir WHAM_NOISE
        log "Stage 2: speed-perturbed WHAM! noises -> ${noise_speed_dir} (those the metadata names and WHAM_NOISE lacks)"
        _csvs=()
        for _s in ${subsets}; do _csvs+=("$(csv_of "${_s}")"); done
        "${python}" pyscripts/utils/librimix.py speed --wham_noise "${WHAM_NOISE}" --out_dir "${noise_speed_dir}" \
            --nj "${nj}" ${speed_tool:+--tool "${speed_tool}"} "${_csvs[@]}"
    else
        log "Stage 2: skipped (--mix clean: the clean mixtures do not depend on the noise)"
    fi
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    check_dir LIBRISPEECH
    _noise=()    # where the noises are looked for: WHAM! noise, then the speed-perturbed ones of stage 2
    if [ "${mix}" = both ]; then
        check_dir WHAM_NOISE
        _noise=(--wham_noise "${WHAM_NOISE}" "${noise_speed_dir}")
    fi
    _root="${librimix_dir}/wav${sample_rate}/${min_or_max}"
    log "Stage 3: ${mix} ${min_or_max} ${sample_rate} mixtures -> ${_root}, data/*_${suffix}"
    for _s in ${subsets}; do
        _csv=$(csv_of "${_s}")
        _what="metadata=$(md5sum < "${_csv}" | cut -d' ' -f1) LIBRISPEECH=${LIBRISPEECH}"
        [ "${mix}" = both ] && _what+=" WHAM_NOISE=${WHAM_NOISE} speed=${noise_speed_dir}"
        if is_done "${_root}/${_s}/mix_${mix}" "${_what}"; then
            log "Stage 3: ${_root}/${_s}/mix_${mix} was made before, skipped (--redo true, or delete it, to make it again)"
        else
            "${python}" pyscripts/utils/librimix.py mix --metadata "${_csv}" --librispeech "${LIBRISPEECH}" \
                "${_noise[@]}" --out_dir "${_root}/${_s}" \
                --fs "${sample_rate}" --mode "${min_or_max}" --types "mix_${mix}" --nj "${nj}"
            mark_done "${_root}/${_s}/mix_${mix}" "${_what}"
        fi
    done
    write_data_dirs "${_root}"
fi
log "Successfully finished. [elapsed=${SECONDS}s]"
