"""Average the parameters of the n best epochs per criterion (ESPnet's `*.ave_{n}best.pth`)."""

import logging
from pathlib import Path
from typing import Sequence, Union

import torch

from espnet2.train.reporter import Reporter


def average_nbest_models(
    output_dir: Union[str, Path],
    reporter: Reporter,
    best_model_criterion: Sequence[Sequence[str]],
    nbest: Union[Sequence[int], int],
    suffix: str = None,
) -> None:
    """For each `(phase, key, mode)` criterion the model reports, write `{phase}.{key}.ave_{n}best.pth`.

    The n best epochs (by `reporter`) are read from `{epoch}epoch.pth` and their floating-point
    parameters averaged (integer buffers are taken from the best epoch). n is capped by the number of
    epochs run; with n = 1 the file is a symlink to the best epoch. `{phase}.{key}.ave.pth` links to the
    largest n.

    Args:
        output_dir: the experiment directory (holds `{epoch}epoch.pth`).
        reporter: the training statistics.
        best_model_criterion: e.g. `[["valid", "loss", "min"], ["valid", "si_snr", "max"]]`.
        nbest: n, or several n (one averaged model each).
        suffix: inserted before `pth` (e.g. "till40epoch").
    """
    output_dir = Path(output_dir)
    nbests = [nbest] if isinstance(nbest, int) else list(nbest)
    if len(nbests) == 0:
        logging.warning("At least 1 nbest values are required")
        nbests = [1]
    suffix = "" if suffix is None else suffix + "."

    nbest_epochs = [
        (ph, k, reporter.sort_epochs_and_values(ph, k, m)[: max(nbests)])
        for ph, k, m in best_model_criterion
        if reporter.has(ph, k)
    ]
    _loaded = {}
    for ph, cr, epoch_and_values in nbest_epochs:
        if len(epoch_and_values) == 0:
            continue
        _nbests = sorted({min(n, len(epoch_and_values)) for n in nbests if n > 0}) or [1]
        for n in _nbests:
            if n == 1:
                # the average of one model is the model: link to it
                e, _ = epoch_and_values[0]
                sym_op = output_dir / f"{ph}.{cr}.ave_1best.{suffix}pth"
                if sym_op.is_symlink() or sym_op.exists():
                    sym_op.unlink()
                sym_op.symlink_to(f"{e}epoch.pth")
                continue
            op = output_dir / f"{ph}.{cr}.ave_{n}best.{suffix}pth"
            logging.info(f'Averaging {n}best models: criterion="{ph}.{cr}": {op}')
            avg = None
            for e, _ in epoch_and_values[:n]:
                if e not in _loaded:
                    path = output_dir / f"{e}epoch.pth"
                    if not path.exists():
                        raise FileNotFoundError(
                            f"{path} is needed to average the {n} best models by {ph}.{cr} but is missing"
                        )
                    _loaded[e] = torch.load(path, map_location="cpu", weights_only=True)
                states = _loaded[e]
                if avg is None:
                    avg = {k: v.clone() if v.is_floating_point() else v for k, v in states.items()}
                else:
                    for k in avg:
                        if avg[k].is_floating_point():
                            avg[k] += states[k]
            for k in avg:
                if avg[k].is_floating_point():
                    avg[k] /= n
            tmp = op.with_name(op.name + ".tmp")
            torch.save(avg, tmp)
            tmp.replace(op)

        # {ph}.{cr}.ave.pth -> the average of the most models
        op = output_dir / f"{ph}.{cr}.ave_{max(_nbests)}best.{suffix}pth"
        sym_op = output_dir / f"{ph}.{cr}.ave.{suffix}pth"
        if sym_op.is_symlink() or sym_op.exists():
            sym_op.unlink()
        sym_op.symlink_to(op.name)
