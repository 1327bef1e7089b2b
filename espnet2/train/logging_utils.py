"""Logging of a training process: ESPnet's format on stderr, and output_dir/train.log on rank 0."""

import logging
import os
import socket
import sys
from pathlib import Path
from typing import List, Optional

from espnet2.train.distributed_utils import DistributedOption


def setup_logging(
    log_level: str, distributed_option: DistributedOption, output_dir: Optional[Path]
) -> List[logging.Handler]:
    """ESPnet log format on stderr; rank 0 also appends to output_dir/train.log unless stderr already goes there.

    Returns the handlers added to the root logger.
    """
    fmt = f"[{socket.gethostname().split('.')[0]}] %(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s"
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_espnet_handler", False):
            root.removeHandler(h)
            h.close()
    level = log_level if distributed_option.is_main else "ERROR"
    root.setLevel(level)
    handlers = [logging.StreamHandler(sys.stderr)]
    if distributed_option.is_main and output_dir is not None:
        log_file = output_dir / "train.log"
        output_dir.mkdir(parents=True, exist_ok=True)
        if not _stderr_is(log_file):
            handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for h in handlers:
        h.setFormatter(logging.Formatter(fmt))
        h._espnet_handler = True
        root.addHandler(h)
    return handlers


def _stderr_is(path: Path) -> bool:
    """True when this process's stderr is redirected to `path` (a recipe's job runner writes train.log)."""
    try:
        st = os.fstat(sys.stderr.fileno())
        return path.exists() and os.path.samestat(st, os.stat(path))
    except (OSError, ValueError, AttributeError):
        return False
