import os
import shutil

import pytest
import torch

from espnet2.enh.layers import cpu_kernels as kernels
from espnet2.enh.separator.published_arithmetic import published_arithmetic


def require_cpu_kernels():
    """Skip where no C compiler exists; fail where one exists but the kernels did not build."""
    if kernels.load_library() is None:
        if shutil.which(os.environ.get("CC", "gcc")) is None:
            pytest.skip("no C compiler: the fused CPU kernels cannot be built here")
        pytest.fail("a C compiler exists but the fused CPU kernels failed to build (see the warning)")


@pytest.fixture(params=["native", "pytorch"])
def cpu_kernels(request):
    """Runs a test once on the fused C kernels and once on PyTorch's operations."""
    if request.param == "native":
        require_cpu_kernels()
        yield request.param
    else:
        with kernels.disabled():
            yield request.param


@pytest.fixture(params=["native", "pytorch", "published"])
def arithmetic(request):
    """Runs a test on each way a TISDiSS separator can compute: the fused C kernels, PyTorch's operations, and the
    published code's order of operations (`published_arithmetic`). Yields the name.

    The published order runs on two threads, as the golden vectors were recorded: PyTorch's CPU convolutions (the
    depthwise `concat_block` among them) round differently on one thread, and the ill-conditioned golden cases
    amplify that beyond the tolerance."""
    if request.param == "native":
        require_cpu_kernels()
        yield request.param
    elif request.param == "pytorch":
        with kernels.disabled():
            yield request.param
    else:
        threads = torch.get_num_threads()
        torch.set_num_threads(2)
        try:
            with published_arithmetic():
                yield request.param
        finally:
            torch.set_num_threads(threads)
