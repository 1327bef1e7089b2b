"""Tests of espnet2/bin/enh_scoring.py: the scp lists in, ESPnet's result files out."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet2.bin import enh_scoring
from espnet2.bin.enh_scoring import main, merge_score_dirs, write_result_files
from espnet2.enh.metrics import score_utterance
from test.espnet2.enh.test_metrics import make_signals

FS = 8000


def write_scp(path: Path, entries):
    path.write_text("".join(f"{k} {v}\n" for k, v in entries), encoding="utf-8")


@pytest.fixture
def scored_dataset(tmp_path):
    """Two utterances written as wav files with Kaldi scp lists."""
    wav_dir = tmp_path / "wav"
    wav_dir.mkdir()
    scps = {name: [] for name in ("spk1", "spk2", "inf1", "inf2", "mix")}
    data = {}
    for i, key in enumerate(["utt_b", "utt_a"]):
        ref, est, mix = make_signals(seed=10 + i, n=FS)
        data[key] = (ref, est, mix)
        for name, sig in [
            ("spk1", ref[0]),
            ("spk2", ref[1]),
            ("inf1", est[0]),
            ("inf2", est[1]),
            ("mix", mix),
        ]:
            p = wav_dir / f"{key}_{name}.wav"
            sf.write(p, sig, FS, subtype="FLOAT")
            scps[name].append((key, str(p)))
    for name, entries in scps.items():
        write_scp(tmp_path / f"{name}.scp", entries)
    return tmp_path, data


def test_cli_writes_espnet_files(scored_dataset):
    root, data = scored_dataset
    out = root / "scoring"
    main(
        [
            "--output_dir",
            str(out),
            "--ref_scp",
            str(root / "spk1.scp"),
            "--ref_scp",
            str(root / "spk2.scp"),
            "--inf_scp",
            str(root / "inf1.scp"),
            "--inf_scp",
            str(root / "inf2.scp"),
            "--mix_scp",
            str(root / "mix.scp"),
            "--use_pesq",
            "false",
        ]
    )
    per_utt = {}
    for metric in ("STOI", "SDR", "SAR", "SIR", "SI_SNR", "SDRi", "SI_SNRi"):
        for j in (1, 2):
            lines = (out / f"{metric}_spk{j}").read_text().splitlines()
            assert [ln.split()[0] for ln in lines] == ["utt_b", "utt_a"]
            per_utt[metric, j] = {ln.split()[0]: float(ln.split()[1]) for ln in lines}
    # Values match a direct computation; wav_spk{j} is the estimate assigned to reference j.
    for key, (ref, est, mix) in data.items():
        expected, perm = score_utterance(ref, est, FS, mix=mix)
        for j in (1, 2):
            assert per_utt["SI_SNR", j][key] == pytest.approx(expected["SI_SNR"][j - 1], abs=1e-4)
            assert per_utt["SDR", j][key] == pytest.approx(expected["SDR"][j - 1], abs=1e-3)
        wav_lines = dict(ln.split() for ln in (out / "wav_spk1").read_text().splitlines())
        assert wav_lines[key].endswith(f"{key}_inf{perm[0] + 1}.wav")
    for metric in ("STOI", "SDR", "SI_SNR", "SI_SNRi"):
        avg = np.mean([np.mean([per_utt[metric, j][k] for j in (1, 2)]) for k in data])
        text = (out / f"result_{metric.lower()}.txt").read_text()
        assert text == f"{avg:.2f}\n"
    assert not (out / "result_pesq.txt").exists()


def test_cli_requires_paired_scp(scored_dataset):
    root, _ = scored_dataset
    with pytest.raises(SystemExit):
        main(["--output_dir", str(root / "s"), "--ref_scp", str(root / "spk1.scp")])


def test_pesq_true_without_package_is_refused(scored_dataset, monkeypatch):
    root, _ = scored_dataset
    monkeypatch.setattr(enh_scoring, "pesq_available", lambda: False)
    with pytest.raises(ImportError, match="pip install pesq"):
        main(
            [
                "--output_dir",
                str(root / "s"),
                "--ref_scp",
                str(root / "spk1.scp"),
                "--inf_scp",
                str(root / "inf1.scp"),
                "--use_pesq",
                "true",
            ]
        )


def test_write_result_files_and_merge(tmp_path):
    job1, job2 = tmp_path / "output.1", tmp_path / "output.2"
    job1.mkdir()
    job2.mkdir()
    (job1 / "SI_SNR_spk1").write_text("u3 10.0\nu1 12.0\n")
    (job1 / "SI_SNR_spk2").write_text("u3 14.0\nu1 8.0\n")
    (job2 / "SI_SNR_spk1").write_text("u2 3.0\n")
    (job2 / "SI_SNR_spk2").write_text("u2 4.0\n")
    (job1 / "wav_spk1").write_text("u3 a.wav\nu1 b.wav\n")
    (job2 / "wav_spk1").write_text("u2 c.wav\n")
    results = merge_score_dirs([job1, job2], tmp_path / "scoring")
    # per utterance means 12, 10, 3.5 -> 8.5
    assert results == {"SI_SNR": pytest.approx(8.5)}
    assert (tmp_path / "scoring" / "result_si_snr.txt").read_text() == "8.50\n"
    assert (tmp_path / "scoring" / "SI_SNR_spk1").read_text() == "u1 12.0\nu2 3.0\nu3 10.0\n"
    assert (tmp_path / "scoring" / "wav_spk1").read_text() == "u1 b.wav\nu2 c.wav\nu3 a.wav\n"

    (job1 / "SI_SNR_spk2").write_text("u3 14.0\n")
    with pytest.raises(ValueError, match="other utterances"):
        write_result_files(job1)


def test_get_parser_and_no_arguments_as_espnet(capsys):
    """ESPnet's test_enh_scoring: get_parser() is an ArgumentParser; no arguments -> usage, exit status 2."""
    import argparse

    from espnet2.bin.enh_scoring import get_parser, main

    assert isinstance(get_parser(), argparse.ArgumentParser)
    with pytest.raises(SystemExit) as e:
        main([])
    assert e.value.code == 2 and "usage:" in capsys.readouterr().err


def test_scoring_with_espnet_keywords(tmp_path):
    """ESPnet's test_scoring: int16 audio written as (rate, array), scored with dtype/log_level/flexible_numspk."""
    from espnet2.bin.enh_scoring import scoring
    from espnet2.fileio.sound_scp import SoundScpReader, SoundScpWriter

    rng = np.random.default_rng(0)
    with SoundScpWriter(tmp_path / "data", tmp_path / "ref.scp") as w:
        w["a"] = 16000, rng.integers(-1000, 1000, (16000,), dtype=np.int16)
        w["b"] = 16000, rng.integers(-1000, 1000, (8000,), dtype=np.int16)
    with SoundScpWriter(tmp_path / "est", tmp_path / "inf.scp") as w:
        for key, (rate, wav) in SoundScpReader(tmp_path / "ref.scp", dtype="int16").items():
            w[key] = (wav // 2 + rng.integers(-50, 50, wav.shape).astype(np.int16)), rate  # ESPnet's other order
    results = scoring(
        output_dir=str(tmp_path / "output"), dtype="float32", log_level="INFO", key_file=str(tmp_path / "ref.scp"),
        ref_scp=[str(tmp_path / "ref.scp")], inf_scp=[str(tmp_path / "inf.scp")], ref_channel=0,
        flexible_numspk=False, use_pesq=False,
    )  # fmt: skip
    assert 15 < results["SI_SNR"] < 30 and "PESQ" not in results
    assert sorted((tmp_path / "output" / "SI_SNR_spk1").read_text().split()[::2]) == ["a", "b"]


@pytest.mark.parametrize("option", ["flexible_numspk", "is_tse", "use_dnsmos"])
def test_scoring_refuses_what_it_does_not_do_by_name(tmp_path, option):
    from espnet2.bin.enh_scoring import scoring

    (tmp_path / "ref.scp").write_text("")
    with pytest.raises(ValueError, match=f"scoring: {option}=True: .* is not part of this toolkit"):
        scoring(str(tmp_path / "o"), None, [str(tmp_path / "ref.scp")], [str(tmp_path / "ref.scp")], **{option: True})
