"""Separate audio files into one file per speaker: the library behind separate.py.

    from espnet2.enh.inference import SeparateSpeech
    from espnet2.enh.separate_files import plan_jobs, separate_file

    separate = SeparateSpeech.from_model_path("exp/enh_train_xxx/valid.loss.ave_5best.pth", segment_size=20)
    todo, failed, skipped = plan_jobs(["recordings/"], Path("separated"), recursive=True, num_spk=separate.num_spk)
    for job in todo:
        info = separate_file(separate, job)      # writes job.outputs: <stem>_spk1.wav ... <stem>_spkJ.wav

- Files are read, resampled (soxr), separated and written block by block: with ``segment_size`` the
  memory does not grow with the length of a recording.
- Any sample rate (back at the input's rate), several channels (averaged, or ``channel``), silence,
  inputs shorter than one STFT frame.
- Output level: each output is scaled to a peak of ``OUTPUT_PEAK`` (``normalize``, as the official
  separate.py does: SI-SNR training leaves the scale of the estimates free).
- Inputs are never written over; existing outputs only with ``overwrite``; outputs are written to
  temporary names and renamed when complete.
"""

import contextlib
import os
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np
import soundfile as sf

from espnet2.enh.inference import OUTPUT_PEAK
from espnet2.utils.audio import AudioError, StreamResampler, audio_extensions, audio_info, iter_mono_blocks

BLOCK_SECONDS = 1.0  # input read per block (at the input's sample rate)


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
    out_resolved, out_absolute = output_dir.resolve(), Path(os.path.abspath(output_dir))
    jobs: List[Job] = []
    problems: List[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            pattern = path.rglob("*") if recursive else path.iterdir()
            files = sorted(p for p in pattern if p.is_file() and p.suffix.lower() in exts)
            if out_resolved != path.resolve():  # nothing below the output folder (followed or not through links)
                files = [
                    p for p in files
                    if out_resolved not in p.resolve().parents and out_absolute not in Path(os.path.abspath(p)).parents
                ]  # fmt: skip
            if not files:
                problems.append(
                    f"{path}: no audio files found{'' if recursive else ' (use --recursive for sub-folders)'}"
                )
            folder_jobs = []
            for p in files:
                rel = p.relative_to(path)  # as found in the folder: a linked file keeps its link's name and place
                base = output_dir / rel.parent
                folder_jobs.append(Job(p, [base / f"{p.stem}_spk{j + 1}.wav" for j in range(num_spk)]))
            outputs = {out.resolve() for job in folder_jobs for out in job.outputs}
            jobs.extend(job for job in folder_jobs if job.source.resolve() not in outputs)
        elif path.is_file():
            jobs.append(Job(path, [output_dir / f"{path.stem}_spk{j + 1}.wav" for j in range(num_spk)]))
        else:
            problems.append(f"{path}: no such file or folder")
    return jobs, problems


def plan_jobs(
    inputs: List[str], output_dir: Path, recursive: bool, num_spk: int, overwrite: bool = False
) -> Tuple[List[Job], List[str], List[str]]:
    """The files to separate, the problems found (missing inputs, outputs that would replace an input ...)
    and the files skipped (outputs exist, no ``overwrite``): :func:`collect_inputs` then :func:`check_outputs`."""
    jobs, failed = collect_inputs(inputs, output_dir, recursive, num_spk)
    todo, refused, skipped = check_outputs(jobs, overwrite)
    return todo, failed + refused, skipped


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
    channel: Optional[int] = None,
    subtype: str = "PCM_16",
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
    with (
        sf.SoundFile(str(source)) as src,
        sf.SoundFile(str(target), "w", samplerate=src.samplerate, channels=1, format="WAV", subtype=subtype) as dst,
    ):
        for block in src.blocks(blocksize, dtype="float32"):
            dst.write(block * np.float32(gain))
