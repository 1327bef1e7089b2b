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
  written block by block, so memory does not grow with the length of the recording.
- Unreadable or non-audio files are reported and skipped; the exit status is 1 if any file failed.
- Output level: each output is scaled to a peak of 0.9, as the official separate.py does (SI-SNR
  training leaves the scale of the estimates free); ``--no_normalize_output_wav`` keeps the raw scale.
- Inputs are never written over; existing outputs only with ``--overwrite``.
"""

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np
import soundfile as sf

from espnet2.utils.audio import (
    AudioError,
    StreamResampler,
    audio_extensions,
    audio_info,
    iter_mono_blocks,
)

BLOCK_SECONDS = 1.0  # input read per block (at the input's sample rate)
OUTPUT_PEAK = 0.9  # --normalize_output_wav: the peak of every output (ESPnet's and the official separate.py's)


class Job:
    """One input file and the outputs it will get."""

    def __init__(self, source: Path, outputs: List[Path]):
        self.source = source
        self.outputs = outputs


def collect_inputs(inputs: List[str], output_dir: Path, recursive: bool, num_spk: int) -> Tuple[List[Job], List[str]]:
    """Plan the work: the files to separate (with their outputs) and the problems already found.

    A file named on the command line is always tried; in a folder only files with an audio
    extension are taken (all levels with ``recursive``), and neither anything below ``output_dir``
    when that lies inside the folder, nor the outputs of other files of the folder (a folder
    separated into itself before: ``a_spk1.wav`` beside ``a.wav``).
    """
    exts = audio_extensions()
    out_resolved = output_dir.resolve()
    jobs: List[Job] = []
    problems: List[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            root = path.resolve()
            pattern = path.rglob("*") if recursive else path.iterdir()
            files = sorted(p for p in pattern if p.is_file() and p.suffix.lower() in exts)
            if out_resolved != root:
                files = [p for p in files if out_resolved not in p.resolve().parents]
            if not files:
                problems.append(
                    f"{path}: no audio files found{'' if recursive else ' (use --recursive for sub-folders)'}"
                )
            folder_jobs = []
            for p in files:
                rel = p.resolve().relative_to(root)
                base = output_dir / rel.parent
                folder_jobs.append(Job(p, [base / f"{p.stem}_spk{j + 1}.wav" for j in range(num_spk)]))
            outputs = {out.resolve() for job in folder_jobs for out in job.outputs}
            jobs.extend(job for job in folder_jobs if job.source.resolve() not in outputs)
        elif path.is_file():
            jobs.append(Job(path, [output_dir / f"{path.stem}_spk{j + 1}.wav" for j in range(num_spk)]))
        else:
            problems.append(f"{path}: no such file or folder")
    return jobs, problems


def check_outputs(jobs: List[Job], overwrite: bool) -> Tuple[List[Job], List[str], List[str]]:
    """Split the jobs into those to run, failures (an output would replace an input, or two
    inputs would write the same output) and skips (outputs exist, no ``--overwrite``)."""
    sources = {job.source.resolve(): job for job in jobs}
    claimed: Dict[Path, Job] = {}
    todo, failed, skipped = [], [], []
    for job in jobs:
        problem = None
        for out in job.outputs:
            r = out.resolve()
            if r in sources:
                problem = (
                    f"{job.source}: its output {out} would replace the input file {sources[r].source}; "
                    "choose another --output_dir"
                )
                break
            if r in claimed:
                problem = (
                    f"{job.source}: its output {out} is also the output of {claimed[r].source}; "
                    "separate them into different --output_dir folders"
                )
                break
        if problem is not None:
            failed.append(problem)
            continue
        for out in job.outputs:
            claimed[out.resolve()] = job
        existing = [out for out in job.outputs if out.exists()]
        if existing and not overwrite:
            skipped.append(f"{job.source}: {existing[0]} exists; skipped (use --overwrite to replace it)")
            continue
        todo.append(job)
    return todo, failed, skipped


def _resampled(blocks: Iterable[np.ndarray], resampler: StreamResampler) -> Iterator[np.ndarray]:
    """Pass blocks through a stream resampler, flushing it at the end."""
    for block in blocks:
        out = resampler.process(block)
        if out.shape[0]:
            yield out
    out = resampler.flush()
    if out.shape[0]:
        yield out


def _pieces(blocks: Iterable[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Cut blocks [n, ...] into pieces of at most ``size`` samples (bounds the resampler's output)."""
    for block in blocks:
        for start in range(0, block.shape[0], size):
            yield block[start : start + size]


def separate_file(
    separate,
    job: Job,
    channel: Optional[int],
    subtype: str,
    normalize: bool = True,
    progress: Optional[Callable[[int], None]] = None,
) -> Dict[str, object]:
    """Separate one file into its outputs, block by block; returns facts for the report.

    With ``normalize`` each output is scaled to a peak of ``OUTPUT_PEAK`` (the peak is known only at the
    end, so the raw estimates go to float temporary files first and are rescaled in a second pass).
    ``progress`` is called with the number of frames written each time a block is written.

    Outputs are written to temporary names and renamed when complete, so a failure leaves no
    half-written file and never touches an existing one.
    """
    fs_in, frames, channels = audio_info(job.source)
    notes = []
    if channels > 1:
        if channel is None:
            notes.append(f"{channels} channels averaged to mono (--channel N picks one)")
        elif not 0 <= channel < channels:
            raise AudioError(
                f"{job.source}: has {channels} channels; --channel {channel} does not exist (use 0 .. {channels - 1})"
            )
    elif channel not in (None, 0):
        raise AudioError(f"{job.source}: has 1 channel; --channel {channel} does not exist (use 0)")
    if fs_in != separate.fs:
        notes.append(f"resampled {fs_in} Hz -> {separate.fs} Hz -> {fs_in} Hz")

    num_spk = separate.num_spk
    blocksize = max(1, int(BLOCK_SECONDS * fs_in))
    to_model = StreamResampler(fs_in, separate.fs, 1)
    to_input = StreamResampler(separate.fs, fs_in, num_spk)
    mono = iter_mono_blocks(job.source, blocksize, channel if channels > 1 else None)
    separated = separate.separate_stream(_resampled(mono, to_model))  # [J, m] blocks at the model's rate
    pieces = _pieces((b.T for b in separated), max(1, int(BLOCK_SECONDS * separate.fs)))
    back = _resampled(pieces, to_input)  # [m, J] blocks at the input rate

    for out in job.outputs:
        out.parent.mkdir(parents=True, exist_ok=True)
    raw = [out.with_name(f".{out.name}.raw.partial") for out in job.outputs]
    final = [out.with_name(f".{out.name}.partial") for out in job.outputs] if normalize else raw
    peaks = np.zeros(num_spk)
    written = clipped = 0
    try:
        with contextlib.ExitStack() as stack:
            writers = [
                stack.enter_context(
                    sf.SoundFile(str(p), "w", samplerate=fs_in, channels=1, format="WAV",
                                 subtype="FLOAT" if normalize else subtype)
                )
                for p in raw
            ]  # fmt: skip
            for block in back:
                block = block[: max(0, frames - written)]
                if block.shape[0] == 0:
                    continue
                peaks = np.maximum(peaks, np.abs(block).max(axis=0))
                if not normalize and subtype.startswith("PCM"):
                    clipped += int(np.count_nonzero(np.abs(block) > 1.0))
                for j, w in enumerate(writers):
                    w.write(block[:, j])
                written += block.shape[0]
                if progress is not None:
                    progress(block.shape[0])
            if written < frames:  # the resampler may come back a sample short
                for w in writers:
                    w.write(np.zeros(frames - written, dtype=np.float32))
        if normalize:
            for j in range(num_spk):
                gain = OUTPUT_PEAK / peaks[j] if peaks[j] > 0 else 1.0
                _rescale(raw[j], final[j], gain, subtype, blocksize)
        for p, out in zip(final, job.outputs):
            os.replace(p, out)
    finally:
        for p in raw + final:
            if p.exists():
                p.unlink()
    if frames == 0:
        notes.append("empty input, empty outputs")
    if clipped:
        notes.append(
            f"{clipped} samples clipped to [-1, 1] (drop --no_normalize_output_wav to rescale the outputs, "
            "or --subtype FLOAT keeps them)"
        )
    return {"seconds": frames / fs_in if fs_in else 0.0, "m_re": separate.last_m_re, "notes": notes}


def _rescale(source: Path, target: Path, gain: float, subtype: str, blocksize: int):
    """Copy a mono wav, multiplied by ``gain``, into ``target`` with the sample format ``subtype``."""
    with sf.SoundFile(str(source)) as src, sf.SoundFile(
        str(target), "w", samplerate=src.samplerate, channels=1, format="WAV", subtype=subtype
    ) as dst:
        for block in src.blocks(blocksize, dtype="float32"):
            dst.write(block * np.float32(gain))


def get_parser() -> argparse.ArgumentParser:
    from espnet2.bin.enh_inference import add_dtype_argument, add_m_re_arguments

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
    parser.add_argument("-r", "--recursive", action="store_true", help="Also search sub-folders of folder inputs")
    add_m_re_arguments(parser, "an integer, or 'auto' (default: the model's)")
    parser.add_argument("--device", default="auto", help="auto (a GPU when present), cpu, cuda, cuda:1 ...")
    add_dtype_argument(parser)
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
    parser = get_parser()
    args = parser.parse_args(cmd)
    args.inputs += args.audio_path
    if not args.inputs:
        parser.error("no input: give audio files or folders (positional, or --audio_path FILE_OR_DIR)")
    if args.channel is not None and args.channel < 0:
        parser.error(f"--channel {args.channel}: channels are counted from 0")

    from espnet2.bin.enh_inference import SeparateSpeech

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
        )
    except (OSError, ValueError, KeyError) as e:
        print(f"separate.py: error: cannot load the model: {e}", file=sys.stderr)
        return 2

    output_dir = Path(args.output_dir)
    jobs, failed = collect_inputs(args.inputs, output_dir, args.recursive, separate.num_spk)
    todo, refused, skipped = check_outputs(jobs, args.overwrite)
    failed += refused
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
        f"on {separate.device}"
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
                separate, job, args.channel, args.subtype, args.normalize_output_wav, None if bar is None else bar.update
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
    elapsed = time.perf_counter() - start
    rtf = f", real-time factor {elapsed / audio_seconds:.3f}" if audio_seconds > 0 else ""
    say(
        f"Separated {done} file(s), {len(skipped)} skipped, {len(failed)} failed; "
        f"{audio_seconds:.1f} s of audio in {elapsed:.1f} s{rtf}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
