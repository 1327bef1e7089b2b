"""`--init`: parameter initialization of a freshly built model (ESPnet semantics)."""

import math

import torch

INIT_CHOICES = ("chainer", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", None)


def initialize(model: torch.nn.Module, init: str):
    """Initialize the parameters of `model`.

    Parameters of 2+ dimensions get `init` ("xavier_uniform", "xavier_normal", "kaiming_uniform",
    "kaiming_normal"); 1-d parameters named `*.bias` are set to zero; Embedding, LayerNorm and
    GroupNorm get their default initialization back; then every module with
    `espnet_initialization_fn()` re-initializes itself (ESPnet semantics).
    "chainer" follows Chainer's defaults (LeCun-normal weights, zero biases).
    """
    if init is None:
        return
    if init == "chainer":
        for p in model.parameters():
            data = p.data
            if data.dim() == 1:
                data.zero_()
            elif data.dim() == 2:
                data.normal_(0, 1.0 / math.sqrt(data.size(1)))
            elif data.dim() in (3, 4, 5):
                n = data.size(1)
                for k in data.size()[2:]:
                    n *= k
                data.normal_(0, 1.0 / math.sqrt(n))
        for mod in model.modules():
            if isinstance(mod, torch.nn.Embedding):
                mod.weight.data.normal_(0, 1)
    else:
        if init not in INIT_CHOICES:
            raise ValueError(f"--init: unknown value {init!r}; choose one of {INIT_CHOICES}")
        fn = {
            "xavier_uniform": torch.nn.init.xavier_uniform_,
            "xavier_normal": torch.nn.init.xavier_normal_,
            "kaiming_uniform": lambda w: torch.nn.init.kaiming_uniform_(w, nonlinearity="relu"),
            "kaiming_normal": lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu"),
        }[init]
        for p in model.parameters():
            if p.dim() > 1:
                fn(p.data)
        # biases are zero (only parameters named "*.bias": norm gains, PReLU slopes, RoPE frequencies stay)
        for name, p in model.named_parameters():
            if ".bias" in name and p.dim() == 1:
                p.data.zero_()
        # normalization layers get their defaults back
        for m in model.modules():
            if isinstance(m, (torch.nn.Embedding, torch.nn.LayerNorm, torch.nn.GroupNorm)):
                m.reset_parameters()
    # modules that know better re-initialize themselves (e.g. norm gains, RoPE frequencies)
    for m in model.modules():
        if hasattr(m, "espnet_initialization_fn"):
            m.espnet_initialization_fn()
