"""Keep freed tensor memory in the process instead of returning it to the OS after every operation.

PyTorch's CPU allocator hands large tensors to glibc malloc, which serves them with fresh mmap'd pages and
unmaps them on free: every step of a model then pays page faults for memory it just released (system time,
the "allocation churn" of a naive training loop). Raising glibc's mmap and trim thresholds keeps those
blocks in the heap for reuse: the process keeps the memory of its largest step instead of returning it.
The entry points (enh_train and every task's training main, enh_inference, separate.py, enh_benchmark) call
`tune_allocator()` once at start-up; the library (`SeparateSpeech`) leaves the process's allocator alone,
so a program using it calls `tune_allocator()` itself if it wants the same. On non-glibc systems it does
nothing.
"""

import ctypes
import ctypes.util
import os

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 30  # bytes: blocks below this come from the heap
TRIM_THRESHOLD = (1 << 31) - 1  # bytes of free heap kept before any is returned to the OS
_done = False


def tune_allocator(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Apply the thresholds (bytes); returns whether glibc accepted them. Set TISDISS_MALLOPT=0 to skip."""
    global _done
    if _done or os.environ.get("TISDISS_MALLOPT", "1") == "0":
        return _done
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
    except OSError:
        mallopt = None
    if mallopt is None:
        return False
    _done = bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))
    return _done
