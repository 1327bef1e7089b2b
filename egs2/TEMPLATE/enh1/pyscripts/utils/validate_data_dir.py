#!/usr/bin/env python3
"""Check a Kaldi-style enhancement data directory and name the first bad line.

Checks, in this order:
  * ``wav.scp`` exists, and ``spk1.scp`` .. ``spk<num_spk>.scp`` when ``--num_spk`` is given;
  * every line of ``wav.scp``, ``spk*.scp``, ``noise*.scp``, ``dereverb*.scp``, ``utt2spk``,
    ``utt2category``, ``utt2fs``, ``utt2num_samples`` is ``<utt_id> <value>`` (utt2* files:
    exactly two fields), with ids unique and sorted as ``LC_ALL=C sort`` sorts them;
  * every such file lists exactly the utterances of ``wav.scp``;
  * ``spk2utt`` is ``utt2spk`` inverted (``utils/utt2spk_to_spk2utt.sh``);
  * the audio files named in the scp files exist (unless ``--no_check_files``; entries that
    are commands ending in ``|`` are not checked).

Exit status 0 if the directory is valid; otherwise 1 with ``<file>:<line>: <problem>``.
"""

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional

SCP_PATTERN = re.compile(r"^(wav|spk\d+|noise\d+|dereverb\d+)\.scp$")
UTT_FILES = ("utt2spk", "utt2category", "utt2fs", "utt2num_samples")


class DataDirError(Exception):
    pass


def read_kaldi_file(path: Path, exact_two: bool) -> Dict[str, str]:
    """Read ``<id> <value>`` lines; raise DataDirError naming the first bad line."""
    table: Dict[str, str] = {}
    prev: Optional[bytes] = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            where = f"{path}:{lineno}"
            line = line.rstrip("\n")
            if not line.strip():
                raise DataDirError(f"{where}: empty line")
            if line[0].isspace():
                raise DataDirError(f"{where}: line starts with white space: {line!r}")
            fields = line.split(maxsplit=1)
            if len(fields) < 2:
                raise DataDirError(f"{where}: expected '<utt_id> <value>', got {line!r}")
            if exact_two and len(line.split()) != 2:
                raise DataDirError(f"{where}: expected exactly 2 fields, got {line!r}")
            key = fields[0].encode()
            if prev is not None and key <= prev:
                problem = "is repeated" if key == prev else "is out of order"
                raise DataDirError(f"{where}: id {fields[0]!r} {problem} (sort the file with 'LC_ALL=C sort -k1,1 -u')")
            prev = key
            table[fields[0]] = fields[1]
    return table


def compare_keys(path: Path, keys: List[str], ref_keys: List[str], ref_name: str) -> None:
    ref = set(ref_keys)
    for lineno, key in enumerate(keys, 1):
        if key not in ref:
            raise DataDirError(f"{path}:{lineno}: utterance {key!r} is not in {ref_name}")
    if len(keys) != len(ref_keys):
        have = set(keys)
        missing = next(k for k in ref_keys if k not in have)
        raise DataDirError(f"{path}: utterance {missing!r} of {ref_name} is missing")


def validate(data_dir: Path, num_spk: Optional[int] = None, check_files: bool = True) -> int:
    """Validate ``data_dir``; return the number of utterances."""
    if not data_dir.is_dir():
        raise DataDirError(f"{data_dir}: no such directory")
    wav_scp = data_dir / "wav.scp"
    if not wav_scp.is_file():
        raise DataDirError(f"{wav_scp}: missing (every data directory needs wav.scp)")
    for j in range(1, (num_spk or 0) + 1):
        if not (data_dir / f"spk{j}.scp").is_file():
            raise DataDirError(f"{data_dir / f'spk{j}.scp'}: missing (the references of speaker {j})")
    wav = read_kaldi_file(wav_scp, exact_two=False)
    ref_keys = list(wav)
    files = sorted(p for p in data_dir.iterdir() if SCP_PATTERN.match(p.name))
    files += [data_dir / n for n in UTT_FILES if (data_dir / n).is_file()]
    for path in files:
        table = wav if path == wav_scp else read_kaldi_file(path, path.name in UTT_FILES)
        compare_keys(path, list(table), ref_keys, str(wav_scp))
        if check_files and path.suffix == ".scp":
            for lineno, (key, value) in enumerate(table.items(), 1):
                value = value.strip()
                if value.endswith("|"):
                    continue
                if not Path(value).is_file():
                    raise DataDirError(f"{path}:{lineno}: audio file {value} does not exist")
    utt2spk = data_dir / "utt2spk"
    spk2utt = data_dir / "spk2utt"
    if utt2spk.is_file():
        expected: Dict[str, List[str]] = {}
        for key, spk in read_kaldi_file(utt2spk, exact_two=True).items():
            expected.setdefault(spk, []).append(key)
        if not spk2utt.is_file():
            raise DataDirError(f"{spk2utt}: missing (utils/utt2spk_to_spk2utt.sh {utt2spk})")
        got = read_kaldi_file(spk2utt, exact_two=False)
        for lineno, (spk, utts) in enumerate(got.items(), 1):
            if utts.split() != expected.get(spk):
                raise DataDirError(
                    f"{spk2utt}:{lineno}: speaker {spk!r} does not match {utt2spk} "
                    f"(regenerate it: utils/utt2spk_to_spk2utt.sh {utt2spk} > {spk2utt})"
                )
        if len(got) != len(expected):
            missing = next(s for s in expected if s not in got)
            raise DataDirError(f"{spk2utt}: speaker {missing!r} of {utt2spk} is missing")
    return len(ref_keys)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--num_spk", type=int, default=None, help="require spk1..N.scp")
    parser.add_argument("--no_check_files", action="store_true", help="skip file existence")
    args = parser.parse_args(argv)
    try:
        n = validate(args.data_dir, args.num_spk, not args.no_check_files)
    except (DataDirError, UnicodeDecodeError) as e:
        print(f"validate_data_dir: {e}", file=sys.stderr)
        return 1
    print(f"validate_data_dir: {args.data_dir} is valid ({n} utterances)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
