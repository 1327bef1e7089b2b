"""`--init_param <file>[:<src_key>[:<dst_key>[:<exclude_keys>]]]`: initialize (part of) a model from a .pth."""

import logging
from typing import Union

import torch

from espnet2.utils.config_io import read_state_dict


def load_pretrained_model(
    init_param: str,
    model: torch.nn.Module,
    ignore_init_mismatch: bool = False,
    map_location: Union[str, torch.device] = "cpu",
):
    """Load `init_param` into `model`.

    `path:src_key:dst_key:excludes`: take the parameters under `src_key.` in the file (empty: all),
    put them under `dst_key.` of the model (empty: the whole model), skipping keys that start with any
    of the comma-separated `excludes`. Example: `exp/a/valid.loss.ave.pth:separator:separator`.
    With `ignore_init_mismatch`, parameters whose shapes differ are skipped (logged), not an error.
    """
    sps = init_param.split(":", 4)
    if len(sps) == 4:
        path, src_key, dst_key, excludes = sps
    elif len(sps) == 3:
        path, src_key, dst_key = sps
        excludes = None
    elif len(sps) == 2:
        path, src_key = sps
        dst_key, excludes = None, None
    else:
        (path,) = sps
        src_key, dst_key, excludes = None, None, None
    src_key = src_key or None
    dst_key = dst_key or None

    obj = model if dst_key is None else model.get_submodule(dst_key)
    src_state = read_state_dict(path, map_location)
    if excludes is not None:
        for e in excludes.split(","):
            src_state = {k: v for k, v in src_state.items() if not k.startswith(e)}
    if src_key is not None:
        src_state = {k[len(src_key) + 1 :]: v for k, v in src_state.items() if k.startswith(src_key + ".")}

    dst_state = obj.state_dict()
    if ignore_init_mismatch:
        for k in list(src_state):
            if k in dst_state and dst_state[k].shape != src_state[k].shape:
                logging.warning(
                    f"--init_param {init_param}: skipping {k}: "
                    f"shape {tuple(src_state[k].shape)} != {tuple(dst_state[k].shape)}"
                )
                del src_state[k]
    missing = [k for k in dst_state if k not in src_state]
    unexpected = [k for k in src_state if k not in dst_state]
    if unexpected:
        raise RuntimeError(f"--init_param {init_param}: keys not in the model: {unexpected[:5]} ...")
    if missing:
        logging.warning(
            f"--init_param {init_param}: {len(missing)} model parameters not in the file "
            f"keep their initial values (e.g. {missing[:3]})"
        )
    dst_state.update(src_state)
    obj.load_state_dict(dst_state)
