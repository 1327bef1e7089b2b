#!/usr/bin/env bash
# Libri2Mix two-speaker separation with TISDiSS (the paper's 8.0M Libri2Mix model; train-360, clean
# mixtures, 8 kHz "min" by default, as the TISDiSS and TF-Locoformer papers).
#   ./run.sh                                     # all stages
#   ./run.sh --stage 6 --ngpu 4                  # any enh.sh option (./run.sh --help)
#   ./run.sh --mix both                          # noisy separation (mix_both: with WHAM! noise)
#   ./run.sh --min_or_max max --sample_rate 16k --train_subset train   # the other Libri2Mix variants
#   ./run.sh --local_data_opts "--librimix /data/Libri2Mix"            # a Libri2Mix made elsewhere
# Set LIBRISPEECH= (and WHAM_NOISE= for --mix both) in db.sh first.
set -e
set -u
set -o pipefail

min_or_max=min          # "min" or "max": how the mixtures are cut.
sample_rate=8k          # "8k" or "16k".
mix=clean               # "clean" (s1 + s2) or "both" (s1 + s2 + WHAM! noise).
train_subset=train-360  # "train-100", "train-360" or "train" (both).
local_data_opts=        # More options for local/data.sh, e.g. "--metadata_dir DIR" or "--librimix DIR".
# Training config: TISDiSS re1x3 (8.0M) by default; re2x2 (11.2M) beside it, TF-Locoformer-M in conf/tuning.
enh_config=conf/efficient_train/tisdiss/train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x3_l1+1x3.yaml

help_message="Usage: $0 [options]"
declare -a pass_on=()                   # the options of enh.sh
declare pass_on_help="./enh.sh --help"
. utils/parse_options.sh
. ./path.sh

suffix="${mix}_${min_or_max}_${sample_rate}"

./enh.sh \
    --train_set "${train_subset}_${suffix}" \
    --valid_set "dev_${suffix}" \
    --test_sets "test_${suffix}" \
    --fs "${sample_rate}" \
    --ngpu 1 \
    --ref_num 2 \
    --local_data_opts "--sample_rate ${sample_rate} --min_or_max ${min_or_max} --mix ${mix} --train_subset ${train_subset} ${local_data_opts}" \
    --enh_config "${enh_config}" \
    --inference_model valid.loss.ave.pth \
    "${pass_on[@]}"
