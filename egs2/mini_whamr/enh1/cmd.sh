# How enh.sh runs its jobs.
#   train_cmd:  data preparation and statistics collection (CPU)
#   cuda_cmd:   training (GPU when --ngpu > 0)
#   decode_cmd: inference and scoring
# Each is called as "<cmd> [--gpu N] [JOB=1:N] <log> <command>" (see utils/run_local.sh).

# Select the backend: "local" runs the jobs on this machine, in parallel;
# "slurm" submits them with sbatch (array jobs) or runs them with srun.
cmd_backend=local

if [ "${cmd_backend}" = local ]; then
    # --num_threads 1: many jobs side by side, one CPU thread each (as ESPnet's OMP_NUM_THREADS=1).
    export train_cmd="utils/run_local.sh --num_threads 1"
    export cuda_cmd="utils/run_local.sh"
    export decode_cmd="utils/run_local.sh --num_threads 1"
elif [ "${cmd_backend}" = slurm ]; then
    # Add your site's options, e.g. --partition gpu --account myproject --time 2-00:00:00,
    # or --launcher srun to run inside an allocation (salloc).
    export train_cmd="utils/run_slurm.sh --num_threads 1 --mem 4G"
    export cuda_cmd="utils/run_slurm.sh --num_threads 4 --mem 32G"
    export decode_cmd="utils/run_slurm.sh --num_threads 1 --mem 8G"
else
    echo "cmd.sh: unknown cmd_backend '${cmd_backend}' (local or slurm)" >&2
    return 1
fi
