"""fastgrad changes no process-wide memory setting at import, and fastgrad.memory's explicit
glibc tuning keeps large blocks for reuse and gives them all back on release()."""
import json

import pytest
from helpers import run_python

import fastgrad

GLIBC = fastgrad.memory._glibc() is not None


def test_import_leaves_numpys_allocator_as_it_was():
    out = run_python(["-c", """
import json
import numpy as np
from numpy._core.multiarray import get_handler_name
before = get_handler_name()
import fastgrad
import fastgrad.nn
x = fastgrad.Tensor(np.ones((600, 600)), requires_grad=True)
(x * x).sum().backward()
print(json.dumps([before, get_handler_name(), get_handler_name(np.empty((600, 600)))]))
"""], check=True)
    before, after, of_array = json.loads(out.stdout)
    assert before == after == of_array == "default_allocator"


# Many array sizes from 256 KiB to 8 MiB, a window of them alive at a time (the audit's pattern,
# under which the old allocator cache kept 702 MiB); RSS in MiB from /proc/self/statm.
WORKLOAD = """
import json, os
import numpy as np
import fastgrad

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

tuned = fastgrad.memory.tune_malloc()
base = rss()
rng = np.random.default_rng(0)
alive = []
for size in rng.integers(2**15, 2**20, 600):
    alive.append(np.ones(int(size)))
    if len(alive) > 40:
        alive.pop(int(rng.integers(len(alive))))
peak = rss()
del alive
held = rss()
released = fastgrad.memory.release()
print(json.dumps({"tuned": tuned, "base": base, "peak": peak, "held": held,
                  "after": rss(), "released": released}))
"""


@pytest.mark.skipif(not GLIBC, reason="tune_malloc/release act on glibc only")
def test_tuned_malloc_keeps_blocks_and_release_returns_them():
    r = json.loads(run_python(["-c", WORKLOAD], check=True).stdout)
    assert r["tuned"] is True
    assert r["peak"] - r["base"] > 100  # the window of arrays was resident
    # tuned, freed blocks may stay for reuse, but no more than the trim threshold (glibc trims
    # the whole free heap top once it exceeds it, so how much stays depends on the order of the
    # frees: only the bound is a property) ...
    assert r["held"] - r["base"] < fastgrad.memory.TRIM_THRESHOLD / 2**20 + 16, r
    assert r["released"] is True
    assert r["after"] - r["base"] < 16, r  # ... and release() gives them all back


@pytest.mark.skipif(not GLIBC, reason="tune_malloc/release act on glibc only")
def test_tuning_keeps_no_more_than_the_trim_threshold_at_the_heap_top():
    """Freeing one huge block in the heap (below the mmap threshold) trims the heap top back to
    the trim threshold by itself: memory held is bounded without release()."""
    out = run_python(["-c", """
import json, os
import numpy as np
import fastgrad
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
fastgrad.memory.tune_malloc(trim_threshold=8 * 2**20)
base = rss()
blocks = [np.ones(2**21) for _ in range(12)]   # 12 x 16 MiB, in the heap (< 32 MiB)
del blocks
print(json.dumps({"base": base, "after": rss()}))
"""], check=True)
    r = json.loads(out.stdout)
    assert r["after"] - r["base"] < 8 + 16 + 4, r


def test_tune_malloc_checks_its_arguments():
    with pytest.raises(ValueError, match="mmap_threshold"):
        fastgrad.memory.tune_malloc(mmap_threshold=-1)
    with pytest.raises(ValueError, match="caps"):
        fastgrad.memory.tune_malloc(mmap_threshold=2**30)
    with pytest.raises(ValueError, match="trim_threshold"):
        fastgrad.memory.tune_malloc(trim_threshold=1.5)
