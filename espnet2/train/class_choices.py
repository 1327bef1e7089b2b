"""ClassChoices: a named registry that turns `--<name> <choice>` plus `--<name>_conf {...}` into a class."""

from typing import Mapping, Optional, Tuple

from espnet2.utils.types import str_or_none


class ClassChoices:
    """Helper class to manage the options for a variable class type.

    Example:
        >>> separator_choices = ClassChoices(
        ...     "separator", classes=dict(tisdiss=TISDiSSSeparator), type_check=AbsSeparator
        ... )
        >>> separator_choices.get_class("tisdiss")(input_dim=65, **separator_conf)
    """

    def __init__(
        self,
        name: str,
        classes: Mapping[str, type],
        type_check: Optional[type] = None,
        default: Optional[str] = None,
        optional: bool = False,
    ):
        self.name = name
        self.base_type = type_check
        self.classes = {k.lower(): v for k, v in classes.items()}
        if "none" in self.classes or "nil" in self.classes or "null" in self.classes:
            raise ValueError('"none", "nil", and "null" are reserved.')
        if type_check is not None:
            for v in self.classes.values():
                if not issubclass(v, type_check):
                    raise ValueError(f"must be {type_check.__name__}, but got {v}")
        self.optional = optional
        self.default = default
        if default is None:
            self.optional = True

    def choices(self) -> Tuple[Optional[str], ...]:
        retval = tuple(self.classes)
        return retval + (None,) if self.optional else retval

    def get_class(self, name: Optional[str]) -> Optional[type]:
        if name is None or (self.optional and name.lower() in ("none", "null", "nil")):
            return None
        if name.lower() in self.classes:
            return self.classes[name.lower()]
        raise ValueError(
            f"--{self.name}: unknown choice {name!r}; expected one of {', '.join(self.classes)} (this toolkit keeps "
            "only these of ESPnet's choices; see README, Differences from ESPnet)"
        )

    def add_arguments(self, parser):
        # argparse-side helper; imported here so that model building needs no training utilities
        from espnet2.utils.nested_dict_action import NestedDictAction

        parser.add_argument(
            f"--{self.name}",
            type=lambda x: str_or_none(x.lower()),
            default=self.default,
            choices=self.choices(),
            help=f"The {self.name} type",
        )
        parser.add_argument(
            f"--{self.name}_conf",
            action=NestedDictAction,
            default=dict(),
            help=f"The keyword arguments for {self.name}",
        )
