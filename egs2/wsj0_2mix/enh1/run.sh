#!/usr/bin/env bash
# WSJ0-2mix two-speaker separation with TISDiSS (flagship config, 8 kHz "min" by default).
#   ./run.sh                                     # all stages
#   ./run.sh --stage 6 --ngpu 4                  # any enh.sh option (./run.sh --help)
#   ./run.sh --min_or_max max --sample_rate 16k  # the other WSJ0-2mix variants
# Set WSJ0= in db.sh first.
set -e
set -u
set -o pipefail

min_or_max=min   # "min" or "max": how local/data.sh makes the mixtures.
sample_rate=8k   # "8k" or "16k".
enh_config=conf/efficient_train/tisdiss/train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x6_l1+1x6.yaml

help_message="Usage: $0 [options]"
declare -a pass_on=()                   # the options of enh.sh
declare pass_on_help="./enh.sh --help"
. utils/parse_options.sh
. ./path.sh

train_set="tr_${min_or_max}_${sample_rate}"
valid_set="cv_${min_or_max}_${sample_rate}"
test_sets="tt_${min_or_max}_${sample_rate}"

./enh.sh \
    --train_set "${train_set}" \
    --valid_set "${valid_set}" \
    --test_sets "${test_sets}" \
    --fs "${sample_rate}" \
    --ngpu 1 \
    --ref_num 2 \
    --local_data_opts "--sample_rate ${sample_rate} --min_or_max ${min_or_max}" \
    --enh_config "${enh_config}" \
    --inference_model valid.loss.ave.pth \
    "${pass_on[@]}"
