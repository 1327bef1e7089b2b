#!/usr/bin/env bash
# Sweep the number of refinement repeats M_re of the mini_whamr model: stages 7-8 of enh.sh once per M_re
# (enh.sh --m_re N) on the test set, then one markdown table (STOI, SAR, SDR, SIR, SI_SNR, SI-SNRi, RTF per
# M_re) and a PNG plot of SI-SNRi and RTF against M_re.
#   ./infer_run.sh                                     # M_re 1-4, the run.sh model
#   ./infer_run.sh --m_re_list "1 3 8" --enh_exp exp/my_model --inference_model valid.loss.ave.pth
# Other options go to run.sh / enh.sh (e.g. --inference_nj 1).
set -e
set -u
set -o pipefail

m_re_list="1 2 3 4"   # M_re values to run (the model is trained with 3).
enh_exp=              # Trained model directory (default: the one run.sh trains).
inference_model=      # Model file in enh_exp (default: run.sh's, else the one found there).
test_set=tt           # Test set (a data directory name).
infer_conf_dir=       # Directory of re_<N>.yaml inference configs (empty: enh.sh --m_re N).
title="mini_whamr tt: M_re sweep (trained with M_re 3)" # Title of the table and plot.
out=                  # Output prefix (default: <enh_exp>/m_re_sweep_<test_set>).
run=./run.sh          # Recipe script that forwards options to enh.sh.

help_message="Usage: $0 [options] [run.sh options]"
declare -a pass_on=()   # options for run.sh
. utils/parse_options.sh
. ./path.sh
. scripts/utils/sweep_m_re.sh
