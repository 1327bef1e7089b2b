#!/usr/bin/env python3
"""Download the MERL WSJ0-mix scripts and keep the mixing lists.

    download_mix_lists.py <url of create-speaker-mixtures.zip> <out_dir>

Writes ``<out_dir>/mix_{2,3}_spk_{tr,cv,tt}.txt`` (whatever the zip holds of them).
"""

import io
import re
import sys
import urllib.request
import zipfile
from pathlib import Path


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 1
    url, out = args[0], Path(args[1])
    try:
        data = urllib.request.urlopen(url, timeout=120).read()
    except OSError as e:
        print(
            f"download_mix_lists: cannot download {url}: {e}\n"
            "Download it where you can and give the directory holding "
            "mix_2_spk_{tr,cv,tt}.txt to local/data.sh with --mix_lists DIR",
            file=sys.stderr,
        )
        return 1
    out.mkdir(parents=True, exist_ok=True)
    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            base = name.rsplit("/", 1)[-1]
            if re.fullmatch(r"mix_[23]_spk_(tr|cv|tt)\.txt", base):
                (out / base).write_bytes(z.read(name))
                found.append(base)
    missing = {f"mix_2_spk_{x}.txt" for x in ("tr", "cv", "tt")} - set(found)
    if missing:
        print(f"download_mix_lists: {url} lacks {sorted(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
