"""Collate `(uid, {name: array})` items into `(uids, {name: padded tensor, name_lengths: lengths})`."""

from typing import Collection, Dict, List, Tuple, Union

import numpy as np
import torch


def pad_list(xs: List[torch.Tensor], pad_value: float) -> torch.Tensor:
    """Stack tensors of different first-axis lengths: list of [L_i, ...] -> [B, max L_i, ...]."""
    n_batch = len(xs)
    max_len = max(x.size(0) for x in xs)
    pad = xs[0].new_full((n_batch, max_len, *xs[0].shape[1:]), pad_value)
    for i in range(n_batch):
        pad[i, : xs[i].size(0)] = xs[i]
    return pad


class CommonCollateFn:
    """ESPnet's common collate function.

    Args:
        float_pad_value: padding of float arrays.
        int_pad_value: padding of integer arrays.
        not_sequence: names that get no `<name>_lengths` entry.
    """

    def __init__(
        self, float_pad_value: Union[float, int] = 0.0, int_pad_value: int = -32768, not_sequence: Collection[str] = ()
    ):
        self.float_pad_value = float_pad_value
        self.int_pad_value = int_pad_value
        self.not_sequence = set(not_sequence)

    def __repr__(self):
        return f"{self.__class__.__name__}(float_pad_value={self.float_pad_value}, int_pad_value={self.int_pad_value})"

    def __call__(
        self, data: Collection[Tuple[str, Dict[str, np.ndarray]]]
    ) -> Tuple[List[str], Dict[str, torch.Tensor]]:
        return common_collate_fn(data, self.float_pad_value, self.int_pad_value, self.not_sequence)


def common_collate_fn(
    data: Collection[Tuple[str, Dict[str, np.ndarray]]],
    float_pad_value: Union[float, int] = 0.0,
    int_pad_value: int = -32768,
    not_sequence: Collection[str] = (),
) -> Tuple[List[str], Dict[str, torch.Tensor]]:
    """Pad each name's arrays along the first axis; add `<name>_lengths` [B] (long).

    Example:
        >>> uids, batch = common_collate_fn([("a", {"x": np.ones(3)}), ("b", {"x": np.ones(2)})])
        >>> batch["x"].shape, batch["x_lengths"].tolist()
        (torch.Size([2, 3]), [3, 2])
    """
    uttids = [u for u, _ in data]
    data = [d for _, d in data]
    if not all(set(data[0]) == set(d) for d in data):
        raise RuntimeError("every item of a batch must have the same data names")
    if not all(not k.endswith("_lengths") for k in data[0]):
        raise RuntimeError(f"*_lengths is reserved: {list(data[0])}")

    output = {}
    for key in data[0]:
        if data[0][key].dtype.kind == "i":
            pad_value = int_pad_value
        else:
            pad_value = float_pad_value
        tensor_list = [torch.from_numpy(np.ascontiguousarray(d[key])) for d in data]
        output[key] = pad_list(tensor_list, pad_value)
        if key not in not_sequence:
            output[key + "_lengths"] = torch.tensor([d[key].shape[0] for d in data], dtype=torch.long)
    return uttids, output
