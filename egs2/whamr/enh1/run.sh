#!/usr/bin/env bash
# WHAMR! two-speaker separation with TISDiSS (flagship config): noisy reverberant mixtures in, the two
# anechoic speakers out (separation, denoising and dereverberation, as the TF-Locoformer and TISDiSS papers),
# 8 kHz "min" by default.
#   ./run.sh                                     # all stages
#   ./run.sh --stage 6 --ngpu 4                  # any enh.sh option (./run.sh --help)
#   ./run.sh --mix clean --cond anechoic         # the other WHAMR! conditions (mix_clean_anechoic ...)
#   ./run.sh --min_or_max max --sample_rate 16k  # the other WHAMR! variants
#   ./run.sh --local_data_opts "--whamr /data/WHAMR"   # a WHAMR! made elsewhere
# Set WSJ0= and WHAM_NOISE= in db.sh first.
set -e
set -u
set -o pipefail

min_or_max=min          # "min" or "max": how the mixtures are cut.
sample_rate=8k          # "8k" or "16k".
mix=both                # "both" (s1 + s2 + noise), "clean" (s1 + s2) or "single" (s1 + noise; one reference).
cond=reverb             # "reverb" (reverberant mixtures) or "anechoic".
local_data_opts=        # More options for local/data.sh, e.g. "--whamr_meta DIR" or "--whamr DIR".
# Training config: the TISDiSS flagship (8.0M, wsj0_2mix's); TF-Locoformer-M (MERL's WHAMR! config) in conf/tuning.
enh_config=conf/efficient_train/tisdiss/train_enh_tisdiss_tflocoformer_en-residual_en1x2_re1x6_l1+1x6.yaml

help_message="Usage: $0 [options]"
declare -a pass_on=()                   # the options of enh.sh
declare pass_on_help="./enh.sh --help"
. utils/parse_options.sh
. ./path.sh

suffix="mix_${mix}_${cond}_${min_or_max}_${sample_rate}"
ref_num=2
[ "${mix}" = single ] && ref_num=1     # speech enhancement: one speaker (needs a config with num_spk 1)

./enh.sh \
    --train_set "tr_${suffix}" \
    --valid_set "cv_${suffix}" \
    --test_sets "tt_${suffix}" \
    --fs "${sample_rate}" \
    --ngpu 1 \
    --ref_num "${ref_num}" \
    --local_data_opts "--sample_rate ${sample_rate} --min_or_max ${min_or_max} --mix ${mix} --cond ${cond} ${local_data_opts}" \
    --enh_config "${enh_config}" \
    --inference_model valid.loss.ave.pth \
    "${pass_on[@]}"
