#!/usr/bin/env python3
"""Score separated speech against references (ESPnet's ``enh_scoring``).

Per utterance and reference speaker it writes Kaldi-style lists ``<METRIC>_spk{j}`` (one
``<utt_id> <value>`` line per utterance) into ``--output_dir``, plus ``wav_spk{j}`` (the estimate
assigned to reference j), and the averages ``result_<metric>.txt`` (mean over speakers, then over
utterances, ``%.2f`` as ESPnet's enh.sh writes them; ``scripts/utils/show_enh_score.sh`` turns
them into ``RESULTS.md``).

Metrics:
    STOI      short-time objective intelligibility (pystoi), in percent (0-100) as ESPnet reports it
    SDR, SIR, SAR   BSS Eval v3 (``bss_eval_sources``: 512-tap distortion filters), via fast_bss_eval
    SI_SNR    scale-invariant SNR (zero-mean signals)
    SI_SNRi, SDRi   improvement over the unprocessed mixture (only with ``--mix_scp``)
    PESQ      ITU-T P.862 (narrow band at 8 kHz, wide band at 16 kHz), only when the ``pesq``
              package is installed (``--use_pesq auto``, the default) or required (``true``)

The estimates are assigned to the references by the permutation with the best mean SI-SNR; every
metric of reference j is computed on the estimate assigned to it. The metrics themselves are the
library's ``espnet2.enh.metrics``.

Example (what stage 8 of enh.sh runs)::

    python -m espnet2.bin.enh_scoring \\
        --key_file data/tt_min_8k/spk1.scp \\
        --ref_scp data/tt_min_8k/spk1.scp --ref_scp data/tt_min_8k/spk2.scp \\
        --inf_scp exp/enh/enhanced_tt_min_8k/spk1.scp --inf_scp exp/enh/enhanced_tt_min_8k/spk2.scp \\
        --mix_scp data/tt_min_8k/wav.scp \\
        --output_dir exp/enh/enhanced_tt_min_8k/scoring
"""

import argparse
import logging
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from espnet2.enh.metrics import METRICS, pesq_available, score_utterance
from espnet2.fileio.datadir_writer import DatadirWriter
from espnet2.utils.config_argparse import add_log_level_argument
from espnet2.utils.types import str2bool

# ---------------------------------------------------------------- result files
_PER_UTT_FILE = re.compile(r"^(?P<metric>[A-Za-z_]+)_spk(?P<spk>\d+)$")


def write_result_files(score_dir: Path) -> Dict[str, float]:
    """Average every ``<METRIC>_spk{j}`` list in ``score_dir`` into ``result_<metric>.txt``.

    The average is taken over speakers per utterance, then over utterances, and written with
    two decimals, as the awk line of ESPnet's enh.sh does.

    Returns:
        metric -> average
    """
    score_dir = Path(score_dir)
    per_metric: Dict[str, Dict[int, Dict[str, float]]] = {}
    for path in sorted(score_dir.iterdir()):
        m = _PER_UTT_FILE.match(path.name)
        if m is None or m.group("metric") not in METRICS or not path.is_file():
            continue
        values = {}
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                raise ValueError(f"{path}:{lineno}: expected '<utt_id> <value>', got {line!r}")
            values[parts[0]] = float(parts[1])
        per_metric.setdefault(m.group("metric"), {})[int(m.group("spk"))] = values

    results = {}
    for metric in METRICS:
        if metric not in per_metric:
            continue
        spk_lists = [per_metric[metric][j] for j in sorted(per_metric[metric])]
        keys = sorted(spk_lists[0])
        for j, values in zip(sorted(per_metric[metric]), spk_lists):
            if sorted(values) != keys:
                raise ValueError(
                    f"{score_dir}/{metric}_spk{j} lists other utterances than "
                    f"{score_dir}/{metric}_spk1; re-run the scoring of this directory"
                )
        if not keys:
            continue
        avg = float(np.mean([np.mean([values[k] for values in spk_lists]) for k in keys]))
        results[metric] = avg
        (score_dir / f"result_{metric.lower()}.txt").write_text(f"{avg:.2f}\n", encoding="utf-8")
    return results


def merge_score_dirs(input_dirs: Sequence[Path], output_dir: Path) -> Dict[str, float]:
    """Merge the per-utterance lists of parallel scoring jobs and average them.

    Each ``<METRIC>_spk{j}`` and ``wav_spk{j}`` file of ``input_dirs`` is concatenated (sorted
    by utterance id) into ``output_dir``; then ``result_<metric>.txt`` is written.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    names = set()
    for d in input_dirs:
        if not Path(d).is_dir():
            raise FileNotFoundError(f"--merge_dirs: {d} is not a directory")
        for path in Path(d).iterdir():
            m = _PER_UTT_FILE.match(path.name)
            if m is not None and (m.group("metric") in METRICS or m.group("metric") == "wav"):
                names.add(path.name)
    for name in sorted(names):
        lines = []
        for d in input_dirs:
            path = Path(d) / name
            if path.exists():
                lines.extend(ln for ln in path.read_text(encoding="utf-8").splitlines() if ln)
        lines.sort(key=lambda ln: ln.split(maxsplit=1)[0])
        (output_dir / name).write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")
    return write_result_files(output_dir)


# ---------------------------------------------------------------- reading scp files
def _load(reader, key: str, scp: str, ref_channel: int) -> Tuple[int, np.ndarray]:
    """Read ``key`` from a sound scp reader as (fs, [N] float64)."""
    try:
        fs, wav = reader[key]
    except KeyError:
        raise KeyError(f"{scp} has no entry for utterance {key!r} (listed in --key_file)") from None
    wav = np.asarray(wav)
    if np.issubdtype(wav.dtype, np.integer):
        # Kaldi-style integer PCM: scale like soundfile's float reading does.
        wav = wav / float(np.iinfo(wav.dtype).max + 1)
    wav = wav.astype(np.float64)
    if wav.ndim == 2:
        if not 0 <= ref_channel < wav.shape[1]:
            raise ValueError(
                f"{scp}: utterance {key!r} has {wav.shape[1]} channels; --ref_channel {ref_channel} is out of range"
            )
        wav = wav[:, ref_channel]
    return fs, wav


def scoring(
    output_dir: str,
    key_file: Optional[str],
    ref_scp: List[str],
    inf_scp: List[str],
    mix_scp: Optional[str] = None,
    ref_channel: int = 0,
    use_pesq: Union[str, bool] = "auto",
    dtype: str = "float32",
    log_level: Union[int, str, None] = None,
    flexible_numspk: bool = False,
    is_tse: bool = False,
    use_dnsmos: bool = False,
    dnsmos_args: Optional[Dict] = None,
) -> Dict[str, float]:
    """Score every utterance of ``key_file`` and write the per-utterance and averaged results.

    Args:
        output_dir: the scoring directory (``<METRIC>_spk{j}``, ``wav_spk{j}``, ``result_*.txt``)
        key_file: utterances to score (first column); default: those of ``ref_scp[0]``
        ref_scp: one ``spk{j}.scp`` per reference speaker
        inf_scp: one scp per estimated speaker (same number as ``ref_scp``)
        mix_scp: the mixtures (``wav.scp``), for SDRi and SI_SNRi
        ref_channel: channel taken from multi-channel references/estimates
        use_pesq: "auto" (when the pesq package is installed and fs is 8 or 16 kHz), "true"/True, "false"/False
        dtype: the dtype the audio is read in (ESPnet's float16, float32, float64); scores are computed in float64
        log_level: sets up logging (as ESPnet's function does); None leaves it as it is
        flexible_numspk, is_tse, use_dnsmos, dnsmos_args: ESPnet's variable speaker numbers, target-speaker
            scoring and DNSMOS; only their defaults (False, False, False, None)
    Returns:
        metric -> average over the scored utterances
    """
    from espnet2.fileio.sound_scp import SoundScpReader

    if log_level is not None:
        logging.basicConfig(level=log_level, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    not_here = [
        ("flexible_numspk", flexible_numspk, "a variable number of speakers per utterance"),
        ("is_tse", is_tse, "target-speaker extraction"),
        ("use_dnsmos", use_dnsmos, "DNSMOS"),
        ("dnsmos_args", dnsmos_args, "DNSMOS"),
    ]
    for option, value, what in not_here:
        if value:
            raise ValueError(
                f"scoring: {option}={value!r}: {what} is not part of this toolkit's scoring "
                "(see README, Differences from ESPnet); remove it"
            )
    if dtype not in ("float16", "float32", "float64"):
        raise ValueError(f"--dtype {dtype!r}: expected float16, float32 or float64")
    if isinstance(use_pesq, bool):
        use_pesq = str(use_pesq).lower()
    if use_pesq not in ("auto", "true", "false"):
        raise ValueError(f"--use_pesq {use_pesq!r}: expected auto, true or false")
    if len(ref_scp) != len(inf_scp):
        raise ValueError(f"{len(ref_scp)} --ref_scp but {len(inf_scp)} --inf_scp given; give one of each per speaker")
    for scp in list(ref_scp) + list(inf_scp) + ([mix_scp] if mix_scp else []):
        if not Path(scp).is_file():
            raise FileNotFoundError(f"scp file {scp} does not exist")
    key_file = key_file or ref_scp[0]
    with open(key_file, encoding="utf-8") as f:
        keys = [line.split(maxsplit=1)[0] for line in f if line.strip()]
    if not keys:
        raise ValueError(f"--key_file {key_file} lists no utterance")

    ref_readers = [SoundScpReader(scp, dtype=dtype) for scp in ref_scp]
    inf_readers = [SoundScpReader(scp, dtype=dtype) for scp in inf_scp]
    mix_reader = SoundScpReader(mix_scp, dtype=dtype) if mix_scp else None
    num_spk = len(ref_scp)

    pesq_ok = pesq_available()
    if use_pesq == "true" and not pesq_ok:
        raise ImportError("--use_pesq true: the pesq package is not installed (pip install pesq)")

    Path(output_dir).mkdir(parents=True, exist_ok=True)
    with DatadirWriter(output_dir) as writer:
        for n, key in enumerate(keys):
            logging.info(f"[{n}] Scoring {key}")
            refs = [_load(r, key, s, ref_channel) for r, s in zip(ref_readers, ref_scp)]
            infs = [_load(r, key, s, ref_channel) for r, s in zip(inf_readers, inf_scp)]
            fs = refs[0][0]
            for (rate, wav), scp in zip(refs + infs, list(ref_scp) + list(inf_scp)):
                if rate != fs:
                    raise ValueError(f"{scp}: utterance {key!r} is at {rate} Hz, {ref_scp[0]} at {fs} Hz")
                if wav.shape != refs[0][1].shape:
                    raise ValueError(
                        f"{scp}: utterance {key!r} has {wav.shape[0]} samples, {ref_scp[0]} has "
                        f"{refs[0][1].shape[0]}; references and estimates must have equal length"
                    )
            for (_, wav), scp in zip(refs, ref_scp):
                if not np.any(wav):
                    raise ValueError(f"{scp}: reference of utterance {key!r} is silent; SDR and SI-SNR are undefined")
            mix = None
            if mix_reader is not None:
                rate, mix = _load(mix_reader, key, mix_scp, ref_channel)
                if rate != fs or mix.shape != refs[0][1].shape:
                    raise ValueError(
                        f"{mix_scp}: mixture of {key!r} ({rate} Hz, {mix.shape[0]} samples) does not "
                        f"match {ref_scp[0]} ({fs} Hz, {refs[0][1].shape[0]} samples)"
                    )
            this_pesq = use_pesq == "true" or (use_pesq == "auto" and pesq_ok)
            if this_pesq and fs not in (8000, 16000):
                if use_pesq == "true":
                    raise ValueError(f"PESQ is defined at 8 or 16 kHz; {key!r} is at {fs} Hz")
                this_pesq = False

            scores, perm = score_utterance(
                np.stack([w for _, w in refs]),
                np.stack([w for _, w in infs]),
                fs,
                mix=mix,
                use_pesq=this_pesq,
            )
            for j in range(num_spk):
                for metric in METRICS:
                    if metric in scores:
                        writer[f"{metric}_spk{j + 1}"][key] = str(float(scores[metric][j]))
                writer[f"wav_spk{j + 1}"][key] = inf_readers[perm[j]].data[key]
    return write_result_files(Path(output_dir))


def str2bool_or_auto(value: str) -> str:
    value = value.lower()
    if value not in ("auto", "true", "false"):
        raise argparse.ArgumentTypeError(f"expected auto, true or false, got {value!r}")
    return value


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Score separated speech: STOI, SDR, SIR, SAR, SI-SNR (+ improvements, PESQ)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_log_level_argument(parser)
    parser.add_argument("--output_dir", type=str, required=True, help="Where to write the scores")
    parser.add_argument(
        "--dtype",
        default="float32",
        choices=["float16", "float32", "float64"],
        help="The dtype the audio is read in; scores are always computed in float64",
    )
    group = parser.add_argument_group("Input data related")
    group.add_argument(
        "--ref_scp", type=str, action="append", default=[], help="spk{j}.scp of the references, once per speaker"
    )
    group.add_argument(
        "--inf_scp", type=str, action="append", default=[], help="scp of the estimates, once per speaker"
    )
    group.add_argument("--mix_scp", type=str, default=None, help="wav.scp of the mixtures (enables SDRi, SI_SNRi)")
    group.add_argument(
        "--key_file", type=str, default=None, help="Utterances to score (default: those of the first --ref_scp)"
    )
    group.add_argument("--ref_channel", type=int, default=0, help="Channel of multi-channel signals to score")
    group.add_argument(
        "--use_pesq", type=str2bool_or_auto, default="auto", help="auto: when the pesq package is installed"
    )
    for option, what in (("flexible_numspk", "a variable number of speakers"), ("is_tse", "target-speaker"),
                         ("use_dnsmos", "DNSMOS")):  # fmt: skip
        group.add_argument(f"--{option}", type=str2bool, default=False, help=f"ESPnet's {what} scoring: only false")
    group.add_argument(
        "--merge_dirs",
        type=str,
        nargs="+",
        default=None,
        help="Instead of scoring, merge the per-utterance lists of these scoring directories "
        "(parallel jobs) into --output_dir and write result_<metric>.txt",
    )
    return parser


def main(cmd=None):
    parser = get_parser()
    args = parser.parse_args(cmd)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    if args.merge_dirs:
        results = merge_score_dirs([Path(d) for d in args.merge_dirs], Path(args.output_dir))
    else:
        if not args.ref_scp or not args.inf_scp:
            parser.error("give --ref_scp and --inf_scp once per speaker (or --merge_dirs)")
        results = scoring(
            args.output_dir,
            args.key_file,
            args.ref_scp,
            args.inf_scp,
            mix_scp=args.mix_scp,
            ref_channel=args.ref_channel,
            use_pesq=args.use_pesq,
            dtype=args.dtype,
            flexible_numspk=args.flexible_numspk,
            is_tse=args.is_tse,
            use_dnsmos=args.use_dnsmos,
        )
    for metric, value in results.items():
        logging.info(f"{metric}: {value:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
