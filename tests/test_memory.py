"""The large-buffer cache that fastgrad installs as numpy's allocator (compiled backend): it
reuses freed blocks, never hands out dirty memory where zeros are due, survives realloc,
threads and uninstalling, and honours its limit."""
import threading

import numpy as np
import pytest

import fastgrad
from fastgrad import _backend

BIG = (512, 512)  # 2 MiB of float64: well over the 256 KiB threshold


@pytest.fixture
def cache():
    if _backend.extensions_disabled():
        pytest.skip("the cache is part of the compiled backend")
    try:
        memory = _backend.load("cython").memory
    except ImportError:
        pytest.skip("the compiled modules are not built")
    memory.install()
    yield memory
    memory.set_limit(512 * 1024 * 1024)


def test_fastgrad_installs_it_at_import(cache):
    if fastgrad.BACKEND != "cython":
        pytest.skip("the compiled backend is not the active one")
    hits = fastgrad.memory.stats()["hits"]
    a = np.empty(BIG)
    del a
    b = np.empty(BIG)
    assert fastgrad.memory.stats()["hits"] == hits + 1
    del b


def test_reused_blocks_are_zeroed_for_zeros(cache):
    dirty = np.full(BIG, 7.0)
    del dirty
    hits = cache.stats()["hits"]
    clean = np.zeros(BIG)
    assert cache.stats()["hits"] == hits + 1  # it did get the dirty block back
    assert not clean.any()


def test_contents_are_independent_and_correct(cache):
    arrays = [np.full(BIG, float(k)) for k in range(6)]
    for k, a in enumerate(arrays):
        assert (a == k).all()
    del arrays[::2]
    more = [np.arange(BIG[0] * BIG[1], dtype=float).reshape(BIG) + k for k in range(3)]
    for a, k in zip(arrays, (1, 3, 5)):
        assert (a == k).all()
    for a, k in zip(more, range(3)):
        assert a[0, 0] == k and a[-1, -1] == BIG[0] * BIG[1] - 1 + k


def test_resize_goes_through_realloc(cache):
    a = np.arange(100_000, dtype=np.float64)  # 800 KB
    a.resize(200_000, refcheck=False)
    assert a[99_999] == 99_999 and not a[100_000:].any()
    a.resize(1000, refcheck=False)  # below the threshold: freed later by size
    assert a[999] == 999
    del a


def test_limit_is_honoured(cache):
    cache.clear()
    cache.set_limit(0)
    a = np.empty(BIG)
    del a
    assert cache.stats()["cached_bytes"] == 0
    cache.set_limit(3 * 2**21)
    arrays = [np.empty(BIG) for _ in range(5)]
    del arrays
    assert cache.stats()["cached_bytes"] <= 3 * 2**21


def test_arrays_outlive_uninstall(cache):
    a = np.full(BIG, 3.0)
    cache.uninstall()
    try:
        b = np.full(BIG, 4.0)
        assert (a == 3.0).all() and (b == 4.0).all()
        del a, b
    finally:
        cache.install()


def test_threads_allocating_and_freeing(cache):
    errors = []

    def work(k):
        try:
            for i in range(200):
                x = np.full((256, 300), float(k))
                y = x @ np.ones((300, 8))  # numpy releases the GIL in here
                if not (y == 300.0 * k).all():
                    errors.append((k, i))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_the_twin_installs_nothing():
    memory = _backend.load("python").memory
    assert memory.install() is False
    assert memory.stats()["cached_bytes"] == 0
