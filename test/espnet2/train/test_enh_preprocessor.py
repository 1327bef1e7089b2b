import numpy as np
import pytest

from espnet2.train.collate_fn import common_collate_fn
from espnet2.train.preprocessor import EnhPreprocessor
from test.espnet2.train.tiny_enh_data import make_data_dir


def item(n=1000, channels=None):
    shape = (n,) if channels is None else (n, channels)
    ref1 = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1
    ref2 = -ref1
    return {"speech_mix": ref1 * 10, "speech_ref1": ref1, "speech_ref2": ref2}


def test_crop_same_place_in_mixture_and_references():
    p = EnhPreprocessor(train=True, speech_segment=300, seed=1)
    out = p("u1", item())
    assert {k: v.shape for k, v in out.items()} == {k: (300,) for k in out}
    start = int(out["speech_ref1"][0]) - 1
    assert np.array_equal(out["speech_ref1"], np.arange(start, start + 300, dtype=np.float32) + 1)
    assert np.array_equal(out["speech_mix"], out["speech_ref1"] * 10)
    assert np.array_equal(out["speech_ref2"], -out["speech_ref1"])
    # deterministic per (seed, epoch, uid); another epoch gives another place
    assert np.array_equal(p("u1", item())["speech_ref1"], out["speech_ref1"])
    starts = set()
    for epoch in range(6):
        p.set_epoch(epoch)
        starts.add(int(p("u1", item())["speech_ref1"][0]))
    assert len(starts) > 1
    # multi-channel: crop along time; shorter utterances stay whole; no crop in validation
    assert p("u1", item(channels=2))["speech_mix"].shape == (300, 2)
    assert p("u1", item(n=200))["speech_mix"].shape == (200,)
    assert EnhPreprocessor(train=False, speech_segment=300)("u1", item())["speech_mix"].shape == (1000,)


def test_avoid_allzero_segment():
    data = item(1000)
    data["speech_ref2"][:900] = 0  # only the last 100 samples are non-zero
    for seed in range(5):
        out = EnhPreprocessor(train=True, speech_segment=200, seed=seed)("u", dict(data))
        assert np.any(out["speech_ref2"] != 0)


def test_dynamic_mixing_remixes_other_utterances_with_gains(tmp_path):
    files = make_data_dir(tmp_path, "tr", n_utt=6, seed=0, lengths=[800] * 6)
    p = EnhPreprocessor(
        train=True,
        dynamic_mixing=True,
        dynamic_mixing_gain_db=6.0,
        source_scps=[str(files["spk1.scp"]), str(files["spk2.scp"])],
        seed=0,
    )
    from espnet2.fileio.sound_scp import SoundScpReader

    spk1 = SoundScpReader(files["spk1.scp"], dtype="float32")
    pool = [r[k][1] for r in (spk1, SoundScpReader(files["spk2.scp"], dtype="float32")) for k in r]
    own = spk1["utt000"][1]
    data = {
        "speech_mix": np.zeros(800, np.float32),
        "speech_ref1": own.copy(),
        "speech_ref2": np.zeros(800, np.float32),
    }
    out = p("utt000", data)
    # the mixture is the sum of the (scaled) references
    np.testing.assert_allclose(out["speech_mix"], out["speech_ref1"] + out["speech_ref2"], atol=1e-6)
    # ref1 is this utterance's reference with a gain within +-6 dB
    g1 = float(np.dot(out["speech_ref1"], own) / np.dot(own, own))
    assert 10 ** (-6 / 20) - 1e-6 <= g1 <= 10 ** (6 / 20) + 1e-6
    np.testing.assert_allclose(out["speech_ref1"], g1 * own, atol=1e-6)
    # ref2 is a scaled source of another utterance
    ref2 = out["speech_ref2"]
    matches = [s for s in pool if abs(np.dot(ref2, s)) / (np.linalg.norm(ref2) * np.linalg.norm(s)) > 0.9999]
    assert len(matches) == 1 and not np.allclose(matches[0], own)
    own2 = SoundScpReader(files["spk2.scp"], dtype="float32")["utt000"][1]
    assert not np.allclose(matches[0], own2)
    # another epoch, another mixture
    p.set_epoch(1)
    assert not np.allclose(p("utt000", dict(data, speech_ref1=own.copy()))["speech_ref2"], ref2)


def test_collate_pads_and_gives_lengths():
    uids, batch = common_collate_fn([("a", {"x": np.ones(3, np.float32)}), ("b", {"x": np.full(2, 2, np.float32)})])
    assert uids == ["a", "b"]
    assert batch["x"].tolist() == [[1, 1, 1], [2, 2, 0]]
    assert batch["x_lengths"].tolist() == [3, 2]
    with pytest.raises(RuntimeError, match="reserved"):
        common_collate_fn([("a", {"x_lengths": np.ones(1)})])


def test_dynamic_mixing_never_mixes_one_speaker_twice(tmp_path):
    import soundfile

    lines, spk = [], []
    for i, s in enumerate(["A", "A", "A", "B"]):
        path = tmp_path / f"s{i}.wav"
        soundfile.write(path, np.full(100, 0.1 * (i + 1), np.float32), 8000, subtype="FLOAT")
        lines.append(f"s{i} {path}\n")
        spk.append(f"s{i} {s}\n")
    (tmp_path / "source.scp").write_text("".join(lines))
    (tmp_path / "utt2spk").write_text("".join(spk))
    p = EnhPreprocessor(
        train=True, dynamic_mixing=True, source_scps=[str(tmp_path / "source.scp")], utt2spk=str(tmp_path / "utt2spk")
    )
    for epoch in range(5):
        p.set_epoch(epoch)
        out = p("s0", {"speech_ref1": np.full(100, 0.1, np.float32)})
        np.testing.assert_allclose(out["speech_ref2"], 0.4)  # s3, the only source of another speaker than s0's
        np.testing.assert_allclose(out["speech_mix"], 0.5)
