"""UnsortedBatchSampler against ESPnet's test/espnet2/samplers/test_unsorted_batch_sampler.py."""

import pytest

from espnet2.samplers.unsorted_batch_sampler import UnsortedBatchSampler


@pytest.fixture()
def key_file(tmp_path):
    p = tmp_path / "shape1.txt"
    p.write_text("a 1000,80\nb 400,80\nc 800,80\nd 789,80\ne 1023,80\nf 999,80\n")
    return str(p)


@pytest.mark.parametrize("drop_last", [True, False])
def test_filtered_key_file_leaves_its_keys_out(tmp_path, key_file, drop_last):
    filtered = tmp_path / "filtered_keys.txt"
    filtered.write_text("a\nf\n")
    assert list(UnsortedBatchSampler(2, key_file=key_file, drop_last=drop_last)) == [("a", "b"), ("c", "d"), ("e", "f")]
    sampler = UnsortedBatchSampler(2, key_file=key_file, drop_last=drop_last, filtered_key_file=str(filtered))
    assert list(sampler) == [("b", "c"), ("d", "e")]
    assert "filtered_key_file=" in repr(sampler)


def test_filtering_out_every_key_and_categories_are_refused(tmp_path, key_file):
    with pytest.raises(RuntimeError, match="no key of .* is left"):
        UnsortedBatchSampler(2, key_file=key_file, filtered_key_file=key_file)
    with pytest.raises(ValueError, match="utt2category_file"):
        UnsortedBatchSampler(2, key_file=key_file, utt2category_file=key_file)
