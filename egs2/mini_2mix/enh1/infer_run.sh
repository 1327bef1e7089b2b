#!/usr/bin/env bash
# Sweep the number of refinement repeats M_re of the mini_2mix model: stages 7-8 of enh.sh once
# per M_re (enh.sh --m_re N) on the held-out test set, then one markdown table (STOI, SAR, SDR,
# SIR, SI_SNR, SI-SNRi, RTF per M_re) and a PNG plot of SI-SNRi and RTF against M_re.
# run.sh calls it after stage 8; it also runs alone on a trained model:
#   ./infer_run.sh                                     # M_re 1-4, the run.sh model
#   ./infer_run.sh --m_re_list "1 3 8" --enh_exp exp/my_model --inference_model valid.loss.ave.pth
# Other options go to run.sh / enh.sh (e.g. --inference_nj 1); --help lists them.
exec scripts/utils/sweep_m_re.sh --m_re_list "1 2 3 4" --test_set tt \
    --title "mini_2mix tt: M_re sweep (trained with M_re 3)" --skip_sweep true "$@"
