"""Import an optional package, whatever its failure."""

import importlib
import logging
from types import ModuleType
from typing import Dict, Optional

_failed: Dict[str, str] = {}


def optional_import(name: str) -> Optional[ModuleType]:
    """The module ``name``, or None when it cannot be imported.

    Not only ImportError: a package installed without one of its own undeclared dependencies can fail
    with anything (fast_bss_eval 0.1.4 without ``packaging`` raises TypeError from a broken ``except``
    clause). The first failure of each package is logged with its cause.
    """
    try:
        return importlib.import_module(name)
    except Exception as e:  # noqa: BLE001 (any failure means "not available")
        if name not in _failed:
            _failed[name] = f"{type(e).__name__}: {e}"
            if not isinstance(e, ModuleNotFoundError) or e.name != name.split(".")[0]:
                logging.warning(f"the optional package {name} is installed but cannot be imported ({_failed[name]})")
        return None
