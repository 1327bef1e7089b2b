#!/usr/bin/env python3
"""Tabulate and plot an M_re sweep (TISDiSS refinement repeats at inference).

    m_re_sweep.py --out PREFIX [--title T] <M_re>=<inference dir> ...

Each ``<inference dir>`` is ``<enh_exp>/<inference_tag>_<test_set>`` of enh.sh, holding
``scoring/result_<metric>.txt`` (stage 8) and ``rtf.txt`` (stage 7). Writes ``PREFIX.md`` (one
markdown table: STOI, SAR, SDR, SIR, SI_SNR, SI-SNRi, RTF per M_re) and ``PREFIX.png``
(SI-SNRi and RTF against M_re).
"""

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional

COLUMNS = [
    ("STOI", "stoi"),
    ("SAR", "sar"),
    ("SDR", "sdr"),
    ("SIR", "sir"),
    ("SI_SNR", "si_snr"),
    ("SI-SNRi", "si_snri"),
]


def read_result(d: Path, name: str) -> Optional[float]:
    f = d / "scoring" / f"result_{name}.txt"
    return float(f.read_text().split()[0]) if f.is_file() else None


def read_rtf(d: Path) -> Optional[float]:
    f = d / "rtf.txt"
    if not f.is_file():
        return None
    m = re.search(r"RTF\s+([0-9.eE+-]+)", f.read_text())
    return float(m.group(1)) if m else None


def collect(pairs: List[str]) -> List[Dict]:
    rows = []
    for pair in pairs:
        m_re, sep, d = pair.partition("=")
        if not sep or not m_re.isdigit():
            raise SystemExit(f"m_re_sweep: expected <M_re>=<inference dir>, got {pair!r}")
        d = Path(d)
        if not (d / "scoring").is_dir():
            raise SystemExit(f"m_re_sweep: {d}/scoring does not exist: run stage 8 for M_re {m_re}")
        row = {"M_re": int(m_re), "RTF": read_rtf(d)}
        for col, name in COLUMNS:
            row[col] = read_result(d, name)
        rows.append(row)
    return sorted(rows, key=lambda r: r["M_re"])


def markdown(rows: List[Dict], title: Optional[str]) -> str:
    head = ["M_re"] + [c for c, _ in COLUMNS] + ["RTF"]
    lines = [f"## {title}", ""] if title else []
    lines.append("|" + "|".join(head) + "|")
    lines.append("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        cells = [str(r["M_re"])]
        cells += ["-" if r[c] is None else f"{r[c]:.2f}" for c, _ in COLUMNS]
        cells.append("-" if r["RTF"] is None else f"{r['RTF']:.4f}")
        lines.append("|" + "|".join(cells) + "|")
    return "\n".join(lines) + "\n"


def plot(rows: List[Dict], path: Path, title: Optional[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = [r["M_re"] for r in rows]
    fig, ax1 = plt.subplots(figsize=(6, 4))
    si_snri = [r["SI-SNRi"] for r in rows]
    ax1.plot(m, si_snri, "o-", color="tab:blue", label="SI-SNRi")
    lo, hi = min(si_snri), max(si_snri)
    if hi - lo < 1.0:  # show small differences as small: at least a 1 dB span
        mid = (hi + lo) / 2
        ax1.set_ylim(mid - 0.5, mid + 0.5)
    ax1.set_xlabel("M_re (refinement repeats at inference)")
    ax1.set_ylabel("SI-SNRi [dB]", color="tab:blue")
    ax1.set_xticks(m)
    ax1.grid(alpha=0.3)
    if all(r["RTF"] is not None for r in rows):
        ax2 = ax1.twinx()
        ax2.plot(m, [r["RTF"] for r in rows], "s--", color="tab:red", label="RTF")
        ax2.set_ylabel("real-time factor", color="tab:red")
    if title:
        ax1.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output prefix: PREFIX.md, PREFIX.png")
    parser.add_argument("--title", default=None)
    parser.add_argument("--no_plot", action="store_true")
    parser.add_argument("pairs", nargs="+", metavar="M_re=DIR")
    args = parser.parse_args(argv)
    rows = collect(args.pairs)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.md").write_text(markdown(rows, args.title))
    if not args.no_plot:
        if any(r["SI-SNRi"] is None for r in rows):
            print("m_re_sweep: no SI-SNRi for some M_re; no plot", file=sys.stderr)
        else:
            plot(rows, Path(f"{out}.png"), args.title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
