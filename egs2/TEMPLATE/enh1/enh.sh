#!/usr/bin/env bash
# Speech separation / enhancement recipe stages (ESPnet's egs2/TEMPLATE/enh1/enh.sh, trimmed).
# Recipes link this file and call it from their run.sh: ./enh.sh --train_set ... "$@"

# Set bash to 'debug' mode, it will exit on:
# -e 'error', -u 'undefined variable', -o ... 'error in pipeline'
set -e
set -u
set -o pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}
min() {
    local a b
    a=$1
    for b in "$@"; do
        if [ "${b}" -le "${a}" ]; then a="${b}"; fi
    done
    echo "${a}"
}
# While a long job runs in the foreground, a background loop shows its progress on the terminal:
# every 2 s the line that <function> prints (from the job's logs), when it changed.
progress_pid=
start_progress() {  # start_progress <function>
    local fn=$1
    (
        last=
        while kill -0 $$ 2> /dev/null; do
            sleep 2
            line=$(${fn} 2> /dev/null) || true
            if [ -n "${line}" ] && [ "${line}" != "${last}" ]; then log "${line}"; last=${line}; fi
        done
    ) &
    progress_pid=$!
}
stop_progress() {  # stop_progress [<function>]: end the loop, then show the last line once more
    if [ -n "${progress_pid}" ]; then
        kill "${progress_pid}" 2> /dev/null || true
        wait "${progress_pid}" 2> /dev/null || true
        progress_pid=
    fi
    if [ $# -gt 0 ]; then log "$($1 2> /dev/null)"; fi
}
trap stop_progress EXIT
SECONDS=0

# General configuration
stage=1                  # Processes starts from the specified stage.
stop_stage=10000         # Processes is stopped at the specified stage.
skip_data_prep=false     # Skip data preparation stages (1-5).
skip_train=false         # Skip training stages (6).
skip_eval=false          # Skip inference and evaluation stages (7-8).
skip_packing=true        # Skip the packing stage (9).
ngpu=1                   # The number of gpus ("0" uses cpu, otherwise use gpu).
nj=32                    # The number of parallel jobs.
dumpdir=dump             # Directory to dump features.
expdir=exp               # Directory to save experiments.
python=                  # Python running the toolkit (default: ${TISDISS_PYTHON}, chosen by path.sh).

# Data preparation related
local_data_opts=         # The options given to local/data.sh.

# Speed perturbation related
speed_perturb_factors=   # Perturbation factors, e.g. "0.9 1.0 1.1" (separated by space).

# Feature extraction related
feats_type=raw           # Feature type (only raw: waveforms).
audio_format=wav         # Audio format of the dumped waveforms: wav or flac.
fs=16k                   # Sampling rate (8k, 16k or a number in Hz).
min_wav_duration=0.1     # Minimum duration in second of training/validation utterances.
max_wav_duration=20      # Maximum duration in second of training/validation utterances.

# Enhancement model related
enh_tag=                 # Suffix to the result dir for enhancement model training.
enh_exp=                 # Specify the directory path for enhancement experiment (default: exp/enh_<enh_tag>).
enh_config=              # Config for enhancement model training.
enh_args=                # Arguments for enhancement model training, e.g., "--max_epoch 10".
init_param=              # Initialise the model from these parameters (--init_param of enh_train).
enh_speech_fold_length=800 # fold_length for speech data during enhancement training (x100 samples).
ref_num=2                # Number of references (speakers) for training.
inf_num=                 # Number of inferences for evaluation (default: ref_num).

# Inference related
inference_args=          # Arguments for enhancement in the inference stage, e.g. "--batch_size 1".
inference_model=valid.loss.ave.pth # Enhancement model path for inference (in enh_exp).
inference_enh_config=    # Config overriding the model for inference (e.g. conf/efficient_infer/re/re_6.yaml).
inference_tag=enhanced   # Results go to <enh_exp>/<inference_tag>_<test_set>.
m_re=                    # TISDiSS: number of refinement repeats (M_re) at inference (default: as trained).
inference_nj=32          # The number of parallel jobs in inference.
normalize_output_wav=true # Scale each separated wav to a peak of 0.9 (SI-SNR training leaves the scale free).
gpu_inference=false      # Whether to perform gpu decoding.

# Evaluation related
scoring_protocol="STOI SAR SDR SIR SI_SNR SI_SNRi" # Metrics shown in RESULTS.md.
ref_channel=0            # Channel scored for multi-channel signals.

# Packing related
packed_model=            # Output of stage 9 (default: <enh_exp>/packed_model.zip).
print_enh_exp=false      # Print the experiment directory and exit (for scripts such as infer_run.sh).

# [Task dependent] Set the datadir name created by local/data.sh
train_set=               # Name of training set.
valid_set=               # Name of development set.
test_sets=               # Names of evaluation sets. Multiple items can be specified.

help_message=$(cat << EOF
Usage: $0 --train_set <train_set_name> --valid_set <valid_set_name> --test_sets <test_set_names> --enh_config <config>

Stages (--stage N --stop_stage M runs N..M):
  1 data preparation (local/data.sh)     6 training
  2 speed perturbation (optional)        7 inference (separated wavs)
  3 format wav (resample into dump/)     8 scoring (RESULTS.md)
  4 remove too short/long utterances     9 packing the trained model
  5 collect statistics (shapes)
EOF
)

log "$0 $*"
# Save command line args for logging (they will be lost after utils/parse_options.sh)
run_args=$(printf '%q ' "$0" "$@")
. ./utils/parse_options.sh

if [ $# -ne 0 ]; then
    log "Error: No positional arguments are required: $*"
    log "${help_message}"
    exit 2
fi
. ./path.sh
. ./cmd.sh
[ -z "${python}" ] && python=${TISDISS_PYTHON}

# Check required arguments
if ! ${skip_train} || ! ${skip_data_prep}; then
    [ -z "${train_set}" ] && { log "Error: --train_set is required"; exit 2; }
    [ -z "${valid_set}" ] && { log "Error: --valid_set is required"; exit 2; }
fi
if ! ${skip_eval}; then
    [ -z "${test_sets}" ] && { log "Error: --test_sets is required"; exit 2; }
fi
if [ "${feats_type}" != raw ]; then
    log "Error: --feats_type ${feats_type} is not supported (only raw)"; exit 2
fi
case "${audio_format}" in
    wav|flac) ;;
    *) log "Error: --audio_format ${audio_format}: use wav or flac"; exit 2 ;;
esac
case "${fs}" in
    *k) fs_hz=$(( ${fs%k} * 1000 )) ;;
    *[!0-9]*|"") log "Error: --fs ${fs}: use 8k, 16k or a number in Hz"; exit 2 ;;
    *) fs_hz=${fs} ;;
esac
[ -z "${inf_num}" ] && inf_num=${ref_num}

data_feats=${dumpdir}/raw
if [ -n "${speed_perturb_factors}" ]; then
    train_set_sp="${train_set}_sp"
else
    train_set_sp="${train_set}"
fi

# Set tag for naming of model directory
if [ -z "${enh_tag}" ]; then
    if [ -n "${enh_config}" ]; then
        enh_tag="$(basename "${enh_config}" .yaml)_${feats_type}"
    else
        enh_tag="train_${feats_type}"
    fi
fi
enh_stats_dir="${expdir}/enh_stats_${fs}"
[ -z "${enh_exp}" ] && enh_exp="${expdir}/enh_${enh_tag}"
[ -z "${packed_model}" ] && packed_model="${enh_exp}/packed_model.zip"
if ${print_enh_exp}; then
    echo "${enh_exp}"
    exit 0
fi

# Names of the scp files with references, as "<file> <name in the model>" pairs (separation only:
# the task has no noise or dereverberation references).
ref_scps=()
for spk in $(seq "${ref_num}"); do ref_scps+=("spk${spk}.scp speech_ref${spk}"); done

# ========================== Main stages start from here. ==========================

if ! ${skip_data_prep}; then
    if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
        log "Stage 1: Data preparation for data/${train_set}, data/${valid_set}, etc."
        # shellcheck disable=SC2086
        local/data.sh ${local_data_opts}
    fi

    if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
        if [ -n "${speed_perturb_factors}" ]; then
            log "Stage 2: Speed perturbation: data/${train_set} -> data/${train_set_sp}"
            utils/validate_data_dir.sh --num_spk "${ref_num}" "data/${train_set}"
            ${train_cmd} "data/${train_set_sp}/speed_perturb.log" \
                "${python}" pyscripts/utils/perturb_enh_data_dir_speed.py --nj "${nj}" \
                    --factors "${speed_perturb_factors}" "data/${train_set}" "data/${train_set_sp}"
        else
            log "Skip stage 2: Speed perturbation (no --speed_perturb_factors)"
        fi
    fi

    if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
        log "Stage 3: Format wav.scp: data/ -> ${data_feats} (${fs_hz} Hz ${audio_format})"
        for dset in "${train_set_sp}" "${valid_set}" ${test_sets}; do
            if [ "${dset}" = "${train_set_sp}" ] || [ "${dset}" = "${valid_set}" ]; then
                _suf="/org"      # filtered by stage 4
                _num_spk=${ref_num}
            else
                _suf=""
                _num_spk=0       # test sets may come without references
            fi
            utils/validate_data_dir.sh --num_spk "${_num_spk}" "data/${dset}"
            _dir="${data_feats}${_suf}/${dset}"
            mkdir -p "${_dir}"
            for f in utt2spk spk2utt utt2category utt2fs; do
                if [ -f "data/${dset}/${f}" ]; then cp "data/${dset}/${f}" "${_dir}/${f}"; fi
            done
            _scps=(wav.scp)
            for _ref in "${ref_scps[@]}"; do
                _scp=${_ref%% *}
                if [ -f "data/${dset}/${_scp}" ]; then _scps+=("${_scp}"); fi
            done
            for _scp in "${_scps[@]}"; do
                _utt2num=false
                [ "${_scp}" = wav.scp ] && _utt2num=true
                scripts/audio/format_wav_scp.sh --nj "${nj}" --cmd "${train_cmd}" \
                    --fs "${fs_hz}" --audio_format "${audio_format}" --python "${python}" \
                    --out_filename "${_scp}" --write_utt2num_samples "${_utt2num}" \
                    "data/${dset}/${_scp}" "${_dir}"
            done
            echo "${feats_type}" > "${_dir}/feats_type"
        done
    fi

    if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
        log "Stage 4: Remove utterances shorter than ${min_wav_duration} s or longer than ${max_wav_duration} s"
        _min_length=$(awk -v d="${min_wav_duration}" -v fs="${fs_hz}" 'BEGIN { printf "%d", d * fs }')
        _max_length=$(awk -v d="${max_wav_duration}" -v fs="${fs_hz}" 'BEGIN { printf "%d", d * fs }')
        for dset in "${train_set_sp}" "${valid_set}"; do
            _org="${data_feats}/org/${dset}"
            _dir="${data_feats}/${dset}"
            mkdir -p "${_dir}"
            awk -v lo="${_min_length}" -v hi="${_max_length}" '$2 >= lo && $2 <= hi' \
                "${_org}/utt2num_samples" > "${_dir}/utt2num_samples"
            for f in "${_org}"/*.scp "${_org}"/utt2spk "${_org}"/utt2category "${_org}"/utt2fs; do
                [ -f "${f}" ] || continue
                utils/filter_scp.sh "${_dir}/utt2num_samples" "${f}" > "${_dir}/$(basename "${f}")"
            done
            utils/utt2spk_to_spk2utt.sh "${_dir}/utt2spk" > "${_dir}/spk2utt"
            cp "${_org}/feats_type" "${_dir}/feats_type"
            _n_org=$(wc -l < "${_org}/utt2num_samples")
            _n=$(wc -l < "${_dir}/utt2num_samples")
            log "${dset}: kept ${_n} of ${_n_org} utterances"
            if [ "${_n}" -eq 0 ]; then
                log "Error: no utterance of ${_org} lasts ${min_wav_duration}-${max_wav_duration} s:" \
                    "check --min_wav_duration/--max_wav_duration"
                exit 1
            fi
            utils/validate_data_dir.sh --num_spk "${ref_num}" "${_dir}"
        done
    fi

    if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
        log "Stage 5: Collect statistics (shapes): ${enh_stats_dir}"
        _enh_train_dir="${data_feats}/${train_set_sp}"
        _enh_valid_dir="${data_feats}/${valid_set}"
        _logdir="${enh_stats_dir}/logdir"
        mkdir -p "${_logdir}"
        _nj=$(min "${nj}" "$(wc -l < "${_enh_train_dir}/wav.scp")" "$(wc -l < "${_enh_valid_dir}/wav.scp")")
        key_file="${_enh_train_dir}/wav.scp"
        split_scps=""
        for n in $(seq "${_nj}"); do split_scps+=" ${_logdir}/train.${n}.scp"; done
        # shellcheck disable=SC2086
        utils/split_scp.sh "${key_file}" ${split_scps}
        key_file="${_enh_valid_dir}/wav.scp"
        split_scps=""
        for n in $(seq "${_nj}"); do split_scps+=" ${_logdir}/valid.${n}.scp"; done
        # shellcheck disable=SC2086
        utils/split_scp.sh "${key_file}" ${split_scps}

        _data_params="--train_data_path_and_name_and_type ${_enh_train_dir}/wav.scp,speech_mix,sound"
        _data_params+=" --valid_data_path_and_name_and_type ${_enh_valid_dir}/wav.scp,speech_mix,sound"
        for _ref in "${ref_scps[@]}"; do
            _data_params+=" --train_data_path_and_name_and_type ${_enh_train_dir}/${_ref%% *},${_ref#* },sound"
            _data_params+=" --valid_data_path_and_name_and_type ${_enh_valid_dir}/${_ref%% *},${_ref#* },sound"
        done

        log "Statistics collection started... log: '${_logdir}/stats.*.log'"
        # shellcheck disable=SC2086
        ${train_cmd} JOB=1:"${_nj}" "${_logdir}"/stats.JOB.log \
            "${python}" -m espnet2.bin.enh_train \
                --collect_stats true \
                ${_data_params} \
                --train_shape_file "${_logdir}/train.JOB.scp" \
                --valid_shape_file "${_logdir}/valid.JOB.scp" \
                --output_dir "${_logdir}/stats.JOB" \
                ${enh_config:+--config "${enh_config}"} \
                ${enh_args} || { cat "${_logdir}"/stats.1.log; exit 1; }

        # Aggregate the shape files of the jobs.
        for mode in train valid; do
            mkdir -p "${enh_stats_dir}/${mode}"
            for _shape in "${_logdir}"/stats.1/"${mode}"/*_shape; do
                _name=$(basename "${_shape}")
                for n in $(seq "${_nj}"); do cat "${_logdir}/stats.${n}/${mode}/${_name}"; done \
                    | LC_ALL=C sort -k1,1 > "${enh_stats_dir}/${mode}/${_name}"
            done
        done
    fi
else
    log "Skip the stages for data preparation"
fi

# ========================== Data preparation is done here. ==========================

if ! ${skip_train}; then
    if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
        _enh_train_dir="${data_feats}/${train_set_sp}"
        _enh_valid_dir="${data_feats}/${valid_set}"
        log "Stage 6: Enhancement Frontend Training: train_set=${_enh_train_dir}, valid_set=${_enh_valid_dir}"
        [ -z "${enh_config}" ] && { log "Error: --enh_config is required for training"; exit 2; }

        _opts="--config ${enh_config} "
        _opts+="--train_data_path_and_name_and_type ${_enh_train_dir}/wav.scp,speech_mix,sound "
        _opts+="--train_shape_file ${enh_stats_dir}/train/speech_mix_shape "
        _opts+="--valid_data_path_and_name_and_type ${_enh_valid_dir}/wav.scp,speech_mix,sound "
        _opts+="--valid_shape_file ${enh_stats_dir}/valid/speech_mix_shape "
        _opts+="--fold_length $(( enh_speech_fold_length * 100 )) "
        for _ref in "${ref_scps[@]}"; do
            _opts+="--train_data_path_and_name_and_type ${_enh_train_dir}/${_ref%% *},${_ref#* },sound "
            _opts+="--train_shape_file ${enh_stats_dir}/train/${_ref#* }_shape "
            _opts+="--valid_data_path_and_name_and_type ${_enh_valid_dir}/${_ref%% *},${_ref#* },sound "
            _opts+="--valid_shape_file ${enh_stats_dir}/valid/${_ref#* }_shape "
            _opts+="--fold_length $(( enh_speech_fold_length * 100 )) "
        done
        [ -n "${init_param}" ] && _opts+="--init_param ${init_param} "

        mkdir -p "${enh_exp}"
        log "Generate '${enh_exp}/run.sh'. You can resume the process from stage 6 using this script"
        mkdir -p "${enh_exp}"
        echo "${run_args} --stage 6 \"\$@\"; exit \$?" > "${enh_exp}/run.sh"
        chmod +x "${enh_exp}/run.sh"

        log "Enhancement training started... log: '${enh_exp}/train.log'"
        _train_status() { grep -h 'progress: ' "${enh_exp}/train.log" | tail -n 1 | sed 's/.*progress: /training: /'; }
        start_progress _train_status
        # shellcheck disable=SC2086
        ${cuda_cmd} --gpu "${ngpu}" "${enh_exp}"/train.log \
            "${python}" -m espnet2.bin.enh_train \
                --ngpu "${ngpu}" \
                --resume true \
                --output_dir "${enh_exp}" \
                ${_opts} ${enh_args} || {
            stop_progress
            log "Error: training failed; the end of ${enh_exp}/train.log:"
            grep -v '^#' "${enh_exp}/train.log" | tail -n 12 >&2
            exit 1
        }
        stop_progress
        log "Training finished: $(grep -h 'progress: epoch .* done' "${enh_exp}/train.log" | tail -n 1 | sed 's/.*progress: //')"
    fi
else
    log "Skip the training stages"
fi

if ! ${skip_eval}; then
    if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
        log "Stage 7: Enhance Speech: training_dir=${enh_exp}"
        if ${gpu_inference}; then
            _cmd=${cuda_cmd}
            _ngpu=1
        else
            _cmd=${decode_cmd}
            _ngpu=0
        fi
        if [ ! -e "${enh_exp}/${inference_model}" ] && [ -f "${enh_exp}/config.yaml" ]; then
            # E.g. a published experiment folder, which holds only valid.loss.ave_5best.pth: use the model
            # file that separate.py would pick in the folder (valid.*ave*.pth, else valid.*.best.pth).
            _found=$("${python}" -c 'import sys; from espnet2.enh.inference import find_model_files
print(find_model_files(sys.argv[1])[1].name)' "${enh_exp}" 2> /dev/null) || true
            if [ -n "${_found}" ]; then
                log "No ${enh_exp}/${inference_model}: using ${_found}"
                inference_model=${_found}
            fi
        fi
        for _f in "${enh_exp}/config.yaml" "${enh_exp}/${inference_model}"; do
            if [ ! -e "${_f}" ]; then
                log "Error: ${_f} does not exist: train first (stage 6) or set --enh_exp/--inference_model"
                exit 1
            fi
        done
        for dset in ${test_sets}; do
            _data="${data_feats}/${dset}"
            _dir="${enh_exp}/${inference_tag}_${dset}"
            _logdir="${_dir}/logdir"
            mkdir -p "${_logdir}"

            key_file=${_data}/wav.scp
            _nj=$(min "${inference_nj}" "$(wc -l < "${key_file}")")
            split_scps=""
            for n in $(seq "${_nj}"); do split_scps+=" ${_logdir}/keys.${n}.scp"; done
            # shellcheck disable=SC2086
            utils/split_scp.sh "${key_file}" ${split_scps}

            log "Enhancement started... log: '${_logdir}/enh_inference.*.log'"
            _num_utts=$(wc -l < "${key_file}")
            _inference_status() {
                local f n done=0
                for f in "${_logdir}"/enh_inference.*.log; do
                    n=$(sed -n 's|.*progress: \([0-9]*\)/.*|\1|p' "${f}" | tail -n 1)
                    done=$(( done + ${n:-0} ))
                done
                echo "${dset}: ${done}/${_num_utts} utterances separated"
            }
            rm -f "${_logdir}"/enh_inference.*.log
            start_progress _inference_status
            # shellcheck disable=SC2086
            ${_cmd} --gpu "${_ngpu}" JOB=1:"${_nj}" "${_logdir}"/enh_inference.JOB.log \
                "${python}" -m espnet2.bin.enh_inference \
                    --ngpu "${_ngpu}" \
                    --fs "${fs_hz}" \
                    --data_path_and_name_and_type "${_data}/wav.scp,speech_mix,sound" \
                    --key_file "${_logdir}"/keys.JOB.scp \
                    --train_config "${enh_exp}"/config.yaml \
                    --model_file "${enh_exp}"/"${inference_model}" \
                    ${inference_enh_config:+--inference_config "${inference_enh_config}"} \
                    ${m_re:+--m_re "${m_re}"} \
                    --normalize_output_wav "${normalize_output_wav}" \
                    --output_dir "${_logdir}"/output.JOB \
                    ${inference_args}
            stop_progress _inference_status

            # Concatenate the outputs of the jobs.
            for spk in $(seq "${inf_num}"); do
                for n in $(seq "${_nj}"); do cat "${_logdir}/output.${n}/spk${spk}.scp"; done \
                    | LC_ALL=C sort -k1,1 > "${_dir}/spk${spk}.scp"
            done
            # Real-time factor: processing time over audio duration, from the jobs' logs.
            "${python}" pyscripts/utils/calculate_rtf.py --fs "${fs_hz}" \
                --utt2num_samples "${_data}/utt2num_samples" \
                "${_logdir}"/enh_inference.*.log > "${_dir}/rtf.txt" || rm -f "${_dir}/rtf.txt"
            [ -f "${_dir}/rtf.txt" ] && log "${dset}: $(cat "${_dir}/rtf.txt")"
        done
    fi

    if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ]; then
        log "Stage 8: Scoring"
        _cmd=${decode_cmd}
        for dset in ${test_sets}; do
            _data="${data_feats}/${dset}"
            _inf_dir="${enh_exp}/${inference_tag}_${dset}"
            _dir="${_inf_dir}/scoring"
            _logdir="${_dir}/logdir"
            mkdir -p "${_logdir}"
            if [ ! -f "${_data}/spk1.scp" ]; then
                log "Skip scoring ${dset}: ${_data}/spk1.scp (references) does not exist"
                continue
            fi

            key_file=${_data}/wav.scp
            _nj=$(min "${inference_nj}" "$(wc -l < "${key_file}")")
            split_scps=""
            for n in $(seq "${_nj}"); do split_scps+=" ${_logdir}/keys.${n}.scp"; done
            # shellcheck disable=SC2086
            utils/split_scp.sh "${key_file}" ${split_scps}

            _ref_scp=
            for spk in $(seq "${ref_num}"); do _ref_scp+="--ref_scp ${_data}/spk${spk}.scp "; done
            _inf_scp=
            for spk in $(seq "${inf_num}"); do _inf_scp+="--inf_scp ${_inf_dir}/spk${spk}.scp "; done

            # One job writes the scores into ${_dir} itself; several are merged afterwards.
            _out="${_logdir}/output.JOB"
            [ "${_nj}" -eq 1 ] && _out="${_dir}"
            # shellcheck disable=SC2086
            ${_cmd} JOB=1:"${_nj}" "${_logdir}"/enh_scoring.JOB.log \
                "${python}" -m espnet2.bin.enh_scoring \
                    --key_file "${_logdir}"/keys.JOB.scp \
                    --output_dir "${_out}" \
                    ${_ref_scp} ${_inf_scp} \
                    --mix_scp "${_data}/wav.scp" \
                    --ref_channel "${ref_channel}"

            if [ "${_nj}" -gt 1 ]; then
                # Merge the per-utterance lists and write result_<metric>.txt.
                _merge_dirs=
                for n in $(seq "${_nj}"); do _merge_dirs+=" ${_logdir}/output.${n}"; done
                # shellcheck disable=SC2086
                "${python}" -m espnet2.bin.enh_scoring --output_dir "${_dir}" --merge_dirs ${_merge_dirs}
            fi
            for protocol in ${scoring_protocol}; do
                _f="${_dir}/result_$(echo "${protocol}" | tr '[:upper:]' '[:lower:]').txt"
                [ -f "${_f}" ] && log "${dset} ${protocol}: $(cat "${_f}")"
            done
        done
        # RESULTS.md is rewritten only if stage 8 wrote it: a RESULTS.md that came with the model (a
        # published experiment folder) is kept, and the scores go to RESULTS.local.md beside it.
        _results="${enh_exp}/RESULTS.md"
        if [ -f "${_results}" ] && ! head -n 1 "${_results}" | grep -q "stage 8 of enh.sh rewrites this file"; then
            _results="${enh_exp}/RESULTS.local.md"
            log "Kept ${enh_exp}/RESULTS.md (not written by stage 8); the scores go to ${_results}"
        fi
        scripts/utils/show_enh_score.sh --metrics "${scoring_protocol}" "${enh_exp}" > "${_results}.tmp"
        mv "${_results}.tmp" "${_results}"
        cat "${_results}"
    fi
else
    log "Skip the evaluation stages"
fi

if ! ${skip_packing}; then
    if [ "${stage}" -le 9 ] && [ "${stop_stage}" -ge 9 ]; then
        log "Stage 9: Pack model: ${packed_model}"
        _opts=
        for _f in "${enh_exp}/RESULTS.md" "${enh_exp}/images"; do
            [ -e "${_f}" ] && _opts+="--option ${_f} "
        done
        # shellcheck disable=SC2086
        "${python}" -m espnet2.bin.pack_model enh \
            --train_config "${enh_exp}"/config.yaml \
            --model_file "${enh_exp}"/"${inference_model}" \
            ${_opts} \
            --outpath "${packed_model}"
    fi
else
    log "Skip the packing stage"
fi

log "Successfully finished. [elapsed=${SECONDS}s]"
