#!/usr/bin/env bash
# Parse "--name value" options into shell variables (sourced, Kaldi/ESPnet style).
#
# The calling script sets a default for every option before sourcing this file:
#
#     nj=4            # Number of parallel jobs.
#     . utils/parse_options.sh
#
# "--name value" (or "--name=value"; "--name-with-dashes" works too) then sets $name (names
# are lower-case). An option the script does not define is an error. An option whose default
# is true/false only takes true/false. "--help" (or "-h") prints $help_message, then every
# option with its current value (the default) and the comment on its line, read from the
# calling script ("$0"); comment lines right above options become section titles. What is left
# (positional arguments) stays in "$@".
#
# A script that passes the options it does not know on to another (run.sh -> enh.sh) declares an
# array for them, and the command printing their help, before sourcing this file:
#
#     declare -a pass_on=()                    # options for enh.sh
#     declare pass_on_help="./enh.sh --help"
#
# Unknown "--name value" pairs are then appended to "${pass_on[@]}" (in order) instead of being an
# error, and "--help" also runs "${pass_on_help}".

_po_list_options() {
    # Print the options of "$0": the "name=value  # comment" lines at the left margin before
    # the line that sources parse_options.sh; a comment line right above an option is printed
    # as a section title.
    local _po_line _po_name _po_title=
    while IFS= read -r _po_line; do
        case "${_po_line}" in
            *parse_options.sh*) break ;;
        esac
        if [[ ${_po_line} =~ ^([a-z_][a-z0-9_]*)=([^#]*)(#[[:space:]]?(.*))?$ ]]; then
            _po_name=${BASH_REMATCH[1]}
            [ "${_po_name}" = help_message ] && continue
            [ -n "${_po_title}" ] && printf '\n%s\n' "${_po_title}"
            _po_title=
            printf '  --%-26s %s\n' "${_po_name}" "(default: \"${!_po_name}\") ${BASH_REMATCH[4]}"
        elif [[ ${_po_line} =~ ^#[[:space:]]?(.+)$ ]]; then
            _po_title=${BASH_REMATCH[1]}
        else
            _po_title=
        fi
    done < "$0"
}

_po_pass_on=false
[[ "$(declare -p pass_on 2> /dev/null)" == "declare -a"* ]] && _po_pass_on=true

for _po_arg in "$@"; do
    if [ "${_po_arg}" = --help ] || [ "${_po_arg}" = -h ]; then
        printf '%s\n' "${help_message:-Usage: $0 [options]}"
        printf '\nOptions:\n'
        _po_list_options
        if ${_po_pass_on} && [ -n "${pass_on_help:-}" ]; then
            printf '\nand those of %s:\n' "${pass_on_help%% *}"
            ${pass_on_help}
        fi
        exit 0
    fi
done

while [ $# -gt 0 ]; do
    case "$1" in
        --*=*)
            _po_name=${1%%=*}; _po_value=${1#*=}; shift ;;
        --*)
            _po_name=$1
            if [ $# -lt 2 ]; then
                echo "$0: option $1 needs a value (see $0 --help)" >&2
                exit 1
            fi
            _po_value=$2; shift 2 ;;
        *)
            break ;;
    esac
    _po_name=${_po_name#--}
    _po_name=${_po_name//-/_}
    if ! [[ ${_po_name} =~ ^[a-z_][a-z0-9_]*$ ]] || [ -z "${!_po_name+set}" ] \
        || [ "${_po_name}" = help_message ] || [ "${_po_name}" = pass_on ] || [ "${_po_name}" = pass_on_help ]; then
        if ${_po_pass_on}; then
            pass_on+=("--${_po_name}" "${_po_value}")
            continue
        fi
        echo "$0: unknown option --${_po_name} (see $0 --help for the list)" >&2
        exit 1
    fi
    _po_old=${!_po_name}
    if { [ "${_po_old}" = true ] || [ "${_po_old}" = false ]; } \
        && [ "${_po_value}" != true ] && [ "${_po_value}" != false ]; then
        echo "$0: option --${_po_name} takes true or false, got '${_po_value}'" >&2
        exit 1
    fi
    printf -v "${_po_name}" '%s' "${_po_value}"
done
unset _po_arg _po_name _po_value _po_old _po_pass_on
true
