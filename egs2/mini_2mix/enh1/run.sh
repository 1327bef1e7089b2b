#!/usr/bin/env bash
# mini_2mix: the whole recipe on a tiny synthetic two-speaker corpus that ships with the
# repository. Stages 1-8 of enh.sh (mixing, formatting, statistics, training a tiny TISDiSS,
# separation, scoring) on CPU, then an M_re sweep: the trained model (M_re 3) separates the
# test set with 1 .. 4 refinement repeats. About 10 minutes on 2 CPU cores.
#   ./run.sh                                # everything; results in exp/enh_train_tiny_raw/RESULTS.md
#   ./run.sh --stage 6 --enh_args "--max_epoch 2"   # any enh.sh option (./run.sh --help)
#   ./run.sh --m_re_list "1 3 8"            # another sweep (./infer_run.sh); --skip_sweep true for none
set -e
set -u
set -o pipefail

m_re_list="1 2 3 4"         # M_re of the sweep (the model is trained with 3).
skip_sweep=false            # Skip the M_re sweep.
results=                    # Markdown file for the scores and the sweep (default: <enh_exp>/RESULTS.md).

args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --m_re_list) m_re_list=$2; shift 2 ;;
        --skip_sweep) skip_sweep=$2; shift 2 ;;
        --results) results=$2; shift 2 ;;
        --help|-h)
            echo "Options of $0 (default):"
            echo "  --m_re_list   (\"${m_re_list}\") M_re of the sweep after stage 8"
            echo "  --skip_sweep  (\"${skip_sweep}\") skip the M_re sweep"
            echo "  --results     (\"${results}\") markdown file for the scores and the sweep (default: <enh_exp>/RESULTS.md)"
            echo "and those of enh.sh:"
            exec ./enh.sh --help ;;
        *) args+=("$1"); shift ;;
    esac
done
. ./path.sh

enh_opts=(
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
)

# Which stages to run: with the sweep, stages 7-8 run once per M_re after the others.
stage=1
stop_stage=10000
for ((i = 0; i < ${#args[@]} - 1; i++)); do
    [ "${args[i]}" = --stage ] && stage=${args[i + 1]}
    [ "${args[i]}" = --stop_stage ] && stop_stage=${args[i + 1]}
done
if ${skip_sweep} || [ "${stop_stage}" -lt 7 ]; then
    ./enh.sh "${enh_opts[@]}" "${args[@]}"
    exit 0
fi
if [ "${stage}" -le 6 ]; then
    ./enh.sh "${enh_opts[@]}" "${args[@]}" --stop_stage 6
fi

enh_exp=$(./enh.sh "${enh_opts[@]}" "${args[@]}" --print_enh_exp true | tail -n 1)
./infer_run.sh --m_re_list "${m_re_list}" --enh_exp "${enh_exp}" "${args[@]}"
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
    ./enh.sh "${enh_opts[@]}" "${args[@]}" --stage 9   # packing, unless --skip_packing true
fi
echo "Results: ${results}"
cat "${results}"
