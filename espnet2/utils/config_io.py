"""Config and checkpoint I/O: the one YAML config reader, config merging, config.yaml values, `.pth` loading.

`load_config` is the reader behind `--config` (espnet2.utils.config_argparse), `config.yaml` of a trained
model (`AbsTask.build_model_from_file`) and the inference/benchmark configs; its errors name the file,
the line and what to do.
"""

import copy
import inspect
from pathlib import Path
from typing import Any, Dict, Union

import torch
import yaml


def load_config(path: Union[Path, str]) -> Dict[str, Any]:
    """Read a YAML config: a mapping of option: value (an empty file is an empty mapping).

    Raises:
        FileNotFoundError: `path` is not a file.
        ValueError: not valid YAML (the message gives the line and column), or not a mapping.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a YAML file" if path.is_dir() else "no such file"
        raise FileNotFoundError(f"{path}: {what}; check the path (a relative path starts at {Path.cwd()})")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ValueError(f"{path}: not UTF-8 text (line {line}); save the config as UTF-8") from None
    try:
        args = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ValueError(f"{path}: not valid YAML{where}: {problem}; fix the YAML syntax there") from None
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ValueError(
            f"{path}: expected a mapping of option: value at the top level, got a {type(args).__name__}; "
            "write one 'option: value' per line"
        )
    return args


def merge_config(base: Dict[str, Any], override: Dict[str, Any]) -> Dict[str, Any]:
    """Recursively merge `override` into a copy of `base` (dicts merge, other values replace)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_config(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def get_default_kwargs(func) -> Dict[str, Any]:
    """Keyword arguments with defaults of a class/function (for --print_config), as plain YAML values."""
    if inspect.isclass(func):
        func = func.__init__
    params = inspect.signature(func).parameters
    out = {}
    for name, p in params.items():
        if p.default is inspect.Parameter.empty or name in ("self", "params", "optimizer"):
            continue
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        v = p.default
        if isinstance(v, (bool, int, float, str, type(None), list, tuple, dict)):
            out[name] = to_plain(v)
    return out


def to_plain(obj):
    """Tuples -> lists, recursively (YAML-safe values)."""
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    return obj


def read_state_dict(model_file: Union[Path, str], device: Union[str, torch.device] = "cpu") -> Dict[str, Any]:
    """The state_dict in a `.pth`: a state_dict itself, or a trainer checkpoint holding one under "model".

    Uses `torch.load(weights_only=True)`: a checkpoint that needs arbitrary code is refused.
    """
    model_file = Path(model_file)
    if not model_file.exists():
        raise FileNotFoundError(f"model file {model_file} does not exist")
    try:
        state = torch.load(model_file, map_location=device, weights_only=True)
    except Exception as e:
        raise ValueError(f"{model_file}: cannot be read as a weights-only PyTorch checkpoint: {e}") from None
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]  # a checkpoint.pth
    return state


def load_state_dict_file(model: torch.nn.Module, model_file: Union[Path, str], device: str = "cpu"):
    """Load a `.pth` (read by `read_state_dict`) into `model`, strictly, with errors that name the file."""
    state = read_state_dict(model_file, device)
    hint = "is this the config.yaml that was trained with this model?"
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as e:  # shape mismatches
        first = next((line.strip() for line in str(e).splitlines() if "size mismatch" in line), str(e))
        raise ValueError(f"{model_file} does not match the model built from the config: {first}; {hint}") from None
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(
            f"{model_file} does not match the model built from the config: "
            f"missing keys {result.missing_keys[:5]}{'...' if len(result.missing_keys) > 5 else ''}, "
            f"unexpected keys {result.unexpected_keys[:5]}{'...' if len(result.unexpected_keys) > 5 else ''}; {hint}"
        )
