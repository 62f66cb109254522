"""Large-buffer reuse by glibc's malloc, tuned on request (fastgrad changes nothing at import).

Training steps free and reallocate the same large arrays over and over. glibc serves a block of
more than its mmap threshold (128 KiB at first, raised on the fly up to the largest block freed)
with a fresh mmap, and trims the top of its heap once more than the trim threshold is free; either
way the next step's array of that size is faulted in again page by page, which on a full-batch
digits MLP (benchmark W3) costs about a quarter of the step.

``tune_malloc()`` raises both thresholds for the whole process, so such blocks stay in the heap and
are reused; ``release()`` hands the free heap pages back to the system at any time. The same
tuning without code: ``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:
glibc.malloc.trim_threshold=134217728`` in the environment of the program. Both are process-wide
settings of the C library, which is why fastgrad never makes them itself. They do nothing on a C
library other than glibc (musl, macOS, Windows): the functions then return False.
"""
import ctypes
import ctypes.util
import sys

# glibc's mallopt parameter numbers (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 * 1024 * 1024   # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 128 * 1024 * 1024

_libc = None


def _glibc():
    """glibc (with mallopt and malloc_trim), or None on another C library."""
    global _libc
    if _libc is None:
        _libc = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                if not hasattr(libc, "gnu_get_libc_version"):  # only glibc has it, not musl
                    return None
                libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                libc.mallopt.restype = ctypes.c_int
                libc.malloc_trim.argtypes = [ctypes.c_size_t]
                libc.malloc_trim.restype = ctypes.c_int
                _libc = libc
            except (OSError, AttributeError):
                pass
    return _libc or None


def tune_malloc(mmap_threshold=MMAP_THRESHOLD, trim_threshold=TRIM_THRESHOLD):
    """Make glibc keep freed blocks of up to ``mmap_threshold`` bytes in its heap, and keep up to
    ``trim_threshold`` bytes of free heap top mapped, for this whole process; True if set.

    Large arrays are then reused from step to step instead of faulted in again. The memory kept
    this way is bounded by the trim threshold plus the heap's fragmentation; ``release()``
    returns all of it. Call it once, early in a training script.
    """
    for name, value in (("mmap_threshold", mmap_threshold), ("trim_threshold", trim_threshold)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
            raise ValueError(f"tune_malloc: {name} must be an int in [0, 2**31), got {value!r}")
    if mmap_threshold > MMAP_THRESHOLD:
        raise ValueError(f"tune_malloc: glibc caps mmap_threshold at {MMAP_THRESHOLD} bytes, "
                         f"got {mmap_threshold}")
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)
                and libc.mallopt(M_TRIM_THRESHOLD, trim_threshold))


def release():
    """Give the free memory of glibc's heaps back to the system (malloc_trim); True if any
    was returned, False if none was or the C library is not glibc."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))
