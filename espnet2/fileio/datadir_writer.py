"""Kaldi-style data directory writer (ESPnet's ``DatadirWriter``)."""

import warnings
from pathlib import Path
from typing import Dict, Optional, Set, TextIO, Union


class DatadirWriter:
    """Write a Kaldi-like data directory: one ``<key> <value>`` line per utterance.

    ``writer["name"]`` addresses the file (or sub-directory) ``<dir>/name``; assigning
    ``writer["name"][key] = value`` appends a line to it. Files are created on first write.

    Examples:
        >>> with DatadirWriter("output") as writer:
        ...     # output/sub.txt is created here
        ...     subwriter = writer["sub.txt"]
        ...     # Write "uttidA some/where/a.wav"
        ...     subwriter["uttidA"] = "some/where/a.wav"
        ...     subwriter["uttidB"] = "some/where/b.wav"
    """

    def __init__(self, p: Union[Path, str]):
        self.path = Path(p)
        self.children: Dict[str, "DatadirWriter"] = {}
        self.fd: Optional[TextIO] = None
        self.has_children = False
        self.keys: Set[str] = set()

    def __enter__(self) -> "DatadirWriter":
        return self

    def __getitem__(self, key: str) -> "DatadirWriter":
        if self.fd is not None:
            raise RuntimeError(f"{self.path} is a file being written; it has no entry {key!r}")
        if key not in self.children:
            self.children[key] = DatadirWriter(self.path / key)
            self.has_children = True
        return self.children[key]

    def __setitem__(self, key: str, value: str):
        if self.has_children:
            raise RuntimeError(f"{self.path} is a directory; write to writer[name][key] instead")
        if any(c.isspace() for c in key):
            raise ValueError(f"{self.path}: utterance id {key!r} contains white space")
        if key in self.keys:
            warnings.warn(f"{self.path}: duplicated key {key}")
        if self.fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = self.path.open("w", encoding="utf-8")
        self.keys.add(key)
        self.fd.write(f"{key} {value}\n")

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()

    def close(self):
        """Close every file written so far; warn when sibling files hold different keys."""
        if self.has_children:
            prev_child = None
            for child in self.children.values():
                child.close()
                if child.has_children:
                    continue  # a sub-directory: its files are compared among themselves
                if prev_child is not None and prev_child.keys != child.keys:
                    warnings.warn(f"Ids are mismatching between {prev_child.path} and {child.path}")
                prev_child = child
        elif self.fd is not None:
            self.fd.close()
            self.fd = None
