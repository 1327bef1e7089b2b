#!/usr/bin/env bash
# WSJ0-2mix data preparation (stage 1 of enh.sh):
#   1. the MERL mixing lists mix_2_spk_{tr,cv,tt}.txt (downloaded, or --mix_lists DIR);
#   2. the WSJ0 utterances they name, SPHERE -> wav (sph2pipe, else ffmpeg, else python for
#      uncompressed SPHERE; tools/installers/install_sph2pipe.sh installs sph2pipe);
#   3. the mixtures (P.56 levels, as create_wav_2speakers.m) and the data directories
#      data/{tr,cv,tt}_<min_or_max>_<sample_rate>.
# With --wsj0_2mix DIR (a WSJ0-2mix made elsewhere, e.g. by the MATLAB scripts) only the data
# directories are written, for DIR/wav<sample_rate>/<min_or_max>/{tr,cv,tt}/{mix,s1,s2}.
set -e
set -u
set -o pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

stage=1                 # 1: mixing lists, 2: WSJ0 to wav, 3: mixtures and data directories.
stop_stage=3            # Last stage to run.
min_or_max=min          # min (cut to the shorter source) or max (zero-pad to the longer).
sample_rate=8k          # 8k or 16k.
mix_lists=              # Directory with mix_2_spk_{tr,cv,tt}.txt (default: download them).
mix_lists_url=https://www.merl.com/demos/deep-clustering/create-speaker-mixtures.zip # The MERL scripts.
wsj0_wav=data/local/wsj0_wav   # Where WSJ0 is written as wav.
mix_dir=data/local/wsj0_mix    # Mixtures: <mix_dir>/2speakers/wav<sample_rate>/<min_or_max>/{tr,cv,tt}.
sphere_tool=            # sph2pipe, ffmpeg or python (default: the first one installed).
wsj0_2mix=              # An existing WSJ0-2mix ("2speakers" folder): only write data/ for it.
nj=8                    # Parallel processes for conversion and mixing.
redo=false              # Redo the steps that finished before (else skipped: see utils/done_marker.sh).
python=                 # Python interpreter (default: ${TISDISS_PYTHON}, from path.sh).

help_message="Usage: $0 [options]
Makes data/{tr,cv,tt}_<min_or_max>_<sample_rate> from WSJ0 (set WSJ0= in db.sh)."

. ./db.sh
. ./path.sh
. utils/parse_options.sh
. utils/done_marker.sh
[ -z "${python}" ] && python=${TISDISS_PYTHON}

case "${min_or_max}" in
    min|max) ;;
    *) log "Error: --min_or_max must be min or max, got '${min_or_max}'"; exit 2 ;;
esac
case "${sample_rate}" in
    8k|16k) ;;
    *) log "Error: --sample_rate must be 8k or 16k, got '${sample_rate}'"; exit 2 ;;
esac
list_dir=data/local/mix_lists

if [ -n "${wsj0_2mix}" ]; then
    for x in tr cv tt; do
        _dir="${wsj0_2mix}/wav${sample_rate}/${min_or_max}/${x}"
        if [ ! -d "${_dir}/mix" ]; then
            log "Error: ${_dir}/mix does not exist: --wsj0_2mix must be the '2speakers' folder"
            exit 1
        fi
        "${python}" pyscripts/utils/wsj0_mix.py datadir --mix_dir "${_dir}" --num_spk 2 \
            --data_dir "data/${x}_${min_or_max}_${sample_rate}"
        utils/validate_data_dir.sh --num_spk 2 "data/${x}_${min_or_max}_${sample_rate}"
    done
    log "Successfully finished. [elapsed=${SECONDS}s]"
    exit 0
fi

check_wsj0() {
    if [ -z "${WSJ0}" ] || [ ! -d "${WSJ0}" ]; then
        log "Error: WSJ0='${WSJ0}' is not a directory: set WSJ0= in db.sh to your copy of LDC93S6A" \
            "(or give an existing WSJ0-2mix with --local_data_opts \"--wsj0_2mix DIR\"). Without WSJ0," \
            "egs2/mini_2mix/enh1 runs every stage on a small corpus that ships with the toolkit."
        exit 1
    fi
}

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    mkdir -p "${list_dir}"
    if [ -n "${mix_lists}" ]; then
        log "Stage 1: mixing lists from ${mix_lists}"
        for x in tr cv tt; do
            if [ ! -f "${mix_lists}/mix_2_spk_${x}.txt" ]; then
                log "Error: ${mix_lists}/mix_2_spk_${x}.txt does not exist: --mix_lists must be the" \
                    "directory holding mix_2_spk_{tr,cv,tt}.txt"
                exit 1
            fi
            cp "${mix_lists}/mix_2_spk_${x}.txt" "${list_dir}/"
        done
    elif [ ! -f "${list_dir}/mix_2_spk_tt.txt" ]; then
        [ "${stop_stage}" -ge 2 ] && check_wsj0  # before a download that would be of no use
        log "Stage 1: downloading the mixing lists: ${mix_lists_url}"
        "${python}" pyscripts/utils/download_mix_lists.py "${mix_lists_url}" "${list_dir}"
    else
        log "Stage 1: mixing lists already in ${list_dir}"
    fi
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    check_wsj0
    _what="WSJ0=${WSJ0} lists=$(cat "${list_dir}"/mix_2_spk_{tr,cv,tt}.txt | md5sum | cut -d' ' -f1)"
    if is_done "${wsj0_wav}" "${_what}"; then
        log "Stage 2: ${wsj0_wav} was made before, skipped (--redo true, or delete it, to make it again)"
    else
        log "Stage 2: WSJ0 (${WSJ0}) -> wav (${wsj0_wav})"
        "${python}" pyscripts/utils/wsj0_mix.py convert --wsj0 "${WSJ0}" --wav_root "${wsj0_wav}" \
            --nj "${nj}" ${sphere_tool:+--tool "${sphere_tool}"} "${list_dir}"/mix_2_spk_{tr,cv,tt}.txt
        mark_done "${wsj0_wav}" "${_what}"
    fi
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    log "Stage 3: ${min_or_max} ${sample_rate} mixtures -> ${mix_dir}, data/*_${min_or_max}_${sample_rate}"
    for x in tr cv tt; do
        _out="${mix_dir}/2speakers/wav${sample_rate}/${min_or_max}/${x}"
        _data="data/${x}_${min_or_max}_${sample_rate}"
        _what="list=$(md5sum < "${list_dir}/mix_2_spk_${x}.txt" | cut -d' ' -f1) wav=$(cat "${wsj0_wav}/.done" 2> /dev/null)"
        if is_done "${_out}" "${_what}"; then
            log "Stage 3: ${_out} was made before, skipped (--redo true, or delete it, to make it again)"
            "${python}" pyscripts/utils/wsj0_mix.py datadir --list "${list_dir}/mix_2_spk_${x}.txt" --mix_dir "${_out}" \
                --num_spk 2 --data_dir "${_data}"
        else
            "${python}" pyscripts/utils/wsj0_mix.py mix --list "${list_dir}/mix_2_spk_${x}.txt" \
                --wav_root "${wsj0_wav}" --out_dir "${_out}" --fs "${sample_rate}" --mode "${min_or_max}" \
                --num_spk 2 --nj "${nj}" --data_dir "${_data}"
            mark_done "${_out}" "${_what}"
        fi
        utils/validate_data_dir.sh --num_spk 2 "${_data}"
    done
fi
log "Successfully finished. [elapsed=${SECONDS}s]"
