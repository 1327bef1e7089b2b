#!/usr/bin/env bash
# Run a command, or an array of jobs, on this machine (Kaldi's run.pl, in bash).
#
#   utils/run_local.sh [options] [JOB=1:N] <log> <command> [<args>...]
#
# With JOB=1:N the command runs N times in parallel; every "JOB" in <log> and in the command
# is replaced by the job number (1..N), so each job has its own log. The log gets the command,
# its output, the elapsed time ("# Accounting: time=<s>") and the exit code
# ("# Ended (code <rc>)"). If a job fails, the script names its log and exits 1.
# Options: --max_jobs_run N (jobs at a time, default all), and --gpu, --num_threads, --mem,
# --time, which are accepted so that cmd.sh can switch to utils/run_slurm.sh unchanged;
# here --num_threads N sets OMP_NUM_THREADS, the others are ignored.
set -u

max_jobs_run=0
num_threads=
while [ $# -gt 0 ]; do
    case "$1" in
        --max_jobs_run|--max-jobs-run) max_jobs_run=$2; shift 2 ;;
        --num_threads|--num-threads) num_threads=$2; shift 2 ;;
        --gpu|--mem|--time|--name) shift 2 ;;
        --*) echo "$0: unknown option $1" >&2; exit 1 ;;
        *) break ;;
    esac
done

jobvar=; first=1; last=1
if [[ $# -gt 0 && $1 =~ ^([A-Za-z_]+)=([0-9]+):([0-9]+)$ ]]; then
    jobvar=${BASH_REMATCH[1]}; first=${BASH_REMATCH[2]}; last=${BASH_REMATCH[3]}
    shift
    if [ "${last}" -lt "${first}" ]; then
        echo "$0: empty job range ${jobvar}=${first}:${last}" >&2; exit 1
    fi
fi
if [ $# -lt 2 ]; then
    echo "Usage: $0 [options] [JOB=1:N] <log> <command> [<args>...]" >&2; exit 1
fi
log=$1; shift
if [ -z "${jobvar}" ] && [[ ${log} == *JOB* ]]; then
    echo "$0: the log ${log} contains JOB but no JOB=1:N range was given" >&2; exit 1
fi

# Words without white space go as they are (so "|" stays a pipe), others are quoted.
cmd=
for arg in "$@"; do
    if [[ ${arg} =~ [[:space:]] || -z ${arg} ]]; then cmd+="$(printf '%q' "${arg}") "; else cmd+="${arg} "; fi
done

run_job() {
    local id=$1 job_log=$2 job_cmd=$3 start rc elapsed
    mkdir -p "$(dirname "${job_log}")"
    start=$(date +%s.%N)
    {
        echo "# ${job_cmd}"
        echo "# Started at $(date)"
        if [ -n "${num_threads}" ]; then export OMP_NUM_THREADS=${num_threads}; fi
        bash -c "${job_cmd}"
        rc=$?
        elapsed=$(awk -v a="${start}" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
        echo "# Accounting: time=${elapsed} threads=${num_threads:-1}"
        echo "# Ended (code ${rc}) at $(date), elapsed time ${elapsed} seconds"
        exit "${rc}"
    } > "${job_log}" 2>&1
}

# Job control: every job runs in a process group of its own, so that Ctrl-C (or a kill) of this
# script stops each job whole (the command and its children). Without it a background job of a
# script ignores Ctrl-C, and a training would go on running after the recipe stopped.
set -m
declare -A pids
stop_jobs() {
    local pid
    # jobs -p also knows a job started just before the signal, whose pid the loop has not recorded yet
    for pid in $(jobs -p) "${pids[@]}"; do kill -TERM -- "-${pid}" 2> /dev/null; done
    echo "$0: stopped; the logs so far are in ${log//${jobvar:-JOB}/*}" >&2
}
trap 'stop_jobs; trap - INT; kill -INT $$' INT
trap 'stop_jobs; exit 143' TERM
for ((id = first; id <= last; id++)); do
    if [ -n "${jobvar}" ]; then
        job_log=${log//${jobvar}/${id}}; job_cmd=${cmd//${jobvar}/${id}}
    else
        job_log=${log}; job_cmd=${cmd}
    fi
    run_job "${id}" "${job_log}" "${job_cmd}" &
    pids[${id}]=$!
    if [ "${max_jobs_run}" -gt 0 ]; then
        while [ "$(jobs -rp | wc -l)" -ge "${max_jobs_run}" ]; do wait -n 2>/dev/null || true; done
    fi
done

failed=0; first_failed=
for ((id = first; id <= last; id++)); do
    if ! wait "${pids[${id}]}"; then
        failed=$((failed + 1)); [ -z "${first_failed}" ] && first_failed=${id}
    fi
done
if [ "${failed}" -gt 0 ]; then
    if [ -n "${jobvar}" ]; then
        echo "$0: ${failed} / $((last - first + 1)) jobs failed, log is in ${log//${jobvar}/${first_failed}}" >&2
    else
        echo "$0: job failed, log is in ${log}" >&2
    fi
    exit 1
fi
exit 0
