import os
import shutil

import pytest

from espnet2.enh.layers import cpu_kernels as kernels


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
