"""Readers for Kaldi-style text files: `<key> <value>` per line (wav.scp, spk1.scp, utt2spk, shape files).

Every error names the file and the line, so that a broken data directory can be fixed by hand.
"""

from pathlib import Path
from typing import Dict, List, Tuple, Union


class KaldiTextError(RuntimeError):
    """A malformed or inconsistent Kaldi-style text file (the message names file and line)."""


def read_2columns_text_with_lineno(path: Union[Path, str]) -> Tuple[Dict[str, str], Dict[str, int]]:
    """Read `<key> <value>` lines.

    Returns:
        (data, lineno): `data[key] = value` (the rest of the line after the first whitespace,
        stripped), `lineno[key]` = 1-based line number. Blank lines are skipped.

    Raises:
        KaldiTextError: a line without a value, or a key given twice.
        FileNotFoundError: the file does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    data: Dict[str, str] = {}
    lineno: Dict[str, int] = {}
    with path.open("r", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            sps = line.split(maxsplit=1)
            if len(sps) == 1:
                raise KaldiTextError(f"{path}:{n}: expected '<key> <value>', got only '{sps[0]}'")
            k, v = sps
            if k in data:
                raise KaldiTextError(f"{path}:{n}: key '{k}' is duplicated (first at line {lineno[k]})")
            data[k] = v.strip()
            lineno[k] = n
    return data, lineno


def read_2columns_text(path: Union[Path, str]) -> Dict[str, str]:
    """Read `<key> <value>` lines into a dict (see `read_2columns_text_with_lineno`)."""
    return read_2columns_text_with_lineno(path)[0]


def read_multi_columns_text(path: Union[Path, str]) -> Dict[str, List[str]]:
    """Read `<key> <v1> <v2> ...` lines into `{key: [v1, v2, ...]}`."""
    data, _ = read_2columns_text_with_lineno(path)
    return {k: v.split() for k, v in data.items()}


def load_num_sequence_text(path: Union[Path, str], loader_type: str = "csv_int") -> Dict[str, List[Union[int, float]]]:
    """Read a shape file `<key> 16000` or `<key> 16000,2` (csv) / `<key> 1 2 3` (text).

    Args:
        loader_type: "csv_int", "csv_float", "text_int" or "text_float".
    Returns:
        `{key: [numbers]}`.
    """
    if loader_type == "text_int":
        delimiter, dtype = " ", int
    elif loader_type == "text_float":
        delimiter, dtype = " ", float
    elif loader_type == "csv_int":
        delimiter, dtype = ",", int
    elif loader_type == "csv_float":
        delimiter, dtype = ",", float
    else:
        raise ValueError(f"Not supported loader_type={loader_type}")

    data, lineno = read_2columns_text_with_lineno(path)
    retval = {}
    for k, v in data.items():
        try:
            retval[k] = [dtype(x) for x in v.split(delimiter)]
        except ValueError:
            raise KaldiTextError(
                f"{path}:{lineno[k]}: cannot read '{v}' as {loader_type} numbers for key '{k}'"
            ) from None
    return retval
