"""argparse with `--config file.yaml`: the YAML gives the defaults, the command line overrides them.

ESPnet semantics: every top-level key of the YAML must be an option of the parser (an unknown key is
an error naming the key and the file); values from the file are taken as they are (no type conversion);
options given on the command line win, and `--<name>_conf key=value` merges into the dict from the file.
"""

import argparse
from pathlib import Path

from espnet2.utils.config_io import load_config


class ArgumentParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` plus `--config`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_argument("--config", help="Give config file in yaml format")

    def parse_known_args(self, args=None, namespace=None):
        # First pass: find "--config" only.
        _args, _ = super().parse_known_args(args, namespace)
        if _args.config is not None:
            path = Path(_args.config)
            try:
                d = load_config(path)
            except (FileNotFoundError, ValueError) as e:
                self.error(f"--config: {e}")
            dests = {action.dest for action in self._actions}
            unknown = [k for k in d if k not in dests]
            if unknown:
                self.error(
                    f"unrecognized option(s) {', '.join(map(str, unknown))} in the config file {path}; "
                    "check the spelling against --help"
                )
            d.pop("config", None)  # a "config:" key inside a config file is ignored
            self.set_defaults(**d)
        return super().parse_known_args(args, namespace)


LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET")


def add_log_level_argument(parser) -> None:
    """`--log_level` (case-insensitive, default INFO) of every entry point (training, inference, scoring)."""
    parser.add_argument(
        "--log_level",
        type=lambda x: x.upper(),
        default="INFO",
        choices=LOG_LEVELS,
        help="The verbose level of logging",
    )
