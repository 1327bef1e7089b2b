"""Reporter registration rules against ESPnet's test/espnet2/train/test_reporter.py."""

import numpy as np
import pytest
import torch

from espnet2.train.reporter import Reporter


@pytest.mark.parametrize("weight1, weight2", [(None, None), (19, np.array(9))])
def test_register_plain_and_weighted_averages(weight1, weight2):
    reporter = Reporter()
    reporter.set_epoch(1)
    stats1 = {"float": 0.6, "int": 6, "np": np.float64(0.25), "torch": torch.tensor([0.5])}
    stats2 = {"float": 0.3, "int": 100, "np": np.float64(0.75), "torch": torch.tensor([1.5])}
    with reporter.observe("train") as sub:
        sub.register(stats1, weight1)
        sub.next()
        sub.register(stats2, weight2)
        sub.next()
    w1, w2 = (1.0, 1.0) if weight1 is None else (19.0, 9.0)
    for k in stats1:
        expected = (w1 * float(stats1[k]) + w2 * float(stats2[k])) / (w1 + w2)
        assert reporter.get_value("train", k) == pytest.approx(expected)


@pytest.mark.parametrize("key2", ["time", "total_count"])
def test_reserved_names_are_refused(key2):
    reporter = Reporter()
    with reporter.observe("train", 1) as sub:
        with pytest.raises(RuntimeError, match=f"{key2} is reserved"):
            sub.register({key2: 2})
        sub.next()
    assert reporter.get_value("train", "total_count") == 1  # the reporter's own count stands


def test_weighted_and_plain_values_of_one_key_are_not_mixed():
    reporter = Reporter()
    with reporter.observe("train", 1) as sub:
        sub.register({"a": 2}, weight=1)
        sub.next()
        with pytest.raises(ValueError, match="a was registered with a weight before and without one now"):
            sub.register({"a": 3})
        sub.register({"b": 3})
        sub.next()
        with pytest.raises(ValueError, match="b was registered without a weight"):
            sub.register({"b": 4}, weight=2)


def test_a_plain_average_skips_nan_and_a_weighted_one_non_finite_values():
    reporter = Reporter()
    with reporter.observe("train", 1) as sub:
        for v in (1.0, float("nan"), 3.0):
            sub.register({"plain": v})
            sub.register({"weighted": v if v == v else float("inf")}, weight=2.0)
            sub.next()
    assert reporter.get_value("train", "plain") == 2.0 and reporter.get_value("train", "weighted") == 2.0
