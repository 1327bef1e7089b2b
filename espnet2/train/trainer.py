"""Trainer: the epoch loop, one training step, validation, checkpoints, best models (ESPnet semantics).

Per epoch: train (AMP, gradient accumulation and clipping, non-finite steps skipped), validate,
scheduler epoch step, then (rank 0 only) log, plot `images/*.png`, write tensorboard, save
`{epoch}epoch.pth`, update `valid.{criterion}.best.pth` symlinks, save `checkpoint.pth` (atomic:
temporary file then rename), and delete epoch files outside every criterion's n-best.
At the end the n best epochs are averaged into `valid.{criterion}.ave_{n}best.pth` (+ `.ave.pth` symlink).

`checkpoint.pth` holds model, optimizers, schedulers, AMP scaler, reporter and RNG states, all as tensors
or plain Python values (loads with `torch.load(..., weights_only=True)`); `--resume true` continues from it
exactly: on CPU a run killed after epoch k and resumed ends with the same parameters as one not killed.
"""

import argparse
import contextlib
import dataclasses
import datetime
import logging
import os
import random
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn

from espnet2.iterators.abs_iter_factory import AbsIterFactory
from espnet2.main_funcs.average_nbest_models import average_nbest_models
from espnet2.schedulers.abs_scheduler import (
    AbsBatchStepScheduler,
    AbsEpochStepScheduler,
    AbsScheduler,
    AbsValEpochStepScheduler,
)
from espnet2.torch_utils.device_funcs import to_device
from espnet2.torch_utils.recursive_op import recursive_average
from espnet2.train.distributed_utils import DistributedOption
from espnet2.train.reporter import Reporter, SubReporter


class NonFiniteError(RuntimeError):
    """Too many consecutive steps with a non-finite loss or gradient."""


@dataclasses.dataclass
class TrainerOptions:
    ngpu: int
    resume: bool
    use_amp: bool
    amp_dtype: Optional[str]
    train_dtype: str
    accum_grad: int
    grad_clip: float
    grad_clip_type: float
    log_interval: Optional[int]
    no_forward_run: bool
    use_matplotlib: bool
    use_tensorboard: bool
    output_dir: Union[Path, str]
    max_epoch: int
    seed: int
    patience: Optional[int]
    keep_nbest_models: Union[int, List[int]]
    early_stopping_criterion: Sequence[str]
    best_model_criterion: Sequence[Sequence[str]]
    val_scheduler_criterion: Sequence[str]
    unused_parameters: bool
    max_nonfinite_steps: int


def atomic_save(obj, path: Path):
    """torch.save to `path.tmp`, then rename: a kill leaves the old file or the new one, never half of one."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def get_rng_state() -> Dict:
    """Python, numpy, torch (and CUDA) generator states as tensors/plain values."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict):
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        states = state["cuda"]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)


def amp_settings(use_amp: bool, amp_dtype: Optional[str], device_type: str):
    """(autocast kwargs or None, whether a GradScaler is needed).

    bfloat16 on CPU; float16 (with a GradScaler) or bfloat16 on CUDA.
    """
    if not use_amp:
        return None, False
    if amp_dtype is None:
        amp_dtype = "float16" if device_type == "cuda" else "bfloat16"
    if amp_dtype not in ("float16", "bfloat16"):
        raise ValueError(f"--amp_dtype must be float16 or bfloat16, got {amp_dtype!r}")
    if device_type == "cpu" and amp_dtype == "float16":
        raise ValueError("--amp_dtype float16 needs a GPU; on CPU use bfloat16")
    return dict(device_type=device_type, dtype=getattr(torch, amp_dtype)), amp_dtype == "float16"


class Trainer:
    """The training loop (all classmethods, as in ESPnet: a task may subclass and override a step)."""

    def __init__(self):
        raise RuntimeError("This class can't be instantiated.")

    @classmethod
    def build_options(cls, args: argparse.Namespace) -> TrainerOptions:
        return TrainerOptions(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainerOptions)})

    @staticmethod
    def resume(
        checkpoint: Union[str, Path],
        model: torch.nn.Module,
        reporter: Reporter,
        optimizers: Sequence[torch.optim.Optimizer],
        schedulers: Sequence[Optional[AbsScheduler]],
        scaler: Optional["torch.amp.GradScaler"],
        ngpu: int = 0,
    ) -> Dict:
        """Load `checkpoint` into the training state; returns the extra trainer state."""
        try:
            states = torch.load(
                checkpoint, map_location=f"cuda:{torch.cuda.current_device()}" if ngpu > 0 else "cpu", weights_only=True
            )
        except Exception as e:
            raise RuntimeError(
                f"--resume: cannot load {checkpoint} ({type(e).__name__}: {e}); "
                "delete it to restart from scratch, or point --output_dir elsewhere"
            ) from None
        model.load_state_dict(states["model"])
        reporter.load_state_dict(states["reporter"])
        if len(states["optimizers"]) != len(optimizers):
            raise RuntimeError(
                f"{checkpoint} holds {len(states['optimizers'])} optimizers, the config builds {len(optimizers)}"
            )
        for optimizer, state in zip(optimizers, states["optimizers"]):
            optimizer.load_state_dict(state)
        for scheduler, state in zip(schedulers, states["schedulers"]):
            if scheduler is not None:
                scheduler.load_state_dict(state)
        if scaler is not None:
            if states["scaler"] is None:
                logging.warning("scaler state is not found in the checkpoint; the AMP scaler starts afresh")
            else:
                scaler.load_state_dict(states["scaler"])
        set_rng_state(states["rng"])
        logging.info(f"The training was resumed using {checkpoint} (epoch {reporter.get_epoch()})")
        return states.get("trainer", {})

    @classmethod
    def run(
        cls,
        model: torch.nn.Module,
        optimizers: Sequence[torch.optim.Optimizer],
        schedulers: Sequence[Optional[AbsScheduler]],
        train_iter_factory: AbsIterFactory,
        valid_iter_factory: AbsIterFactory,
        trainer_options: TrainerOptions,
        distributed_option: DistributedOption,
    ) -> None:
        """Train for `max_epoch` epochs (or until early stopping); see the module docstring."""
        options = trainer_options
        output_dir = Path(options.output_dir)
        is_main = distributed_option.is_main
        device_type = "cuda" if options.ngpu > 0 else "cpu"
        autocast_kwargs, need_scaler = amp_settings(options.use_amp, options.amp_dtype, device_type)
        scaler = torch.amp.GradScaler("cuda") if need_scaler else None
        keep_nbest_models = options.keep_nbest_models
        if isinstance(keep_nbest_models, int):
            keep_nbest_models = [keep_nbest_models]
        if len(keep_nbest_models) == 0:
            keep_nbest_models = [1]

        reporter = Reporter()
        state = {"nonfinite_in_a_row": 0, "nonfinite_in_epoch": 0}
        if options.resume and (output_dir / "checkpoint.pth").exists():
            state.update(
                cls.resume(output_dir / "checkpoint.pth", model, reporter, optimizers, schedulers, scaler, options.ngpu)
            )
        start_epoch = reporter.get_epoch() + 1
        if start_epoch == options.max_epoch + 1:
            logging.warning(f"The training has already reached at max_epoch: {start_epoch}")

        if distributed_option.distributed:
            dp_model = torch.nn.parallel.DistributedDataParallel(
                model,
                device_ids=[torch.cuda.current_device()] if options.ngpu == 1 else None,
                output_device=torch.cuda.current_device() if options.ngpu == 1 else None,
                find_unused_parameters=options.unused_parameters,
            )
        else:
            dp_model = model

        summary_writer = None
        if options.use_tensorboard and is_main:
            from torch.utils.tensorboard import SummaryWriter

            summary_writer = SummaryWriter(str(output_dir / "tensorboard"))

        for ph, k, _ in options.best_model_criterion:
            if ph not in ("train", "valid"):
                raise ValueError(f"--best_model_criterion: the phase must be train or valid, got {ph!r} in {ph}.{k}")

        start_time = time.perf_counter()
        for iepoch in range(start_epoch, options.max_epoch + 1):
            if iepoch != start_epoch:
                elapsed = time.perf_counter() - start_time
                left = elapsed / (iepoch - start_epoch) * (options.max_epoch - iepoch + 1)
                logging.info(
                    f"{iepoch}/{options.max_epoch}epoch started. "
                    f"Estimated time to finish: {datetime.timedelta(seconds=int(left))}"
                )
            else:
                logging.info(f"{iepoch}/{options.max_epoch}epoch started")
            reporter.set_epoch(iepoch)

            with reporter.observe("train") as sub_reporter:
                all_steps_are_invalid = cls.train_one_epoch(
                    model=dp_model,
                    optimizers=optimizers,
                    schedulers=schedulers,
                    iterator=train_iter_factory.build_iter(iepoch),
                    reporter=sub_reporter,
                    scaler=scaler,
                    autocast_kwargs=autocast_kwargs,
                    summary_writer=summary_writer,
                    options=options,
                    distributed_option=distributed_option,
                    state=state,
                )
            with reporter.observe("valid") as sub_reporter:
                cls.validate_one_epoch(
                    model=dp_model,
                    iterator=valid_iter_factory.build_iter(iepoch),
                    reporter=sub_reporter,
                    autocast_kwargs=autocast_kwargs,
                    options=options,
                    distributed_option=distributed_option,
                )

            for phase in ("train", "valid"):
                if reporter.get_value(phase, "total_count") == (
                    reporter.stats.get(iepoch - 1, {}).get(phase, {}).get("total_count", 0)
                ):
                    raise RuntimeError(
                        f"epoch {iepoch} had no {phase} mini-batch: the {phase} data is smaller than one batch "
                        "(check --batch_size/--valid_batch_size, and --chunk_length with the chunk iterator: "
                        "utterances shorter than a chunk are skipped, leftover chunks are dropped)"
                    )

            # epoch-wise schedulers
            for scheduler in schedulers:
                if isinstance(scheduler, AbsValEpochStepScheduler):
                    scheduler.step(reporter.get_value(*options.val_scheduler_criterion))
                elif isinstance(scheduler, AbsEpochStepScheduler) and not isinstance(scheduler, AbsBatchStepScheduler):
                    scheduler.step()

            if is_main:
                logging.info(reporter.log_message())
                logging.info(
                    f"progress: epoch {iepoch}/{options.max_epoch} done: train loss "
                    f"{reporter.get_value('train', 'loss'):.3g}, valid loss {reporter.get_value('valid', 'loss'):.3g}, "
                    f"{datetime.timedelta(seconds=int(time.perf_counter() - start_time))} so far"
                )
                if options.use_matplotlib:
                    reporter.matplotlib_plot(output_dir / "images")
                if summary_writer is not None:
                    reporter.tensorboard_add_scalar(summary_writer)
                    summary_writer.flush()
                cls.save_epoch(
                    model,
                    optimizers,
                    schedulers,
                    scaler,
                    reporter,
                    state,
                    output_dir,
                    iepoch,
                    options,
                    keep_nbest_models,
                )

            if all_steps_are_invalid:
                logging.warning(
                    "The gradients at all steps are invalid in this epoch. "
                    f"Something seems wrong. This training was stopped at {iepoch}epoch"
                )
                break
            if options.patience is not None and reporter.check_early_stopping(
                options.patience, *options.early_stopping_criterion
            ):
                break
        else:
            logging.info(f"The training was finished at {options.max_epoch} epochs ")

        if is_main:
            if summary_writer is not None:
                summary_writer.close()
            average_nbest_models(
                reporter=reporter,
                output_dir=output_dir,
                best_model_criterion=options.best_model_criterion,
                nbest=keep_nbest_models,
            )

    @staticmethod
    def save_epoch(
        model, optimizers, schedulers, scaler, reporter, state, output_dir, iepoch, options, keep_nbest_models
    ):
        """`{iepoch}epoch.pth`, best-model symlinks, `checkpoint.pth`, then clean-up of old epochs."""
        atomic_save(model.state_dict(), output_dir / f"{iepoch}epoch.pth")
        for name in ("latest.pth",):
            p = output_dir / name
            if p.is_symlink() or p.exists():
                p.unlink()
            p.symlink_to(f"{iepoch}epoch.pth")

        improved = []
        for ph, k, mode in options.best_model_criterion:
            if not reporter.has(ph, k):
                if iepoch == 1:
                    logging.warning(f"--best_model_criterion {ph}.{k}: the model does not report '{k}'; it is skipped")
                continue
            if reporter.get_best_epoch(ph, k, mode) == iepoch:
                p = output_dir / f"{ph}.{k}.best.pth"
                if p.is_symlink() or p.exists():
                    p.unlink()
                p.symlink_to(f"{iepoch}epoch.pth")
                improved.append(f"{ph}.{k}")
        if improved:
            logging.info("The best model has been updated: " + ", ".join(improved))
        else:
            logging.info("There are no improvements in this epoch")

        atomic_save(
            {
                "model": model.state_dict(),
                "reporter": reporter.state_dict(),
                "optimizers": [o.state_dict() for o in optimizers],
                "schedulers": [s.state_dict() if s is not None else None for s in schedulers],
                "scaler": scaler.state_dict() if scaler is not None else None,
                "rng": get_rng_state(),
                "trainer": dict(state),
            },
            output_dir / "checkpoint.pth",
        )

        # keep the n best epochs of every criterion (and the latest)
        nbests = set()
        for ph, k, mode in options.best_model_criterion:
            if reporter.has(ph, k):
                nbests |= set(reporter.sort_epochs(ph, k, mode)[: max(keep_nbest_models)])
        removed = []
        for e in range(1, iepoch):
            p = output_dir / f"{e}epoch.pth"
            if p.exists() and e not in nbests:
                p.unlink()
                removed.append(str(p))
        if removed:
            logging.info("The model files were removed: " + ", ".join(removed))

    @classmethod
    def train_one_epoch(
        cls,
        model: torch.nn.Module,
        iterator: Iterable,
        optimizers: Sequence[torch.optim.Optimizer],
        schedulers: Sequence[Optional[AbsScheduler]],
        scaler: Optional["torch.amp.GradScaler"],
        autocast_kwargs: Optional[Dict],
        reporter: SubReporter,
        summary_writer,
        options: TrainerOptions,
        distributed_option: DistributedOption,
        state: Dict,
    ) -> bool:
        """One epoch of updates; returns True when no step updated the model."""
        accum_grad = options.accum_grad
        distributed = distributed_option.distributed
        device = distributed_option.device()
        dtype = getattr(torch, options.train_dtype)
        log_interval = options.log_interval
        n_iter = len(iterator) if hasattr(iterator, "__len__") else None
        if log_interval is None:
            log_interval = max(n_iter // 20, 10) if n_iter else 100
        world_size = torch.distributed.get_world_size() if distributed else 1
        params = [p for o in optimizers for g in o.param_groups for p in g["params"]]

        model.train()
        all_steps_are_invalid = True
        # DDP: a process that runs out of batches tells the others to stop (uneven shards, chunk iterator)
        iterator_stop = torch.tensor(0, device=device)
        start_time = time.perf_counter()
        last_log = (start_time, 0)
        for iiter, (_, batch) in enumerate(reporter.measure_iter_time(iterator, "iter_time"), 1):
            if not isinstance(batch, dict):
                raise TypeError(f"the iterator must yield (utt_ids, dict) pairs, got a {type(batch).__name__} batch")
            if distributed:
                torch.distributed.all_reduce(iterator_stop, torch.distributed.ReduceOp.SUM)
                if iterator_stop > 0:
                    break
            batch = to_device(batch, device, dtype=dtype if dtype != torch.float32 else None)
            if options.no_forward_run:
                all_steps_are_invalid = False
                reporter.next()
                continue

            update = iiter % accum_grad == 0
            sync = model.no_sync() if distributed and not update else contextlib.nullcontext()
            with sync:
                with torch.autocast(**autocast_kwargs) if autocast_kwargs else contextlib.nullcontext():
                    with reporter.measure_time("forward_time"):
                        loss, stats, weight = model(**batch)
                    stats = {k: v for k, v in stats.items() if v is not None}
                    if distributed:
                        # weighted average over all processes; DDP averages gradients, hence * world_size
                        loss = (loss * weight.type(loss.dtype)).sum()
                        stats, weight = recursive_average(stats, weight, distributed)
                        loss = loss / weight * world_size
                    loss = loss / accum_grad

                finite = torch.isfinite(loss.detach()).to(torch.int32).reshape(1)
                if distributed:
                    torch.distributed.all_reduce(finite, torch.distributed.ReduceOp.MIN)
                if bool(finite.item()):
                    reporter.register(stats, weight)
                    with reporter.measure_time("backward_time"):
                        if scaler is not None:
                            scaler.scale(loss).backward()
                        else:
                            loss.backward()
                else:
                    cls._nonfinite(state, options, f"The loss is {loss.item()}")
                    reporter.register({"nonfinite_rate": 1.0})
                    for o in optimizers:
                        o.zero_grad(set_to_none=True)
                    reporter.next()
                    continue

            if update:
                if scaler is not None:
                    for o in optimizers:
                        scaler.unscale_(o)
                grad_norm = torch.nn.utils.clip_grad_norm_(
                    params,
                    max_norm=options.grad_clip if options.grad_clip > 0 else float("inf"),
                    norm_type=options.grad_clip_type,
                )
                if not torch.isfinite(grad_norm):
                    cls._nonfinite(state, options, f"The grad norm is {grad_norm.item()}")
                    reporter.register({"nonfinite_rate": 1.0})
                    if scaler is not None:
                        # unscale_() was called: step() (which skips non-finite updates) and update()
                        for o in optimizers:
                            scaler.step(o)
                        scaler.update()
                else:
                    state["nonfinite_in_a_row"] = 0
                    all_steps_are_invalid = False
                    reporter.register({"nonfinite_rate": 0.0, "grad_norm": grad_norm})
                    with reporter.measure_time("optim_step_time"):
                        for o in optimizers:
                            if scaler is not None:
                                scaler.step(o)
                            else:
                                o.step()
                        if scaler is not None:
                            scaler.update()
                    for scheduler in schedulers:
                        if isinstance(scheduler, AbsBatchStepScheduler):
                            scheduler.step()
                for o in optimizers:
                    o.zero_grad(set_to_none=True)
                reporter.register(
                    {f"optim{i}_lr{j}": g["lr"] for i, o in enumerate(optimizers) for j, g in enumerate(o.param_groups)}
                )
            reporter.next()

            if iiter % log_interval == 0:
                now = time.perf_counter()
                speed = (iiter - last_log[1]) / max(now - last_log[0], 1e-9)
                last_log = (now, iiter)
                msg = reporter.log_message(-log_interval) + f", {speed:.2f} steps/s"
                # one short line for the terminal (enh.sh stage 6 shows the "progress:" lines of train.log)
                progress = (
                    f"progress: epoch {reporter.get_epoch()}/{options.max_epoch}, "
                    f"update {iiter}{f'/{n_iter}' if n_iter else ''}: "
                    f"loss {reporter.average('loss', reporter.count - log_interval):.3g}, "
                    f"{speed:.2f} updates/s"
                )
                if n_iter:
                    left = (n_iter - iiter) / speed
                    total_left = left + (options.max_epoch - reporter.get_epoch()) * n_iter / speed
                    msg += (
                        f", epoch time left {datetime.timedelta(seconds=int(left))}"
                        f", training time left ~{datetime.timedelta(seconds=int(total_left))}"
                    )
                    progress += f", training time left ~{datetime.timedelta(seconds=int(total_left))}"
                logging.info(msg)
                logging.info(progress)
                if summary_writer is not None:
                    reporter.tensorboard_add_scalar(summary_writer, -log_interval)
        else:
            if distributed:
                iterator_stop.fill_(1)
                torch.distributed.all_reduce(iterator_stop, torch.distributed.ReduceOp.SUM)
        skipped = state["nonfinite_in_epoch"]
        if skipped:
            logging.warning(f"{skipped} step(s) of this epoch were skipped: non-finite loss or gradient")
        state["nonfinite_in_epoch"] = 0
        return all_steps_are_invalid

    @staticmethod
    def _nonfinite(state: Dict, options: TrainerOptions, what: str):
        state["nonfinite_in_a_row"] += 1
        state["nonfinite_in_epoch"] += 1
        n = state["nonfinite_in_a_row"]
        logging.warning(f"{what}. Skipping updating the model ({n} non-finite step(s) in a row).")
        if n >= options.max_nonfinite_steps:
            raise NonFiniteError(
                f"{n} consecutive steps had a non-finite loss or gradient; training stopped. "
                "Check the data (silent references give infinite SI-SNR losses), lower the learning rate "
                "or use --grad_clip; --max_nonfinite_steps sets this limit. The last checkpoint.pth is intact."
            )

    @classmethod
    @torch.no_grad()
    def validate_one_epoch(
        cls,
        model: torch.nn.Module,
        iterator: Iterable,
        reporter: SubReporter,
        autocast_kwargs: Optional[Dict],
        options: TrainerOptions,
        distributed_option: DistributedOption,
    ) -> None:
        distributed = distributed_option.distributed
        device = distributed_option.device()
        dtype = getattr(torch, options.train_dtype)
        model.eval()
        iterator_stop = torch.tensor(0, device=device)
        for _, batch in iterator:
            if distributed:
                torch.distributed.all_reduce(iterator_stop, torch.distributed.ReduceOp.SUM)
                if iterator_stop > 0:
                    break
            batch = to_device(batch, device, dtype=dtype if dtype != torch.float32 else None)
            if options.no_forward_run:
                continue
            with torch.autocast(**autocast_kwargs) if autocast_kwargs else contextlib.nullcontext():
                _, stats, weight = model(**batch)
            stats = {k: v for k, v in stats.items() if v is not None}
            if distributed:
                stats, weight = recursive_average(stats, weight, distributed)
            reporter.register(stats, weight)
            reporter.next()
        else:
            if distributed:
                iterator_stop.fill_(1)
                torch.distributed.all_reduce(iterator_stop, torch.distributed.ReduceOp.SUM)
