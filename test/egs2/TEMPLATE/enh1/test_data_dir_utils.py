import sys

import numpy as np
import pytest
import soundfile as sf

from test.egs2.recipe_helpers import TEMPLATE, run, write_data_dir

sys.path.insert(0, str(TEMPLATE / "pyscripts" / "utils"))
from validate_data_dir import DataDirError, validate  # noqa: E402

UTILS = TEMPLATE / "utils"


def test_split_scp_balances_and_keeps_order(tmp_path):
    (tmp_path / "in.scp").write_text("".join(f"u{i:02d} x\n" for i in range(10)))
    run([str(UTILS / "split_scp.sh"), "in.scp", "o/1", "o/2", "o/3"], tmp_path)
    parts = [(tmp_path / f"o/{k}").read_text().split("\n")[:-1] for k in (1, 2, 3)]
    assert [len(p) for p in parts] == [4, 3, 3]
    assert sum(parts, []) == [f"u{i:02d} x" for i in range(10)]
    p = run([str(UTILS / "split_scp.sh"), "in.scp"] + [f"o/{k}" for k in range(11)], tmp_path, check=False)
    assert p.returncode == 1 and "use at most 10 jobs" in p.stderr


def test_filter_scp_and_spk2utt(tmp_path):
    (tmp_path / "keys").write_text("b 1\nd 2\n")
    (tmp_path / "f").write_text("a x\nb y\nc z\nd w\n")
    out = run([str(UTILS / "filter_scp.sh"), "keys", "f"], tmp_path).stdout
    assert out == "b y\nd w\n"
    out = run([str(UTILS / "filter_scp.sh"), "--exclude", "keys", "f"], tmp_path).stdout
    assert out == "a x\nc z\n"
    (tmp_path / "utt2spk").write_text("u1 s2\nu2 s1\nu3 s2\n")
    out = run([str(UTILS / "utt2spk_to_spk2utt.sh"), "utt2spk"], tmp_path).stdout
    assert out == "s1 u2\ns2 u1 u3\n"


def test_validate_accepts_a_good_dir(tmp_path):
    write_data_dir(tmp_path / "d")
    assert validate(tmp_path / "d", num_spk=2) == 3
    p = run([str(UTILS / "validate_data_dir.sh"), "--num_spk", "2", str(tmp_path / "d")], tmp_path)
    assert "is valid (3 utterances)" in p.stdout


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda d: (d / "spk3.scp").unlink(), "spk3.scp: missing"),
        (
            lambda d: (d / "spk1.scp").write_text((d / "spk1.scp").read_text().replace("utt01", "utt09")),
            "spk1.scp:3: id 'utt02' is out of order",
        ),
        (lambda d: (d / "wav.scp").write_text("utt00 a\nutt00 b\n"), "wav.scp:2: id 'utt00' is repeated"),
        (lambda d: (d / "utt2spk").write_text("utt00 utt00\nutt01 utt01\n"), "utt2spk: utterance 'utt02' of"),
        (lambda d: (d / "utt2spk").write_text("utt00 a b\n"), "utt2spk:1: expected exactly 2 fields"),
        (
            lambda d: (d / "spk2utt").write_text("utt00 utt00\nutt01 utt02\nutt02 utt01\n"),
            "spk2utt:2: speaker 'utt01' does not match",
        ),
        (lambda d: (d / "audio" / "utt01_spk2.wav").unlink(), "spk2.scp:2: audio file"),
        (lambda d: (d / "wav.scp").write_text("utt00\n"), "wav.scp:1: expected '<utt_id> <value>'"),
    ],
)
def test_validate_names_the_first_bad_line(tmp_path, edit, message):
    d = tmp_path / "d"
    write_data_dir(d)
    (d / "spk3.scp").write_text((d / "spk1.scp").read_text())
    edit(d)
    with pytest.raises(DataDirError) as e:
        validate(d, num_spk=3)
    assert message in str(e.value)
    assert str(d) in str(e.value)


def test_format_wav_scp_resamples_and_counts(tmp_path):
    write_data_dir(tmp_path / "d", n=4, fs=16000)
    (tmp_path / "d" / "pipe.scp").write_text(f"utt00 cat {tmp_path / 'd/audio/utt00_mix.wav'} |\n")
    script = TEMPLATE / "scripts" / "audio" / "format_wav_scp.sh"
    (tmp_path / "utils").symlink_to(UTILS)
    (tmp_path / "pyscripts").symlink_to(TEMPLATE / "pyscripts")
    run([str(script), "--nj", "3", "--fs", "8k", "d/wav.scp", "dump/tr"], tmp_path)
    lines = (tmp_path / "dump/tr/wav.scp").read_text().split("\n")[:-1]
    assert [ln.split()[0] for ln in lines] == ["utt00", "utt01", "utt02", "utt03"]
    n = dict(ln.split() for ln in (tmp_path / "dump/tr/utt2num_samples").read_text().split("\n")[:-1])
    for i, ln in enumerate(lines):
        x, fs = sf.read(ln.split()[1])
        assert fs == 8000 and len(x) == int(n[f"utt{i:02d}"])
        assert abs(len(x) - (16000 // 2 + 100 * i) / 2) <= 1  # half the 16 kHz length
    run(
        [
            str(script),
            "--fs",
            "8000",
            "--out_filename",
            "pipe.scp",
            "--write_utt2num_samples",
            "false",
            "d/pipe.scp",
            "dump/p",
        ],
        tmp_path,
    )
    y, _ = sf.read((tmp_path / "dump/p/pipe.scp").read_text().split()[1])
    x, _ = sf.read(lines[0].split()[1])
    np.testing.assert_allclose(y, x, atol=1e-4)


def test_speed_perturbation_keeps_mixture_consistent(tmp_path):
    write_data_dir(tmp_path / "d", n=2, fs=8000)
    script = TEMPLATE / "pyscripts" / "utils" / "perturb_enh_data_dir_speed.py"
    run([sys.executable, str(script), "--factors", "0.9 1.0 1.1", "d", "sp"], tmp_path)
    wav = dict(ln.split() for ln in (tmp_path / "sp/wav.scp").read_text().split("\n")[:-1])
    assert sorted(wav) == ["sp0.9-utt00", "sp0.9-utt01", "sp1.1-utt00", "sp1.1-utt01", "utt00", "utt01"]
    spk = [dict(ln.split() for ln in (tmp_path / f"sp/spk{j}.scp").read_text().split("\n")[:-1]) for j in (1, 2)]
    for utt, factor in (("sp0.9-utt01", 0.9), ("sp1.1-utt00", 1.1)):
        mix, _ = sf.read(wav[utt])
        s1, _ = sf.read(spk[0][utt])
        s2, _ = sf.read(spk[1][utt])
        orig = sf.info(wav[utt.split("-", 1)[1]]).frames
        assert abs(len(mix) - orig / factor) <= 1
        np.testing.assert_allclose(mix, s1 + s2, atol=3e-4)  # 16-bit rounding of 3 files
    assert "sp1.1-utt00 sp1.1-utt00" in (tmp_path / "sp/utt2spk").read_text()
    validate(tmp_path / "sp", num_spk=2)
