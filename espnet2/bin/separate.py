#!/usr/bin/env python3
"""Separate audio files with a trained model: ``tisdiss-separate`` / ``egs2/wsj0_2mix/enh1/separate.py``.

    tisdiss-separate --model_path exp/enh_train_xxx/valid.loss.ave_5best.pth mixture.wav
    tisdiss-separate --model_path packed_model.zip --recursive --m_re 8 recordings/ -o separated/
    # the official TISDiSS README's command works as written:
    python separate.py --model_path exp/xxx/valid.loss.ave_5best.pth --audio_path DIR --audio_output_dir OUT

For each input ``<stem>.<ext>`` it writes ``<stem>_spk1.wav`` .. ``<stem>_spkJ.wav`` under
``--output_dir``, mirroring the folder tree of a folder input, at the input's sample rate.

- ``--model_path``: a ``.pth`` with the training ``config.yaml`` beside it, an experiment folder
  holding both, or a zip written by ``python -m espnet2.bin.pack_model``.
- Any sample rate: the input is resampled to the model's rate (soxr) and the outputs back.
- Several channels: averaged to mono (a note is printed), or pick one with ``--channel`` (0-based).
- Silence gives silent outputs; an input shorter than one STFT frame is zero-padded for the model.
- Long recordings are separated in segments of ``--segment_size`` seconds (0: at once), read and
  written block by block, so memory does not grow with the length of the recording. Segments overlap by
  ``--segment_size - --hop_size`` (default: a quarter), which costs that much more computation on long
  recordings (1.33x at the default); attention grows with the square of the segment length, so a shorter
  segment is faster per second of audio, at the price of less context per decision.
- The summary line's real-time factor counts separation with reading and writing the files, not the
  model loading (reported on the first line).
- Unreadable or non-audio files are reported and skipped; the exit status is 1 if any file failed.
- Output level: each output is scaled to a peak of 0.9, as the official separate.py does (SI-SNR
  training leaves the scale of the estimates free); ``--no_normalize_output_wav`` keeps the raw scale.
- Inputs are never written over; existing outputs only with ``--overwrite``.
"""

import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional

import soundfile as sf

from espnet2.enh.inference import OUTPUT_PEAK
from espnet2.enh.separate_files import plan_jobs, separate_file
from espnet2.utils.allocator import tune_allocator
from espnet2.utils.audio import AudioError, audio_info


def get_parser() -> argparse.ArgumentParser:
    from espnet2.enh.inference import add_arithmetic_argument, add_dtype_argument, add_m_re_arguments

    parser = argparse.ArgumentParser(
        prog="separate.py",
        description="Separate the speakers of audio files with a trained TISDiSS / TF-Locoformer model.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("inputs", nargs="*", help="Audio files and/or folders of audio files")
    parser.add_argument(
        "--audio_path", action="append", default=[], metavar="FILE_OR_DIR",
        help="An audio file or folder, as the official TISDiSS separate.py takes it (same as a positional input; "
        "may be repeated)",
    )  # fmt: skip
    parser.add_argument(
        "--model_path", required=True,
        help="A .pth with config.yaml beside it, an experiment folder, or a packed model .zip",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output_dir", "--audio_output_dir", dest="output_dir", default="separated",
        help="Where to write <stem>_spk{j}.wav (--audio_output_dir: the official separate.py's name)",
    )  # fmt: skip
    parser.add_argument(
        "-r", "--recursive", action="store_true",
        help="Also search sub-folders of folder inputs (linked files are taken, linked sub-folders are not entered, "
        "as find does without -L)",
    )  # fmt: skip
    add_m_re_arguments(parser, "an integer, or 'auto' (default: the model's)")
    parser.add_argument("--device", default="auto", help="auto (a GPU when present), cpu, cuda, cuda:1 ...")
    add_dtype_argument(parser)
    add_arithmetic_argument(parser)
    parser.add_argument(
        "--segment_size", type=float, default=20.0,
        help="Seconds; longer inputs are separated segment by segment (0: whole files at once)",
    )  # fmt: skip
    parser.add_argument(
        "--hop_size", type=float, default=None, help="Seconds between segments (default: 3/4 of --segment_size)"
    )
    parser.add_argument(
        "--channel", type=int, default=None, help="Channel of multi-channel inputs (0-based; default: average)"
    )
    parser.add_argument(
        "--model_fs", type=int, default=None, help="The model's sample rate (default: from its config, else 8000)"
    )
    parser.add_argument(
        "--normalize_output_wav", action="store_true", default=True,
        help=f"Scale each output to a peak of {OUTPUT_PEAK} (the default, as the official separate.py and enh.sh "
        "stage 7 do: SI-SNR training leaves the output level free, so the raw estimates may be far louder than "
        "the input)",
    )  # fmt: skip
    parser.add_argument(
        "--no_normalize_output_wav", dest="normalize_output_wav", action="store_false",
        help="Write the estimates at the model's raw scale",
    )  # fmt: skip
    parser.add_argument("--subtype", default="PCM_16", choices=["PCM_16", "PCM_24", "FLOAT"], help="WAV sample format")
    parser.add_argument("--overwrite", action="store_true", help="Replace existing outputs (inputs are never replaced)")
    parser.add_argument("--quiet", action="store_true", help="Only report problems")
    return parser


def main(cmd: Optional[List[str]] = None) -> int:
    """Run the command line; returns the exit status (0: all files separated or skipped)."""
    tune_allocator()
    parser = get_parser()
    args = parser.parse_args(cmd)
    args.inputs += args.audio_path
    if not args.inputs:
        parser.error("no input: give audio files or folders (positional, or --audio_path FILE_OR_DIR)")
    if args.channel is not None and args.channel < 0:
        parser.error(f"--channel {args.channel}: channels are counted from 0")

    from espnet2.enh.inference import SeparateSpeech

    load_start = time.perf_counter()
    try:
        separate = SeparateSpeech.from_model_path(
            args.model_path,
            m_re=args.m_re,
            m_re_max=args.m_re_max,
            m_re_threshold=args.m_re_threshold,
            segment_size=args.segment_size if args.segment_size > 0 else None,
            hop_size=args.hop_size,
            fs=args.model_fs,
            device=args.device,
            dtype=args.dtype,
            published_arithmetic=args.published_arithmetic,
        )
    except (OSError, ValueError, KeyError) as e:
        print(f"separate.py: error: cannot load the model: {e}", file=sys.stderr)
        return 2

    todo, failed, skipped = plan_jobs(
        args.inputs, Path(args.output_dir), args.recursive, separate.num_spk, args.overwrite
    )
    for msg in failed:
        print(f"FAILED {msg}", file=sys.stderr)
    for msg in skipped:
        print(f"SKIPPED {msg}", file=sys.stderr)

    def say(msg: str):
        if not args.quiet:
            print(msg, flush=True)

    m_re_text = "auto" if separate.m_re == "auto" else separate.current_m_re
    if separate.fs_assumed:
        say(
            "Note: the model config does not state its sample rate (encoder_conf.default_fs); "
            "assuming 8000 Hz (--model_fs sets it)"
        )
    say(
        f"Model: {args.model_path} ({separate.num_spk} speakers, {separate.fs} Hz, M_re {m_re_text}) "
        f"on {separate.device}, loaded in {time.perf_counter() - load_start:.1f} s"
    )
    audio_seconds = 0.0
    start = time.perf_counter()
    done = 0
    show_bar = not args.quiet and sys.stderr.isatty()
    for i, job in enumerate(todo):
        bar = None
        if show_bar:
            from tqdm import tqdm

            try:
                total = audio_info(job.source)[1]
            except AudioError:
                total = None
            bar = tqdm(total=total, unit="frame", unit_scale=True, leave=False, desc=job.source.name)
        try:
            info = separate_file(
                separate,
                job,
                args.channel,
                args.subtype,
                args.normalize_output_wav,
                None if bar is None else bar.update,
            )
        except (AudioError, FloatingPointError, ValueError, sf.LibsndfileError, RuntimeError) as e:
            msg = str(e) if str(job.source) in str(e) else f"{job.source}: {e}"
            failed.append(msg)
            print(f"FAILED {msg}", file=sys.stderr)
            continue
        finally:
            if bar is not None:
                bar.close()
        done += 1
        audio_seconds += info["seconds"]
        extra = ""
        if separate.m_re == "auto" and info["m_re"]:
            extra = f", M_re {info['m_re'][0]:g}"
        notes = "".join(f"; {n}" for n in info["notes"])
        say(
            f"[{i + 1}/{len(todo)}] {job.source} -> {', '.join(map(str, job.outputs))} "
            f"({info['seconds']:.1f} s{extra}{notes})"
        )
    elapsed = time.perf_counter() - start  # separation with reading and writing, without loading the model
    rtf = f", real-time factor {elapsed / audio_seconds:.3f}" if audio_seconds > 0 else ""
    say(
        f"Separated {done} file(s), {len(skipped)} skipped, {len(failed)} failed; "
        f"{audio_seconds:.1f} s of audio in {elapsed:.1f} s{rtf}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
