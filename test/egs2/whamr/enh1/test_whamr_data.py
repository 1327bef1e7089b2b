"""WHAMR! preparation (local/data.sh) on fake WSJ0, WHAM! noise and WHAMR! metadata made here.

The trees mimic the corpora: WSJ0 as uncompressed 16 kHz SPHERE files under disc folders; WHAM! noise
``{tr,cv,tt}/<mixture>.wav`` (16 kHz, two channels) with ``metadata/scaling_<split>.npz`` (utterance ids
as an object array, where the speech starts, the gains per rate and length); the WHAMR! metadata
``mix_2_spk_filenames_<split>.csv`` and ``reverb_params_<split>.csv``. The rooms are WHAMR!-like but short
(low image orders) to keep the simulation fast; one has a wall absorption above 1, where pyroomacoustics 0.3
flipped the sign of each reflection.
"""

import io
import math
import shutil
import sys
import tarfile
from pathlib import Path

import numpy as np
import pyroomacoustics as pra
import pytest
import soundfile as sf
import whamr  # egs2/TEMPLATE/enh1/pyscripts/utils (test/egs2/conftest.py)
from scipy.signal import resample_poly

from test.egs2.recipe_helpers import REPO, link_recipe, read_scp, run
from test.egs2.wsj0_2mix.enh1.test_wsj0_2mix_data import speech_like, write_sphere

RECIPE = REPO / "egs2" / "whamr" / "enh1"
FS = 16000
# list path -> (where it lives in the fake WSJ0 tree, length in samples)
UTTS = {
    "wsj0/si_tr_s/01t/01ta0101.wav": ("csr_1/11-1.1/wsj0/si_tr_s/01t/01ta0101.wv1", 9001),
    "wsj0/si_tr_s/20g/20ga0102.wav": ("csr_1/11-2.1/WSJ0/SI_TR_S/20G/20GA0102.WV1", 11003),
    "wsj0/si_tr_s/40a/40aa0103.wav": ("csr_1/11-2.1/wsj0/si_tr_s/40a/40aa0103.wv1", 7005),
    "wsj0/si_dt_05/050/050a0501.wav": ("csr_1/11-6.1/wsj0/si_dt_05/050/050a0501.wv1", 8007),
    "wsj0/si_dt_05/051/051a0502.wav": ("csr_1/11-6.1/wsj0/si_dt_05/051/051a0502.wv1", 10009),
    "wsj0/si_et_05/440/440c0201.wav": ("csr_1/11-14.1/wsj0/si_et_05/440/440c0201.wv1", 9011),
    "wsj0/si_et_05/441/441c0202.wav": ("csr_1/11-14.1/wsj0/si_et_05/441/441c0202.wv1", 7013),
}
# split -> mixtures: (s1, s2, gain in dB as in the name, room: dims, micL, micR, mic height, s1, s2, T60). cv's
# room has walls absorbing a = 1.58 (Sabine for T60 0.1 s in 9 x 9 x 3.5 m): its reflections change sign.
MIXTURES = {
    "tr": [
        ("wsj0/si_tr_s/01t/01ta0101.wav", "wsj0/si_tr_s/20g/20ga0102.wav", "1.2345",
         (5.2, 6.1, 3.1), (2.6, 3.0), (2.7, 3.12), 1.4, (3.4, 3.6, 1.2), (1.9, 2.2, 1.7), 0.16),
        ("wsj0/si_tr_s/40a/40aa0103.wav", "wsj0/si_tr_s/01t/01ta0101.wav", "0.5",
         (6.3, 5.4, 3.4), (3.1, 2.8), (3.25, 2.75), 1.1, (4.2, 3.5, 1.6), (2.2, 1.9, 0.95), 0.2),
    ],
    "cv": [
        ("wsj0/si_dt_05/050/050a0501.wav", "wsj0/si_dt_05/051/051a0502.wav", "2.1",
         (9.0, 9.0, 3.5), (4.5, 4.5), (4.5, 4.66), 1.5, (4.5, 5.5, 1.5), (3.6, 3.9, 1.3), 0.1),
    ],
    "tt": [
        ("wsj0/si_et_05/440/440c0201.wav", "wsj0/si_et_05/441/441c0202.wav", "0.3",
         (5.5, 5.8, 3.0), (2.8, 2.9), (2.95, 2.95), 1.3, (3.5, 4.1, 1.5), (1.8, 2.0, 1.1), 0.18),
        ("wsj0/si_et_05/441/441c0202.wav", "wsj0/si_et_05/440/440c0201.wav", "1.7",
         (5.1, 6.6, 3.2), (2.5, 3.3), (2.6, 3.42), 1.7, (1.4, 3.9, 1.8), (3.3, 4.6, 0.9), 0.25),
    ],
}  # fmt: skip


def name_of(split: str, i: int) -> str:
    """The mixture's file name, as WSJ0-2mix names mixtures."""
    s1, s2, gain = MIXTURES[split][i][:3]
    return f"{Path(s1).stem}_{gain}_{Path(s2).stem}_-{gain}.wav"


def room_of(split: str, i: int) -> whamr.Room:
    dims, ml, mr, mz, p1, p2, t60 = MIXTURES[split][i][3:]
    return whamr.Room(dims, (*ml, mz), (*mr, mz), (p1, p2), t60)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """(root with LDC93S6A/, wham_noise/, whamr_meta/; the WHAM! gains {split: {name: {tag: Scaling}}})."""
    root = tmp_path_factory.mktemp("corpora")
    for i, (rel, (disc, n)) in enumerate(sorted(UTTS.items())):
        write_sphere(root / "LDC93S6A" / disc, speech_like(n, seed=i), FS, big_endian=i % 2 == 1)
    rng = np.random.default_rng(0)
    meta, gains = root / "whamr_meta", {}
    meta.mkdir()
    for split, mixtures in MIXTURES.items():
        names, rows, npz = [], [], {}
        for i, (s1, s2, *_) in enumerate(mixtures):
            name = name_of(split, i)
            names.append(name)
            rows.append(",".join([name, *map(repr, room_of(split, i).row())]))
            start = int(rng.integers(0, 800))
            # as long as the speech from its start, and more (the images are delayed by the room)
            length = max(UTTS[s1][1], UTTS[s2][1]) + start + 600 + int(rng.integers(0, 400))
            noise = 0.05 * rng.standard_normal((length, 2))
            (root / "wham_noise" / split).mkdir(parents=True, exist_ok=True)
            sf.write(root / "wham_noise" / split / name, noise, FS, subtype="PCM_16")
            npz.setdefault("speech_start_sample_16k", []).append(start)
            for tag in ("8k_min", "8k_max", "16k_min", "16k_max"):
                npz.setdefault(f"scaling_wsjmix_{tag}", []).append(rng.uniform(0.5, 3.0, size=2))
                npz.setdefault(f"scaling_wham_speech_{tag}", []).append(rng.uniform(0.4, 1.0))
                npz.setdefault(f"scaling_wham_noise_{tag}", []).append(rng.uniform(0.2, 1.5))
        (meta / f"mix_2_spk_filenames_{split}.csv").write_text(
            "output_filename,s1_path,s2_path\n" + "".join(f"{n},{m[0]},{m[1]}\n" for n, m in zip(names, mixtures))
        )
        (meta / f"reverb_params_{split}.csv").write_text(
            "utterance_id," + ",".join(whamr.ROOM_COLUMNS) + "\n" + "".join(r + "\n" for r in rows)
        )
        (root / "wham_noise" / "metadata").mkdir(exist_ok=True)
        ids = np.array(names, dtype=object)  # as WHAM!'s files hold them
        np.savez(root / "wham_noise" / "metadata" / f"scaling_{split}.npz", utterance_id=ids,
                 **{k: np.array(v) for k, v in npz.items()})  # fmt: skip
        gains[split] = {
            name: {tag: (npz[f"scaling_wsjmix_{tag}"][i], npz[f"scaling_wham_speech_{tag}"][i],
                         npz[f"scaling_wham_noise_{tag}"][i], npz["speech_start_sample_16k"][i])
                   for tag in ("8k_min", "8k_max", "16k_min", "16k_max")}
            for i, name in enumerate(names)
        }  # fmt: skip
    return root, gains


def scratch_recipe(path: Path, db: str) -> Path:
    return link_recipe(path, RECIPE, ("local", "utils", "pyscripts", "path.sh"), db)


def db_sh(root: Path) -> str:
    return f"WSJ0={root / 'LDC93S6A'}\nWHAM_NOISE={root / 'wham_noise'}\nWHAMR=\n"


CASES = {  # (sample_rate, mode, mix, cond): both rates, both modes, every mixture kind and condition
    "8k-min-both-reverb": ("8k", "min", "both", "reverb"),
    "16k-max-both-reverb": ("16k", "max", "both", "reverb"),
    "8k-max-clean-anechoic": ("8k", "max", "clean", "anechoic"),
    "16k-min-single-reverb": ("16k", "min", "single", "reverb"),
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, corpora):
    done = {}

    def get(case):
        if case not in done:
            sample_rate, mode, mix, cond = CASES[case]
            rec = scratch_recipe(tmp_path_factory.mktemp(case) / "enh1", db_sh(corpora[0]))
            opts = ["--sample_rate", sample_rate, "--min_or_max", mode, "--mix", mix, "--cond", cond]
            meta = str(corpora[0] / "whamr_meta")
            run(["local/data.sh", "--whamr_meta", meta, "--nj", "1", "--sphere_tool", "python", *opts], rec)
            done[case] = rec
        return done[case]

    return get


def published_recipe(root: Path, wsj0_wav: Path, split: str, i: int, gains, fs: int, mode: str) -> dict:
    """One mixture as the WHAMR! scripts' create_wham_from_scratch.py makes it (mono), written out plainly,
    with the room simulated by pyroomacoustics called directly (walls of amplitude absorption a, in
    pyroomacoustics 0.3's terms; energy absorption 1 - (1 - a)**2 now)."""
    s1_path, s2_path = MIXTURES[split][i][:2]
    room = room_of(split, i)
    wsjmix, speech_gain, noise_gain, start = gains
    q = lambda x: np.int16(np.round(2**15 * x)) / 2**15  # noqa: E731  (utils.quantize)
    down = (lambda x: resample_poly(x, 8000, 16000, axis=-1)) if fs == 8000 else (lambda x: x)  # noqa: E731
    x1, x2 = (sf.read(wsj0_wav / p)[0] for p in (s1_path, s2_path))
    noise_16k = sf.read(root / "wham_noise" / split / name_of(split, i))[0][:, 0]
    # the room's input: 16-bit sources, zero-padded to the longer one, then to the noise ("max", start 0)
    t1, t2 = q(x1), q(x2)
    n = max(len(t1), len(t2))
    t1, t2 = (np.pad(t, (0, n - len(t))) for t in (t1, t2))
    t1, t2 = (np.pad(t, (0, len(noise_16k) - n)) for t in (t1, t2))
    # WhamRoom: Sabine's absorption, max order ceil(T60 c / min(room)), RIRs cut to ceil(T60 fs); premix
    c = pra.constants.get("c")
    x, y, z = room.dims
    a = 24 * x * y * z * np.log(10.0) / (c * 2 * (x * y + x * z + y * z) * room.t60)
    assert a < 1  # (pyroomacoustics 0.3 flipped the reflections' signs where a > 1: test_reflection_signs)
    premix = {}
    pra.constants.set("rir_hpf_enable", False)
    try:
        for cond, order in (("anechoic", 0), ("reverb", math.ceil(room.t60 * c / min(room.dims)))):
            shoebox = pra.ShoeBox(room.dims, fs=16000, max_order=order, materials=pra.Material(1 - (1 - a) ** 2))
            shoebox.add_source(room.speakers[0], signal=t1)
            shoebox.add_source(room.speakers[1], signal=t2)
            shoebox.add_microphone(room.mic_left)
            shoebox.compute_rir()
            shoebox.rir = [[h[: math.ceil(room.t60 * 16000)] for h in shoebox.rir[0]]]
            premix[cond] = down(shoebox.simulate(return_premix=True)[:, 0])
    finally:
        pra.constants.set("rir_hpf_enable", True)
    # the WSJ0-2mix sources and the spatial scaling
    s1, s2 = q(down(x1) * wsjmix[0]) * speech_gain, q(down(x2) * wsjmix[1]) * speech_gain
    k1 = np.sqrt(np.sum(s1**2) / np.sum(premix["anechoic"][0] ** 2))
    k2 = np.sqrt(np.sum(s2**2) / np.sum(premix["anechoic"][1] ** 2))
    noise = down(noise_16k) * noise_gain
    out_len = len(noise) if mode == "max" else min(len(s1), len(s2))
    st = start // 2 if fs == 8000 else start
    out = {}
    for cond in ("anechoic", "reverb"):
        a1, a2 = premix[cond][0, :out_len] * k1, premix[cond][1, :out_len] * k2
        if mode == "min":
            nz = noise[st : st + out_len]
        else:
            nz = noise
            b1, b2 = np.zeros_like(noise), np.zeros_like(noise)
            b1[st:out_len] = a1[: out_len - st]
            b2[st:out_len] = a2[: out_len - st]
            a1, a2 = b1, b2
        out.update({f"s1_{cond}": a1, f"s2_{cond}": a2, "noise": nz, f"mix_clean_{cond}": a1 + a2,
                    f"mix_single_{cond}": nz + a1, f"mix_both_{cond}": nz + a1 + a2})  # fmt: skip
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_mixtures_are_the_published_recipe(prepared, corpora, case):
    sample_rate, mode, mix, cond = CASES[case]
    rec = prepared(case)
    root, gains = corpora
    fs = {"8k": 8000, "16k": 16000}[sample_rate]
    wsj0_wav = rec / "data" / "local" / "wsj0_wav"
    for i, rel in enumerate(sorted(UTTS)):  # the converted WSJ0 is the original (16-bit SPHERE, either byte order)
        x, fs_file = sf.read(wsj0_wav / rel)
        assert fs_file == FS
        np.testing.assert_allclose(x, speech_like(UTTS[rel][1], seed=i), atol=1 / 32768)
    for split, mixtures in MIXTURES.items():
        d = rec / "data" / f"{split}_mix_{mix}_{cond}_{mode}_{sample_rate}"
        names = sorted(name_of(split, i)[:-4] for i in range(len(mixtures)))
        wav = read_scp(d / "wav.scp")
        assert list(wav) == names
        refs = {"spk1.scp": "s1_anechoic"}  # the references are anechoic in every condition
        if mix != "single":
            refs["spk2.scp"] = "s2_anechoic"
        if mix != "clean":
            refs["noise1.scp"] = "noise"
        if cond == "reverb":
            refs["dereverb1.scp"] = f"mix_{mix}_anechoic"
        assert sorted(p.name for p in d.glob("*.scp")) == sorted(["wav.scp", *refs])
        assert (d / "utt2spk").read_text() == "".join(f"{u} {u[:3]}_{u.split('_')[2][:3]}\n" for u in names)
        run(["utils/validate_data_dir.sh", "--num_spk", "1" if mix == "single" else "2", str(d)], rec)
        for i in range(len(mixtures)):
            if room_of(split, i).absorption(pra.constants.get("c")) >= 1:
                continue
            uid = name_of(split, i)[:-4]
            scaling = gains[split][name_of(split, i)][f"{sample_rate}_{mode}"]
            want = published_recipe(root, wsj0_wav, split, i, scaling, fs, mode)
            files = {"wav.scp": f"mix_{mix}_{cond}", **refs}
            for scp, folder in files.items():
                path = Path(read_scp(d / scp)[uid])
                assert path.parent.name == folder
                x, fs_file = sf.read(path, dtype="float32")
                assert fs_file == fs and sf.info(str(path)).subtype == "FLOAT"
                np.testing.assert_allclose(x, want[folder], rtol=1e-6, atol=1e-7, err_msg=f"{case} {uid} {folder}")
            n1, n2 = (len(resample_poly(np.zeros(UTTS[p][1]), fs, 16000)) for p in MIXTURES[split][i][:2])
            assert len(x) == (min(n1, n2) if mode == "min" else len(want["noise"]))


def test_reverberation_and_levels(prepared, corpora):
    # The anechoic image carries the WSJ0-2mix source's energy; the reverberant one adds a tail; the
    # mixtures are the sums of what the data directory names.
    rec = prepared("16k-max-both-reverb")
    d = rec / "data/tt_mix_both_reverb_max_16k"
    uid = name_of("tt", 1)[:-4]
    read = {k: sf.read(read_scp(d / f)[uid])[0] for k, f in (("mix", "wav.scp"), ("s1", "spk1.scp"),
            ("s2", "spk2.scp"), ("noise", "noise1.scp"), ("dry", "dereverb1.scp"))}  # fmt: skip
    split_dir = Path(read_scp(d / "wav.scp")[uid]).parent.parent
    s1_rev = sf.read(split_dir / "s1_reverb" / f"{uid}.wav")[0]
    s2_rev = sf.read(split_dir / "s2_reverb" / f"{uid}.wav")[0]
    np.testing.assert_allclose(read["mix"], read["noise"] + s1_rev + s2_rev, atol=1e-6)
    np.testing.assert_allclose(read["dry"], read["noise"] + read["s1"] + read["s2"], atol=1e-6)
    wsjmix, speech, _, _ = corpora[1]["tt"][name_of("tt", 1)]["16k_max"]
    x1 = sf.read(rec / "data/local/wsj0_wav" / MIXTURES["tt"][1][0])[0]
    dry1 = whamr.quantize(x1 * wsjmix[0]) * speech
    assert np.sum(read["s1"] ** 2) == pytest.approx(np.sum(dry1**2), rel=1e-3)  # all of it within the noise
    tail = np.sum((s1_rev - read["s1"]) ** 2) / np.sum(read["s1"] ** 2)
    assert 0.01 < tail < 10


def test_reflection_signs():
    # cv's room: a = 1.58 > 1. pyroomacoustics 0.3 scaled each reflection by r = 1 - a = -0.58: the floor and
    # the ceiling echoes (one reflection) are negative, the two echoes of two reflections on them positive.
    room = room_of("cv", 0)
    c = pra.constants.get("c")
    assert room.absorption(c) == pytest.approx(1.58, abs=0.01) and room.max_order(c) == 10
    h = whamr.room_rirs(room)[0]
    assert len(h) == 1600  # ceil(T60 fs)
    (x, y, z), mic = room.speakers[0], np.array(room.mic_left)

    def echo(image_z):  # (amplitude of the echo from an image at that height, its distance)
        dist = np.linalg.norm(np.array([x, y, image_z]) - mic)
        n = int(round(dist / c * FS)) + 40  # the centre of the fractional delay filter
        return h[n - 20 : n + 21].sum(), dist

    direct, d0 = echo(z)
    height = room.dims[2]
    for images, reflections in (([-z], 1), ([2 * height - z], 1), ([2 * height + z, z - 2 * height], 2)):
        amplitude, dist = echo(images[0])
        want = len(images) * (1 - room.absorption(c)) ** reflections * direct * d0 / dist
        assert amplitude == pytest.approx(want, rel=0.05), (images, reflections)
    # the anechoic response is the direct path alone: one fractional delay filter
    h = whamr.room_rirs(room_of("tt", 0), anechoic=True)[0]
    assert np.count_nonzero(h) <= 81 and np.abs(h).max() > 0


def test_data_dirs_for_an_existing_whamr(tmp_path, prepared):
    # A WHAMR! tree as the WHAMR! scripts leave it (every mixture kind, moved elsewhere): --whamr DIR, or
    # WHAMR= in db.sh, writes the same data directories for it.
    made = prepared("8k-min-both-reverb")
    tree = tmp_path / "elsewhere" / "whamr"
    shutil.copytree(made / "data/local/WHAMR", tree)
    for split in ("tr", "cv", "tt"):
        (tree / "wav8k/min" / split / "mix_both_reverb" / ".done").unlink()
        for cond in ("anechoic", "reverb"):
            shutil.copytree(tree / "wav8k/min" / split / f"s1_{cond}", tree / "wav8k/min" / split / f"mix_clean_{cond}")
    rec = scratch_recipe(tmp_path / "a", f"WSJ0=\nWHAM_NOISE=\nWHAMR={tree}\n")
    run(["local/data.sh"], rec)
    old = str((made / "data/local/WHAMR").resolve())
    for split in ("tr", "cv", "tt"):
        d, before = rec / f"data/{split}_mix_both_reverb_min_8k", made / f"data/{split}_mix_both_reverb_min_8k"
        for f in ("wav.scp", "spk1.scp", "spk2.scp", "noise1.scp", "dereverb1.scp", "utt2spk", "spk2utt"):
            assert (d / f).read_text() == (before / f).read_text().replace(old, str(tree.resolve()))
    rec = scratch_recipe(tmp_path / "b", "WSJ0=\nWHAM_NOISE=\nWHAMR=\n")
    run(["local/data.sh", "--whamr", str(tree), "--mix", "clean", "--reference", "reverb"], rec)
    d = rec / "data/tt_mix_clean_reverb_min_8k"
    assert sorted(p.name for p in d.glob("*.scp")) == ["dereverb1.scp", "spk1.scp", "spk2.scp", "wav.scp"]
    assert all("/s2_reverb/" in p for p in read_scp(d / "spk2.scp").values())
    p = run(["local/data.sh", "--whamr", str(tree), "--sample_rate", "16k"], rec, check=False)
    assert p.returncode == 1 and "wav16k/min/tr/mix_both_reverb does not exist" in p.stdout


def test_rerun_skips_finished_mixtures(prepared, corpora):
    rec = prepared("8k-max-clean-anechoic")
    mixed = sorted((rec / "data/local/WHAMR/wav8k/max/tt/mix_clean_anechoic").glob("*.wav"))
    stamps = {f: f.stat().st_mtime_ns for f in mixed}
    before = (rec / "data/tt_mix_clean_anechoic_max_8k/wav.scp").read_text()
    p = run(["local/data.sh", "--whamr_meta", str(corpora[0] / "whamr_meta"), "--min_or_max", "max", "--mix",
             "clean", "--cond", "anechoic"], rec)  # fmt: skip
    assert p.stdout.count("were made before, skipped") == 3
    assert "Stage 2: " in p.stdout and "was made before, skipped" in p.stdout
    assert {f: f.stat().st_mtime_ns for f in mixed} == stamps
    assert (rec / "data/tt_mix_clean_anechoic_max_8k/wav.scp").read_text() == before


def test_metadata_download_and_errors(tmp_path, corpora):
    root = corpora[0]
    # The download is optional (--whamr_meta): the WHAMR! scripts' archive, here from a file:// URL.
    archive = tmp_path / "whamr_scripts.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "whamr_meta", arcname="whamr_scripts/data")
        info = tarfile.TarInfo("whamr_scripts/create_wham_from_scratch.py")
        tar.addfile(info, io.BytesIO(b""))
    whamr.download_metadata(tmp_path / "md", url=archive.as_uri())
    assert sorted(p.name for p in (tmp_path / "md").iterdir()) == sorted(whamr.META_FILES)
    got = (tmp_path / "md/reverb_params_cv.csv").read_bytes()
    assert got == (root / "whamr_meta/reverb_params_cv.csv").read_bytes()
    with pytest.raises(OSError, match="--whamr_meta DIR"):
        whamr.download_metadata(tmp_path / "md", url=(tmp_path / "nowhere.tar.gz").as_uri())
    with tarfile.open(tmp_path / "other.tar.gz", "w:gz") as tar:
        tar.add(root / "whamr_meta" / "reverb_params_tt.csv", arcname="x/data/reverb_params_tt.csv")
    with pytest.raises(ValueError, match="no data/mix_2_spk_filenames_tr.csv"):
        whamr.download_metadata(tmp_path / "md", url=(tmp_path / "other.tar.gz").as_uri())
    # metadata that do not fit: the file and what is wrong
    bad = tmp_path / "bad"
    shutil.copytree(root / "whamr_meta", bad)
    (bad / "reverb_params_tt.csv").write_text("utterance_id,room_x\nx.wav,1\n")
    with pytest.raises(ValueError, match=r"reverb_params_tt.csv:1: no column room_y"):
        whamr.read_rooms(bad, "tt")
    text = (root / "whamr_meta/reverb_params_tt.csv").read_text().splitlines()
    (bad / "reverb_params_tt.csv").write_text("\n".join(text[:2]) + "\n")  # the second mixture is missing
    with pytest.raises(ValueError, match=r"441c0202_1.7_440c0201_-1.7.wav of mix_2_spk_filenames_tt.csv is not in"):
        whamr.make_mixtures(bad, "tt", tmp_path, root / "wham_noise", tmp_path / "o", 8000, "min", ["mix_both_reverb"])
    with pytest.raises(FileNotFoundError, match="scaling_tt.npz not found: WHAM_NOISE"):
        whamr.read_scaling(tmp_path / "scaling_tt.npz", "8k", "min")
    # the recipe: which option or db.sh variable
    rec = scratch_recipe(tmp_path / "r", "WSJ0=/nonexistent\nWHAM_NOISE=\nWHAMR=\n")
    p = run(["local/data.sh", "--whamr_meta", str(tmp_path)], rec, check=False)
    assert p.returncode == 1 and "mix_2_spk_filenames_tr.csv does not exist: --whamr_meta" in p.stdout
    p = run(["local/data.sh", "--whamr_meta", str(root / "whamr_meta")], rec, check=False)
    assert p.returncode == 1 and "WSJ0='/nonexistent' is not a directory: set WSJ0= in db.sh" in p.stdout
    p = run(["local/data.sh", "--whamr_meta", str(root / "whamr_meta"), "--wsj0_wav", str(tmp_path)], rec,
            check=False)  # fmt: skip
    assert p.returncode == 1 and "WHAM_NOISE='' is not a directory" in p.stdout
    p = run(["local/data.sh", "--cond", "dry"], rec, check=False)
    assert p.returncode == 2 and "--cond must be reverb or anechoic, got 'dry'" in p.stdout
    (rec / "db.sh").write_text(f"WSJ0=\nWHAM_NOISE={root / 'wham_noise'}\nWHAMR=\n")
    p = run(["local/data.sh", "--whamr_meta", str(root / "whamr_meta"), "--wsj0_wav", str(tmp_path), "--nj", "1"],
            rec, check=False)  # fmt: skip
    assert p.returncode == 1 and "01ta0101.wav not found: convert WSJ0 first" in p.stderr


def test_run_sh_data_stages(tmp_path, corpora):
    # "./run.sh --stage 1 --stop_stage 5" (data, format, filter, shapes with the flagship config) on the fake
    # corpora, the metadata given offline.
    names = ("enh.sh", "utils", "scripts", "pyscripts", "conf", "local", "run.sh", "path.sh", "cmd.sh")
    rec = link_recipe(tmp_path / "enh1", RECIPE, names, db_sh(corpora[0]))
    run(["./run.sh", "--stage", "1", "--stop_stage", "5", "--nj", "1", "--local_data_opts",
         f"--whamr_meta {corpora[0] / 'whamr_meta'} --nj 1 --sphere_tool python"], rec)  # fmt: skip
    for split in ("tr", "cv", "tt"):
        n = len(MIXTURES[split])
        assert sum(1 for _ in open(rec / "data" / f"{split}_mix_both_reverb_min_8k" / "wav.scp")) == n
        assert sum(1 for _ in open(rec / "dump" / "raw" / f"{split}_mix_both_reverb_min_8k" / "spk2.scp")) == n
    shapes = read_scp(rec / "exp" / "enh_stats_8k" / "train" / "speech_mix_shape")
    assert shapes == {name_of("tr", 0)[:-4]: "4501", name_of("tr", 1)[:-4]: "3503"}  # 8 kHz min: the shorter source
    assert (rec / "exp" / "enh_stats_8k" / "valid" / "speech_ref2_shape").is_file()
    assert not (rec / "dump" / "raw" / "tr_mix_both_reverb_min_8k" / "noise1.scp").exists()  # the task has no noise


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
