"""AbsTask: the config -> model machinery shared by ESPnet tasks (here: speech enhancement/separation)."""

import argparse
import copy
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import yaml

from espnet2.train.class_choices import ClassChoices


class AbsTask:
    """Subclasses set `class_choices_list` and implement `build_model(args)`."""

    class_choices_list: List[ClassChoices] = []

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> torch.nn.Module:
        raise NotImplementedError(f"{cls.__name__} must implement build_model")

    @classmethod
    def build_model_from_file(
        cls,
        config_file: Union[Path, str, None] = None,
        model_file: Union[Path, str, None] = None,
        device: str = "cpu",
        overrides: Optional[Dict[str, Any]] = None,
    ) -> Tuple[torch.nn.Module, argparse.Namespace]:
        """Build the model of an ESPnet `config.yaml` and load its `.pth` state_dict (strictly).

        Args:
            config_file: the training config (default: config.yaml beside `model_file`).
            model_file: a state_dict saved by the trainer (`valid.loss.ave.pth` ...) or None (random init).
            device: where to put the model.
            overrides: a nested dict merged into the config before building, e.g. an inference config
                `{"separator_conf": {"reconstructor_repeat_times": 8}}`.
        Returns:
            (model in eval mode, the resolved training arguments).
        """
        if config_file is None:
            if model_file is None:
                raise ValueError("give a config file, or a model file with config.yaml beside it")
            config_file = Path(model_file).parent / "config.yaml"
        config_file = Path(config_file)
        if not config_file.exists():
            raise FileNotFoundError(f"config file {config_file} does not exist (pass --train_config / config_file)")
        args = load_config(config_file)
        if overrides:
            args = merge_config(args, overrides)
        model = cls.build_model(argparse.Namespace(**args))
        model.to(device)
        if model_file is not None:
            load_state_dict_file(model, model_file, device)
        model.eval()
        return model, argparse.Namespace(**args)


def load_config(path: Union[Path, str]) -> Dict[str, Any]:
    """Read a YAML config; errors name the file."""
    path = Path(path)
    try:
        with path.open("r", encoding="utf-8") as f:
            args = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML: {e}") from None
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ValueError(f"{path}: expected a mapping of option: value at the top level")
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


def load_state_dict_file(model: torch.nn.Module, model_file: Union[Path, str], device: str = "cpu"):
    """Load a `.pth` (a state_dict, or a trainer checkpoint holding one under "model") strictly.

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
        state = state["model"]
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(
            f"{model_file} does not match the model built from the config: "
            f"missing keys {result.missing_keys[:5]}{'...' if len(result.missing_keys) > 5 else ''}, "
            f"unexpected keys {result.unexpected_keys[:5]}{'...' if len(result.unexpected_keys) > 5 else ''}; "
            "is this the config.yaml that was trained with this model?"
        )
