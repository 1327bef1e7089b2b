"""Readers for Kaldi-style text files: `<key> <value>` per line (wav.scp, spk1.scp, utt2spk, shape files).

ESPnet's readers and return types: a key alone on its line has the value "" (ESPnet reads it so; the consumer
that needs a value says so, naming file and line), a duplicated key is a RuntimeError, a number that cannot be
read is a ValueError. Every error names the file and the line, so that a broken data directory can be fixed
by hand.
"""

from pathlib import Path
from typing import Collection, Dict, List, Optional, Tuple, Union


class KaldiTextError(RuntimeError):
    """A malformed or inconsistent Kaldi-style text file (the message names file and line)."""


class KaldiNumberError(KaldiTextError, ValueError):
    """A value of a shape (number) file that is not a number: ESPnet's ValueError, named by file and line."""


def read_2columns_text_with_lineno(
    path: Union[Path, str], keys_to_load: Optional[Collection[str]] = None
) -> Tuple[Dict[str, str], Dict[str, int]]:
    """Read `<key> <value>` lines.

    Args:
        keys_to_load: read only these keys (ESPnet's option; None: every key).
    Returns:
        (data, lineno): `data[key] = value` (the rest of the line after the first whitespace, stripped;
        "" for a key alone on its line), `lineno[key]` = 1-based line number. Blank lines are skipped.

    Raises:
        KaldiTextError (a RuntimeError): a key given twice.
        FileNotFoundError: the file does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    data: Dict[str, str] = {}
    lineno: Dict[str, int] = {}
    with path.open("r", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            sps = line.strip().split(maxsplit=1)
            if not sps:
                continue
            k, v = sps[0], (sps[1].strip() if len(sps) == 2 else "")
            if k in data:
                raise KaldiTextError(f"{path}:{n}: key '{k}' is duplicated (first at line {lineno[k]})")
            if keys_to_load is not None and k not in keys_to_load:
                continue
            data[k] = v
            lineno[k] = n
    return data, lineno


def read_2columns_text(path: Union[Path, str], keys_to_load: Optional[Collection[str]] = None) -> Dict[str, str]:
    """Read `<key> <value>` lines into a dict (see `read_2columns_text_with_lineno`)."""
    return read_2columns_text_with_lineno(path, keys_to_load)[0]


def read_multi_columns_text(
    path: Union[Path, str], return_unsplit: bool = False
) -> Tuple[Dict[str, List[str]], Optional[Dict[str, str]]]:
    """Read `<key> <v1> <v2> ...` lines, as ESPnet's reader.

    Returns:
        (`{key: [v1, v2, ...]}` (`[""]` for a key alone on its line), `{key: "v1 v2 ..."}` with
        `return_unsplit`, else None).
    """
    unsplit, _ = read_2columns_text_with_lineno(path)
    data = {k: v.split() or [""] for k, v in unsplit.items()}
    return data, (unsplit if return_unsplit else None)


def load_num_sequence_text(path: Union[Path, str], loader_type: str = "csv_int") -> Dict[str, List[Union[int, float]]]:
    """Read a shape file `<key> 16000` or `<key> 16000,2` (csv) / `<key> 1 2 3` (text).

    Args:
        loader_type: "csv_int", "csv_float", "text_int" or "text_float".
    Returns:
        `{key: [numbers]}`.
    Raises:
        KaldiNumberError (a ValueError): a value that is not a number of `loader_type` (file and line named).
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
            raise KaldiNumberError(
                f"{path}:{lineno[k]}: cannot read '{v}' as {loader_type} numbers for key '{k}'"
                + (" (the line has no value)" if v == "" else "")
            ) from None
    return retval
