"""Reuse of large numpy buffers (twin: fastgrad/_py/memory.py); memory_cache.h says why and how.

install() makes a bounded cache the numpy data allocator of the current context (fastgrad does
this at import unless FASTGRAD_NUMPY_CACHE=0): freed blocks of 256 KiB and up are kept, up to a
limit, and handed back for the same size, instead of being unmapped and faulted in again.
"""
cimport numpy as cnp

cnp.import_array()

cdef extern from "memory_cache.h":
    int fg_install() except -1
    int fg_uninstall() except -1
    void fg_release_all()
    size_t fg_cached_bytes
    size_t fg_cache_max
    size_t FG_LARGE_MIN
    unsigned long long fg_hits
    unsigned long long fg_misses
    int fg_used


def install():
    """Make the cache numpy's allocator in this context; True when it is installed."""
    fg_install()
    return True


def uninstall():
    """Put back numpy's previous allocator (cached blocks stay until clear())."""
    fg_uninstall()


def clear():
    """Give every cached block back to the system."""
    fg_release_all()


def set_limit(nbytes):
    """Keep at most ``nbytes`` of freed blocks (blocks over half of it are never kept)."""
    global fg_cache_max
    if nbytes < 0:
        raise ValueError(f"set_limit: the limit must be >= 0, got {nbytes}")
    fg_cache_max = nbytes


def stats():
    """What the cache holds and how often it served an allocation."""
    return {"cached_bytes": fg_cached_bytes, "cached_blocks": fg_used, "limit": fg_cache_max,
            "min_block": FG_LARGE_MIN, "hits": fg_hits, "misses": fg_misses}
