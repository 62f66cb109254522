"""Large-buffer reuse: fastgrad's numpy allocator cache (compiled backend only).

Training steps allocate and free the same large arrays over and over. glibc hands each freed
block of a few hundred KiB and up straight back to the kernel, so the next step's array of that
size is faulted in again page by page: on a digits MLP that was half the step. With the compiled
backend, fastgrad therefore installs, at import, a cache as numpy's data allocator for the
importing context: freed blocks of 256 KiB and up are kept (at most 512 MiB in all) and handed
back for the same size. Smaller arrays use numpy's own allocator as before.

It affects numpy arrays allocated in that context after the import, fastgrad's or not. Set
FASTGRAD_NUMPY_CACHE=0 before importing fastgrad, or call disable(), to keep numpy's allocator.
"""
from ._backend import active as _active


def enable():
    """Install the cache as numpy's allocator in this context (True if it is in place)."""
    return _active.memory.install()


def disable():
    """Put numpy's previous allocator back and release the cached blocks."""
    _active.memory.uninstall()
    _active.memory.clear()


def set_limit(nbytes):
    """Keep at most ``nbytes`` of freed blocks."""
    _active.memory.set_limit(nbytes)


def stats():
    """{"cached_bytes", "cached_blocks", "limit", "min_block", "hits", "misses"}."""
    return _active.memory.stats()
