import sys

from test.egs2.recipe_helpers import TEMPLATE, run

PY = TEMPLATE / "pyscripts" / "utils"


def test_rtf_from_inference_logs_or_wall_time(tmp_path):
    (tmp_path / "a.log").write_text(
        "x\nSeparated 2 utterance(s): processing 1.50 s, audio 10.00 s, RTF=0.15\n# Accounting: time=4.00 threads=1\n"
    )
    (tmp_path / "b.log").write_text(
        "Separated 1 utterance(s): processing 0.50 s, audio 10.00 s, RTF=0.05\n# Accounting: time=3.00 threads=1\n"
    )
    out = run([sys.executable, str(PY / "calculate_rtf.py"), "a.log", "b.log"], tmp_path).stdout
    assert out.startswith("RTF 0.1000 (processing 2.00 s, audio 20.00 s, 2 jobs)")
    # Another inference program: the jobs' wall time over the audio duration.
    (tmp_path / "c.log").write_text("# Accounting: time=6.00 threads=1\n")
    (tmp_path / "utt2num_samples").write_text("u1 16000\nu2 32000\n")
    out = run(
        [sys.executable, str(PY / "calculate_rtf.py"), "--fs", "8000", "--utt2num_samples", "utt2num_samples", "c.log"],
        tmp_path,
    ).stdout
    assert out.startswith("RTF 1.0000 (job wall time 6.00 s, audio 6.00 s, 1 jobs)")
    p = run([sys.executable, str(PY / "calculate_rtf.py"), "c.log"], tmp_path, check=False)
    assert p.returncode == 1 and "no timing found" in p.stderr


def test_show_enh_score_tables(tmp_path):
    exp = tmp_path / "exp" / "enh_a"
    for tag, value in (("enhanced_tt", "12.34"), ("enhanced_re8_tt", "13.00")):
        (exp / tag / "scoring").mkdir(parents=True)
        (exp / tag / "scoring" / "result_si_snri.txt").write_text(value + "\n")
        (exp / tag / "scoring" / "result_stoi.txt").write_text("95.00\n")
    (exp / "enhanced_tt" / "rtf.txt").write_text("RTF 0.0420 (processing ...)\n")
    (exp / "config.yaml").write_text("config: conf/a.yaml\nother: 1\n")
    (tmp_path / "exp" / "enh_b").mkdir()  # no scores: no table
    out = run([sys.executable, str(PY / "show_enh_score.py"), "--metrics", "STOI SI_SNRi", "exp"], tmp_path).stdout
    assert "## enh_a" in out and "- config: `conf/a.yaml`" in out and "enh_b" not in out
    assert "|dataset|STOI|SI_SNRi|RTF|" in out
    assert "|enhanced_re8_tt|95.00|13.00|-|" in out
    assert "|enhanced_tt|95.00|12.34|0.0420|" in out
    p = run([sys.executable, str(PY / "show_enh_score.py"), "exp/enh_b"], tmp_path, check=False)
    assert p.returncode == 1 and "no */scoring/result_*.txt" in p.stderr
