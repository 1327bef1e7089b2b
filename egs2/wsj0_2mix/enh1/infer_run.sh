#!/usr/bin/env bash
# Sweep the number of refinement repeats M_re of a trained TISDiSS model: stages 7-8 of enh.sh
# once per M_re (conf/efficient_infer/re/re_<N>.yaml), then one markdown table
# (STOI, SAR, SDR, SIR, SI_SNR, SI-SNRi, RTF per M_re) and a PNG plot of SI-SNRi and RTF
# against M_re.
#   ./infer_run.sh                                  # M_re 3 6 8, the run.sh model
#   ./infer_run.sh --m_re_list "1 2 3 4 5 6 8" --enh_exp exp/my_model --test_set tt_max_8k
# Other options go to run.sh / enh.sh (e.g. --gpu_inference true --inference_nj 4).
set -e
set -u
set -o pipefail

m_re_list="3 6 8"     # M_re values to run.
enh_exp=              # Trained model directory (default: the one run.sh trains).
inference_model=valid.loss.ave.pth # Model file in enh_exp.
test_set=tt_min_8k    # Test set (a data directory name).
infer_conf_dir=conf/efficient_infer/re # Where re_<N>.yaml live (local/make_infer_configs.py).
out=                  # Output prefix (default: <enh_exp>/m_re_sweep_<test_set>).
run=./run.sh          # Recipe script that forwards options to enh.sh.

help_message="Usage: $0 [--m_re_list \"3 6 8\"] [--enh_exp DIR] [--test_set SET] [run.sh options]"
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --m_re_list) m_re_list=$2; shift 2 ;;
        --enh_exp) enh_exp=$2; shift 2 ;;
        --inference_model) inference_model=$2; shift 2 ;;
        --test_set) test_set=$2; shift 2 ;;
        --infer_conf_dir) infer_conf_dir=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --run) run=$2; shift 2 ;;
        --help|-h)
            echo "${help_message}"
            echo "  --m_re_list        (\"${m_re_list}\") M_re values to run"
            echo "  --enh_exp          (\"${enh_exp}\") trained model directory (default: run.sh's)"
            echo "  --inference_model  (\"${inference_model}\") model file in enh_exp"
            echo "  --test_set         (\"${test_set}\") data directory to separate and score"
            echo "  --infer_conf_dir   (\"${infer_conf_dir}\") directory of re_<N>.yaml"
            echo "  --out              (\"${out}\") output prefix (default: <enh_exp>/m_re_sweep_<test_set>)"
            echo "  --run              (\"${run}\") recipe script forwarding options to enh.sh"
            exit 0 ;;
        *) args+=("$1"); shift ;;
    esac
done

if [ -z "${enh_exp}" ]; then
    # The experiment directory that run.sh trains into (enh.sh's default naming).
    enh_exp=$(${run} "${args[@]}" --print_enh_exp true 2> /dev/null | tail -n 1)
fi
[ -z "${out}" ] && out="${enh_exp}/m_re_sweep_${test_set}"

tags=()
for n in ${m_re_list}; do
    conf="${infer_conf_dir}/re_${n}.yaml"
    if [ ! -f "${conf}" ]; then
        echo "$0: ${conf} does not exist: run local/make_infer_configs.py --max_re ${n}" >&2
        exit 1
    fi
    ${run} --stage 7 --stop_stage 8 --skip_data_prep true --skip_train true \
        --enh_exp "${enh_exp}" --inference_model "${inference_model}" --test_sets "${test_set}" \
        --inference_enh_config "${conf}" --inference_tag "enhanced_re${n}" "${args[@]}"
    tags+=("${n}=${enh_exp}/enhanced_re${n}_${test_set}")
done

python3 pyscripts/utils/m_re_sweep.py --out "${out}" "${tags[@]}"
echo "Results: ${out}.md and ${out}.png"
cat "${out}.md"
