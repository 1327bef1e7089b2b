"""Tiny two-speaker data and a tiny training config, generated inside the tests (shared by the training tests)."""

from pathlib import Path
from typing import Dict, List

import numpy as np
import soundfile
import yaml

FS = 8000


def tiny_model_config(n_fft: int = 32, m_re: int = 2) -> Dict:
    """The model part of a config.yaml: the flagship TISDiSS structure, every option explicit, 8 channels wide.

    Args:
        n_fft: STFT size (hop n_fft / 2)
        m_re: refinement repeats (reconstructor_repeat_times)
    """
    return {
        "encoder": "stft",
        "encoder_conf": {"n_fft": n_fft, "hop_length": n_fft // 2},
        "decoder": "stft",
        "decoder_conf": {"n_fft": n_fft, "hop_length": n_fft // 2},
        "separator": "tisdiss",
        "separator_conf": {
            "num_spk": 2,
            "emb_dim": 8,
            "attention_dim": 8,
            "n_heads": 2,
            "num_groups": 2,
            "norm_type": "rmsgroupnorm",
            "tf_order": "ft",
            "ffn_type": ["swiglu_conv1d", "swiglu_conv1d"],
            "ffn_hidden_dim": [8, 8],
            "conv1d_kernel": 4,
            "conv1d_shift": 1,
            "dropout": 0.0,
            "eps": 1.0e-5,
            "encoder_n_layers": 1,
            "encoder_repeat_times": 2,
            "reconstructor_n_layers": 1,
            "reconstructor_repeat_times": m_re,
            "repeat_residual_module": True,
            "reconstructor_repeat_residual_module": False,
            "encoder_decoder": False,
            "encoder_multi_decoder": False,
            "encoder_n_layers_multi_decoder": False,
            "reconstructor_multi_decoder": True,
            "reconstructor_n_layers_multi_decoder": True,
            "spliter_loss": True,
        },
        "model_conf": {"normalize_variance": True},
        "criterions": [
            {
                "name": "si_snr",
                "conf": {"eps": 1.0e-7},
                "wrapper": "pit",
                "wrapper_conf": {"weight": 1.0, "independent_perm": True},
            }
        ],
    }


# A TISDiSS small enough to train a few steps on a shared CPU in well under a second each.
TINY_TRAIN_CONFIG = {
    **tiny_model_config(n_fft=32, m_re=2),
    "init": "xavier_uniform",
    "max_epoch": 5,
    "batch_type": "folded",
    "batch_size": 2,
    "valid_batch_size": 2,
    "num_workers": 0,
    "preprocessor": "enh",
    "speech_segment": 800,
    "iterator_type": "sequence",
    "shuffle_within_batch": True,
    "optim": "adamw",
    "optim_conf": {"lr": 0.01, "eps": 1.0e-8, "weight_decay": 0.0},
    "patience": 20,
    "val_scheduler_criterion": ["valid", "loss"],
    "best_model_criterion": [["valid", "loss", "min"], ["valid", "si_snr_loss", "min"]],
    "keep_nbest_models": 5,
    "scheduler": "warmupreducelronplateau",
    "scheduler_conf": {"warmup_steps": 2, "mode": "min", "factor": 0.5, "patience": 3},
    "use_amp": False,
    "num_att_plot": 0,
    "num_threads": 1,
    "use_tensorboard": False,
    "use_matplotlib": False,
}


def source(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """A sum of three random tones in [low, high] Hz with a random envelope: [n] float32."""
    t = np.arange(n) / FS
    x = sum(np.sin(2 * np.pi * rng.uniform(low, high) * t + rng.uniform(0, 2 * np.pi)) for _ in range(3))
    env = 0.5 + 0.5 * np.abs(np.sin(2 * np.pi * rng.uniform(1, 4) * t + rng.uniform(0, np.pi)))
    return (0.1 * x * env).astype(np.float32)


def make_data_dir(
    root: Path, name: str, n_utt: int, seed: int, lengths: List[int] = None, num_spk: int = 2
) -> Dict[str, Path]:
    """Write `root/name/{wav.scp, spk1.scp, .., utt2spk}` with wavs under `root/name/wav/`.

    Speaker 1 sings low tones, speaker 2 high tones, so that the tiny model can learn something
    in a few steps. Returns {"wav.scp": path, "spk1.scp": path, ...}.
    """
    rng = np.random.default_rng(seed)
    d = Path(root) / name
    (d / "wav").mkdir(parents=True, exist_ok=True)
    lines = {k: [] for k in ["wav.scp"] + [f"spk{j + 1}.scp" for j in range(num_spk)]}
    bands = [(100, 600), (1200, 3000), (700, 1100)]
    for i in range(n_utt):
        uid = f"utt{i:03d}"
        n = lengths[i] if lengths is not None else 2000
        refs = [source(rng, n, *bands[j % len(bands)]) for j in range(num_spk)]
        mix = np.sum(refs, 0)
        for key, wav in [("wav.scp", mix)] + [(f"spk{j + 1}.scp", r) for j, r in enumerate(refs)]:
            path = d / "wav" / f"{uid}_{key.split('.')[0]}.wav"
            soundfile.write(path, wav, FS, subtype="FLOAT")
            lines[key].append(f"{uid} {path}\n")
    out = {}
    for key, ls in lines.items():
        (d / key).write_text("".join(ls))
        out[key] = d / key
    (d / "utt2spk").write_text("".join(f"utt{i:03d} utt{i:03d}\n" for i in range(n_utt)))
    return out


def write_shape_files(stats_dir: Path, files: Dict[str, Path]) -> Dict[str, Path]:
    """Shape files (`<uid> <length>`) as --collect_stats would write them."""
    stats_dir = Path(stats_dir)
    stats_dir.mkdir(parents=True, exist_ok=True)
    names = {"wav.scp": "speech_mix"}
    out = {}
    for key, scp in files.items():
        name = names.get(key, "speech_ref" + key[3:-4])
        lines = []
        for line in Path(scp).read_text().splitlines():
            uid, path = line.split(maxsplit=1)
            lines.append(f"{uid} {soundfile.info(path).frames}\n")
        (stats_dir / f"{name}_shape").write_text("".join(sorted(lines)))
        out[name] = stats_dir / f"{name}_shape"
    return out


def train_args(tmp: Path, train: Dict[str, Path], valid: Dict[str, Path], train_shapes, valid_shapes) -> List[str]:
    """Command-line data options for enh_train (what enh.sh stage 6 passes)."""
    args = []
    for phase, files, shapes in [("train", train, train_shapes), ("valid", valid, valid_shapes)]:
        args += ["--" + phase + "_data_path_and_name_and_type", f"{files['wav.scp']},speech_mix,sound"]
        args += ["--" + phase + "_shape_file", str(shapes["speech_mix"])]
        for j in range(1, 10):
            if f"spk{j}.scp" in files:
                args += ["--" + phase + "_data_path_and_name_and_type", f"{files[f'spk{j}.scp']},speech_ref{j},sound"]
                args += ["--" + phase + "_shape_file", str(shapes[f"speech_ref{j}"])]
    args += ["--fold_length", "80000"]
    return args


def write_config(path: Path, overrides: dict = None) -> Path:
    config = dict(TINY_TRAIN_CONFIG)
    config.update(overrides or {})
    Path(path).write_text(yaml.safe_dump(config))
    return Path(path)
