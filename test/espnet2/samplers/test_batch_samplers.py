import pytest

from espnet2.samplers.build_batch_sampler import build_batch_sampler


@pytest.fixture
def shape_file(tmp_path):
    f = tmp_path / "speech_mix_shape"
    # lengths 100, 200, ..., 1000 (keys in another order)
    f.write_text("".join(f"u{i} {100 * i}\n" for i in [3, 1, 10, 2, 7, 4, 9, 5, 6, 8]))
    return str(f)


def test_folded_halves_the_batch_for_long_utterances(shape_file):
    s = build_batch_sampler("folded", batch_size=4, batch_bins=0, shape_files=[shape_file], fold_lengths=[500])
    batches = list(s)
    # 100..400 -> 4 per batch; from 500 (500 // 500 = 1) the batch halves
    assert batches[0] == ("u4", "u3", "u2", "u1")  # sort_batch ascending: shortest batch first
    assert sorted(len(b) for b in batches) == [2, 2, 2, 4]
    assert sorted(k for b in batches for k in b) == sorted(f"u{i}" for i in range(1, 11))
    for b in batches:  # descending inside a batch
        assert [int(k[1:]) for k in b] == sorted((int(k[1:]) for k in b), reverse=True)


def test_sorted_unsorted_numel(shape_file):
    s = build_batch_sampler("sorted", batch_size=3, batch_bins=0, shape_files=[shape_file], sort_batch="ascending")
    # 10 // 3 = 3 batches, the remainder spread; ascending batches of descending keys
    assert list(s) == [("u4", "u3", "u2", "u1"), ("u7", "u6", "u5"), ("u10", "u9", "u8")]
    u = build_batch_sampler("unsorted", batch_size=5, batch_bins=0, shape_files=[shape_file])
    assert list(u) == [("u3", "u1", "u10", "u2", "u7"), ("u4", "u9", "u5", "u6", "u8")]
    n = build_batch_sampler("numel", batch_size=0, batch_bins=1500, shape_files=[shape_file], sort_batch="ascending")
    batches = list(n)
    assert sorted(k for b in batches for k in b) == sorted(f"u{i}" for i in range(1, 11))
    # a batch grows until batch_size * max_length exceeds batch_bins: 3 * 300 = 900, 4 * 400 = 1600 > 1500
    assert batches[0] == ("u4", "u3", "u2", "u1")


def test_errors(tmp_path, shape_file):
    empty = tmp_path / "empty_shape"
    empty.write_text("")
    with pytest.raises(RuntimeError, match="0 lines found"):
        build_batch_sampler("sorted", batch_size=2, batch_bins=0, shape_files=[str(empty)])
    with pytest.raises(ValueError, match="one --fold_length per shape file"):
        build_batch_sampler(
            "folded", batch_size=2, batch_bins=0, shape_files=[shape_file, shape_file], fold_lengths=[1]
        )
    with pytest.raises(ValueError, match="unknown value 'lenght'"):
        build_batch_sampler("lenght", batch_size=2, batch_bins=0, shape_files=[shape_file])


@pytest.mark.parametrize("kind", ["folded", "numel"])
def test_shape_files_listing_other_utterances_are_named(tmp_path, shape_file, kind):
    other = tmp_path / "speech_ref1_shape"
    other.write_text("".join(f"u{i} {100 * i}\n" for i in range(1, 10)) + "x1 50\n")
    with pytest.raises(RuntimeError, match=r"keys differ between .*speech_ref1_shape and .*speech_mix_shape"):
        build_batch_sampler(
            kind, batch_size=2, batch_bins=1000, shape_files=[shape_file, str(other)], fold_lengths=[500, 500]
        )
