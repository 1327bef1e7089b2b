#!/usr/bin/env bash
# mini_2mix: the whole recipe on a small two-speaker corpus of real voices that ships with the
# repository. Stages 1-8 of enh.sh (mixing, formatting, statistics, training a tiny TISDiSS,
# separation, scoring) on CPU, then an M_re sweep (./infer_run.sh): the trained model (M_re 3)
# separates the test set with 1 .. 4 refinement repeats. About 10 minutes on 2 CPU cores.
#   ./run.sh                                # everything; results in exp/enh_train_tiny_raw/RESULTS.md
#   ./run.sh --stage 6 --enh_args "--max_epoch 2"   # any enh.sh option (./run.sh --help)
#   ./run.sh --m_re_list "1 3 8"            # another sweep; --skip_sweep true for none
set -e
set -u
set -o pipefail

stage=1                     # First stage (of enh.sh; the sweep comes after stage 8).
stop_stage=10000            # Last stage.
m_re_list="1 2 3 4"         # M_re of the sweep (the model is trained with 3).
skip_sweep=false            # Skip the M_re sweep: stages 7-8 run once, with the trained M_re.
results=                    # Markdown file for the scores and the sweep (default: <enh_exp>/RESULTS.md).

help_message="Usage: $0 [options]"
declare -a pass_on=()                   # the options of enh.sh
declare pass_on_help="./enh.sh --help"
. utils/parse_options.sh
. ./path.sh

enh=(
    ./enh.sh
    --train_set tr
    --valid_set cv
    --test_sets tt
    --fs 8k
    --ngpu 0
    --nj 2
    --inference_nj 2
    --ref_num 2
    --enh_config conf/train_tiny.yaml
    --inference_model valid.loss.best.pth
    "${pass_on[@]}"
)

if ${skip_sweep} || [ "${stop_stage}" -lt 7 ]; then
    "${enh[@]}" --stage "${stage}" --stop_stage "${stop_stage}"
    exit 0
fi
# With the sweep: stages up to 6, then stages 7-8 once per M_re, then stage 9.
if [ "${stage}" -le 6 ]; then
    "${enh[@]}" --stage "${stage}" --stop_stage 6
fi
enh_exp=$("${enh[@]}" --print_enh_exp true | tail -n 1)
./infer_run.sh --m_re_list "${m_re_list}" --enh_exp "${enh_exp}" "${pass_on[@]}"
[ -z "${results}" ] && results=${enh_exp}/RESULTS.md
# enh.sh's RESULTS.md (one row per inference) followed by the sweep table.
{
    cat "${enh_exp}/RESULTS.md"
    echo
    cat "${enh_exp}/m_re_sweep_tt.md"
    echo
    echo "![SI-SNRi and RTF against M_re](m_re_sweep_tt.png)"
} > "${enh_exp}/RESULTS.md.tmp"
mv "${enh_exp}/RESULTS.md.tmp" "${results}"
if [ "${stop_stage}" -ge 9 ]; then
    "${enh[@]}" --stage 9   # packing, unless --skip_packing true
fi
echo "Results: ${results}"
cat "${results}"
