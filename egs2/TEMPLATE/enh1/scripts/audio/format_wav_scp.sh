#!/usr/bin/env bash
# Stage 3 helper: rewrite the audio of an scp file at one rate, in nj parallel jobs.
#
#   scripts/audio/format_wav_scp.sh [options] <in.scp> <out_dir>
#
# Writes <out_dir>/<out_filename> (sorted) and the audio under <out_dir>/data/<name>/;
# with --write_utt2num_samples true also <out_dir>/utt2num_samples.
set -euo pipefail
log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${0##*/}:${BASH_LINENO[0]}) $*"; }

nj=1                        # Number of parallel jobs.
cmd=utils/run_local.sh      # Job runner (see cmd.sh).
fs=16000                    # Output sampling rate in Hz (or 8k, 16k, ...).
audio_format=wav            # wav or flac.
out_filename=wav.scp        # Name of the output scp file in <out_dir>.
write_utt2num_samples=true  # Write <out_dir>/utt2num_samples.
python=                     # Python interpreter (default: ${TISDISS_PYTHON}, from path.sh).
help_message="Usage: $0 [options] <in.scp> <out_dir>"

. utils/parse_options.sh
[ -n "${TISDISS_PYTHON:-}" ] || . ./path.sh
[ -z "${python}" ] && python=${TISDISS_PYTHON}

if [ $# -ne 2 ]; then echo "${help_message}" >&2; exit 1; fi
in_scp=$1; out_dir=$2
case "${fs}" in *k) fs=$(( ${fs%k} * 1000 )) ;; esac
name=${out_filename%.scp}
logdir=${out_dir}/logs/format_${name}
mkdir -p "${logdir}"

_nj=$(( nj < $(wc -l < "${in_scp}") ? nj : $(wc -l < "${in_scp}") ))
split_scps=; for n in $(seq "${_nj}"); do split_scps+=" ${logdir}/in.${n}.scp"; done
# shellcheck disable=SC2086
utils/split_scp.sh "${in_scp}" ${split_scps}

opts=
${write_utt2num_samples} && opts="--utt2num_samples ${logdir}/utt2num_samples.JOB"
${cmd} JOB=1:"${_nj}" "${logdir}/format.JOB.log" \
    "${python}" pyscripts/audio/format_wav_scp.py --fs "${fs}" --audio_format "${audio_format}" \
        ${opts} "${logdir}/in.JOB.scp" "${out_dir}/data/${name}" "${logdir}/out.JOB.scp"

for n in $(seq "${_nj}"); do cat "${logdir}/out.${n}.scp"; done | LC_ALL=C sort -k1,1 > "${out_dir}/${out_filename}"
if ${write_utt2num_samples}; then
    for n in $(seq "${_nj}"); do cat "${logdir}/utt2num_samples.${n}"; done \
        | LC_ALL=C sort -k1,1 > "${out_dir}/utt2num_samples"
fi
log "${in_scp} -> ${out_dir}/${out_filename} ($(wc -l < "${out_dir}/${out_filename}") utterances)"
