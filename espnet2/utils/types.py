"""Small argparse type converters shared by the entry points (ESPnet's espnet2.utils.types)."""

from typing import Optional


def str2bool(value: str) -> bool:
    """'true'/'false' (any case, also yes/no, 1/0) -> bool."""
    v = str(value).strip().lower()
    if v in ("true", "yes", "y", "1"):
        return True
    if v in ("false", "no", "n", "0"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def str_or_none(value: str) -> Optional[str]:
    """'none'/'null'/'nil' -> None, anything else unchanged."""
    return None if str(value).strip().lower() in ("none", "null", "nil", "") else value


def int_or_none(value: str) -> Optional[int]:
    return None if str_or_none(value) is None else int(value)


def float_or_none(value: str) -> Optional[float]:
    return None if str_or_none(value) is None else float(value)


def str2triple_str(value: str):
    """'path,name,type' -> ('path', 'name', 'type'), as in --data_path_and_name_and_type."""
    parts = str(value).split(",")
    if len(parts) != 3:
        raise ValueError(f"expected 'path,name,type' (three comma-separated fields), got {value!r}")
    return tuple(p.strip() for p in parts)
