"""TISDiSS toolkit: a trimmed ESPnet-Enh core for TISDiSS and TF-Locoformer."""

from setuptools import find_packages, setup

requirements = {
    "install": [
        # Any torch >= 2.1 works; on a CPU-only machine install the CPU wheel first
        # (tools/setup_venv.sh does), so that pip does not pull a CUDA build.
        "torch>=2.1",
        "numpy",
        "scipy",
        "PyYAML",
        "soundfile",
        "soxr",
        "ci-sdr",
        "tqdm",
    ],
    # pyroomacoustics: the rooms of WHAMR! (egs2/whamr, egs2/mini_whamr data preparation); pinned, as another
    # version simulates slightly different rooms
    "train": ["tensorboard", "matplotlib", "pyroomacoustics==0.10.1"],
    # fast_bss_eval imports packaging without declaring it (0.1.4)
    "eval": ["pystoi", "fast_bss_eval", "packaging"],
    "pesq": ["pesq"],  # PESQ in scoring (--use_pesq; compiles a C extension)
    # pyloudnorm: the Libri2Mix tests check LibriMix's loudness targets (the recipe itself does not need it)
    "dev": [
        "pytest",
        "ruff==0.17.6",
        "mir_eval",
        "pystoi",
        "fast_bss_eval",
        "packaging",
        "tensorboard",
        "matplotlib",
        "pyloudnorm",
        "pyroomacoustics==0.10.1",
    ],
}

setup(
    name="tisdiss",
    version="0.1.0",
    description="TISDiSS / TF-Locoformer speech separation on a trimmed ESPnet-Enh core",
    license="Apache-2.0",
    packages=find_packages(include=["espnet2*"]),
    package_data={"espnet2.enh.layers": ["*.c"]},  # the fused attention kernel, compiled on first use
    python_requires=">=3.9",
    install_requires=requirements["install"],
    extras_require={k: v for k, v in requirements.items() if k != "install"},
    entry_points={
        "console_scripts": [
            "tisdiss-separate=espnet2.bin.separate:main",
            "enh-benchmark=espnet2.bin.enh_benchmark:main",
        ]
    },
)
