#!/usr/bin/env bash
# Sweep the number of refinement repeats M_re of a trained TISDiSS model on WHAMR!: stages 7-8 of enh.sh
# once per M_re (conf/efficient_infer/re/re_<N>.yaml), then one markdown table (STOI, SAR, SDR, SIR,
# SI_SNR, SI-SNRi, RTF per M_re) and a PNG plot of SI-SNRi and RTF against M_re.
#   ./infer_run.sh                                  # M_re 3 6 8, the run.sh model (trained with 6)
#   ./infer_run.sh --mix clean --cond anechoic --test_set tt_mix_clean_anechoic_min_8k   # run.sh's options go to run.sh
#   ./infer_run.sh --enh_exp exp/tisdiss_published --inference_model valid.loss.ave_5best.pth
# Other options go to run.sh / enh.sh (e.g. --gpu_inference true --inference_nj 4).
set -e
set -u
set -o pipefail

m_re_list="3 6 8"     # M_re values to run.
enh_exp=              # Trained model directory (default: the one run.sh trains).
inference_model=      # Model file in enh_exp (default: run.sh's, else the one found there).
test_set=tt_mix_both_reverb_min_8k # Test set (a data directory name).
infer_conf_dir=conf/efficient_infer/re # Where re_<N>.yaml live (wsj0_2mix's local/make_infer_configs.py).
title=                # Title of the table and plot (default: "<test_set>: M_re sweep").
out=                  # Output prefix (default: <enh_exp>/m_re_sweep_<test_set>).
run=./run.sh          # Recipe script that forwards options to enh.sh.

help_message="Usage: $0 [options] [run.sh options]"
declare -a pass_on=()   # options for run.sh
. utils/parse_options.sh
. ./path.sh
. scripts/utils/sweep_m_re.sh
