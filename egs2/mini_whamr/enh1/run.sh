#!/usr/bin/env bash
# mini_whamr: the WHAMR! recipe in miniature, end to end on CPU: the mini_2mix corpus (shipped with the
# repository) in simulated rooms with WHAM!-like noise made from it, mixed by the WHAMR! recipe's code; a tiny
# TISDiSS trained to separate the noisy reverberant mixtures into the anechoic speakers; separation and scoring.
#   ./run.sh                                # stages 1-8; results in exp/enh_train_tiny_raw/RESULTS.md
#   ./run.sh --local_data_opts "--cond anechoic"   # other conditions (local/data.sh --help)
#   ./run.sh --stage 6 --enh_args "--max_epoch 2"  # any enh.sh option (./run.sh --help)
#   ./infer_run.sh                          # then the M_re sweep (1 .. 4; the model is trained with 3)
set -e
set -u
set -o pipefail

local_data_opts=        # Options for local/data.sh, e.g. "--min_or_max max" or "--num_train 100".

help_message="Usage: $0 [options]"
declare -a pass_on=()                   # the options of enh.sh
declare pass_on_help="./enh.sh --help"
. utils/parse_options.sh
. ./path.sh

./enh.sh \
    --train_set tr \
    --valid_set cv \
    --test_sets tt \
    --fs 8k \
    --ngpu 0 \
    --nj 2 \
    --inference_nj 2 \
    --ref_num 2 \
    --local_data_opts "${local_data_opts}" \
    --enh_config conf/train_tiny.yaml \
    --inference_model valid.loss.best.pth \
    "${pass_on[@]}"
