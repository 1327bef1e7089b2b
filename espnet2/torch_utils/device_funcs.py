import dataclasses

import numpy as np
import torch


def to_device(data, device=None, dtype=None, non_blocking=False, copy=False):
    """Move tensors in (nested) dicts/lists/tuples/dataclasses to `device`; float tensors also to `dtype`."""
    if isinstance(data, dict):
        return {k: to_device(v, device, dtype, non_blocking, copy) for k, v in data.items()}
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return type(data)(*[to_device(v, device, dtype, non_blocking, copy) for v in dataclasses.astuple(data)])
    if isinstance(data, tuple) and type(data) is not tuple:  # namedtuple
        return type(data)(*[to_device(o, device, dtype, non_blocking, copy) for o in data])
    if isinstance(data, (list, tuple)):
        return type(data)(to_device(v, device, dtype, non_blocking, copy) for v in data)
    if isinstance(data, np.ndarray):
        return to_device(torch.from_numpy(data), device, dtype, non_blocking, copy)
    if isinstance(data, torch.Tensor):
        if dtype is not None and not data.is_floating_point():
            dtype = None
        return data.to(device, dtype, non_blocking, copy)
    return data


def force_gatherable(data, device):
    """Make every value a tensor of >= 1 dimension on `device` (what DataParallel's gather needs)."""
    if isinstance(data, dict):
        return {k: force_gatherable(v, device) for k, v in data.items()}
    if isinstance(data, tuple) and type(data) is not tuple:
        return type(data)(*[force_gatherable(o, device) for o in data])
    if isinstance(data, (list, tuple, set)):
        return type(data)(force_gatherable(v, device) for v in data)
    if isinstance(data, np.ndarray):
        return force_gatherable(torch.from_numpy(data), device)
    if isinstance(data, torch.Tensor):
        if data.dim() == 0:
            data = data[None]
        return data.to(device)
    if isinstance(data, float):
        return torch.tensor([data], dtype=torch.float, device=device)
    if isinstance(data, int):
        return torch.tensor([data], dtype=torch.long, device=device)
    if data is None:
        return None
    raise TypeError(f"{type(data)} cannot be converted to a tensor")
