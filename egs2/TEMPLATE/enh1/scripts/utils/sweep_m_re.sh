#!/usr/bin/env bash
# The M_re sweep of a trained TISDiSS model, sourced by every recipe's infer_run.sh after its options
# (m_re_list, enh_exp, inference_model, test_set, infer_conf_dir, title, out, run and the array
# pass_on of run.sh options) are parsed: stages 7-8 of enh.sh once per M_re through the recipe's
# run.sh, then one markdown table (STOI, SAR, SDR, SIR, SI_SNR, SI-SNRi, RTF per M_re) and a PNG
# plot of SI-SNRi and RTF against M_re.

if [ -z "${enh_exp}" ]; then
    # The experiment directory that run.sh trains into (enh.sh's default naming).
    enh_exp=$(${run} "${pass_on[@]}" --print_enh_exp true 2> /dev/null | tail -n 1)
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
    ${run} "${pass_on[@]}" --stage 7 --stop_stage 8 --skip_data_prep true --skip_train true \
        --enh_exp "${enh_exp}" ${inference_model:+--inference_model "${inference_model}"} \
        --test_sets "${test_set}" "${m_re_opts[@]}" --inference_tag "enhanced_re${n}"
    pairs+=("${n}=${enh_exp}/enhanced_re${n}_${test_set}")
done

"${TISDISS_PYTHON}" pyscripts/utils/m_re_sweep.py --out "${out}" --title "${title}" "${pairs[@]}"
echo "Results: ${out}.md and ${out}.png"
cat "${out}.md"
