"""Reduce (nested) dicts of statistics over the batch and, under DDP, over processes."""

import torch


def recursive_sum(obj, weight: torch.Tensor, distributed: bool = False):
    """Sum `obj * weight` (nested dicts/lists of tensors [B]) over the batch; all-reduce under DDP."""
    if isinstance(obj, (tuple, list)):
        return type(obj)(recursive_sum(v, weight, distributed) for v in obj)
    if isinstance(obj, dict):
        return {k: recursive_sum(v, weight, distributed) for k, v in obj.items()}
    if isinstance(obj, torch.Tensor):
        assert obj.size() == weight.size(), (obj.size(), weight.size())
        obj = (obj * weight.type(obj.dtype)).sum()
        if distributed:
            torch.distributed.all_reduce(obj, op=torch.distributed.ReduceOp.SUM)
        return obj
    if obj is None:
        return None
    raise ValueError(type(obj))


def recursive_divide(a, b: torch.Tensor):
    if isinstance(a, (tuple, list)):
        return type(a)(recursive_divide(v, b) for v in a)
    if isinstance(a, dict):
        return {k: recursive_divide(v, b) for k, v in a.items()}
    if isinstance(a, torch.Tensor):
        assert a.size() == b.size(), (a.size(), b.size())
        return a / b.type(a.dtype)
    if a is None:
        return None
    raise ValueError(type(a))


def recursive_average(obj, weight: torch.Tensor, distributed: bool = False):
    """Weighted average of the statistics; returns (average, total weight) (all processes under DDP)."""
    obj = recursive_sum(obj, weight, distributed)
    weight = weight.sum()
    if distributed:
        torch.distributed.all_reduce(weight, op=torch.distributed.ReduceOp.SUM)
    obj = recursive_divide(obj, weight)
    return obj, weight
