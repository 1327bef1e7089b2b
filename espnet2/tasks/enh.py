"""EnhancementTask: ESPnet-Enh registries (ClassChoices) and model building from a config."""

import argparse
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import yaml

from espnet2.enh.decoder.abs_decoder import AbsDecoder
from espnet2.enh.decoder.stft_decoder import STFTDecoder
from espnet2.enh.encoder.abs_encoder import AbsEncoder
from espnet2.enh.encoder.stft_encoder import STFTEncoder
from espnet2.enh.espnet_model import ESPnetEnhancementModel
from espnet2.enh.loss.criterions.abs_loss import AbsEnhLoss
from espnet2.enh.loss.criterions.time_domain import CISDRLoss, SISNRLoss, SNRLoss, TimeDomainL1, TimeDomainMSE
from espnet2.enh.loss.wrappers.abs_wrapper import AbsLossWrapper
from espnet2.enh.loss.wrappers.fixed_order import FixedOrderSolver
from espnet2.enh.loss.wrappers.pit_solver import PITSolver
from espnet2.enh.separator.abs_separator import AbsSeparator
from espnet2.enh.separator.tflocoformer_separator import TFLocoformerSeparator
from espnet2.enh.separator.tisdiss_separator import TISDiSSSeparator
from espnet2.tasks.abs_task import UNSUPPORTED_OPTIONS, AbsTask
from espnet2.train.class_choices import ClassChoices
from espnet2.train.collate_fn import CommonCollateFn
from espnet2.train.dataset import AbsDataset
from espnet2.train.preprocessor import AbsPreprocessor, EnhPreprocessor
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import int_or_none, str2bool, str_or_none

MAX_REFERENCE_NUM = 100

encoder_choices = ClassChoices("encoder", classes=dict(stft=STFTEncoder), type_check=AbsEncoder, default="stft")
separator_choices = ClassChoices(
    "separator",
    classes=dict(tisdiss=TISDiSSSeparator, tflocoformer=TFLocoformerSeparator),
    type_check=AbsSeparator,
    default="tisdiss",
)
decoder_choices = ClassChoices("decoder", classes=dict(stft=STFTDecoder), type_check=AbsDecoder, default="stft")
criterion_choices = ClassChoices(
    "criterion",
    classes=dict(si_snr=SISNRLoss, snr=SNRLoss, ci_sdr=CISDRLoss, l1=TimeDomainL1, mse=TimeDomainMSE),
    type_check=AbsEnhLoss,
    default=None,
)
loss_wrapper_choices = ClassChoices(
    "loss_wrappers",
    classes=dict(pit=PITSolver, fixed_order=FixedOrderSolver),
    type_check=AbsLossWrapper,
    default=None,
)


preprocessor_choices = ClassChoices(
    "preprocessor",
    # `dynamic_mixing` is ESPnet's name for the same preprocessor with dynamic mixing on
    classes=dict(enh=EnhPreprocessor, dynamic_mixing=EnhPreprocessor),
    type_check=AbsPreprocessor,
    default=None,
)

# ESPnet-Enh task options for features this toolkit does not implement (noise/RIR simulation, categories,
# variable speaker numbers): accepted at their ESPnet default only.
ENH_UNSUPPORTED_OPTIONS = {
    "speech_volume_normalize": None,
    "rir_scp": None,
    "rir_apply_prob": 1.0,
    "noise_scp": None,
    "noise_apply_prob": 1.0,
    "noise_db_range": "13_15",
    "short_noise_thres": 0.5,
    "use_reverberant_ref": False,
    "num_noise_type": 1,
    "channel_reordering": False,
    "categories": [],
    "flexible_numspk": False,
}


def build_part(choices: ClassChoices, option: str, name: str, conf: Dict[str, Any], *args, **kwargs):
    """`choices.get_class(name)(*args, **conf)` with errors that name the config option."""
    if not isinstance(conf, dict):
        raise ValueError(f"{option}: expected a mapping of keyword arguments, got {conf!r}")
    cls = choices.get_class(name)
    try:
        return cls(*args, **kwargs, **conf)
    except TypeError as e:
        raise ValueError(f"{option}: {e} (check the option names for {choices.name}: {name})") from None


class EnhancementTask(AbsTask):
    class_choices_list = [encoder_choices, separator_choices, decoder_choices, preprocessor_choices]
    unsupported_options = {**UNSUPPORTED_OPTIONS, **ENH_UNSUPPORTED_OPTIONS}
    conf_not_filled = ("preprocessor",)  # speech_segment, dynamic_mixing ... are task options

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        group = parser.add_argument_group(description="Task related")
        group.add_argument(
            "--init",
            type=lambda x: str_or_none(x.lower()),
            default=None,
            choices=["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", None],
            help="The initialization method of the model parameters",
        )
        group.add_argument(
            "--model_conf", action=NestedDictAction, default=dict(), help="The keyword arguments for the model class"
        )
        group.add_argument(
            "--criterions",
            type=yaml.safe_load,
            default=[{"name": "si_snr", "conf": {}, "wrapper": "fixed_order", "wrapper_conf": {}}],
            help="The criterions: a YAML list of {name, conf, wrapper, wrapper_conf}",
        )

        group = parser.add_argument_group(description="Preprocess related")
        group.add_argument(
            "--num_spk", type=int_or_none, default=None, help="Number of references (default: separator_conf.num_spk)"
        )
        group.add_argument(
            "--sample_rate",
            type=int_or_none,
            default=None,
            help="Expected sample rate of all audio (default: whatever the first file has; all must agree)",
        )
        group.add_argument(
            "--force_single_channel",
            type=str2bool,
            default=False,
            help="Keep only the first channel of multi-channel audio",
        )
        group.add_argument(
            "--speech_segment",
            type=int_or_none,
            default=None,
            help="Training: crop a random segment of this many samples, "
            "at the same place in the mixture and every reference",
        )
        group.add_argument(
            "--avoid_allzero_segment", type=str2bool, default=True, help="Re-draw a crop in which a reference is silent"
        )
        group.add_argument(
            "--dynamic_mixing",
            type=str2bool,
            default=False,
            help="Training: re-mix references of different utterances on the fly",
        )
        group.add_argument(
            "--utt2spk",
            type=str_or_none,
            default=None,
            help="Dynamic mixing: <source id> <speaker> list, so that a mixture never has one speaker twice",
        )
        group.add_argument(
            "--dynamic_mixing_gain_db",
            type=float,
            default=0.0,
            help="Dynamic mixing: random gain per source, uniform in +-this many dB",
        )
        for class_choices in cls.class_choices_list:
            class_choices.add_arguments(group)

    @classmethod
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable:
        return CommonCollateFn(float_pad_value=0.0, int_pad_value=0)

    @classmethod
    def build_preprocess_fn(cls, args: argparse.Namespace, train: bool) -> Optional[Callable]:
        """`--preprocessor enh` (or ESPnet's `dynamic_mixing`) from the task options + `--preprocessor_conf`."""
        if args.preprocessor is None:
            for option in ("speech_segment", "dynamic_mixing", "force_single_channel"):
                if getattr(args, option):
                    raise ValueError(f"--{option} needs a preprocessor: add `preprocessor: enh` to the config")
            return None
        conf = dict(args.preprocessor_conf or {})
        data = args.train_data_path_and_name_and_type
        ref_lists = [path for path, name, _ in data if name.startswith("speech_ref")]
        num_spk = args.num_spk or (args.separator_conf or {}).get("num_spk") or max(len(ref_lists), 1)
        kwargs = dict(
            train=train,
            num_spk=num_spk,
            speech_segment=args.speech_segment,
            avoid_allzero_segment=args.avoid_allzero_segment,
            force_single_channel=args.force_single_channel,
            dynamic_mixing=args.dynamic_mixing or args.preprocessor == "dynamic_mixing",
            dynamic_mixing_gain_db=args.dynamic_mixing_gain_db,
            utt2spk=args.utt2spk,
            seed=args.seed,
        )
        if args.preprocessor == "dynamic_mixing":
            # ESPnet's DynamicMixingPreprocessor options
            if "source_scp_name" in conf:
                kwargs["source_scps"] = [str(Path(data[0][0]).parent / conf.pop("source_scp_name"))]
            if "ref_num" in conf:
                kwargs["num_spk"] = conf.pop("ref_num")
        kwargs.update(conf)
        if kwargs["dynamic_mixing"] and train and not kwargs.get("source_scps"):
            kwargs["source_scps"] = ref_lists
        try:
            return EnhPreprocessor(**kwargs)
        except TypeError as e:
            raise ValueError(f"--preprocessor_conf: {e}") from None

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return ("speech_ref1",) if not inference else ("speech_mix",)

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return ("speech_mix",) + tuple(f"speech_ref{n}" for n in range(2, MAX_REFERENCE_NUM + 1))

    @classmethod
    def dataset_kwargs(cls, args: argparse.Namespace) -> Dict[str, Any]:
        # the references must be as long as the mixture; one sample rate throughout
        return dict(require_same_length=True, sample_rate=args.sample_rate)

    @classmethod
    def check_task_requirements(cls, dataset: AbsDataset, args: argparse.Namespace, train: bool) -> None:
        super().check_task_requirements(dataset, args, train)
        dm = (
            args.dynamic_mixing
            or args.preprocessor == "dynamic_mixing"
            or (args.preprocessor_conf or {}).get("dynamic_mixing")
        )
        if not dataset.has_name("speech_mix") and not (train and dm):
            raise RuntimeError(
                f"no speech_mix data: give --{'train' if train else 'valid'}_data_path_and_name_and_type "
                "<dir>/wav.scp,speech_mix,sound "
                "(only dynamic mixing builds the mixture itself)"
            )

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> ESPnetEnhancementModel:
        """Model from ESPnet-Enh config values (encoder, separator, decoder, criterions, model_conf, init)."""
        conf = vars(args)
        encoder = build_part(
            encoder_choices, "encoder_conf", conf.get("encoder", "stft"), conf.get("encoder_conf") or {}
        )
        separator = build_part(
            separator_choices, "separator_conf", conf.get("separator", "tisdiss"), conf.get("separator_conf") or {},
            encoder.output_dim,
        )  # fmt: skip
        decoder = build_part(
            decoder_choices, "decoder_conf", conf.get("decoder", "stft"), conf.get("decoder_conf") or {}
        )
        loss_wrappers = []
        for i, ctr in enumerate(conf.get("criterions") or []):
            if not isinstance(ctr, dict) or "name" not in ctr or "wrapper" not in ctr:
                raise ValueError(
                    f"criterions[{i}]: expected {{name: ..., conf: {{...}}, wrapper: ..., wrapper_conf: {{...}}}}"
                )
            criterion = build_part(criterion_choices, f"criterions[{i}].conf", ctr["name"], ctr.get("conf") or {})
            loss_wrappers.append(
                build_part(
                    loss_wrapper_choices,
                    f"criterions[{i}].wrapper_conf",
                    ctr["wrapper"],
                    ctr.get("wrapper_conf") or {},
                    criterion=criterion,
                )  # fmt: skip
            )
        model_conf = conf.get("model_conf") or {}
        try:
            model = ESPnetEnhancementModel(encoder, separator, decoder, loss_wrappers=loss_wrappers, **model_conf)
        except TypeError as e:
            raise ValueError(f"model_conf: {e}") from None
        if str_or_none(str(conf.get("init"))) is not None:  # init: none / null keeps the module defaults
            initialize(model, conf["init"])
        return model


def initialize(model, init: str):
    """ESPnet's `--init`: xavier/kaiming initialization of weight matrices (>= 2 dims), zero biases.

    Norm gains, PReLU slopes and RoPE frequencies keep their module defaults.
    """
    import torch

    fns = {
        "xavier_uniform": torch.nn.init.xavier_uniform_,
        "xavier_normal": torch.nn.init.xavier_normal_,
        "kaiming_uniform": lambda w: torch.nn.init.kaiming_uniform_(w, nonlinearity="relu"),
        "kaiming_normal": lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu"),
    }
    if init not in fns:
        raise ValueError(f"init: {init!r} is not supported; use one of {', '.join(fns)} or null")
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.dim() > 1:
            fns[init](p.data)
        elif name.endswith(".bias"):
            p.data.zero_()
