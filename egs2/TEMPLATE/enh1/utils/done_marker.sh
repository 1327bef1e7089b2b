#!/usr/bin/env bash
# Finished-work markers for data preparation (as in icefall's prepare.sh), sourced by local/data.sh:
# a step that finished writes <dir>/.done holding a description of what it was made from (lists,
# options); a rerun skips the step while the marker holds the same description. With redo=true
# (local/data.sh --redo true) every step runs again; deleting <dir> (or <dir>/.done) remakes that
# step alone.
#
#   . utils/done_marker.sh
#   if is_done "${dir}" "${what}"; then log "${dir}: done before, skipped"; else make ...; mark_done "${dir}" "${what}"; fi

is_done() {  # is_done <dir> <description>
    [ "${redo:-false}" = false ] && [ -f "$1/.done" ] && [ "$(cat "$1/.done")" = "$2" ]
}

mark_done() {  # mark_done <dir> <description>
    mkdir -p "$1" && printf '%s\n' "$2" > "$1/.done"
}
