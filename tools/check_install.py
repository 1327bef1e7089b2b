#!/usr/bin/env python3
"""Check the environment of the toolkit: what is installed, which version, what is optional.

    python tools/check_install.py

Exit status 0 when everything required is there (optional parts may be missing), 1 otherwise.
"""

import importlib
import platform
import shutil
import sys
from pathlib import Path

# (import name, pip name, what it is for)
REQUIRED = [
    ("torch", "torch", "the models"),
    ("numpy", "numpy", "arrays"),
    ("scipy", "scipy", "signal processing (P.56 levels, filters)"),
    ("yaml", "PyYAML", "configs"),
    ("soundfile", "soundfile", "reading and writing audio"),
    ("soxr", "soxr", "resampling"),
    ("ci_sdr", "ci-sdr", "the CI-SDR training loss"),
    ("tqdm", "tqdm", "progress bars"),
]
OPTIONAL = [
    ("pystoi", "pystoi", "STOI in scoring (stage 8)"),
    ("fast_bss_eval", "fast_bss_eval", "SDR/SIR/SAR in scoring (stage 8)"),
    ("pesq", "pesq", "PESQ in scoring, when installed"),
    ("tensorboard", "tensorboard", "training curves in exp/*/tensorboard"),
    ("matplotlib", "matplotlib", "training curve images and M_re sweep plots"),
    ("pyroomacoustics", "pyroomacoustics", "the rooms of WHAMR! (egs2/whamr, egs2/mini_whamr data preparation)"),
    ("mir_eval", "mir_eval", "reference BSS Eval in the tests"),
    ("pytest", "pytest", "the test suite"),
]
TOOLS = [
    ("sph2pipe", "WSJ0 SPHERE -> wav (tools/installers/install_sph2pipe.sh)"),
    ("ffmpeg", "WSJ0 SPHERE -> wav when sph2pipe is missing"),
    ("dpkg-deb", "only to remake the mini_2mix corpus from the Asterisk prompt packages (apt-get download)"),
    ("sbatch", "Slurm job submission (cmd_backend=slurm in cmd.sh)"),
]


def version_of(module) -> str:
    for attr in ("__version__", "version", "VERSION"):
        v = getattr(module, attr, None)
        if isinstance(v, str):
            return v
    try:
        from importlib.metadata import version

        return version(module.__name__)
    except Exception:
        return "installed"


def check_modules(entries, required: bool) -> int:
    missing = 0
    for name, pip_name, purpose in entries:
        try:
            mod = importlib.import_module(name)
            print(f"  [x] {pip_name:<14} {version_of(mod):<16} {purpose}")
        except Exception as e:  # ImportError, or a broken install
            missing += 1
            what = "MISSING" if required else "not installed"
            print(f"  [ ] {pip_name:<14} {what:<16} {purpose} (pip install {pip_name}; {type(e).__name__})")
    return missing


def main() -> int:
    print(f"python {platform.python_version()} ({sys.executable}) on {platform.platform()}")
    print("Required:")
    missing = check_modules(REQUIRED, required=True)
    print("Optional:")
    check_modules(OPTIONAL, required=False)
    try:
        import torch

        if torch.cuda.is_available():
            names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
            print(f"CUDA: available, torch built for CUDA {torch.version.cuda}: {names}")
        elif torch.version.cuda:
            print(f"CUDA: torch built for CUDA {torch.version.cuda}, but no GPU is visible (training runs on CPU)")
        else:
            print("CUDA: CPU-only torch build (optional: tools/setup_venv.sh --cuda cu126 for GPUs)")
    except ImportError:
        pass
    try:
        from importlib.metadata import version

        import espnet2  # noqa: F401

        print(f"toolkit: tisdiss {version('tisdiss')}")
    except Exception:
        missing += 1
        print("toolkit: NOT importable (pip install -e . in the repository, or tools/setup_venv.sh)")
    try:
        from espnet2.enh.layers import cpu_kernels

        if cpu_kernels.load_library() is not None:
            print(f"CPU kernels: built ({cpu_kernels.cache_dir()})")
        else:
            print("CPU kernels: not built, PyTorch's operations are used (slower training on CPU; needs gcc or $CC)")
    except ImportError:
        pass
    print("Command-line tools (optional):")
    here = Path(__file__).resolve().parent
    for tool, purpose in TOOLS:
        path = shutil.which(tool)
        local = here / tool / tool  # tools/sph2pipe/sph2pipe (recipes add it to PATH in path.sh)
        if path is None and local.is_file():
            path = str(local)
        print(f"  [{'x' if path else ' '}] {tool:<14} {path or 'not found':<16} {purpose}")
    if missing:
        print(f"{missing} required part(s) missing: see above.")
        return 1
    print("All required parts are installed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
