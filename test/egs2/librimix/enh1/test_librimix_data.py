"""Libri2Mix preparation (local/data.sh) on fake LibriSpeech and WHAM! noise trees made here.

The trees mimic the corpora: LibriSpeech ``<subset>/<speaker>/<chapter>/<spk>-<chapter>-<utt>.flac`` (16 kHz
mono), WHAM! noise ``{tr,cv,tt}/<name>.wav`` (16 kHz, two channels). The metadata files have LibriMix's
header and a few lines over those files; one noise is shorter than its sources (LibriMix loops it) and
one train-360 line names a speed-perturbed noise (``tr/<name>sp08.wav``, which LibriMix makes beforehand).
"""

import io
import os
import shutil
import sys
from pathlib import Path

import librimix  # egs2/TEMPLATE/enh1/pyscripts/utils (test/egs2/conftest.py)
import numpy as np
import pytest
import soundfile as sf
import soxr
from scipy.signal import resample_poly

from test.egs2.recipe_helpers import REPO, run

RECIPE = REPO / "egs2" / "librimix" / "enh1"
RATE = 16000
HEADER = "mixture_ID,source_1_path,source_1_gain,source_2_path,source_2_gain,noise_path,noise_gain"
# utterance -> length in samples at 16 kHz (odd lengths: 8 kHz resampling rounds up)
UTTS = {
    "train-clean-100/401/11/401-11-0001.flac": 14001,
    "train-clean-100/402/12/402-12-0002.flac": 12003,
    "train-clean-360/101/21/101-21-0001.flac": 13005,
    "train-clean-360/102/22/102-22-0002.flac": 17007,
    "train-clean-360/103/23/103-23-0003.flac": 11009,
    "dev-clean/201/31/201-31-0001.flac": 16011,
    "dev-clean/202/32/202-32-0002.flac": 12013,
    "test-clean/301/41/301-41-0001.flac": 15015,
    "test-clean/302/42/302-42-0002.flac": 13017,
}
NOISES = {"tr/n100_0.5_n101_-0.5.wav": 20000, "tr/n102_1.2_n103_-1.2.wav": 12000, "cv/c200_0.7_c201_-0.7.wav": 9000,
          "tt/t300_0.1_t301_-0.1.wav": 30000}  # fmt: skip
METADATA = {  # file -> lines (gains written as LibriMix writes them)
    "libri2mix_train-clean-100.csv": [
        "401-11-0001_402-12-0002,train-clean-100/401/11/401-11-0001.flac,0.4377082537050251,"
        "train-clean-100/402/12/402-12-0002.flac,0.4138291463149621,tr/n100_0.5_n101_-0.5.wav,0.2912572627192476",
    ],
    "libri2mix_train-clean-360.csv": [
        "101-21-0001_102-22-0002,train-clean-360/101/21/101-21-0001.flac,1.2286614252789404,"
        "train-clean-360/102/22/102-22-0002.flac,0.6624953014229207,tr/n102_1.2_n103_-1.2.wav,0.5073694010158424",
        "103-23-0003_101-21-0001,train-clean-360/103/23/103-23-0003.flac,0.8725878276419455,"
        "train-clean-360/101/21/101-21-0001.flac,0.3142791008161834,tr/n100_0.5_n101_-0.5sp08.wav,1.1114428047969456",
    ],
    "libri2mix_dev-clean.csv": [
        "201-31-0001_202-32-0002,dev-clean/201/31/201-31-0001.flac,0.7925878276419455,"
        "dev-clean/202/32/202-32-0002.flac,1.7873396761715588,cv/c200_0.7_c201_-0.7.wav,2.243863366505918",
    ],
    "libri2mix_test-clean.csv": [
        "301-41-0001_302-42-0002,test-clean/301/41/301-41-0001.flac,0.6015250670106238,"
        "test-clean/302/42/302-42-0002.flac,0.3442805985487599,tt/t300_0.1_t301_-0.1.wav,1.4409061659915268",
        "302-42-0002_301-41-0001,test-clean/302/42/302-42-0002.flac,1.4352834120507272,"
        "test-clean/301/41/301-41-0001.flac,0.7875413348848695,tt/t300_0.1_t301_-0.1.wav,0.1799049986287446",
    ],
}
SUBSET_CSV = {"train-100": "libri2mix_train-clean-100.csv", "train-360": "libri2mix_train-clean-360.csv",
              "dev": "libri2mix_dev-clean.csv", "test": "libri2mix_test-clean.csv"}  # fmt: skip


def noise_like(n: int, seed: int, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = 0.1 * rng.standard_normal((n, channels)) * np.sin(np.linspace(0, 9, n))[:, None]
    return x[:, 0] if channels == 1 else x


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """(root with LibriSpeech/, wham_noise/, metadata/)."""
    root = tmp_path_factory.mktemp("corpora")
    for i, (rel, n) in enumerate(sorted(UTTS.items())):
        path = root / "LibriSpeech" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, noise_like(n, i), RATE, subtype="PCM_16")
    for i, (rel, n) in enumerate(sorted(NOISES.items())):
        path = root / "wham_noise" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, noise_like(n, 100 + i, channels=2), RATE, subtype="PCM_16")
    (root / "metadata").mkdir()
    for name, lines in METADATA.items():
        (root / "metadata" / name).write_text("\n".join([HEADER, *lines]) + "\n")
    return root


def scratch_recipe(path: Path, db: str) -> Path:
    path.mkdir(parents=True)
    for name in ("local", "utils", "pyscripts", "path.sh"):
        src = RECIPE / name
        (path / name).symlink_to(src.resolve() if src.is_symlink() else src)
    (path / "db.sh").write_text(db)
    return path


def prepare(path: Path, corpora: Path, *opts, check=True):
    rec = scratch_recipe(
        path, f"LIBRISPEECH={corpora / 'LibriSpeech'}\nWHAM_NOISE={corpora / 'wham_noise'}\nLIBRIMIX=\n"
    )
    p = run(["local/data.sh", "--metadata_dir", str(corpora / "metadata"), "--nj", "1", "--speed_tool", "soxr", *opts],
            rec, check=check)  # fmt: skip
    return rec, p


CASES = {  # (sample_rate, mode, mix, train_subset): both rates, both modes, both mixture types
    "8k-min-both": ("8k", "min", "both", "train"),
    "16k-max-both": ("16k", "max", "both", "train-360"),
    "8k-max-clean": ("8k", "max", "clean", "train-360"),
    "16k-min-clean": ("16k", "min", "clean", "train-100"),
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, corpora):
    done = {}

    def get(case):
        if case not in done:
            sample_rate, mode, mix, train = CASES[case]
            opts = ["--sample_rate", sample_rate, "--min_or_max", mode, "--mix", mix, "--train_subset", train]
            done[case] = prepare(tmp_path_factory.mktemp(case) / "enh1", corpora, *opts)[0]
        return done[case]

    return get


def read_scp(path: Path) -> dict:
    return dict(line.split() for line in path.read_text().splitlines())


def as_int16(x: np.ndarray, fs: int) -> np.ndarray:
    """What a 16-bit wav of ``x`` holds (written by soundfile, as LibriMix writes)."""
    buf = io.BytesIO()
    sf.write(buf, x, fs, format="WAV", subtype="PCM_16")
    buf.seek(0)
    return sf.read(buf, dtype="int16")[0]


def published_recipe(line: str, corpora: Path, speed_dir: Path, fs: int, mode: str) -> dict:
    """One mixture as LibriMix's create_librimix_from_metadata.py makes it, written out plainly."""
    mixture_id, p1, g1, p2, g2, noise_path, noise_gain = line.split(",")
    s1 = sf.read(corpora / "LibriSpeech" / p1, dtype="float32")[0]
    s2 = sf.read(corpora / "LibriSpeech" / p2, dtype="float32")[0]
    longest = max(len(s1), len(s2))
    # the noise: first channel, at most as long as the longest source; looped with a 1-s Hann cross-fade
    noise_file = corpora / "wham_noise" / noise_path
    if not noise_file.exists():
        noise_file = speed_dir / noise_path  # speed-perturbed (made in stage 2)
    if not noise_file.exists():  # clean mixtures: only the noise's length (the longest source's) counts
        noise_file = corpora / "wham_noise" / noise_path.replace("sp08", "")
    noise = sf.read(noise_file, dtype="float32", stop=longest, always_2d=True)[0][:, 0]
    original = noise
    hann = np.hanning(16001)
    while len(noise) < longest:
        joint = noise[-8001:] * hann[8000::-1] + original[:8001] * hann[:8001]
        noise = np.concatenate([noise[:-8001], joint, original[8001:]])
    noise = noise[:longest]
    # gains (linear, from the CSV), then the rate, then the length
    signals = [s1 * float(g1), s2 * float(g2), noise * float(noise_gain)]
    signals = [resample_poly(x, fs, 16000) for x in signals]
    n = min(map(len, signals)) if mode == "min" else max(map(len, signals))
    signals = [x[:n] if mode == "min" else np.pad(x, (0, n - len(x))) for x in signals]
    mix_clean = np.zeros_like(signals[0])
    mix_clean += signals[0]
    mix_clean += signals[1]
    mix_both = mix_clean.copy()
    mix_both += signals[2]
    return {"s1": signals[0], "s2": signals[1], "noise": signals[2], "mix_clean": mix_clean, "mix_both": mix_both}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mixtures_are_the_published_recipe(prepared, corpora, case):
    sample_rate, mode, mix, train = CASES[case]
    rec = prepared(case)
    fs = {"8k": 8000, "16k": 16000}[sample_rate]
    subsets = {"train": ["train-100", "train-360"]}.get(train, [train])
    suffix = f"{mix}_{mode}_{sample_rate}"
    for name, parts in ((train, subsets), ("dev", ["dev"]), ("test", ["test"])):
        d = rec / "data" / f"{name}_{suffix}"
        lines = [ln for part in parts for ln in METADATA[SUBSET_CSV[part]]]
        ids = sorted(ln.split(",")[0] for ln in lines)
        # the data directory: sorted mixture ids, the mixture of its kind, the references, the speakers
        wav, s1, s2 = (read_scp(d / f) for f in ("wav.scp", "spk1.scp", "spk2.scp"))
        assert list(wav) == list(s1) == list(s2) == ids
        assert (d / "noise1.scp").exists() == (mix == "both")
        assert all(f"/wav{sample_rate}/{mode}/" in p and f"/mix_{mix}/" in p for p in wav.values())
        utt2spk = read_scp(d / "utt2spk")
        assert utt2spk == {i: "_".join(u.split("-")[0] for u in i.split("_")) for i in ids}
        run(["utils/validate_data_dir.sh", "--num_spk", "2", str(d)], rec)
        for line in lines:
            uid = line.split(",")[0]
            want = published_recipe(line, corpora, rec / "data/local/wham_noise_speed", fs, mode)
            got = {"s1": s1[uid], "s2": s2[uid], f"mix_{mix}": wav[uid]}
            if mix == "both":
                got["noise"] = read_scp(d / "noise1.scp")[uid]
            for key, path in got.items():
                x, fs_file = sf.read(path, dtype="int16")
                assert fs_file == fs
                np.testing.assert_array_equal(x, as_int16(want[key], fs), err_msg=f"{case} {uid} {key}")
            n1, n2 = (len(resample_poly(np.zeros(UTTS[p]), fs, 16000)) for p in line.split(",")[1:4:2])
            assert len(sf.read(wav[uid])[0]) == (min(n1, n2) if mode == "min" else max(n1, n2))


def test_noise_is_looped_cut_and_scaled(prepared, corpora):
    # dev's noise (9000 samples) is shorter than its sources (16011): looped; test's is longer: cut.
    rec = prepared("16k-max-both")
    d = rec / "data" / "dev_both_max_16k"
    noise = sf.read(read_scp(d / "noise1.scp")["201-31-0001_202-32-0002"])[0]
    original = sf.read(corpora / "wham_noise/cv/c200_0.7_c201_-0.7.wav")[0][:, 0]
    assert len(noise) == 16011
    # until sample 9000 - 8001 the noise as it is; then its end fades out while its start comes in again
    np.testing.assert_allclose(noise[:999], original[:999] * 2.243863366505918, atol=2 / 32768)
    assert np.abs(noise[999:9000] - original[999:9000] * 2.243863366505918).max() > 0.01
    mix_both = sf.read(read_scp(d / "wav.scp")["201-31-0001_202-32-0002"])[0]
    s1, s2 = (sf.read(read_scp(d / f"spk{j}.scp")["201-31-0001_202-32-0002"])[0] for j in (1, 2))
    np.testing.assert_allclose(mix_both, s1 + s2 + noise, atol=3 / 32768)
    np.testing.assert_allclose(s1[:16011], sf.read(corpora / "LibriSpeech" / "dev-clean/201/31/201-31-0001.flac")[0]
                               * 0.7925878276419455, atol=2 / 32768)  # fmt: skip


def test_gains_reach_librimix_loudness_targets(tmp_path, corpora):
    # LibriMix's gains set each 16-kHz source (zero-padded to the longest) to a loudness drawn when the
    # metadata was made (speech -33..-25 LUFS, noise 5 LU lower), measured with pyloudnorm. Metadata whose
    # gains are computed so gives 16 kHz max sources at those loudnesses.
    pyln = pytest.importorskip("pyloudnorm")
    meter = pyln.Meter(RATE)
    p1, p2 = "test-clean/301/41/301-41-0001.flac", "test-clean/302/42/302-42-0002.flac"
    s1, s2 = (sf.read(corpora / "LibriSpeech" / p, dtype="float32")[0] for p in (p1, p2))
    n = max(len(s1), len(s2))
    noise = sf.read(corpora / "wham_noise/tt/t300_0.1_t301_-0.1.wav", dtype="float32", stop=n)[0][:, 0]
    targets = [-31.0, -26.5, -36.0]
    gains = [float(10 ** ((t - meter.integrated_loudness(np.pad(x, (0, n - len(x))))) / 20))
             for x, t in zip((s1, s2, noise), targets)]  # fmt: skip
    (tmp_path / "md.csv").write_text(f"{HEADER}\nm_x,{p1},{gains[0]!r},{p2},{gains[1]!r},tt/t300_0.1_t301_-0.1.wav,"
                                     f"{gains[2]!r}\n")  # fmt: skip
    out = tmp_path / "wav16k" / "max" / "test"
    run([sys.executable, str(RECIPE / "pyscripts/utils/librimix.py"), "mix", "--metadata", str(tmp_path / "md.csv"),
         "--librispeech", str(corpora / "LibriSpeech"), "--wham_noise", str(corpora / "wham_noise"), "--out_dir",
         str(out), "--fs", "16k", "--mode", "max", "--types", "mix_clean", "mix_both"], tmp_path)  # fmt: skip
    for folder, target in zip(("s1", "s2", "noise"), targets):
        assert meter.integrated_loudness(sf.read(out / folder / "m_x.wav")[0]) == pytest.approx(target, abs=0.01)
    assert sorted(p.name for p in out.iterdir()) == ["mix_both", "mix_clean", "noise", "s1", "s2"]


def test_speed_perturbed_noise(prepared, corpora, tmp_path, monkeypatch):
    # Stage 2 made the noise train-360 names (tr/<name>sp08.wav): the first channel at 0.8 times the speed.
    rec = prepared("16k-max-both")
    made = rec / "data/local/wham_noise_speed/tr/n100_0.5_n101_-0.5sp08.wav"
    original = sf.read(corpora / "wham_noise/tr/n100_0.5_n101_-0.5.wav")[0][:, 0]
    x, fs = sf.read(made, dtype="int16")
    assert fs == RATE and x.ndim == 1 and len(x) == round(len(original) / 0.8)
    np.testing.assert_array_equal(x, as_int16(soxr.resample(original, 0.8 * RATE, RATE, quality="HQ"), RATE))
    # a noise already in WHAM_NOISE (LibriMix's augmentation was run there) is not made again
    rows = librimix.read_metadata(corpora / "metadata" / "libri2mix_train-clean-360.csv")
    assert librimix.speed_noises_needed(rows, corpora / "wham_noise") == ["tr/n100_0.5_n101_-0.5sp08.wav"]
    wham = tmp_path / "wham"
    shutil.copytree(corpora / "wham_noise", wham)
    shutil.copy(made, wham / "tr")
    assert librimix.speed_noises_needed(rows, wham) == []
    # with sox installed, LibriMix's own command (pysndfx's): sox -N -V1 -t f64 -r 44100 -c 1 - ... speed 0.8
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "sox").write_text('#!/bin/sh\necho "$*" > "$SOX_ARGS"\ncat\n')
    (tmp_path / "bin" / "sox").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setenv("SOX_ARGS", str(tmp_path / "sox_args"))
    assert librimix.default_speed_tool() == "sox"
    y = librimix.change_speed(original, 0.8, "sox")
    assert (tmp_path / "sox_args").read_text().split() == (
        "-N -V1 -t f64 -r 44100 -c 1 - -t f64 -r 44100 -c 1 - speed 0.8".split()
    )
    np.testing.assert_array_equal(y, original)  # the fake sox returns its input


def test_data_dirs_for_an_existing_librimix(tmp_path, prepared):
    # A Libri2Mix tree as LibriMix's generate_librimix.sh leaves it (also mix_single/ and metadata/), moved
    # elsewhere: --librimix DIR, or LIBRIMIX= in db.sh, writes the same data directories for it.
    made = prepared("8k-min-both")
    tree = tmp_path / "elsewhere" / "Libri2Mix"
    shutil.copytree(made / "data/local/Libri2Mix", tree)
    for subset in ("train-100", "train-360", "dev", "test"):
        shutil.copytree(tree / "wav8k/min" / subset / "s1", tree / "wav8k/min" / subset / "mix_single")
        (tree / "wav8k/min" / subset / "mix_both" / ".done").unlink()
    (tree / "wav8k/min/metadata").mkdir()
    rec = scratch_recipe(tmp_path / "a", f"LIBRISPEECH=\nWHAM_NOISE=\nLIBRIMIX={tree}\n")
    run(["local/data.sh", "--mix", "both", "--train_subset", "train"], rec)
    for name in ("train", "dev", "test"):
        d, before = rec / f"data/{name}_both_min_8k", made / f"data/{name}_both_min_8k"
        for f in ("utt2spk", "spk2utt"):
            assert (d / f).read_text() == (before / f).read_text()
        for f in ("wav.scp", "spk1.scp", "spk2.scp", "noise1.scp"):
            old = str((made / "data/local/Libri2Mix").resolve())
            assert (d / f).read_text() == (before / f).read_text().replace(old, str(tree.resolve()))
    rec = scratch_recipe(tmp_path / "b", "LIBRISPEECH=\nWHAM_NOISE=\nLIBRIMIX=\n")
    run(["local/data.sh", "--librimix", str(tree), "--mix", "both", "--train_subset", "train-100"], rec)
    assert len(read_scp(rec / "data/train-100_both_min_8k/noise1.scp")) == 1
    p = run(["local/data.sh", "--librimix", str(tree)], rec, check=False)  # clean mixtures were not made
    assert p.returncode == 1 and "wav8k/min/train-360/mix_clean does not exist" in p.stdout


def test_rerun_skips_finished_mixtures(prepared, corpora):
    rec = prepared("8k-max-clean")
    mixed = sorted((rec / "data/local/Libri2Mix/wav8k/max/dev/mix_clean").glob("*.wav"))
    stamps = {f: f.stat().st_mtime_ns for f in mixed}
    before = (rec / "data/dev_clean_max_8k/wav.scp").read_text()
    p = run(["local/data.sh", "--metadata_dir", str(corpora / "metadata"), "--nj", "1", "--min_or_max", "max"], rec)
    assert p.stdout.count("was made before, skipped") == 3  # train-360, dev, test
    assert "Stage 2: skipped (--mix clean" in p.stdout
    assert {f: f.stat().st_mtime_ns for f in mixed} == stamps
    assert (rec / "data/dev_clean_max_8k/wav.scp").read_text() == before


def test_metadata_download_and_errors(tmp_path, corpora):
    # The download is optional (--metadata_dir); a URL that answers (here file://) is used as it is.
    librimix.download_metadata(["dev", "test"], tmp_path / "md", url=(corpora / "metadata").as_uri())
    assert (tmp_path / "md/libri2mix_dev-clean.csv").read_text() == (corpora / "metadata/libri2mix_dev-clean.csv"
                                                                      ).read_text()  # fmt: skip
    with pytest.raises(OSError, match="--metadata_dir DIR"):
        librimix.download_metadata(["dev"], tmp_path / "md", url=(tmp_path / "nowhere").as_uri())
    assert librimix.git_blob_id(b"a\n") == "78981922613b2afb6025042ff6bd878ac1994e85"  # git hash-object
    bad = tmp_path / "bad.csv"
    bad.write_text("mixture_ID,source_1_path\nx,y\n")
    with pytest.raises(ValueError, match=r"bad.csv:1: expected the LibriMix header"):
        librimix.read_metadata(bad)
    bad.write_text(f"{HEADER}\n{METADATA['libri2mix_dev-clean.csv'][0].replace(',0.79', ',zero')}\n")
    with pytest.raises(ValueError, match=r"bad.csv:2: a gain is not a number"):
        librimix.read_metadata(bad)
    # the recipe: which file is missing, which db.sh variable to set
    rec = scratch_recipe(tmp_path / "r", "LIBRISPEECH=/nonexistent\nWHAM_NOISE=\nLIBRIMIX=\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    p = run(["local/data.sh", "--metadata_dir", str(empty)], rec, check=False)
    assert p.returncode == 1 and "empty/libri2mix_train-clean-360.csv does not exist" in p.stdout
    p = run(["local/data.sh", "--metadata_dir", str(corpora / "metadata")], rec, check=False)
    assert p.returncode == 1 and "LIBRISPEECH='/nonexistent' is not a directory: set LIBRISPEECH= in db.sh" in p.stdout
    (rec / "db.sh").write_text(f"LIBRISPEECH={corpora / 'LibriSpeech'}\nWHAM_NOISE=\nLIBRIMIX=\n")
    p = run(["local/data.sh", "--metadata_dir", str(corpora / "metadata"), "--mix", "both"], rec, check=False)
    assert p.returncode == 1 and "WHAM_NOISE='' is not a directory" in p.stdout
    p = run(["local/data.sh", "--mix", "noisy"], rec, check=False)
    assert p.returncode == 2 and "--mix must be clean or both, got 'noisy'" in p.stdout
    (rec / "db.sh").write_text(f"LIBRISPEECH={tmp_path}\nWHAM_NOISE=\nLIBRIMIX=\n")
    p = run(["local/data.sh", "--metadata_dir", str(corpora / "metadata")], rec, check=False)
    assert p.returncode == 1 and "train-clean-360/101/21/101-21-0001.flac not found: check LIBRISPEECH" in p.stderr


def make_run_recipe(root: Path, corpora: Path) -> Path:
    root.mkdir()
    for name in ("enh.sh", "utils", "scripts", "pyscripts", "conf", "local", "run.sh", "infer_run.sh", "path.sh",
                 "cmd.sh"):  # fmt: skip
        (root / name).symlink_to(RECIPE / name)
    (root / "db.sh").write_text(f"LIBRISPEECH={corpora / 'LibriSpeech'}\nWHAM_NOISE={corpora / 'wham_noise'}\n")
    return root


def test_run_sh_data_stages(tmp_path, corpora):
    # The README's "./run.sh --stage 1 --stop_stage 5" (data, format, filter, shapes with the default
    # TISDiSS config), here on the fake corpora with the metadata given offline.
    rec = make_run_recipe(tmp_path / "enh1", corpora)
    run(["./run.sh", "--stage", "1", "--stop_stage", "5", "--nj", "1",
         "--local_data_opts", f"--metadata_dir {corpora / 'metadata'} --nj 1"], rec)  # fmt: skip
    for name, n in (("train-360", 2), ("dev", 1), ("test", 2)):
        assert sum(1 for _ in open(rec / "data" / f"{name}_clean_min_8k" / "wav.scp")) == n
        assert sum(1 for _ in open(rec / "dump" / "raw" / f"{name}_clean_min_8k" / "spk2.scp")) == n
    shapes = read_scp(rec / "exp" / "enh_stats_8k" / "train" / "speech_mix_shape")
    assert shapes == {"101-21-0001_102-22-0002": "6503", "103-23-0003_101-21-0001": "5505"}  # ceil(min / 2)
    assert (rec / "exp" / "enh_stats_8k" / "valid" / "speech_ref2_shape").is_file()
