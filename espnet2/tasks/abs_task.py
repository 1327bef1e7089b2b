"""AbsTask: the config -> model machinery shared by ESPnet tasks (here: speech enhancement/separation)."""

import argparse
import copy
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import yaml

from espnet2.iterators.abs_iter_factory import AbsIterFactory
from espnet2.iterators.chunk_iter_factory import ChunkIterFactory
from espnet2.iterators.sequence_iter_factory import SequenceIterFactory
from espnet2.main_funcs.collect_stats import collect_stats
from espnet2.samplers.build_batch_sampler import BATCH_TYPES, build_batch_sampler
from espnet2.samplers.unsorted_batch_sampler import UnsortedBatchSampler
from espnet2.schedulers.abs_scheduler import AbsScheduler
from espnet2.schedulers.warmup_lr import WarmupLR
from espnet2.schedulers.warmup_reducelronplateau import WarmupReduceLROnPlateau
from espnet2.torch_utils.load_pretrained_model import load_pretrained_model
from espnet2.torch_utils.model_summary import model_summary
from espnet2.torch_utils.set_all_random_seed import set_all_random_seed
from espnet2.train.class_choices import ClassChoices
from espnet2.train.dataset import DATA_TYPES, AbsDataset, ESPnetDataset
from espnet2.train.distributed_utils import (
    DistributedOption,
    check_gpus,
    cpu_threads,
    resolve_distributed_mode,
    shard_batch_size,
    shard_batches,
    spawn_local_workers,
)
from espnet2.train.logging_utils import setup_logging
from espnet2.train.trainer import Trainer
from espnet2.utils import config_argparse
from espnet2.utils.allocator import tune_allocator
from espnet2.utils.config_io import get_default_kwargs, load_config, load_state_dict_file, merge_config, to_plain
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import int_or_none, str2bool, str2triple_str, str_or_none
from espnet2.utils.yaml_no_alias_safe_dump import yaml_no_alias_safe_dump

optim_classes = dict(
    adam=torch.optim.Adam,
    adamw=torch.optim.AdamW,
    sgd=torch.optim.SGD,
)
scheduler_classes = dict(
    reducelronplateau=torch.optim.lr_scheduler.ReduceLROnPlateau,
    steplr=torch.optim.lr_scheduler.StepLR,
    warmuplr=WarmupLR,
    warmupreducelronplateau=WarmupReduceLROnPlateau,
)

# ESPnet options of other tasks/features that this toolkit does not implement. They are accepted at
# their ESPnet default (configs written by ESPnet list them); any other value is refused, never ignored.
UNSUPPORTED_OPTIONS = {
    "use_wandb": False,
    "wandb_project": None,
    "wandb_id": None,
    "wandb_entity": None,
    "wandb_name": None,
    "wandb_model_log_interval": -1,
    "use_lora": False,
    "save_lora_only": True,
    "lora_conf": {},
    "sharded_ddp": False,
    "use_deepspeed": False,
    "deepspeed_config": None,
    "create_graph_in_tensorboard": False,
    "grad_noise": False,
    "write_collected_feats": False,
    "multiple_iterator": False,
    "max_cache_size": 0.0,
    "max_cache_fd": 32,
    "valid_max_cache_size": None,
    "exclude_weight_decay": False,
    "exclude_weight_decay_conf": {},
    "allow_multi_rates": False,
    "nbest_averaging_interval": 0,
    "dist_launcher": None,
    "pretrain_path": None,
    "chunk_default_fs": None,
    "chunk_max_abs_length": None,
    "chunk_discard_short_samples": True,
    "drop_last_iter": False,
    "use_adapter": False,
    "adapter": "lora",
    "adapter_conf": {},
}


class AbsTask:
    """Subclasses set `class_choices_list` and implement `build_model(args)`.

    The training side (ESPnet's `AbsTask`): `get_parser()` (every option, `--config` YAML defaults
    overridden by the command line), `main(cmd)` (print_config / collect_stats / training, single process
    or DDP), and the hooks a task fills in: `add_task_arguments`, `build_preprocess_fn`,
    `build_collate_fn`, `required_data_names`, `optional_data_names`, `dataset_kwargs`.
    """

    class_choices_list: List[ClassChoices] = []
    num_optimizers: int = 1
    trainer = Trainer
    # option -> the only accepted value (ESPnet options this toolkit does not implement)
    unsupported_options: Dict[str, Any] = UNSUPPORTED_OPTIONS
    # class choices whose `<name>_conf` is not filled with the class defaults in config.yaml
    # (their keyword arguments partly come from other options)
    conf_not_filled: Tuple[str, ...] = ()

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> torch.nn.Module:
        """The task's model from the resolved options (each task defines it, e.g. EnhancementTask)."""
        raise TypeError(f"{cls.__name__} is not a task with a model; use EnhancementTask")

    @classmethod
    def build_model_from_file(
        cls,
        config_file: Union[Path, str, None] = None,
        model_file: Union[Path, str, None] = None,
        device: str = "cpu",
        overrides: Optional[Dict[str, Any]] = None,
    ) -> Tuple[torch.nn.Module, argparse.Namespace]:
        """Build the model of an ESPnet `config.yaml` and load its `.pth` state_dict (strictly).

        Args:
            config_file: the training config (default: config.yaml beside `model_file`).
            model_file: a state_dict saved by the trainer (`valid.loss.ave.pth` ...) or None (random init).
            device: where to put the model.
            overrides: a nested dict merged into the config before building, e.g. an inference config
                `{"separator_conf": {"reconstructor_repeat_times": 8}}`.
        Returns:
            (model in eval mode, the resolved training arguments).
        """
        if config_file is None:
            if model_file is None:
                raise ValueError("give a config file, or a model file with config.yaml beside it")
            config_file = Path(model_file).parent / "config.yaml"
        config_file = Path(config_file)
        if not config_file.exists():
            raise FileNotFoundError(f"config file {config_file} does not exist (pass --train_config / config_file)")
        args = load_config(config_file)
        if overrides:
            args = merge_config(args, overrides)
        model = cls.build_model(argparse.Namespace(**args))
        model.to(device)
        if model_file is not None:
            load_state_dict_file(model, model_file, device)
        model.eval()
        return model, argparse.Namespace(**args)

    # ------------------------------------------------------------------ task hooks
    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        """Task-specific options (and the class choices)."""
        for class_choices in cls.class_choices_list:
            class_choices.add_arguments(parser)

    @classmethod
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable:
        from espnet2.train.collate_fn import CommonCollateFn

        return CommonCollateFn()

    @classmethod
    def build_preprocess_fn(cls, args: argparse.Namespace, train: bool) -> Optional[Callable]:
        return None

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return ()

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return ()

    @classmethod
    def dataset_kwargs(cls, args: argparse.Namespace) -> Dict[str, Any]:
        """Extra ESPnetDataset arguments (e.g. the checks the task needs)."""
        return {}

    @classmethod
    def check_task_requirements(cls, dataset: AbsDataset, args: argparse.Namespace, train: bool) -> None:
        """Every required data name is given, and (unless --allow_variable_data_keys) nothing unknown."""
        mes = (
            f"If you intend to use an additional input, modify "
            f'"{cls.__name__}.required_data_names()" or '
            f'"{cls.__name__}.optional_data_names()". '
            f"Otherwise you need to set --allow_variable_data_keys true "
        )
        for k in cls.required_data_names(train):
            if not dataset.has_name(k):
                raise RuntimeError(
                    f'"{cls.required_data_names(train)}" are required for {cls.__name__}: give '
                    f"--{'train' if train else 'valid'}_data_path_and_name_and_type <list>,{k},sound. "
                    f'Given: "{dataset.names()}"'
                )
        if not args.allow_variable_data_keys:
            task_keys = cls.required_data_names(train) + cls.optional_data_names(train)
            for k in dataset.names():
                if k not in task_keys:
                    raise RuntimeError(
                        f'The data-name must be one of {task_keys} for {cls.__name__}: "{k}" is not allowed.\n{mes}'
                    )

    # ------------------------------------------------------------------ argument parser
    @classmethod
    def get_parser(cls) -> config_argparse.ArgumentParser:
        class ArgumentDefaultsRawTextHelpFormatter(
            argparse.RawTextHelpFormatter, argparse.ArgumentDefaultsHelpFormatter
        ):
            pass

        parser = config_argparse.ArgumentParser(
            description="base parser", formatter_class=ArgumentDefaultsRawTextHelpFormatter
        )
        parser.set_defaults(required=["output_dir"])

        add_common_arguments(parser)
        add_distributed_arguments(parser)
        add_cudnn_arguments(parser)
        add_collect_stats_arguments(parser)
        add_trainer_arguments(parser)
        add_pretraining_arguments(parser)
        add_batch_sampler_arguments(parser)
        add_sequence_iterator_arguments(parser)
        add_chunk_iterator_arguments(parser)
        add_dataset_arguments(parser)
        add_optimizer_arguments(parser)
        add_unsupported_arguments(parser, cls.unsupported_options)
        cls.add_task_arguments(parser)
        return parser

    # ------------------------------------------------------------------ config
    @classmethod
    def resolved_config(cls, args: argparse.Namespace) -> Dict[str, Any]:
        """`vars(args)` with the default keyword arguments of every chosen class filled into `<name>_conf`."""
        config = copy.deepcopy(vars(args))
        for k in ("print_config", "config", "required", "distributed"):  # not options (distributed is derived)
            config.pop(k, None)

        def filled(klass, conf):
            out = get_default_kwargs(klass)
            out.update(conf or {})
            return out

        config["optim_conf"] = filled(optim_classes[args.optim], args.optim_conf)
        if args.scheduler is not None:
            config["scheduler_conf"] = filled(scheduler_classes[args.scheduler], args.scheduler_conf)
        for class_choices in cls.class_choices_list:
            name = getattr(args, class_choices.name, None)
            if name is not None and class_choices.name not in cls.conf_not_filled:
                config[f"{class_choices.name}_conf"] = filled(
                    class_choices.get_class(name), getattr(args, f"{class_choices.name}_conf")
                )
        return to_plain(config)

    @classmethod
    def print_config(cls, file=None, args: Optional[argparse.Namespace] = None) -> None:
        """Print the resolved config as YAML (what config.yaml of a run with these options would hold).

        ESPnet's signature: `print_config(file=sys.stdout)` resolves the options of this process's command
        line (`sys.argv`, unknown ones ignored); `args` gives already parsed options instead.
        """
        file = sys.stdout if file is None else file
        if args is None:
            args, _ = cls.get_parser().parse_known_args()
        file.write(yaml_no_alias_safe_dump(cls.resolved_config(args), indent=4, sort_keys=False))

    @classmethod
    def check_required_command_args(cls, args: argparse.Namespace) -> None:
        """ESPnet's check: a missing required option prints the usage and exits with status 2, as argparse does."""
        missing = [f"--{name}" for name in getattr(args, "required", []) if getattr(args, name, None) is None]
        if missing:
            parser = cls.get_parser()
            parser.print_usage(sys.stderr)
            parser.exit(2, f"{parser.prog}: error: the following arguments are required: {', '.join(missing)}\n")

    @classmethod
    def check_args(cls, args: argparse.Namespace):
        """Refuse option values this toolkit does not implement, and missing required options."""
        for name, default in cls.unsupported_options.items():
            if getattr(args, name) != default:
                raise ValueError(
                    f"--{name} {getattr(args, name)!r}: not supported by this toolkit (only the default {default!r}); "
                    "remove it from the config/command line"
                )
        if args.accum_grad < 1:
            raise ValueError(f"--accum_grad must be >= 1, got {args.accum_grad}")
        args.best_model_criterion = [tuple(c) for c in args.best_model_criterion]
        for c in args.best_model_criterion:
            if len(c) != 3 or c[2] not in ("min", "max"):
                raise ValueError(f"--best_model_criterion: expected [phase, key, min|max], got {list(c)}")

    # ------------------------------------------------------------------ building
    @classmethod
    def build_optimizers(cls, args: argparse.Namespace, model: torch.nn.Module) -> List[torch.optim.Optimizer]:
        optim_class = optim_classes.get(args.optim)
        if optim_class is None:
            raise ValueError(f"--optim: must be one of {list(optim_classes)}: {args.optim}")
        try:
            optim = optim_class(filter(lambda p: p.requires_grad, model.parameters()), **args.optim_conf)
        except TypeError as e:
            raise ValueError(f"--optim_conf: {e} (options of {optim_class.__name__})") from None
        return [optim]

    @classmethod
    def build_schedulers(
        cls, args: argparse.Namespace, optimizers: List[torch.optim.Optimizer]
    ) -> List[Optional[AbsScheduler]]:
        if args.scheduler is None:
            return [None]
        scheduler_class = scheduler_classes.get(args.scheduler)
        if scheduler_class is None:
            raise ValueError(f"--scheduler: must be one of {list(scheduler_classes)}: {args.scheduler}")
        try:
            return [scheduler_class(optimizers[0], **args.scheduler_conf)]
        except TypeError as e:
            raise ValueError(f"--scheduler_conf: {e} (options of {scheduler_class.__name__})") from None

    @classmethod
    def build_dataset(
        cls, args: argparse.Namespace, data_path_and_name_and_type, train: bool, preprocess_fn
    ) -> ESPnetDataset:
        if len(data_path_and_name_and_type) == 0:
            phase = "train" if train else "valid"
            raise ValueError(
                f"no --{phase}_data_path_and_name_and_type given (e.g. data/{phase}/wav.scp,speech_mix,sound)"
            )
        dataset = ESPnetDataset(
            [tuple(x) for x in data_path_and_name_and_type],
            float_dtype=args.train_dtype,
            preprocess=preprocess_fn,
            **cls.dataset_kwargs(args),
        )
        cls.check_task_requirements(dataset, args, train)
        return dataset

    @classmethod
    def build_iter_factory(
        cls, args: argparse.Namespace, distributed_option: DistributedOption, mode: str
    ) -> AbsIterFactory:
        """The train or valid iterator factory: dataset, batch sampler, DDP sharding, iterator type."""
        train = mode == "train"
        if train:
            data = args.train_data_path_and_name_and_type
            shape_files = args.train_shape_file
            batch_size = args.batch_size
            batch_bins = args.batch_bins
            batch_type = args.batch_type
            iterator_type = args.iterator_type
            num_iters_per_epoch = args.num_iters_per_epoch
        else:
            data = args.valid_data_path_and_name_and_type
            shape_files = args.valid_shape_file
            batch_size = args.valid_batch_size if args.valid_batch_size is not None else args.batch_size
            batch_bins = args.valid_batch_bins if args.valid_batch_bins is not None else args.batch_bins
            batch_type = args.valid_batch_type if args.valid_batch_type is not None else args.batch_type
            iterator_type = args.valid_iterator_type if args.valid_iterator_type is not None else args.iterator_type
            num_iters_per_epoch = None
        dataset = cls.build_dataset(args, data, train, cls.build_preprocess_fn(args, train=train))
        if len(shape_files) == 0:
            raise ValueError(f"no --{mode}_shape_file given: run with --collect_stats true first (enh.sh stage 5)")
        for f in shape_files:
            if not Path(f).exists():
                raise FileNotFoundError(f"--{mode}_shape_file {f}: no such file (run --collect_stats true first)")

        if iterator_type == "chunk":
            batches = list(UnsortedBatchSampler(batch_size=1, key_file=shape_files[0]))
            batches = shard_batches(batches, distributed_option, per_utterance=True)
            return ChunkIterFactory(
                dataset=dataset,
                batches=batches,
                seed=args.seed,
                batch_size=shard_batch_size(batch_size, distributed_option),
                num_iters_per_epoch=num_iters_per_epoch,
                shuffle=train,
                chunk_length=args.chunk_length,
                chunk_shift_ratio=args.chunk_shift_ratio,
                num_cache_chunks=args.num_cache_chunks,
                num_workers=args.num_workers,
                collate_fn=cls.build_collate_fn(args, train=train),
                pin_memory=args.ngpu > 0,
                excluded_key_prefixes=args.chunk_excluded_key_prefixes,
            )

        fold_lengths = list(args.fold_length)
        if batch_type == "folded" and len(fold_lengths) != len(shape_files):
            if len(fold_lengths) == 1:
                fold_lengths = fold_lengths * len(shape_files)
            elif len(fold_lengths) == 0:
                raise ValueError("--batch_type folded needs --fold_length (one per shape file, e.g. 80000)")
        sampler = build_batch_sampler(
            type=batch_type,
            shape_files=shape_files,
            fold_lengths=fold_lengths,
            batch_size=batch_size,
            batch_bins=batch_bins,
            sort_in_batch=args.sort_in_batch,
            sort_batch=args.sort_batch,
            drop_last=False,
            min_batch_size=distributed_option.dist_world_size if distributed_option.distributed else 1,
        )
        batches = list(sampler)
        known = set(dataset.keys)
        missing = [k for b in batches for k in b if k not in known]
        if missing:
            raise ValueError(
                f"{shape_files[0]}: utterance '{missing[0]}' is not in {data[0][0]}; "
                "re-run --collect_stats on this data"
            )
        batches = shard_batches(batches, distributed_option)
        logging.info(f"[{mode}] dataset:\n{dataset}")
        logging.info(f"[{mode}] Batch sampler: {sampler}")
        bs = [len(b) for b in batches]
        logging.info(
            f"[{mode}] mini-batch sizes summary: N-batch={len(bs)}, "
            f"mean={np.mean(bs):.1f}, min={np.min(bs)}, max={np.max(bs)}"
        )
        return SequenceIterFactory(
            dataset=dataset,
            batches=batches,
            seed=args.seed,
            num_iters_per_epoch=num_iters_per_epoch,
            shuffle=train,
            shuffle_within_batch=args.shuffle_within_batch,
            num_workers=args.num_workers,
            collate_fn=cls.build_collate_fn(args, train=train),
            pin_memory=args.ngpu > 0,
        )

    # ------------------------------------------------------------------ entry point
    @classmethod
    def main(cls, args: argparse.Namespace = None, cmd: Sequence[str] = None):
        """`python -m espnet2.bin.<task>_train ...`: print_config, collect_stats or training."""
        tune_allocator()
        if args is None:
            parser = cls.get_parser()
            args = parser.parse_args(cmd)
        if args.print_config:
            cls.check_args(args)
            cls.print_config(args=args)
            sys.exit(0)  # as ESPnet: --print_config prints and exits
        cls.check_required_command_args(args)
        cls.check_args(args)
        if not args.collect_stats:
            check_gpus(args.ngpu)
        resolve_distributed_mode(args)
        if args.multiprocessing_distributed and args.distributed:
            spawn_local_workers(cls, args)  # one process per GPU of this node (ESPnet's AbsTask.main)
        else:
            cls.main_worker(args)

    @classmethod
    def main_worker(cls, args: argparse.Namespace):
        tune_allocator()  # also in the workers spawn_local_workers starts
        distributed_option = DistributedOption(
            distributed=args.distributed,
            dist_backend=args.dist_backend,
            dist_init_method=args.dist_init_method,
            dist_world_size=args.dist_world_size,
            dist_rank=args.dist_rank,
            local_rank=args.local_rank,
            ngpu=1 if (args.ngpu > 0 and args.distributed) else args.ngpu,
            dist_master_addr=args.dist_master_addr,
            dist_master_port=args.dist_master_port,
            multiprocessing_distributed=args.multiprocessing_distributed,
        )
        distributed_option.init_options()
        output_dir = Path(args.output_dir) if args.output_dir is not None else None
        handlers = setup_logging(args.log_level, distributed_option, output_dir if not args.collect_stats else None)
        if distributed_option.is_main and output_dir is not None:
            output_dir.mkdir(parents=True, exist_ok=True)
        num_threads = torch.get_num_threads()
        distributed_option.init_torch_distributed()
        try:
            cls._main_worker(args, distributed_option, output_dir)
        except Exception as e:
            logging.error(f"{type(e).__name__}: {e}")  # into train.log too
            if "find_unused_parameters" in str(e):
                logging.error("Some parameters get no gradient in this configuration: add --unused_parameters true")
            raise
        finally:
            if distributed_option.distributed and torch.distributed.is_initialized():
                torch.distributed.destroy_process_group()
            torch.set_num_threads(num_threads)
            for h in handlers:
                logging.getLogger().removeHandler(h)
                h.close()

    @classmethod
    def _main_worker(cls, args, distributed_option: DistributedOption, output_dir: Optional[Path]):
        # processes on this machine: torchrun's LOCAL_WORLD_SIZE (also set for the processes spawned here),
        # else one (a node of --multiprocessing_distributed with --ngpu 0 or 1)
        local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", 1)) if distributed_option.distributed else 1
        torch.set_num_threads(cpu_threads(args.num_threads, args.ngpu, args.num_workers, local_processes))
        set_all_random_seed(args.seed)
        torch.backends.cudnn.enabled = args.cudnn_enabled
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
        torch.backends.cudnn.deterministic = args.cudnn_deterministic
        if args.detect_anomaly:
            logging.info("Invoking torch.autograd.set_detect_anomaly(True)")
            torch.autograd.set_detect_anomaly(True)
        if args.num_att_plot != 0:
            logging.info(f"--num_att_plot {args.num_att_plot}: {cls.__name__} models have no attention maps to plot")

        model = cls.build_model(args=args)
        if not isinstance(model, torch.nn.Module):
            raise RuntimeError(f"model must inherit {torch.nn.Module.__name__}, but got {type(model)}")
        model = model.to(dtype=getattr(torch, args.train_dtype), device="cuda" if args.ngpu > 0 else "cpu")
        for t in args.freeze_param:
            for k, p in model.named_parameters():
                if k.startswith(t + ".") or k == t:
                    logging.info(f"Setting {k}.requires_grad = False")
                    p.requires_grad = False
        optimizers = cls.build_optimizers(args, model=model)
        schedulers = cls.build_schedulers(args, optimizers)

        logging.info(
            f"pytorch.version={torch.__version__}, cuda.available={torch.cuda.is_available()}, "
            f"threads={torch.get_num_threads()}"
        )
        logging.info(model_summary(model))
        for i, o in enumerate(optimizers, 1):
            logging.info(f"Optimizer{i}:\n{o}")
        for i, s in enumerate(schedulers, 1):
            logging.info(f"Scheduler{i}: {s}")

        if distributed_option.is_main and output_dir is not None:
            with (output_dir / "config.yaml").open("w", encoding="utf-8") as f:
                logging.info(f"Saving the configuration in {output_dir / 'config.yaml'}")
                yaml_no_alias_safe_dump(cls.resolved_config(args), f, indent=4, sort_keys=False)

        if args.dry_run:
            return

        if args.collect_stats:
            # shapes of every input (and statistics of the model's features) -> output_dir/{train,valid}
            train_key = (
                args.train_shape_file[0] if args.train_shape_file else args.train_data_path_and_name_and_type[0][0]
            )
            valid_key = (
                args.valid_shape_file[0] if args.valid_shape_file else args.valid_data_path_and_name_and_type[0][0]
            )
            iters = []
            for data, key_file, train in [
                (args.train_data_path_and_name_and_type, train_key, True),
                (args.valid_data_path_and_name_and_type, valid_key, False),
            ]:
                dataset = cls.build_dataset(args, data, train, cls.build_preprocess_fn(args, train=False))
                batches = list(
                    UnsortedBatchSampler(batch_size=args.valid_batch_size or args.batch_size, key_file=key_file)
                )
                iters.append(
                    SequenceIterFactory(
                        dataset=dataset,
                        batches=batches,
                        num_workers=args.num_workers,
                        collate_fn=cls.build_collate_fn(args, train=False),
                    ).build_iter(0, shuffle=False)
                )
            if not getattr(model, "extract_feats_in_collect_stats", True):
                # ESPnet's rule: the model decides (model_conf: extract_feats_in_collect_stats, default false
                # for enhancement); the shape files are written either way
                logging.info("Skipping collect_feats in collect_stats stage (extract_feats_in_collect_stats: false)")
                model = None
            collect_stats(
                model=model,
                train_iter=iters[0],
                valid_iter=iters[1],
                output_dir=output_dir,
                ngpu=args.ngpu,
                log_interval=args.log_interval,
            )
            return

        for p in args.init_param:
            logging.info(f"Loading pretrained params from {p}")
            load_pretrained_model(
                model=model,
                init_param=p,
                ignore_init_mismatch=args.ignore_init_mismatch,
                map_location="cuda" if args.ngpu > 0 else "cpu",
            )

        train_iter_factory = cls.build_iter_factory(args, distributed_option, mode="train")
        valid_iter_factory = cls.build_iter_factory(args, distributed_option, mode="valid")
        trainer_options = cls.trainer.build_options(args)
        cls.trainer.run(
            model=model,
            optimizers=optimizers,
            schedulers=schedulers,
            train_iter_factory=train_iter_factory,
            valid_iter_factory=valid_iter_factory,
            trainer_options=trainer_options,
            distributed_option=distributed_option,
        )


# ------------------------------------------------------------------ the option groups of get_parser (ESPnet's order)
def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Common configuration")
    group.add_argument(
        "--print_config",
        action="store_true",
        help="Print the config (defaults, --config and command line resolved) and exit",
    )
    config_argparse.add_log_level_argument(group)
    group.add_argument("--dry_run", type=str2bool, default=False, help="Perform process without training")
    group.add_argument(
        "--iterator_type",
        type=str,
        choices=["sequence", "chunk"],
        default="sequence",
        help="sequence: one mini-batch per batch of the sampler; chunk: fixed-length chunks of utterances",
    )
    group.add_argument(
        "--valid_iterator_type",
        type=str,
        choices=["sequence", "chunk", None],
        default=None,
        help="Iterator for validation (default: --iterator_type)",
    )
    group.add_argument("--output_dir", type=str_or_none, default=None, help="The experiment directory")
    group.add_argument(
        "--ngpu", type=int, default=0, help="GPUs to use (0: CPU). Under torchrun: GPUs per process (0 or 1)"
    )
    group.add_argument("--seed", type=int, default=0, help="Random seed")
    group.add_argument("--num_workers", type=int, default=1, help="The number of workers used for DataLoader")
    group.add_argument(
        "--num_att_plot",
        type=int,
        default=3,
        help="The number of attention maps ESPnet plots per epoch; enhancement models have no "
        "attention maps to plot, so this option is accepted and logged only",
    )
    group.add_argument(
        "--num_threads",
        type=int_or_none,
        default=None,
        help="torch CPU threads per process "
        "(default on CPU: the cores left by the loader workers, shared by the processes)",
    )


def add_distributed_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("distributed training related")
    group.add_argument("--dist_backend", default="nccl", type=str, help="distributed backend (gloo is used on CPU)")
    group.add_argument(
        "--dist_init_method",
        type=str,
        default="env://",
        help='if init_method="env://", MASTER_ADDR and MASTER_PORT are read from the environment (torchrun sets them)',
    )
    group.add_argument(
        "--dist_world_size",
        default=None,
        type=int_or_none,
        help="number of processes for distributed training (of nodes with --multiprocessing_distributed)",
    )
    group.add_argument(
        "--dist_rank",
        type=int_or_none,
        default=None,
        help="rank of this process (of this node with --multiprocessing_distributed)",
    )
    group.add_argument("--local_rank", type=int_or_none, default=None, help="local rank (torchrun sets LOCAL_RANK)")
    group.add_argument(
        "--dist_master_addr", default=None, type=str_or_none, help="The master address for distributed training"
    )
    group.add_argument(
        "--dist_master_port", default=None, type=int_or_none, help="The master port for distributed training"
    )
    group.add_argument(
        "--multiprocessing_distributed",
        default=False,
        type=str2bool,
        help="ESPnet's launch: run once per node, which starts one process per GPU (--ngpu) itself; "
        "--dist_world_size then counts nodes and --dist_rank is the node's rank (--ngpu 0 or 1: one process per node)",
    )
    group.add_argument("--unused_parameters", type=str2bool, default=False, help="DDP find_unused_parameters")


def add_cudnn_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("cudnn mode related")
    group.add_argument("--cudnn_enabled", type=str2bool, default=torch.backends.cudnn.enabled, help="Enable CUDNN")
    group.add_argument(
        "--cudnn_benchmark", type=str2bool, default=torch.backends.cudnn.benchmark, help="Enable cudnn-benchmark mode"
    )
    group.add_argument("--cudnn_deterministic", type=str2bool, default=True, help="Enable cudnn-deterministic mode")


def add_collect_stats_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("collect stats mode related")
    group.add_argument(
        "--collect_stats",
        type=str2bool,
        default=False,
        help="Write the shape files (and feature statistics) to --output_dir/{train,valid}/ and exit",
    )


def add_trainer_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Trainer related")
    group.add_argument("--max_epoch", type=int, default=40, help="The maximum number epoch to train")
    group.add_argument(
        "--patience",
        type=int_or_none,
        default=None,
        help="Stop after this many epochs without improvement of --early_stopping_criterion",
    )
    group.add_argument(
        "--val_scheduler_criterion",
        type=str,
        nargs=2,
        default=("valid", "loss"),
        help="The criterion used for the value given to the lr scheduler",
    )
    group.add_argument(
        "--early_stopping_criterion",
        type=str,
        nargs=3,
        default=("valid", "loss", "min"),
        help="The criterion used for judging of early stopping",
    )
    group.add_argument(
        "--best_model_criterion",
        type=str2triple_str,
        nargs="+",
        default=[("train", "loss", "min"), ("valid", "loss", "min"), ("train", "acc", "max"), ("valid", "acc", "max")],
        help="The criteria used for selecting the best models: phase,key,mode (e.g. valid,loss,min)",
    )
    group.add_argument(
        "--keep_nbest_models",
        type=int,
        nargs="+",
        default=[10],
        help="Keep (and average) this many best models per criterion",
    )
    group.add_argument("--grad_clip", type=float, default=5.0, help="Gradient norm threshold to clip (0: no clipping)")
    group.add_argument(
        "--grad_clip_type", type=float, default=2.0, help="The type of the used p-norm for gradient clip. Can be inf"
    )
    group.add_argument("--accum_grad", type=int, default=1, help="The number of gradient accumulation")
    group.add_argument(
        "--no_forward_run",
        type=str2bool,
        default=False,
        help="Just only iterating data loading without model forwarding and training",
    )
    group.add_argument(
        "--resume", type=str2bool, default=False, help="Continue from --output_dir/checkpoint.pth if it exists"
    )
    group.add_argument(
        "--train_dtype", default="float32", choices=["float32", "float64"], help="Data type for training"
    )
    group.add_argument(
        "--use_amp",
        type=str2bool,
        default=False,
        help="Automatic mixed precision (bfloat16 on CPU, float16 with a grad scaler on CUDA)",
    )
    group.add_argument(
        "--amp_dtype",
        type=str_or_none,
        default=None,
        choices=["float16", "bfloat16", None],
        help="AMP dtype (default: float16 on CUDA, bfloat16 on CPU)",
    )
    group.add_argument(
        "--log_interval",
        type=int_or_none,
        default=None,
        help="Log every this many steps (default: ~20 times per epoch)",
    )
    group.add_argument("--use_matplotlib", type=str2bool, default=True, help="Write training curves to images/*.png")
    group.add_argument("--use_tensorboard", type=str2bool, default=True, help="Write tensorboard logs to tensorboard/")
    group.add_argument(
        "--detect_anomaly", type=str2bool, default=False, help="torch.autograd anomaly detection (slow; for debugging)"
    )
    group.add_argument(
        "--max_nonfinite_steps",
        type=int,
        default=100,
        help="Stop after this many steps in a row with a non-finite loss or gradient",
    )


def add_pretraining_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Pretraining model related")
    group.add_argument(
        "--init_param",
        type=str,
        default=[],
        nargs="*",
        help="Initialize from .pth files: <file>[:<src_key>[:<dst_key>[:<exclude_keys>]]], "
        "e.g. exp/a/valid.loss.ave.pth:separator:separator",
    )
    group.add_argument(
        "--ignore_init_mismatch",
        type=str2bool,
        default=False,
        help="Skip parameters with mismatched shapes in --init_param",
    )
    group.add_argument(
        "--freeze_param",
        type=str,
        default=[],
        nargs="*",
        help="Freeze parameters whose names start with these prefixes",
    )


def add_batch_sampler_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("BatchSampler related")
    group.add_argument(
        "--num_iters_per_epoch",
        type=int_or_none,
        default=None,
        help="Restrict the number of iterations for training per epoch",
    )
    group.add_argument(
        "--batch_size", type=int, default=20, help="The mini-batch size used for training (global, over all processes)"
    )
    group.add_argument(
        "--valid_batch_size", type=int_or_none, default=None, help="If not given, the value of --batch_size is used"
    )
    group.add_argument("--batch_bins", type=int, default=1000000, help="The number of batch bins (batch_type numel)")
    group.add_argument(
        "--valid_batch_bins", type=int_or_none, default=None, help="If not given, the value of --batch_bins is used"
    )
    group.add_argument(
        "--train_shape_file",
        type=str,
        action="append",
        default=[],
        help="Shape files from --collect_stats (or key lists in --collect_stats mode)",
    )
    group.add_argument("--valid_shape_file", type=str, action="append", default=[])


def add_sequence_iterator_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Sequence iterator related")
    group.add_argument(
        "--batch_type",
        type=str,
        default="folded",
        choices=list(BATCH_TYPES),
        help="\n".join(f"{k}: {v}" for k, v in BATCH_TYPES.items()),
    )
    group.add_argument(
        "--valid_batch_type",
        type=str_or_none,
        default=None,
        choices=list(BATCH_TYPES) + [None],
        help="If not given, the value of --batch_type is used",
    )
    group.add_argument(
        "--fold_length",
        type=int,
        action="append",
        default=[],
        help="fold_length for each shape file (batch_type folded)",
    )
    group.add_argument(
        "--sort_in_batch",
        type=str,
        default="descending",
        choices=["descending", "ascending"],
        help="Sort the samples in each mini-batch by length",
    )
    group.add_argument(
        "--shuffle_within_batch", type=str2bool, default=False, help="Shuffle the samples inside each mini-batch"
    )
    group.add_argument(
        "--sort_batch",
        type=str,
        default="descending",
        choices=["descending", "ascending"],
        help="Sort the mini-batches by length",
    )


def add_chunk_iterator_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Chunk iterator related")
    group.add_argument(
        "--chunk_length",
        type=str,
        default="500",
        help="Chunk length in samples: '32000', '16000,32000' or '16000-32000'",
    )
    group.add_argument(
        "--chunk_shift_ratio", type=float, default=0.5, help="Shift between chunks as a fraction of the chunk length"
    )
    group.add_argument(
        "--num_cache_chunks", type=int, default=1024, help="Chunks cached (and shuffled) before mini-batches are drawn"
    )
    group.add_argument(
        "--chunk_excluded_key_prefixes",
        type=str,
        nargs="+",
        default=[],
        help="Data names starting with these are not chunked",
    )


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Dataset related")
    group.add_argument(
        "--train_data_path_and_name_and_type",
        type=str2triple_str,
        action="append",
        default=[],
        help="e.g. --train_data_path_and_name_and_type data/tr/wav.scp,speech_mix,sound; types: "
        + ", ".join(DATA_TYPES),
    )
    group.add_argument("--valid_data_path_and_name_and_type", type=str2triple_str, action="append", default=[])
    group.add_argument(
        "--allow_variable_data_keys", type=str2bool, default=False, help="Allow data names the task does not know"
    )


def add_optimizer_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Optimizer related")
    group.add_argument(
        "--optim", type=lambda x: x.lower(), default="adam", choices=list(optim_classes), help="The optimizer type"
    )
    group.add_argument(
        "--optim_conf", action=NestedDictAction, default=dict(), help="The keyword arguments for the optimizer"
    )
    group.add_argument(
        "--scheduler",
        type=lambda x: str_or_none(x.lower()),
        default=None,
        choices=list(scheduler_classes) + [None],
        help="The lr scheduler type",
    )
    group.add_argument(
        "--scheduler_conf", action=NestedDictAction, default=dict(), help="The keyword arguments for the lr scheduler"
    )


def add_unsupported_arguments(parser: argparse.ArgumentParser, options: Dict[str, Any]) -> None:
    """ESPnet options this toolkit does not implement: accepted at their only value (`options`), hidden from --help."""
    group = parser.add_argument_group("ESPnet options not implemented here (accepted at their default only)")
    for name, default in options.items():
        group.add_argument(
            f"--{name}",
            type=str if isinstance(default, str) else yaml.safe_load,
            default=copy.deepcopy(default),
            help=argparse.SUPPRESS,
        )
