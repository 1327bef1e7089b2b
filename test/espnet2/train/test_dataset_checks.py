"""Bad data gets an error naming the list file and line."""

import numpy as np
import pytest
import soundfile

from espnet2.train.dataset import DataError, ESPnetDataset
from test.espnet2.train.tiny_enh_data import make_data_dir


def triples(files):
    return [
        (str(files["wav.scp"]), "speech_mix", "sound"),
        (str(files["spk1.scp"]), "speech_ref1", "sound"),
        (str(files["spk2.scp"]), "speech_ref2", "sound"),
    ]


@pytest.fixture
def data(tmp_path):
    return make_data_dir(tmp_path, "tr", n_utt=3, seed=0, lengths=[400, 500, 600])


def test_reads_items(data):
    ds = ESPnetDataset(triples(data), require_same_length=True)
    uid, item = ds["utt001"]
    assert uid == "utt001" and set(item) == {"speech_mix", "speech_ref1", "speech_ref2"}
    assert item["speech_mix"].dtype == np.float32 and item["speech_mix"].shape == (500,)
    np.testing.assert_allclose(item["speech_mix"], item["speech_ref1"] + item["speech_ref2"], atol=1e-6)
    assert len(ds) == 3


def test_missing_audio_file(data):
    (data["spk1.scp"]).write_text(data["spk1.scp"].read_text().replace("utt002_spk1.wav", "gone.wav"))
    ds = ESPnetDataset(triples(data))
    with pytest.raises(
        FileNotFoundError, match=r"spk1.scp:3: audio file '.*gone.wav' of utterance 'utt002' does not exist"
    ):
        ds["utt002"]


def test_key_missing_from_spk2(data):
    lines = data["spk2.scp"].read_text().splitlines()
    data["spk2.scp"].write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    with pytest.raises(DataError, match=r"wav.scp:2: utterance 'utt001' has no entry in .*spk2.scp"):
        ESPnetDataset(triples(data))


def test_extra_key_in_spk2(data):
    data["spk2.scp"].write_text(data["spk2.scp"].read_text() + "utt999 /x.wav\n")
    with pytest.raises(DataError, match=r"spk2.scp:4: utterance 'utt999' is not in .*wav.scp"):
        ESPnetDataset(triples(data))


def test_reference_length_differs_from_mixture(data, tmp_path):
    short = tmp_path / "short.wav"
    soundfile.write(short, np.zeros(450, dtype=np.float32), 8000)
    data["spk2.scp"].write_text(
        data["spk2.scp"].read_text().replace(str(data["spk2.scp"].parent / "wav" / "utt001_spk2.wav"), str(short))
    )
    ds = ESPnetDataset(triples(data), require_same_length=True)
    ds["utt000"]
    with pytest.raises(
        DataError,
        match=r"spk2.scp:2: utterance 'utt001': speech_ref2 has 450 samples but speech_mix .*wav.scp:2.* has 500",
    ):
        ds["utt001"]


def test_sample_rate_mismatch(data, tmp_path):
    other = tmp_path / "16k.wav"
    soundfile.write(other, np.zeros(500, dtype=np.float32), 16000)
    data["spk1.scp"].write_text(
        data["spk1.scp"].read_text().replace(str(data["spk1.scp"].parent / "wav" / "utt001_spk1.wav"), str(other))
    )
    ds = ESPnetDataset(triples(data))
    with pytest.raises(
        DataError,
        match=r"spk1.scp:2: utterance 'utt001' \(speech_ref1\) has sample rate 16000 Hz, but .*wav.scp:2 has 8000 Hz",
    ):
        ds["utt001"]
    ds = ESPnetDataset(triples(data), sample_rate=16000)
    with pytest.raises(
        DataError,
        match=r"wav.scp:1: utterance 'utt000' \(speech_mix\) has sample rate 8000 Hz, but 16000 Hz is expected",
    ):
        ds["utt000"]


def test_empty_list(data):
    data["wav.scp"].write_text("")
    with pytest.raises(DataError, match=r"wav.scp: the list is empty"):
        ESPnetDataset(triples(data))


def test_a_loader_espnet_has_and_this_toolkit_does_not_is_named(data):
    with pytest.raises(RuntimeError, match="loader_type='kaldi_ark'.*keeps ESPnet's sound loader only"):
        ESPnetDataset([(str(data["wav.scp"]), "speech_mix", "kaldi_ark")])
