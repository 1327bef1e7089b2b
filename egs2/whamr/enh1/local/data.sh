#!/usr/bin/env bash
# WHAMR! data preparation (stage 1 of enh.sh), as the WHAMR! scripts (wham.whisper.ai) make it:
#   1. the WHAMR! metadata mix_2_spk_filenames_{tr,cv,tt}.csv and reverb_params_{tr,cv,tt}.csv (from the
#      WHAMR! scripts, downloaded, or --whamr_meta DIR); the gains come with WHAM! noise (metadata/);
#   2. the WSJ0 utterances they name, SPHERE -> wav (as for WSJ0-2mix; --wsj0_wav DIR: WSJ0 as wav already);
#   3. the rooms (pyroomacoustics), the mixtures (pyscripts/utils/whamr.py) and the data directories
#      data/{tr,cv,tt}_mix_<mix>_<cond>_<min_or_max>_<sample_rate>.
# With --whamr DIR (or WHAMR= in db.sh: a WHAMR! made elsewhere, e.g. by the WHAMR! scripts) only the data
# directories are written, for DIR/wav<sample_rate>/<min_or_max>/{tr,cv,tt}/{mix_<mix>_<cond>,s1_anechoic,...}.
set -e
set -u
set -o pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

stage=1                 # 1: metadata, 2: WSJ0 to wav, 3: mixtures and data directories.
stop_stage=3            # Last stage to run.
min_or_max=min          # min (cut to the shorter source) or max (the noise's length).
sample_rate=8k          # 8k or 16k.
mix=both                # both (s1 + s2 + noise), clean (s1 + s2) or single (s1 + noise: one speaker).
cond=reverb             # reverb (reverberant mixtures, and dereverb1.scp) or anechoic.
reference=anechoic      # The speakers' references: anechoic (s<j>_anechoic: separation with dereverberation) or reverb.
whamr_meta=             # Directory with the WHAMR! metadata (whamr_scripts/data; default: download it).
whamr_meta_url=         # Where to download the WHAMR! scripts from (default: SCRIPTS_URL in pyscripts/utils/whamr.py).
wsj0_wav=               # WSJ0 as wav already (the folder with wsj0/, as the WHAMR! scripts read it): skip stage 2.
whamr_dir=data/local/WHAMR     # Mixtures: <whamr_dir>/wav<sample_rate>/<min_or_max>/{tr,cv,tt}/.
sphere_tool=            # sph2pipe, ffmpeg or python (default: the first one installed).
whamr=                  # An existing WHAMR! folder: only write data/ for it (default: WHAMR in db.sh).
nj=8                    # Parallel processes for conversion and mixing.
redo=false              # Redo the steps that finished before (else skipped: see utils/done_marker.sh).
python=                 # Python interpreter (default: ${TISDISS_PYTHON}, from path.sh).

help_message="Usage: $0 [options]
Makes data/{tr,cv,tt}_mix_<mix>_<cond>_<min_or_max>_<sample_rate> from WSJ0 and WHAM! noise (WSJ0=,
WHAM_NOISE= in db.sh), or for an existing WHAMR! (--whamr DIR, or WHAMR= in db.sh)."

. ./db.sh
. ./path.sh
. utils/parse_options.sh
. utils/done_marker.sh
[ -z "${python}" ] && python=${TISDISS_PYTHON}
[ -z "${whamr}" ] && whamr=${WHAMR:-}

case "${min_or_max}" in min|max) ;; *) log "Error: --min_or_max must be min or max, got '${min_or_max}'"; exit 2 ;; esac
case "${sample_rate}" in 8k|16k) ;; *) log "Error: --sample_rate must be 8k or 16k, got '${sample_rate}'"; exit 2 ;; esac
case "${mix}" in both|clean|single) ;; *) log "Error: --mix must be both, clean or single, got '${mix}'"; exit 2 ;; esac
case "${cond}" in reverb|anechoic) ;; *) log "Error: --cond must be reverb or anechoic, got '${cond}'"; exit 2 ;; esac
case "${reference}" in anechoic|reverb) ;; *) log "Error: --reference must be anechoic or reverb, got '${reference}'"; exit 2 ;; esac
suffix="mix_${mix}_${cond}_${min_or_max}_${sample_rate}"
num_spk=2
[ "${mix}" = single ] && num_spk=1
meta_dir=data/local/whamr_meta

# data/<split>_<suffix> from the WHAMR! split folders <root>/{tr,cv,tt}.
write_data_dirs() {  # write_data_dirs <root>
    local _x
    for _x in tr cv tt; do
        "${python}" pyscripts/utils/whamr.py datadir --mix "${mix}" --cond "${cond}" --reference "${reference}" \
            --data_dir "data/${_x}_${suffix}" "$1/${_x}"
        utils/validate_data_dir.sh --num_spk "${num_spk}" "data/${_x}_${suffix}"
    done
}

if [ -n "${whamr}" ]; then
    _root="${whamr}/wav${sample_rate}/${min_or_max}"
    for _x in tr cv tt; do
        if [ ! -d "${_root}/${_x}/mix_${mix}_${cond}" ]; then
            log "Error: ${_root}/${_x}/mix_${mix}_${cond} does not exist: --whamr (WHAMR in db.sh) must be the" \
                "WHAMR! folder, made at ${sample_rate} ${min_or_max}"
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
        log "Error: $1='${!1}' is not a directory: set $1= in db.sh (or give an existing WHAMR! with" \
            "--local_data_opts \"--whamr DIR\")"
        exit 1
    fi
}

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    mkdir -p "${meta_dir}"
    if [ -n "${whamr_meta}" ]; then
        log "Stage 1: WHAMR! metadata from ${whamr_meta}"
        for _f in mix_2_spk_filenames reverb_params; do
            for _x in tr cv tt; do
                if [ ! -f "${whamr_meta}/${_f}_${_x}.csv" ]; then
                    log "Error: ${whamr_meta}/${_f}_${_x}.csv does not exist: --whamr_meta must be the data/" \
                        "folder of the WHAMR! scripts (whamr_scripts.tar.gz)"
                    exit 1
                fi
                cp "${whamr_meta}/${_f}_${_x}.csv" "${meta_dir}/"
            done
        done
    elif [ ! -f "${meta_dir}/reverb_params_tt.csv" ]; then
        [ "${stop_stage}" -ge 2 ] && [ -z "${wsj0_wav}" ] && check_dir WSJ0  # before a download of no use
        log "Stage 1: downloading the WHAMR! scripts for their metadata"
        "${python}" pyscripts/utils/whamr.py download --out_dir "${meta_dir}" ${whamr_meta_url:+--url "${whamr_meta_url}"}
    else
        log "Stage 1: WHAMR! metadata already in ${meta_dir}"
    fi
fi

if [ -z "${wsj0_wav}" ]; then
    wsj0_wav=data/local/wsj0_wav
    if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
        check_dir WSJ0
        _what="WSJ0=${WSJ0} meta=$(cat "${meta_dir}"/mix_2_spk_filenames_{tr,cv,tt}.csv | md5sum | cut -d' ' -f1)"
        if is_done "${wsj0_wav}" "${_what}"; then
            log "Stage 2: ${wsj0_wav} was made before, skipped (--redo true, or delete it, to make it again)"
        else
            log "Stage 2: WSJ0 (${WSJ0}) -> wav (${wsj0_wav})"
            "${python}" pyscripts/utils/whamr.py convert --wsj0 "${WSJ0}" --wav_root "${wsj0_wav}" \
                --meta "${meta_dir}" --nj "${nj}" ${sphere_tool:+--tool "${sphere_tool}"}
            mark_done "${wsj0_wav}" "${_what}"
        fi
    fi
elif [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    log "Stage 2: skipped (WSJ0 as wav in ${wsj0_wav})"
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    check_dir WHAM_NOISE
    _root="${whamr_dir}/wav${sample_rate}/${min_or_max}"
    log "Stage 3: ${mix} ${min_or_max} ${sample_rate} mixtures -> ${_root}, data/*_${suffix}"
    for _x in tr cv tt; do
        _what="meta=$(cat "${meta_dir}"/{mix_2_spk_filenames,reverb_params}_${_x}.csv | md5sum | cut -d' ' -f1)"
        _what+=" wsj0_wav=${wsj0_wav} WHAM_NOISE=${WHAM_NOISE}"
        # both conditions: the anechoic mixtures are the reverberant ones' dereverb1.scp
        if is_done "${_root}/${_x}/mix_${mix}_reverb" "${_what}"; then
            log "Stage 3: ${_root}/${_x}/mix_${mix}_* were made before, skipped (--redo true, or delete them, to" \
                "make them again)"
        else
            "${python}" pyscripts/utils/whamr.py mix --meta "${meta_dir}" --split "${_x}" --wsj0_wav "${wsj0_wav}" \
                --wham_noise "${WHAM_NOISE}" --out_dir "${_root}/${_x}" --fs "${sample_rate}" \
                --mode "${min_or_max}" --types "mix_${mix}_anechoic" "mix_${mix}_reverb" --nj "${nj}"
            mark_done "${_root}/${_x}/mix_${mix}_reverb" "${_what}"
        fi
    done
    write_data_dirs "${_root}"
fi
log "Successfully finished. [elapsed=${SECONDS}s]"
