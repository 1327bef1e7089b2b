#!/usr/bin/env python3
"""Separate the mixtures of a data directory (ESPnet's ``enh_inference``, stage 7 of enh.sh).

Writes ``<output_dir>/wavs/{j}/<utt_id>.wav`` and ``<output_dir>/spk{j}.scp`` for j = 1..J, and with
``--m_re auto`` also ``<output_dir>/m_re`` (the M_re chosen per utterance). Logs the real-time
factor at the end.

Example::

    python -m espnet2.bin.enh_inference \\
        --data_path_and_name_and_type dump/raw/tt_min_8k/wav.scp,speech_mix,sound \\
        --train_config exp/enh_train_xxx/config.yaml \\
        --model_file exp/enh_train_xxx/valid.loss.ave_5best.pth \\
        --inference_config conf/efficient_infer/re/re_8.yaml \\
        --output_dir exp/enh_train_xxx/enhanced_tt_min_8k

M_re (TISDiSS's number of refinement repeats) is the training value unless overridden:
``--inference_config`` (a YAML of ``separator_conf: {reconstructor_repeat_times: N, ...}``),
``--m_re N`` (wins over the file), or ``--m_re auto`` (per utterance: refine until successive
refinement outputs change by less than ``--m_re_threshold``, at most ``--m_re_max`` repeats).

The separation itself is the library's ``espnet2.enh.inference.SeparateSpeech``.
"""

import argparse
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from espnet2.enh.inference import (
    DEFAULT_M_RE_MAX,
    DEFAULT_M_RE_THRESHOLD,
    OUTPUT_PEAK,
    SeparateSpeech,
    add_arithmetic_argument,
    add_dtype_argument,
    add_m_re_arguments,
    resolve_device,
)
from espnet2.fileio.datadir_writer import DatadirWriter
from espnet2.utils.allocator import tune_allocator
from espnet2.utils.types import float_or_none, int_or_none, str2bool, str_or_none

PROGRESS_SECONDS = 5.0  # at most one "progress:" log line per this many seconds


def _parse_data_arg(value: str) -> Tuple[str, str, str]:
    parts = value.split(",")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(
            "--data_path_and_name_and_type: expected 'path,name,type' "
            f"(e.g. data/tt/wav.scp,speech_mix,sound), got {value!r}"
        )
    return parts[0], parts[1], parts[2]


def _batches(keys: Sequence[str], batch_size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(keys), batch_size):
        yield keys[i : i + batch_size]


def inference(
    output_dir: str,
    data_path_and_name_and_type: Sequence[Tuple[str, str, str]],
    train_config: Optional[str],
    model_file: Optional[str],
    batch_size: int = 1,
    ngpu: Optional[int] = None,
    fs: int = 8000,
    key_file: Optional[str] = None,
    inference_config: Optional[str] = None,
    m_re: Union[int, str, None] = None,
    m_re_max: int = DEFAULT_M_RE_MAX,
    m_re_threshold: float = DEFAULT_M_RE_THRESHOLD,
    segment_size: Optional[float] = None,
    hop_size: Optional[float] = None,
    normalize_output_wav: bool = False,
    output_format: str = "wav",
    show_progressbar: bool = True,
    seed: int = 0,
    dtype: str = "float32",
    published_arithmetic: bool = False,
    normalize_segment_scale: bool = False,
    ref_channel: Optional[int] = None,
    model_tag: Optional[str] = None,
    enh_s2t_task: bool = False,
    num_workers: int = 1,
    log_level: Union[int, str, None] = None,
    allow_variable_data_keys: bool = False,
) -> Dict[str, Any]:
    """Separate every utterance of the ``speech_mix`` scp and write ``spk{j}.scp`` + wavs.

    ESPnet's keywords: ``normalize_segment_scale``, ``ref_channel`` (the channel of multi-channel mixtures to
    separate), ``enh_s2t_task`` (only False) and ``model_tag`` (only None: no model-zoo download) act as in
    SeparateSpeech; ``num_workers`` and ``allow_variable_data_keys`` have no effect (the mixtures are read one
    by one; only ``speech_mix`` is read); ``log_level`` sets up logging as ESPnet's function does.

    Returns:
        {"num_utts", "audio_seconds", "process_seconds", "rtf", "m_re": {utt_id: M_re}}
    """
    from tqdm import tqdm

    from espnet2.fileio.sound_scp import SoundScpReader, SoundScpWriter

    if log_level is not None:
        logging.basicConfig(level=log_level, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    if batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {batch_size}")
    if model_tag is not None:
        raise ValueError(
            f"--model_tag {model_tag}: downloading from espnet_model_zoo is not part of this toolkit; download the "
            "model and give --train_config and --model_file"
        )
    torch.manual_seed(seed)
    mixtures = [(path, typ) for path, name, typ in data_path_and_name_and_type if name == "speech_mix"]
    if len(mixtures) != 1:
        raise ValueError("--data_path_and_name_and_type: give the mixtures exactly once as 'path,speech_mix,sound'")
    mix_path, mix_type = mixtures[0]
    if mix_type != "sound":
        raise ValueError(f"--data_path_and_name_and_type {mix_path}: type {mix_type!r} is not supported; use 'sound'")
    if not Path(mix_path).exists():
        raise FileNotFoundError(f"--data_path_and_name_and_type: {mix_path} does not exist")
    reader = SoundScpReader(mix_path, dtype="float32")
    if key_file is not None:
        with open(key_file, encoding="utf-8") as f:
            keys = [line.split(maxsplit=1)[0] for line in f if line.strip()]
        missing = [k for k in keys if k not in reader]
        if missing:
            raise KeyError(
                f"--key_file {key_file}: {len(missing)} utterance(s) missing from {mix_path}, e.g. {missing[0]}"
            )
    else:
        keys = list(reader.keys())

    separate = SeparateSpeech(
        train_config,
        model_file,
        inference_config=inference_config,
        m_re=m_re,
        m_re_max=m_re_max,
        m_re_threshold=m_re_threshold,
        segment_size=segment_size,
        hop_size=hop_size,
        fs=fs,
        normalize_output_wav=normalize_output_wav,
        device=resolve_device(None, ngpu),
        dtype=dtype,
        published_arithmetic=published_arithmetic,
        normalize_segment_scale=normalize_segment_scale,
        ref_channel=ref_channel,
        enh_s2t_task=enh_s2t_task,
    )
    if separate.m_re == "auto":
        m_re_text = f"auto (max {separate.m_re_max}, threshold {separate.m_re_threshold:g})"
    else:
        m_re_text = str(separate.current_m_re)
    logging.info(f"Separating {len(keys)} utterance(s) on {separate.device}; M_re: {m_re_text}")

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    writers = [
        SoundScpWriter(output_dir / "wavs" / str(j + 1), output_dir / f"spk{j + 1}.scp", format=output_format)
        for j in range(separate.num_spk)
    ]
    chosen: Dict[str, float] = {}
    audio_seconds = process_seconds = 0.0
    clipped = done = 0
    last_progress = time.perf_counter()
    try:
        with DatadirWriter(output_dir) as info_writer:
            for batch_keys in tqdm(list(_batches(keys, batch_size)), disable=not show_progressbar, desc="batches"):
                wavs = []
                for key in batch_keys:
                    rate, wav = reader[key]
                    if rate != fs:
                        raise ValueError(
                            f"{reader.where(key)}: utterance {key!r} is at {rate} Hz but --fs is {fs}; "
                            "resample the data (stage 3 of enh.sh) or pass the right --fs"
                        )
                    if wav.ndim != 1:
                        if ref_channel is None or not -wav.shape[1] <= ref_channel < wav.shape[1]:
                            raise ValueError(
                                f"{reader.where(key)}: utterance {key!r} has {wav.shape[1]} channels; the model "
                                "separates one: give --ref_channel (0 .. channels - 1)"
                            )
                        wav = wav[:, ref_channel]
                    wavs.append(wav)
                lengths = [len(w) for w in wavs]
                mix = np.zeros((len(wavs), max(lengths)), dtype=np.float32)
                for b, w in enumerate(wavs):
                    mix[b, : len(w)] = w
                start = time.perf_counter()
                est = separate(mix, fs=fs, lengths=lengths)
                process_seconds += time.perf_counter() - start
                audio_seconds += sum(lengths) / fs
                for b, key in enumerate(batch_keys):
                    for j, writer in enumerate(writers):
                        out = est[j][b, : lengths[b]]
                        clipped += int(np.count_nonzero(np.abs(out) > 1.0))
                        writer[key] = fs, out
                    if separate.m_re == "auto":
                        chosen[key] = separate.last_m_re[b]
                        info_writer["m_re"][key] = f"{chosen[key]:g}"
                done += len(batch_keys)
                if done == len(keys) or time.perf_counter() - last_progress >= PROGRESS_SECONDS:
                    # one short line per few seconds for the terminal (enh.sh stage 7 adds up the jobs' lines)
                    logging.info(f"progress: {done}/{len(keys)} utterances")
                    last_progress = time.perf_counter()
    finally:
        for writer in writers:
            writer.close()

    rtf = process_seconds / audio_seconds if audio_seconds > 0 else math.nan
    logging.info(
        f"Separated {len(keys)} utterance(s): processing {process_seconds:.2f} s, audio {audio_seconds:.2f} s, "
        f"RTF={rtf:.4f} (real-time factor)"
    )
    if chosen:
        values = np.array(list(chosen.values()))
        logging.info(
            f"M_re auto: mean {values.mean():.2f}, min {values.min():g}, max {values.max():g} "
            f"(per utterance in {output_dir / 'm_re'})"
        )
    if clipped:
        logging.warning(
            f"{clipped} output samples exceed [-1, 1] and were clipped in 16-bit files; "
            "consider --normalize_output_wav true"
        )
    return {
        "num_utts": len(keys),
        "audio_seconds": audio_seconds,
        "process_seconds": process_seconds,
        "rtf": rtf,
        "m_re": chosen,
    }


def int_or_auto(value: str) -> Optional[int]:
    """--ngpu: an integer, or auto/none (a GPU when present)."""
    return None if str(value).lower() == "auto" else int_or_none(value)


def get_parser() -> argparse.ArgumentParser:
    from espnet2.utils.config_argparse import ArgumentParser, add_log_level_argument

    parser = ArgumentParser(
        description="Frontend inference: separate the mixtures of a data directory",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_log_level_argument(parser)
    parser.add_argument("--output_dir", type=str, required=True)
    parser.add_argument(
        "--ngpu", type=int_or_auto, default=None, help="0: CPU, 1: one GPU; default (auto): a GPU when present"
    )
    parser.add_argument("--seed", type=int, default=0, help="Random seed")
    add_dtype_argument(parser)
    add_arithmetic_argument(parser)
    parser.add_argument("--fs", type=int, default=8000, help="Sampling rate of the data (Hz)")
    parser.add_argument("--num_workers", type=int, default=1, help="Accepted for ESPnet compatibility")

    group = parser.add_argument_group("Input data related")
    group.add_argument(
        "--data_path_and_name_and_type", type=_parse_data_arg, required=True, action="append",
        help="'path,speech_mix,sound' (other names are ignored)",
    )  # fmt: skip
    group.add_argument("--key_file", type=str_or_none, default=None, help="Only these utterances")
    group.add_argument(
        "--allow_variable_data_keys", type=str2bool, default=False, help="Accepted for ESPnet compatibility"
    )

    group = parser.add_argument_group("Output data related")
    group.add_argument(
        "--normalize_output_wav", type=str2bool, default=False, help=f"Scale each output to a peak of {OUTPUT_PEAK}"
    )
    group.add_argument("--output_format", default="wav", choices=["wav", "flac"], help="Audio format of the outputs")
    group.add_argument("--show_progressbar", type=str2bool, default=True, help="Show a progress bar")

    group = parser.add_argument_group("The model configuration related")
    group.add_argument("--train_config", type=str_or_none, default=None, help="Training config.yaml")
    group.add_argument("--model_file", type=str_or_none, default=None, help="Model parameter file (.pth)")
    group.add_argument(
        "--inference_config", type=str_or_none, default=None,
        help="YAML overriding encoder/separator/decoder options, e.g. conf/efficient_infer/re/re_8.yaml",
    )  # fmt: skip
    add_m_re_arguments(group, "an integer (wins over --inference_config) or 'auto'")

    group = parser.add_argument_group("Data loading related")
    group.add_argument("--batch_size", type=int, default=1, help="Utterances per forward pass (zero-padded)")

    group = parser.add_argument_group("SeparateSpeech related")
    group.add_argument(
        "--segment_size", type=float_or_none, default=None,
        help="Seconds; longer utterances are separated segment by segment (default: at once)",
    )  # fmt: skip
    group.add_argument(
        "--hop_size", type=float_or_none, default=None, help="Seconds between segments (default: 3/4 of --segment_size)"
    )
    group.add_argument(
        "--normalize_segment_scale", type=str2bool, default=False,
        help="Scale the outputs of each segment so that their sum has the RMS of the mixture segment",
    )  # fmt: skip
    group.add_argument(
        "--ref_channel", type=int_or_none, default=None, help="The channel of multi-channel mixtures to separate"
    )
    group.add_argument(
        "--model_tag", type=str_or_none, default=None, help="ESPnet's model-zoo tag: not supported (give the files)"
    )
    group.add_argument(
        "--enh_s2t_task", type=str2bool, default=False, help="ESPnet's enhancement + ASR models: only false"
    )
    return parser


def main(cmd=None):
    tune_allocator()
    print(" ".join(sys.argv) if cmd is None else " ".join(map(str, cmd)), file=sys.stderr)
    parser = get_parser()
    args = parser.parse_args(cmd)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    kwargs = vars(args)
    for key in ("config", "log_level"):
        kwargs.pop(key, None)
    inference(**kwargs)


if __name__ == "__main__":
    main()
