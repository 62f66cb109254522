"""Reuse of large numpy buffers: the twin of csrc/memory.pyx, which installs a C allocator.

Pure Python cannot give numpy an allocator, so here every function keeps its signature and
does nothing: numpy's own allocator stays in place.
"""

_limit = 512 * 1024 * 1024


def install():
    """Nothing to install in pure Python; False says the cache is not in place."""
    return False


def uninstall():
    """Nothing was installed."""


def clear():
    """Nothing is cached."""


def set_limit(nbytes):
    """Recorded only, so that stats() reports it."""
    global _limit
    if nbytes < 0:
        raise ValueError(f"set_limit: the limit must be >= 0, got {nbytes}")
    _limit = nbytes


def stats():
    """An empty cache."""
    return {"cached_bytes": 0, "cached_blocks": 0, "limit": _limit, "min_block": 256 * 1024,
            "hits": 0, "misses": 0}
