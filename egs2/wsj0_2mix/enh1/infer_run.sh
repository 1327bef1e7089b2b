#!/usr/bin/env bash
# Sweep the number of refinement repeats M_re of a trained TISDiSS model on WSJ0-2mix: stages 7-8
# of enh.sh once per M_re (conf/efficient_infer/re/re_<N>.yaml), then one markdown table
# (STOI, SAR, SDR, SIR, SI_SNR, SI-SNRi, RTF per M_re) and a PNG plot of SI-SNRi and RTF against M_re.
#   ./infer_run.sh                                  # M_re 3 6 8, the run.sh model
#   ./infer_run.sh --m_re_list "1 2 3 4 5 6 8" --enh_exp exp/my_model --test_set tt_max_8k
#   ./infer_run.sh --enh_exp exp/tisdiss_published --inference_model valid.loss.ave_5best.pth
# Other options go to run.sh / enh.sh (e.g. --gpu_inference true --inference_nj 4); --help lists them.
exec scripts/utils/sweep_m_re.sh --m_re_list "3 6 8" --test_set tt_min_8k \
    --infer_conf_dir conf/efficient_infer/re "$@"
