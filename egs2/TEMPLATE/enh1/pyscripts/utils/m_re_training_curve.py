#!/usr/bin/env python3
"""SI-SNRi per M_re against training time: every epoch checkpoint of an experiment scored on a data dir.

    m_re_training_curve.py --enh_exp EXP --data_dir DATA --out PREFIX [--m_re_list "1 2 3 4"]
        [--epochs 1,2,4,8] [--num_threads 1]

EXP is an enh.sh experiment trained with ``--keep_nbest_models`` large enough to keep the epoch
checkpoints ``EXP/<N>epoch.pth`` (all of them are scored unless ``--epochs`` names some). DATA is a data
dir of the task (``wav.scp``, ``spk1.scp``, ``spk2.scp`` ...). For each checkpoint and each M_re, the
mean SI-SNRi over the utterances and speakers (best permutation per utterance). The training time of
each epoch is read from ``EXP/train.log`` (the trainer's ``<N>epoch results`` line: the train and valid
times, the updates so far), so the curve can be read against updates or minutes.

Writes ``PREFIX.md`` (one row per epoch: updates, cumulative minutes, SI-SNRi per M_re) and
``PREFIX.png`` (SI-SNRi against cumulative training minutes, a line per M_re).
"""

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch
import yaml
from compare_adaptive_m_re import evaluate, load_set  # beside this script in pyscripts/utils

from espnet2.enh.inference import SeparateSpeech

EPOCH_LINE = re.compile(
    r"(\d+)epoch results: \[train\].*?time=(\d+):(\d\d):(\d\d), total_count=([0-9.e+]+)"
    r"(?:.*?\[valid\].*?time=(\d+):(\d\d):(\d\d))?"
)


def epoch_times(train_log: Path) -> Dict[int, Tuple[int, float]]:
    """epoch -> (updates so far, cumulative training minutes, valid included) from a train.log.

    A log written by a resumed run starts at the resumed epoch: its epochs get the updates but no
    cumulative minutes (None), which would need the epochs before it. The last line of an epoch wins.
    """
    per_epoch: Dict[int, Tuple[int, float]] = {}
    if not train_log.is_file():
        return {}
    for line in train_log.read_text(errors="replace").splitlines():
        m = EPOCH_LINE.search(line)
        if not m:
            continue
        h, mi, s = (int(x) for x in m.group(2, 3, 4))
        seconds = h * 3600 + mi * 60 + s
        if m.group(6) is not None:
            vh, vm, vs = (int(x) for x in m.group(6, 7, 8))
            seconds += vh * 3600 + vm * 60 + vs
        per_epoch[int(m.group(1))] = (int(float(m.group(5))), seconds)
    cumulative, total = {}, 0.0
    for ep in sorted(per_epoch):
        total += per_epoch[ep][1]
        complete = all(e in per_epoch for e in range(1, ep + 1))
        cumulative[ep] = (per_epoch[ep][0], total / 60 if complete else None)
    return cumulative


def checkpoints(enh_exp: Path, epochs: Optional[List[int]]) -> List[Tuple[int, Path]]:
    found = {int(p.name[: -len("epoch.pth")]): p for p in enh_exp.glob("*epoch.pth") if p.name[0].isdigit()}
    if epochs is None:
        if not found:
            raise SystemExit(
                f"m_re_training_curve: no <N>epoch.pth in {enh_exp}: train with --keep_nbest_models "
                "at least max_epoch so that every epoch's checkpoint is kept"
            )
        return sorted(found.items())
    missing = [e for e in epochs if e not in found]
    if missing:
        raise SystemExit(
            f"m_re_training_curve: {enh_exp} has no checkpoint for epoch(s) {missing} "
            f"(it has {sorted(found) or 'none'})"
        )
    return [(e, found[e]) for e in epochs]


def markdown(rows: List[Dict], m_res: List[int], title: Optional[str]) -> str:
    head = ["epoch", "updates", "minutes"] + [f"M_re {m}" for m in m_res]
    lines = [f"## {title}", ""] if title else []
    lines.append("|" + "|".join(head) + "|")
    lines.append("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        cells = [str(r["epoch"]), "-" if r["updates"] is None else str(r["updates"])]
        cells.append("-" if r["minutes"] is None else f"{r['minutes']:.1f}")
        cells += [f"{r[m]:.2f}" for m in m_res]
        lines.append("|" + "|".join(cells) + "|")
    return "\n".join(lines) + "\n"


def plot(rows: List[Dict], m_res: List[int], path: Path, title: Optional[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_time = all(r["minutes"] is not None for r in rows)
    x = [r["minutes"] if by_time else r["epoch"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    for m in m_res:
        ax.plot(x, [r[m] for r in rows], "o-", ms=3, label=f"M_re {m}")
    ax.set_xlabel("training time [min]" if by_time else "epoch")
    ax.set_ylabel("SI-SNRi [dB]")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enh_exp", required=True, type=Path, help="the experiment dir (config.yaml, <N>epoch.pth)")
    parser.add_argument("--data_dir", required=True, type=Path, help="data dir scored (wav.scp, spk<j>.scp)")
    parser.add_argument("--out", required=True, help="output prefix: PREFIX.md, PREFIX.png")
    parser.add_argument("--m_re_list", default="1 2 3 4", help="M_re values, space or comma separated")
    parser.add_argument("--epochs", default=None, help="epochs to score, comma separated (default: every kept one)")
    parser.add_argument("--fs", type=int, default=8000)
    parser.add_argument("--num_threads", type=int, default=1)
    parser.add_argument("--title", default=None)
    parser.add_argument("--no_plot", action="store_true")
    args = parser.parse_args(argv)

    try:
        m_res = [int(m) for m in args.m_re_list.replace(",", " ").split()]
        epochs = None if args.epochs is None else [int(e) for e in args.epochs.replace(",", " ").split()]
    except ValueError:
        raise SystemExit(f"m_re_training_curve: --m_re_list {args.m_re_list!r} / --epochs {args.epochs!r}: integers")
    if not m_res or min(m_res) < 1:
        raise SystemExit(f"m_re_training_curve: --m_re_list {args.m_re_list!r}: M_re values >= 1")
    config = args.enh_exp / "config.yaml"
    if not config.is_file():
        raise SystemExit(f"m_re_training_curve: {config} does not exist: --enh_exp is an enh.sh experiment dir")
    torch.set_num_threads(args.num_threads)
    todo = checkpoints(args.enh_exp, epochs)
    data = load_set(args.data_dir)
    times = epoch_times(args.enh_exp / "train.log")
    iters = (yaml.safe_load(config.read_text()) or {}).get("num_iters_per_epoch")
    rows = []
    for epoch, pth in todo:
        separate = SeparateSpeech(train_config=config, model_file=pth, device="cpu")
        updates, minutes = times.get(epoch, (epoch * iters if iters else None, None))
        row = {"epoch": epoch, "updates": updates, "minutes": minutes}
        for m in m_res:
            separate.model.set_m_re(m)
            row[m] = evaluate(separate, data, args.fs)["si_snri"]
        rows.append(row)
        print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.md").write_text(markdown(rows, m_res, args.title))
    if not args.no_plot:
        plot(rows, m_res, Path(f"{out}.png"), args.title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
