"""`--collect_stats true` (enh.sh stage 5): write shape files and feature statistics.

For each of train/valid, into `{output_dir}/{mode}/`:
  `{name}_shape` (`<utt_id> <length>[,<channels>]` for every data name, sorted by utt_id),
  `{feats}_stats.npz` (count, sum, sum_square of what `model.collect_feats` returns),
  `batch_keys` and `stats_keys` (the names written).
"""

import logging
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Union

import numpy as np
import torch

from espnet2.torch_utils.device_funcs import to_device


@torch.no_grad()
def collect_stats(
    model: Optional[torch.nn.Module],
    train_iter: Iterable[Tuple[List[str], Dict[str, torch.Tensor]]],
    valid_iter: Iterable[Tuple[List[str], Dict[str, torch.Tensor]]],
    output_dir: Union[str, Path],
    ngpu: Optional[int],
    log_interval: Optional[int],
) -> None:
    """Run over both iterators and write the files listed in the module docstring."""
    output_dir = Path(output_dir)
    device = "cuda" if ngpu and ngpu > 0 else "cpu"
    if log_interval is None:
        log_interval = 100
    for itr, mode in zip([train_iter, valid_iter], ["train", "valid"]):
        shapes: Dict[str, Dict[str, str]] = defaultdict(dict)
        sum_dict = defaultdict(lambda: 0)
        sq_dict = defaultdict(lambda: 0)
        count_dict = defaultdict(lambda: 0)
        n_utt = 0
        for iiter, (keys, batch) in enumerate(itr, 1):
            for name, v in batch.items():
                if name.endswith("_lengths"):
                    continue
                lengths = batch.get(name + "_lengths")
                for i, uttid in enumerate(keys):
                    seq = v[i] if lengths is None else v[i][: lengths[i]]
                    shapes[name][uttid] = ",".join(map(str, seq.shape))
            n_utt += len(keys)

            if model is not None:
                batch = to_device(batch, device)
                feats = model.collect_feats(**batch)
                for key, v in feats.items():
                    if key.endswith("_lengths"):
                        continue
                    lengths = feats.get(key + "_lengths")
                    for i in range(len(keys)):
                        seq = (v[i] if lengths is None else v[i][: lengths[i]]).double().cpu().numpy()
                        sum_dict[key] += seq.sum(0)
                        sq_dict[key] += (seq**2).sum(0)
                        count_dict[key] += len(seq)
            if iiter % log_interval == 0:
                logging.info(f"Niter: {iiter} ({mode}, {n_utt} utterances)")

        if n_utt == 0:
            raise RuntimeError(f"collect_stats: no {mode} utterance was read; check the {mode} data lists")
        d = output_dir / mode
        d.mkdir(parents=True, exist_ok=True)
        for name, u2s in shapes.items():
            with (d / f"{name}_shape").open("w", encoding="utf-8") as f:
                for uttid in sorted(u2s):
                    f.write(f"{uttid} {u2s[uttid]}\n")
        for key in sum_dict:
            np.savez(d / f"{key}_stats.npz", count=count_dict[key], sum=sum_dict[key], sum_square=sq_dict[key])
        with (d / "batch_keys").open("w", encoding="utf-8") as f:
            f.write("\n".join(sorted(shapes)) + "\n")
        with (d / "stats_keys").open("w", encoding="utf-8") as f:
            f.write("\n".join(sorted(sum_dict)) + "\n")
        logging.info(f"collect_stats: {mode}: {n_utt} utterances -> {d}")
