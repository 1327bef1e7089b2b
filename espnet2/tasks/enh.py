"""EnhancementTask: ESPnet-Enh registries (ClassChoices) and model building from a config."""

import argparse
from typing import Any, Dict

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
from espnet2.tasks.abs_task import AbsTask
from espnet2.train.class_choices import ClassChoices

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
    class_choices_list = [encoder_choices, separator_choices, decoder_choices]

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> ESPnetEnhancementModel:
        """Model from ESPnet-Enh config values (encoder, separator, decoder, criterions, model_conf, init)."""
        conf = vars(args)
        encoder = build_part(encoder_choices, "encoder_conf", conf.get("encoder", "stft"), conf.get("encoder_conf") or {})
        separator = build_part(
            separator_choices, "separator_conf", conf.get("separator", "tisdiss"), conf.get("separator_conf") or {},
            encoder.output_dim,
        )  # fmt: skip
        decoder = build_part(decoder_choices, "decoder_conf", conf.get("decoder", "stft"), conf.get("decoder_conf") or {})
        loss_wrappers = []
        for i, ctr in enumerate(conf.get("criterions") or []):
            if not isinstance(ctr, dict) or "name" not in ctr or "wrapper" not in ctr:
                raise ValueError(f"criterions[{i}]: expected {{name: ..., conf: {{...}}, wrapper: ..., wrapper_conf: {{...}}}}")
            criterion = build_part(criterion_choices, f"criterions[{i}].conf", ctr["name"], ctr.get("conf") or {})
            loss_wrappers.append(
                build_part(loss_wrapper_choices, f"criterions[{i}].wrapper_conf", ctr["wrapper"],
                           ctr.get("wrapper_conf") or {}, criterion=criterion)  # fmt: skip
            )
        model_conf = conf.get("model_conf") or {}
        try:
            model = ESPnetEnhancementModel(encoder, separator, decoder, loss_wrappers=loss_wrappers, **model_conf)
        except TypeError as e:
            raise ValueError(f"model_conf: {e}") from None
        if conf.get("init") is not None:
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
