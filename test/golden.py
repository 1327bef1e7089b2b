"""Access to the golden vectors of the published reference code (../shared/golden beside the checkout)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def golden_dir() -> Path:
    """TISDISS_GOLDEN, else ../shared/golden next to the repository. Missing in CI is an error."""
    path = Path(os.environ.get("TISDISS_GOLDEN", REPO.parent / "shared" / "golden"))
    if not path.is_dir():
        if os.environ.get("CI"):
            raise FileNotFoundError(f"golden vectors not found at {path}; set TISDISS_GOLDEN")
        pytest.skip(f"golden vectors not found at {path}; set TISDISS_GOLDEN to run these tests")
    return path


def load_case(name: str):
    """-> (meta dict, arrays dict, state_dict of torch tensors)."""
    path = golden_dir()
    meta = json.loads((path / f"{name}.json").read_text())
    arrays = dict(np.load(path / f"{name}.npz"))
    state = {k[3:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("sd/")}
    return meta, arrays, state


def complex_of(arrays, prefix: str) -> torch.Tensor:
    return torch.complex(torch.from_numpy(arrays[f"{prefix}_real"]), torch.from_numpy(arrays[f"{prefix}_imag"]))


def assert_close_rel(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 1e-4):
    """max |actual - expected| below rtol * max |expected| (the golden README's tolerance)."""
    err = (actual - expected).abs().max().item()
    scale = expected.abs().max().item()
    assert err <= rtol * scale, f"max abs error {err:.3e} exceeds {rtol} x max magnitude {scale:.3e}"
