#!/usr/bin/env bash
# Build sph2pipe (SPHERE -> wav, with Shorten decoding: WSJ0's .wv1 files need it) into
# tools/sph2pipe/sph2pipe. The recipes' path.sh puts tools/sph2pipe on PATH.
#
#   tools/installers/install_sph2pipe.sh                    # download the v2.5 sources
#   tools/installers/install_sph2pipe.sh --tarball sph2pipe-2.5.tar.gz   # offline
set -euo pipefail

url=https://github.com/burrmill/sph2pipe/archive/refs/tags/2.5.tar.gz # Source tarball of sph2pipe 2.5.
tarball=                # A local copy of the source tarball (no download).
prefix=                 # Install directory (default: tools/sph2pipe).
cc=${CC:-gcc}           # C compiler.

while [ $# -gt 0 ]; do
    case "$1" in
        --help|-h)
            sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
            echo "Options: --url URL (default ${url}), --tarball FILE, --prefix DIR, --cc CC"
            exit 0 ;;
        --url) url=$2; shift 2 ;;
        --tarball) tarball=$2; shift 2 ;;
        --prefix) prefix=$2; shift 2 ;;
        --cc) cc=$2; shift 2 ;;
        *) echo "$0: unknown option $1 (see --help)" >&2; exit 1 ;;
    esac
done
tools=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -z "${prefix}" ] && prefix=${tools}/sph2pipe

if ! command -v "${cc}" > /dev/null; then
    echo "$0: no C compiler '${cc}': install gcc (apt-get install gcc) or give --cc" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "${work}"' EXIT

if [ -n "${tarball}" ]; then
    [ -f "${tarball}" ] || { echo "$0: --tarball ${tarball} does not exist" >&2; exit 1; }
    cp "${tarball}" "${work}/src.tar.gz"
else
    echo "Downloading ${url}"
    if command -v wget > /dev/null; then
        wget -q -O "${work}/src.tar.gz" "${url}" || rc=$?
    else
        curl -fsSL -o "${work}/src.tar.gz" "${url}" || rc=$?
    fi
    if [ "${rc:-0}" -ne 0 ]; then
        echo "$0: cannot download ${url}: fetch it elsewhere and use --tarball FILE" >&2
        exit 1
    fi
fi
tar -xzf "${work}/src.tar.gz" -C "${work}"
found=$(find "${work}" -name sph2pipe.c | head -n 1)
if [ -z "${found}" ]; then
    echo "$0: the tarball holds no sph2pipe.c: is it the sph2pipe source?" >&2
    exit 1
fi
src=$(dirname "${found}")
mkdir -p "${prefix}"
(cd "${src}" && "${cc}" -O2 -o "${prefix}/sph2pipe" ./*.c -lm)
echo "Installed ${prefix}/sph2pipe"
