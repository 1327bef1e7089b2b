#!/usr/bin/env bash
# M_re sweep of a trained TISDiSS model, the body of every recipe's infer_run.sh: stages 7-8 of
# enh.sh once per M_re (through the recipe's run.sh), then one markdown table (STOI, SAR, SDR, SIR,
# SI_SNR, SI-SNRi, RTF per M_re) and a PNG plot of SI-SNRi and RTF against M_re.
#
#   scripts/utils/sweep_m_re.sh --test_set tt --m_re_list "1 2 3" [run.sh options]
#
# A recipe's infer_run.sh calls this with its own defaults first; options given later win, and
# --help shows the values in force. Options not listed below go to run.sh (and on to enh.sh),
# e.g. --gpu_inference true --inference_nj 4.
set -euo pipefail

m_re_list="3 6 8"     # M_re values to run.
enh_exp=              # Trained model directory (default: the one run.sh trains).
inference_model=      # Model file in enh_exp (default: run.sh's).
test_set=             # Test set to separate and score (a data directory name).
infer_conf_dir=       # Directory of re_<N>.yaml inference configs (empty: enh.sh --m_re N).
title=                # Title of the table and plot (default: "<test_set>: M_re sweep").
out=                  # Output prefix (default: <enh_exp>/m_re_sweep_<test_set>).
run=./run.sh          # Recipe script that forwards options to enh.sh.

options=(m_re_list enh_exp inference_model test_set infer_conf_dir title out run)
help=false
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --help|-h) help=true; shift ;;
        --m_re_list|--enh_exp|--inference_model|--test_set|--infer_conf_dir|--title|--out|--run)
            [ $# -ge 2 ] || { echo "$0: $1 needs a value" >&2; exit 1; }
            printf -v "${1#--}" '%s' "$2"; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
if ${help}; then
    echo "Usage: $0 [options] [run.sh options]"
    echo "Sweeps M_re (TISDiSS refinement repeats at inference): stages 7-8 per M_re, one table and plot."
    echo
    echo "Options:"
    for name in "${options[@]}"; do
        comment=$(sed -n "s/^${name}=[^#]*# *//p" "${BASH_SOURCE[0]}")
        printf '  --%-16s ("%s") %s\n' "${name}" "${!name}" "${comment}"
    done
    echo "Any other option goes to ${run}."
    exit 0
fi
[ -n "${test_set}" ] || { echo "$0: --test_set is required" >&2; exit 2; }
. ./path.sh

if [ -z "${enh_exp}" ]; then
    # The experiment directory that run.sh trains into (enh.sh's default naming).
    enh_exp=$(${run} "${args[@]}" --print_enh_exp true 2> /dev/null | tail -n 1)
fi
if [ ! -f "${enh_exp}/config.yaml" ]; then
    echo "$0: ${enh_exp}/config.yaml does not exist: train first (./run.sh) or pass --enh_exp <model folder>" >&2
    exit 1
fi
[ -z "${out}" ] && out="${enh_exp}/m_re_sweep_${test_set}"
[ -z "${title}" ] && title="${test_set}: M_re sweep"

pairs=()
for n in ${m_re_list}; do
    if [ -n "${infer_conf_dir}" ]; then
        conf="${infer_conf_dir}/re_${n}.yaml"
        if [ ! -f "${conf}" ]; then
            echo "$0: ${conf} does not exist: run local/make_infer_configs.py --max_re ${n}" >&2
            exit 1
        fi
        m_re_opts=(--inference_enh_config "${conf}")
    else
        m_re_opts=(--m_re "${n}")
    fi
    # The user's options first: the sweep's own come last and win.
    ${run} "${args[@]}" --stage 7 --stop_stage 8 --skip_data_prep true --skip_train true \
        --enh_exp "${enh_exp}" ${inference_model:+--inference_model "${inference_model}"} \
        --test_sets "${test_set}" "${m_re_opts[@]}" --inference_tag "enhanced_re${n}"
    pairs+=("${n}=${enh_exp}/enhanced_re${n}_${test_set}")
done

"${TISDISS_PYTHON}" pyscripts/utils/m_re_sweep.py --out "${out}" --title "${title}" "${pairs[@]}"
echo "Results: ${out}.md and ${out}.png"
cat "${out}.md"
