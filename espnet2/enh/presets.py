"""Named model configurations (config.yaml contents as dicts): the flagship TISDiSS, the mini recipe's tiny
TISDiSS and TF-Locoformer-M, with every separator option spelled out (an omitted option would take the
published code's default, which is not the flagship's).

    from espnet2.enh.presets import build_model, preset_config

    model = build_model(preset_config("flagship"))      # 8,011,827 parameters, random weights
"""

import argparse

import torch

from espnet2.tasks.enh import EnhancementTask

STFT_8K = dict(n_fft=128, hop_length=64)
PIT_SI_SNR = [
    dict(name="si_snr", conf=dict(eps=1.0e-7), wrapper="pit", wrapper_conf=dict(weight=1.0, independent_perm=True))
]
TF_LOCOFORMER_BLOCK = dict(
    emb_dim=128, attention_dim=128, n_heads=4, num_groups=4, norm_type="rmsgroupnorm", tf_order="ft",
    ffn_type=["swiglu_conv1d", "swiglu_conv1d"], ffn_hidden_dim=[384, 384], conv1d_kernel=4, conv1d_shift=1,
    dropout=0.0, eps=1.0e-5,
)  # fmt: skip
FLAGSHIP_SEPARATOR = dict(
    num_spk=2, **TF_LOCOFORMER_BLOCK, encoder_n_layers=1, encoder_repeat_times=2, reconstructor_n_layers=1,
    reconstructor_repeat_times=6, repeat_residual_module=True, reconstructor_repeat_residual_module=False,
    encoder_decoder=False, encoder_multi_decoder=False, encoder_n_layers_multi_decoder=False,
    reconstructor_multi_decoder=True, reconstructor_n_layers_multi_decoder=True, spliter_loss=True,
)  # fmt: skip
PRESETS = {
    "flagship": dict(separator="tisdiss", separator_conf=FLAGSHIP_SEPARATOR),
    # the tiny config of the mini recipe: flagship values, narrower and with 3 refinement repeats
    "tiny": dict(
        separator="tisdiss",
        separator_conf={
            **FLAGSHIP_SEPARATOR,
            "emb_dim": 16,
            "attention_dim": 16,
            "n_heads": 2,
            "ffn_hidden_dim": [32, 32],
            "reconstructor_repeat_times": 3,
        },
    ),  # fmt: skip
    "tflocoformer_m": dict(separator="tflocoformer", separator_conf=dict(num_spk=2, n_layers=6, **TF_LOCOFORMER_BLOCK)),
}


def preset_config(name: str) -> dict:
    """The whole model config of preset ``name`` (STFT 128/64 at 8 kHz, PIT SI-SNR, variance normalization)."""
    return dict(encoder="stft", encoder_conf=STFT_8K, decoder="stft", decoder_conf=STFT_8K,
                criterions=PIT_SI_SNR, model_conf=dict(normalize_variance=True), **PRESETS[name])  # fmt: skip


def build_model(config: dict, device: str = "cpu") -> torch.nn.Module:
    """An ESPnetEnhancementModel with random weights from a config dict."""
    return EnhancementTask.build_model(argparse.Namespace(**config)).to(device)
