"""argparse action for `--<name>_conf` options: a YAML mapping, or `key=value` pairs merged into a dict.

--optim_conf "{lr: 1.0e-3, weight_decay: 0.01}"     # YAML/JSON mapping, replaces the dict
--optim_conf lr=1.0e-3 --optim_conf betas=[0.9,0.98] # key=value, merged into the current dict
--separator_conf reconstructor_repeat_times=3        # dotted keys reach nested dicts: a.b=1
"""

import argparse
import copy

import yaml


class NestedDictAction(argparse.Action):
    """Build a (nested) dict from command-line values; see the module docstring."""

    _syntax = (
        "Syntax: '--{name} key=value' (value parsed as YAML, 'a.b=1' for nested keys) or "
        "'--{name} \"{{key: value, ...}}\"' (a YAML mapping)"
    )

    def __init__(
        self, option_strings, dest, nargs=None, default=None, choices=None, required=False, help=None, metavar=None
    ):
        super().__init__(
            option_strings=option_strings,
            dest=dest,
            nargs=nargs,
            default=copy.deepcopy(default),
            type=None,
            choices=choices,
            required=required,
            help=help,
            metavar=metavar,
        )

    def __call__(self, parser, namespace, values, option_strings=None):
        name = self.dest
        current = getattr(namespace, self.dest, None)
        indict = copy.deepcopy(current) if isinstance(current, dict) else {}

        if "=" in values and not values.lstrip().startswith("{"):
            key, value = values.split("=", 1)
            if not key.strip():
                raise argparse.ArgumentError(self, f'empty key in "{values}". ' + self._syntax.format(name=name))
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                pass  # keep the raw string
            d = indict
            keys = key.strip().split(".")
            for k in keys[:-1]:
                if not isinstance(d.get(k), dict):
                    d[k] = {}
                d = d[k]
            d[keys[-1]] = value
            setattr(namespace, self.dest, indict)
            return

        try:
            value = yaml.safe_load(values)
        except yaml.YAMLError as e:
            raise argparse.ArgumentError(
                self, f'cannot parse "{values}" as YAML ({e}). ' + self._syntax.format(name=name)
            )
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise argparse.ArgumentError(self, f'expected a mapping, got "{values}". ' + self._syntax.format(name=name))
        setattr(namespace, self.dest, value)
