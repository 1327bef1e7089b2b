#!/usr/bin/env bash
# Run a command, or an array of jobs, through Slurm (Kaldi's slurm.pl, in bash).
#
#   utils/run_slurm.sh [options] [JOB=1:N] <log> <command> [<args>...]
#
# Same interface and logs as utils/run_local.sh. The command is written to a job script
# <logdir>/q/<name>.sh that enters this directory and sources ./path.sh if there is one;
# then either (--launcher sbatch, the default) "sbatch --wait --array=1-N" submits it as an
# array job and this script waits for it, or (--launcher srun) one "srun" per job runs it
# inside the current allocation or as its own step.
# Options:
#   --gpu N          --gres=gpu:N                 --num_threads N  --cpus-per-task=N
#   --mem SIZE       --mem=SIZE                   --time T         --time=T
#   --partition P    --partition=P                --account A      --account=A
#   --name NAME      --job-name=NAME              --launcher sbatch|srun
#   --extra "ARGS"   more sbatch/srun arguments (e.g. "--qos high --constraint a100")
#   --max_jobs_run N at most N array tasks at a time (--array=1-N%M)
set -u

gpu=0; num_threads=; mem=; time=; partition=; account=; name=; launcher=sbatch; extra=
max_jobs_run=0
while [ $# -gt 0 ]; do
    case "$1" in
        --gpu) gpu=$2 ;;
        --num_threads|--num-threads) num_threads=$2 ;;
        --mem) mem=$2 ;;
        --time) time=$2 ;;
        --partition) partition=$2 ;;
        --account) account=$2 ;;
        --name) name=$2 ;;
        --launcher) launcher=$2 ;;
        --extra) extra=$2 ;;
        --max_jobs_run|--max-jobs-run) max_jobs_run=$2 ;;
        --*) echo "$0: unknown option $1" >&2; exit 1 ;;
        *) break ;;
    esac
    shift 2
done
case "${launcher}" in
    sbatch|srun) ;;
    *) echo "$0: --launcher must be sbatch or srun, got '${launcher}'" >&2; exit 1 ;;
esac

jobvar=; first=1; last=1
if [[ $# -gt 0 && $1 =~ ^([A-Za-z_]+)=([0-9]+):([0-9]+)$ ]]; then
    jobvar=${BASH_REMATCH[1]}; first=${BASH_REMATCH[2]}; last=${BASH_REMATCH[3]}
    shift
fi
if [ $# -lt 2 ]; then
    echo "Usage: $0 [options] [JOB=1:N] <log> <command> [<args>...]" >&2; exit 1
fi
log=$1; shift
if ! command -v "${launcher}" > /dev/null; then
    echo "$0: '${launcher}' is not installed here: set cmd_backend=local in cmd.sh" >&2; exit 1
fi

cmd=
for arg in "$@"; do
    if [[ ${arg} =~ [[:space:]] || -z ${arg} ]]; then cmd+="$(printf '%q' "${arg}") "; else cmd+="${arg} "; fi
done

logdir=$(dirname "${log}")
base=$(basename "${log}" .log)
base=${base//${jobvar:-JOB}/}
base=${base//../.}
mkdir -p "${logdir}/q"
script=${logdir}/q/${base%.}.sh
task_log=${log}
task_cmd=${cmd}
if [ -n "${jobvar}" ]; then
    task_log=${log//${jobvar}/\$\{task\}}
    task_cmd=${cmd//${jobvar}/\$\{task\}}
fi
{
    echo '#!/usr/bin/env bash'
    echo "# Written by $0; one array task (or srun step) of: ${cmd}"
    echo "task=\${SLURM_ARRAY_TASK_ID:-\${1:-1}}"
    echo "cd $(printf '%q' "${PWD}")"
    echo '[ -f ./path.sh ] && . ./path.sh'
    [ -n "${num_threads}" ] && echo "export OMP_NUM_THREADS=${num_threads}"
    echo "log=${task_log}"
    echo 'mkdir -p "$(dirname "${log}")"'
    echo 'start=$(date +%s.%N)'
    echo '{'
    echo "  echo \"# ${task_cmd//\"/\\\"}\""
    echo '  echo "# Started at $(date) on $(hostname) (Slurm job ${SLURM_JOB_ID:-?})"'
    echo "  ${task_cmd}"
    echo '  rc=$?'
    echo '  elapsed=$(awk -v a="${start}" -v b="$(date +%s.%N)" '"'"'BEGIN { printf "%.2f", b - a }'"'"')'
    echo "  echo \"# Accounting: time=\${elapsed} threads=${num_threads:-1}\""
    echo '  echo "# Ended (code ${rc}) at $(date), elapsed time ${elapsed} seconds"'
    echo '  exit ${rc}'
    echo '} > "${log}" 2>&1'
} > "${script}"
chmod +x "${script}"

opts=()
[ "${gpu}" -gt 0 ] && opts+=("--gres=gpu:${gpu}")
[ -n "${num_threads}" ] && opts+=("--cpus-per-task=${num_threads}")
[ -n "${mem}" ] && opts+=("--mem=${mem}")
[ -n "${time}" ] && opts+=("--time=${time}")
[ -n "${partition}" ] && opts+=("--partition=${partition}")
[ -n "${account}" ] && opts+=("--account=${account}")
opts+=("--job-name=${name:-${base%.}}")
# shellcheck disable=SC2206
[ -n "${extra}" ] && opts+=(${extra})

rc=0
if [ "${launcher}" = sbatch ]; then
    array="${first}-${last}"
    [ "${max_jobs_run}" -gt 0 ] && array+="%${max_jobs_run}"
    sbatch --wait --parsable "${opts[@]}" --array="${array}" \
        --output="${logdir}/q/${base%.}.%a.out" "${script}" > "${logdir}/q/${base%.}.jobid" || rc=$?
else
    pids=()
    for ((id = first; id <= last; id++)); do
        srun --ntasks=1 "${opts[@]}" bash "${script}" "${id}" \
            > "${logdir}/q/${base%.}.${id}.out" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "${pid}" || rc=1; done
fi

# Name the first failed job by its log (a task that never started has no "Ended (code 0)").
for ((id = first; id <= last; id++)); do
    job_log=${log}
    [ -n "${jobvar}" ] && job_log=${log//${jobvar}/${id}}
    if ! grep -q '^# Ended (code 0)' "${job_log}" 2> /dev/null; then
        echo "$0: job ${id} of ${first}-${last} failed (Slurm said rc=${rc}), log is in ${job_log}" \
            "(Slurm's own output: ${logdir}/q/)" >&2
        exit 1
    fi
done
exit 0
