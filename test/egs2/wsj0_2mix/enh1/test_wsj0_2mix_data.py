"""WSJ0-2mix preparation (local/data.sh) on a fake WSJ0 tree made here.

The tree mimics LDC93S6A: disc folders, upper-case names in places, uncompressed 16 kHz
SPHERE files (.wv1). The mixing lists are WSJ0-2mix style lines over those utterances.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import wsj0_mix  # egs2/TEMPLATE/enh1/pyscripts/utils (test/egs2/conftest.py)
from p56 import active_level

from test.egs2.recipe_helpers import REPO, run

RECIPE = REPO / "egs2" / "wsj0_2mix" / "enh1"
FS = 16000
# list path (as in the MERL lists) -> where it lives in the fake WSJ0 tree
UTTS = {
    "wsj0/si_tr_s/01t/01ta0101.wav": "csr_1/11-1.1/wsj0/si_tr_s/01t/01ta0101.wv1",
    "wsj0/si_tr_s/20g/20ga0102.wav": "csr_1/11-2.1/WSJ0/SI_TR_S/20G/20GA0102.WV1",
    "wsj0/si_tr_s/40a/40aa0103.wav": "csr_1/11-2.1/wsj0/si_tr_s/40a/40aa0103.wv1",
    "wsj0/si_dt_05/050/050a0501.wav": "csr_1/11-6.1/wsj0/si_dt_05/050/050a0501.wv1",
    "wsj0/si_dt_05/051/051a0502.wav": "csr_1/11-6.1/wsj0/si_dt_05/051/051a0502.wv1",
    "wsj0/si_et_05/440/440c0201.wav": "csr_1/11-14.1/wsj0/si_et_05/440/440c0201.wv1",
    "wsj0/si_et_05/441/441c0202.wav": "csr_1/11-14.1/wsj0/si_et_05/441/441c0202.wv1",
}
LISTS = {
    "tr": [
        "wsj0/si_tr_s/01t/01ta0101.wav 1.2345 wsj0/si_tr_s/20g/20ga0102.wav -1.2345",
        "wsj0/si_tr_s/40a/40aa0103.wav 0.5 wsj0/si_tr_s/01t/01ta0101.wav -0.5",
    ],
    "cv": ["wsj0/si_dt_05/050/050a0501.wav 2.1 wsj0/si_dt_05/051/051a0502.wav -2.1"],
    "tt": [
        "wsj0/si_et_05/440/440c0201.wav 0 wsj0/si_et_05/441/441c0202.wav 0",
        "wsj0/si_et_05/441/441c0202.wav 1.7 wsj0/si_et_05/440/440c0201.wav -1.7",
    ],
}


def write_sphere(path: Path, x: np.ndarray, fs: int, big_endian: bool = False) -> None:
    """Uncompressed 16-bit NIST SPHERE file."""
    fields = [
        f"sample_count -i {len(x)}",
        f"sample_rate -i {fs}",
        "channel_count -i 1",
        f"sample_byte_format -s2 {'10' if big_endian else '01'}",
        "sample_n_bytes -i 2",
        "sample_coding -s3 pcm",
        "end_head",
    ]
    header = ("NIST_1A\n   1024\n" + "\n".join(fields) + "\n").encode()
    data = (x * 32768).round().clip(-32768, 32767).astype(">i2" if big_endian else "<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.ljust(1024, b" ") + data.tobytes())


def speech_like(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    gate = (np.sin(2 * np.pi * rng.uniform(1.5, 3) * t) > -0.3).astype(float)
    tone = np.sin(2 * np.pi * rng.uniform(100, 250) * t) + 0.3 * rng.standard_normal(n)
    return rng.uniform(0.02, 0.2) * gate * tone


@pytest.fixture(scope="module")
def wsj0(tmp_path_factory):
    root = tmp_path_factory.mktemp("wsj0")
    originals = {}
    for i, (key, rel) in enumerate(sorted(UTTS.items())):
        x = speech_like(FS + 2000 * i, seed=i)  # 1.0 .. 1.75 s, all lengths differ
        write_sphere(root / "LDC93S6A" / rel, x, FS, big_endian=(i % 2 == 1))
        originals[key] = x
    lists = root / "lists"
    lists.mkdir()
    for x, lines in LISTS.items():
        (lists / f"mix_2_spk_{x}.txt").write_text("\n".join(lines) + "\n")
    return root, originals


def prepare(tmp_path, wsj0_root, *opts):
    """Link the recipe's scripts into a scratch recipe dir and run local/data.sh there."""
    rec = tmp_path / "enh1"
    rec.mkdir()
    for name in ("local", "utils", "pyscripts", "path.sh"):
        src = RECIPE / name
        (rec / name).symlink_to(src.resolve() if src.is_symlink() else src)
    (rec / "db.sh").write_text(f"WSJ0={wsj0_root / 'LDC93S6A'}\n")
    return rec, run(["local/data.sh", "--mix_lists", str(wsj0_root / "lists"), "--nj", "1", *opts], rec)


def read_scp(path: Path):
    return dict(line.split() for line in path.read_text().splitlines())


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, wsj0):
    """Recipe dirs prepared by local/data.sh, by (sample_rate, mode)."""
    done = {}

    def get(sample_rate, mode):
        if (sample_rate, mode) not in done:
            tmp = tmp_path_factory.mktemp(f"wsj0_2mix_{sample_rate}_{mode}")
            done[sample_rate, mode] = prepare(
                tmp, wsj0[0], "--sample_rate", sample_rate, "--min_or_max", mode, "--sphere_tool", "python"
            )[0]
        return done[sample_rate, mode]

    return get


@pytest.mark.parametrize("sample_rate,mode", [("8k", "min"), ("16k", "max")])
def test_data_sh_makes_wsj0_2mix(prepared, wsj0, sample_rate, mode):
    root, originals = wsj0
    rec = prepared(sample_rate, mode)
    fs = {"8k": 8000, "16k": 16000}[sample_rate]
    tt = rec / f"data/tt_{mode}_{sample_rate}"
    wav, s1, s2 = (read_scp(tt / f) for f in ("wav.scp", "spk1.scp", "spk2.scp"))
    assert sorted(wav) == ["440c0201_0_441c0202_0", "441c0202_1.7_440c0201_-1.7"]
    assert (tt / "utt2spk").read_text() == ("440c0201_0_441c0202_0 440_441\n441c0202_1.7_440c0201_-1.7 441_440\n")
    assert (tt / "spk2utt").read_text().startswith("440_441 440c0201_0_441c0202_0\n")
    assert len(read_scp(rec / f"data/tr_{mode}_{sample_rate}/wav.scp")) == 2
    assert len(read_scp(rec / f"data/cv_{mode}_{sample_rate}/wav.scp")) == 1

    uid = "441c0202_1.7_440c0201_-1.7"
    mix, fs_mix = sf.read(wav[uid])
    r1, _ = sf.read(s1[uid])
    r2, _ = sf.read(s2[uid])
    assert fs_mix == fs
    src1 = originals["wsj0/si_et_05/441/441c0202.wav"]
    src2 = originals["wsj0/si_et_05/440/440c0201.wav"]
    n1, n2 = len(src1) * fs // FS, len(src2) * fs // FS
    assert len(mix) == (min(n1, n2) if mode == "min" else max(n1, n2)) == len(r1) == len(r2)
    np.testing.assert_allclose(mix, r1 + r2, atol=2 / 32768)  # each file rounded to 16 bits
    assert np.max(np.abs(np.stack([mix, r1, r2]))) == pytest.approx(0.9, abs=1 / 32768)
    # Each source is scaled by 10**(snr/20) / sqrt(P.56 level) times a common gain.
    if mode == "max" and fs == FS:
        lev1 = active_level(src1, FS)[0]
        lev2 = active_level(src2, FS)[0]
        scale1 = np.dot(r1[:n1], src1) / np.dot(src1, src1)
        scale2 = np.dot(r2[:n2], src2) / np.dot(src2, src2)
        ratio_db = 20 * np.log10(scale1 / scale2)
        assert ratio_db == pytest.approx(1.7 - (-1.7) + 10 * np.log10(lev2 / lev1), abs=0.01)
    # The files hold exactly what the mixing function makes (up to 16-bit rounding).
    srcs = [
        wsj0_mix.load_source(rec / "data/local/wsj0_wav/wsj0/si_et_05/441/441c0202.wav", fs),
        wsj0_mix.load_source(rec / "data/local/wsj0_wav/wsj0/si_et_05/440/440c0201.wav", fs),
    ]
    ref_mix, ref_srcs = wsj0_mix.mix_sources(srcs, [1.7, -1.7], fs, mode)
    np.testing.assert_allclose(mix, ref_mix, atol=1 / 32768)
    np.testing.assert_allclose(r2, ref_srcs[1], atol=1 / 32768)
    # Converted WSJ0 is the original signal (16-bit), big- and little-endian SPHERE alike.
    for key in ("wsj0/si_tr_s/01t/01ta0101.wav", "wsj0/si_tr_s/20g/20ga0102.wav"):
        x, sr = sf.read(rec / "data/local/wsj0_wav" / key)
        assert sr == FS
        np.testing.assert_allclose(x, originals[key], atol=1 / 32768)


def test_data_dirs_for_an_existing_wsj0_2mix(tmp_path, prepared):
    made = prepared("8k", "min") / "data/local/wsj0_mix/2speakers"
    moved = tmp_path / "elsewhere" / "2speakers"
    shutil.copytree(made, moved)
    before = {x: (prepared("8k", "min") / f"data/{x}_min_8k/utt2spk").read_text() for x in ("tr", "cv", "tt")}
    rec = tmp_path / "enh1"
    rec.mkdir()
    for name in ("local", "utils", "pyscripts", "path.sh", "db.sh"):
        src = RECIPE / name
        (rec / name).symlink_to(src.resolve() if src.is_symlink() else src)
    run(["local/data.sh", "--wsj0_2mix", str(moved)], rec)
    for x in ("tr", "cv", "tt"):
        d = rec / f"data/{x}_min_8k"
        assert (d / "utt2spk").read_text() == before[x]
        wav = read_scp(d / "wav.scp")
        assert all(p.startswith(str(moved.resolve())) for p in wav.values())
        assert read_scp(d / "spk2.scp").keys() == wav.keys()
    p = run(["local/data.sh", "--wsj0_2mix", str(moved), "--sample_rate", "16k"], rec, check=False)
    assert p.returncode == 1 and "wav16k/min/tr/mix does not exist" in p.stdout


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_ffmpeg_conversion_matches_python(tmp_path, wsj0):
    root, originals = wsj0
    src = root / "LDC93S6A" / UTTS["wsj0/si_tr_s/20g/20ga0102.wav"]
    wsj0_mix.sphere_to_wav(src, tmp_path / "a.wav", tool="ffmpeg")
    wsj0_mix.sphere_to_wav(src, tmp_path / "b.wav", tool="python")
    a, fs_a = sf.read(tmp_path / "a.wav", dtype="int16")
    b, fs_b = sf.read(tmp_path / "b.wav", dtype="int16")
    assert fs_a == fs_b == FS
    np.testing.assert_array_equal(a, b)


def test_errors_name_the_problem(tmp_path, wsj0):
    root, _ = wsj0
    bad = tmp_path / "bad.txt"
    bad.write_text("a.wav 0 b.wav 0\na.wav 0 b.wav\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: expected 4 fields"):
        wsj0_mix.read_mix_list(bad, num_spk=2)
    bad.write_text("a.wav zero b.wav 0\n")
    with pytest.raises(ValueError, match=r"bad.txt:1: gain 'zero' is not a number"):
        wsj0_mix.read_mix_list(bad)
    missing = tmp_path / "missing"
    missing.mkdir()
    for x in ("tr", "cv"):
        (missing / f"mix_2_spk_{x}.txt").write_text(LISTS[x][0] + "\n")
    rec = tmp_path / "r"
    rec.mkdir()
    for name in ("local", "utils", "pyscripts", "path.sh"):
        src = RECIPE / name
        (rec / name).symlink_to(src.resolve() if src.is_symlink() else src)
    (rec / "db.sh").write_text("WSJ0=/nonexistent\n")
    p = run(["local/data.sh", "--mix_lists", str(missing)], rec, check=False)
    assert p.returncode == 1 and "mix_2_spk_tt.txt does not exist" in p.stdout
    p = run(["local/data.sh", "--mix_lists", str(root / "lists")], rec, check=False)
    assert p.returncode == 1 and "WSJ0='/nonexistent' is not a directory" in p.stdout
    (rec / "db.sh").write_text(f"WSJ0={tmp_path / 'missing'}\n")
    p = run(["local/data.sh", "--mix_lists", str(root / "lists")], rec, check=False)
    assert p.returncode == 1 and "have no .wv1 file under WSJ0=" in p.stderr


def test_rerun_skips_finished_steps(tmp_path, wsj0):
    # The data steps leave .done markers (utils/done_marker.sh): a rerun skips the conversion and
    # the mixing and writes the same data directories; --redo true does the work again.
    root, _ = wsj0
    rec, _ = prepare(tmp_path, root, "--sphere_tool", "python")
    mixed = rec / "data/local/wsj0_mix/2speakers/wav8k/min/tt/mix"
    converted = rec / "data/local/wsj0_wav/wsj0/si_et_05/441/441c0202.wav"
    stamps = {f: f.stat().st_mtime_ns for f in [converted, *mixed.iterdir()]}
    before = {f: (rec / "data/tt_min_8k" / f).read_text() for f in ("wav.scp", "spk1.scp", "utt2spk")}
    p = run(["local/data.sh", "--mix_lists", str(root / "lists"), "--nj", "1", "--sphere_tool", "python"], rec)
    assert "Stage 2: data/local/wsj0_wav was made before, skipped" in p.stdout
    assert p.stdout.count("was made before, skipped") == 4  # conversion, then tr, cv, tt
    assert {f: f.stat().st_mtime_ns for f in stamps} == stamps
    assert {f: (rec / "data/tt_min_8k" / f).read_text() for f in before} == before
    p = run(["local/data.sh", "--mix_lists", str(root / "lists"), "--nj", "1", "--sphere_tool", "python",
             "--redo", "true"], rec)  # fmt: skip
    assert "skipped" not in p.stdout and "Stage 2: WSJ0" in p.stdout
    assert all(f.stat().st_mtime_ns != stamps[f] for f in mixed.iterdir())
