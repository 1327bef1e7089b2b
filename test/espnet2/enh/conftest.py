import os
import shutil

import pytest

from espnet2.enh.layers import native_attention


def require_native_kernel():
    """Skip where no C compiler exists; fail where one exists but the kernel did not build."""
    if native_attention.load_library() is None:
        if shutil.which(os.environ.get("CC", "gcc")) is None:
            pytest.skip("no C compiler: the fused attention kernel cannot be built here")
        pytest.fail("a C compiler exists but the fused attention kernel failed to build (see the warning)")


@pytest.fixture(params=["native", "pytorch"])
def attention_kernel(request):
    """Runs a test once on the fused C attention kernel and once on PyTorch's kernels."""
    if request.param == "native":
        require_native_kernel()
        yield request.param
    else:
        with native_attention.disabled():
            yield request.param
