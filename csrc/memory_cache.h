/* A bounded cache of large numpy data buffers, installed as numpy's data allocator (NEP 49).
 *
 * Why: glibc gives a freed block of a few hundred KiB and up back to the kernel at once (munmap,
 * or a trim of the heap top), so an array of that size allocated again on the next training step
 * is faulted back in page by page; on the digits MLP that kernel work was half of every step. This
 * cache keeps freed blocks of LARGE_MIN bytes and up (CACHE_MAX bytes in all, CACHE_SLOTS blocks)
 * and hands one back when the same size is asked for again.
 *
 * Sizes below LARGE_MIN go to the allocator that was active before (numpy's default, with its
 * own small-block cache). Every block underneath is plain malloc memory, so realloc and a free
 * routed by size stay correct whichever path a block came from. A Python thread lock guards the
 * cache: numpy may allocate and free without holding the GIL.
 */
#ifndef FASTGRAD_MEMORY_CACHE_H
#define FASTGRAD_MEMORY_CACHE_H

#include <Python.h>
#include <pythread.h>
#include <stdlib.h>
#include <string.h>
#include <numpy/arrayobject.h>

#define FG_LARGE_MIN ((size_t)256 * 1024)
#define FG_CACHE_SLOTS 64
#define FG_CACHE_MAX_DEFAULT ((size_t)512 * 1024 * 1024)

typedef struct {
    void *ptr;
    size_t size;
} fg_block;

static fg_block fg_slots[FG_CACHE_SLOTS];
static int fg_used = 0;               /* slots 0..fg_used-1 hold blocks, oldest first */
static size_t fg_cached_bytes = 0;
static size_t fg_cache_max = FG_CACHE_MAX_DEFAULT;
static unsigned long long fg_hits = 0, fg_misses = 0;
static PyThread_type_lock fg_lock = NULL;
static PyDataMem_Handler *fg_fallback = NULL;  /* the handler in place before ours */
static PyObject *fg_fallback_capsule = NULL;   /* keeps it alive */

static void *fg_take(size_t size)
{
    void *found = NULL;
    PyThread_acquire_lock(fg_lock, WAIT_LOCK);
    for (int i = fg_used - 1; i >= 0; i--) {  /* newest first: the likeliest to be warm */
        if (fg_slots[i].size == size) {
            found = fg_slots[i].ptr;
            memmove(&fg_slots[i], &fg_slots[i + 1], (size_t)(fg_used - 1 - i) * sizeof(fg_block));
            fg_used--;
            fg_cached_bytes -= size;
            break;
        }
    }
    if (found) fg_hits++; else fg_misses++;
    PyThread_release_lock(fg_lock);
    return found;
}

/* Keep a freed block if it fits; otherwise give it (or the oldest blocks) back to malloc. */
static void fg_keep(void *ptr, size_t size)
{
    void *evict[FG_CACHE_SLOTS];
    int n_evict = 0;
    if (size > fg_cache_max / 2) {  /* a block that would fill the cache alone: not kept */
        free(ptr);
        return;
    }
    PyThread_acquire_lock(fg_lock, WAIT_LOCK);
    while (fg_used > 0 && (fg_used == FG_CACHE_SLOTS || fg_cached_bytes + size > fg_cache_max)) {
        evict[n_evict++] = fg_slots[0].ptr;
        fg_cached_bytes -= fg_slots[0].size;
        memmove(&fg_slots[0], &fg_slots[1], (size_t)(fg_used - 1) * sizeof(fg_block));
        fg_used--;
    }
    fg_slots[fg_used].ptr = ptr;
    fg_slots[fg_used].size = size;
    fg_used++;
    fg_cached_bytes += size;
    PyThread_release_lock(fg_lock);
    for (int i = 0; i < n_evict; i++) free(evict[i]);
}

static void *fg_malloc(void *ctx, size_t size)
{
    void *p;
    if (size < FG_LARGE_MIN)
        return fg_fallback->allocator.malloc(fg_fallback->allocator.ctx, size);
    p = fg_take(size);
    return p ? p : malloc(size);
}

static void *fg_calloc(void *ctx, size_t nelem, size_t elsize)
{
    size_t size = nelem * elsize;
    void *p;
    if (elsize != 0 && size / elsize != nelem) return NULL;  /* overflow */
    if (size < FG_LARGE_MIN)
        return fg_fallback->allocator.calloc(fg_fallback->allocator.ctx, nelem, elsize);
    p = fg_take(size);
    if (p == NULL) return calloc(nelem, elsize);
    memset(p, 0, size);
    return p;
}

static void *fg_realloc(void *ctx, void *ptr, size_t new_size)
{
    return realloc(ptr, new_size);  /* every block is malloc memory */
}

static void fg_free(void *ctx, void *ptr, size_t size)
{
    if (ptr == NULL) return;
    if (size < FG_LARGE_MIN) {
        fg_fallback->allocator.free(fg_fallback->allocator.ctx, ptr, size);
        return;
    }
    fg_keep(ptr, size);
}

static PyDataMem_Handler fg_handler = {
    "fastgrad_large_block_cache",
    1,
    {NULL, fg_malloc, fg_calloc, fg_realloc, fg_free}
};

/* Install the cache as the current context's numpy allocator. 0 on success, -1 with an
 * exception set on failure. Idempotent. */
static int fg_install(void)
{
    PyObject *current, *ours, *previous;
    if (fg_lock == NULL && (fg_lock = PyThread_allocate_lock()) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    current = PyDataMem_GetHandler();
    if (current == NULL) return -1;
    if (PyCapsule_GetPointer(current, "mem_handler") == (void *)&fg_handler) {
        Py_DECREF(current);
        return 0;
    }
    Py_XDECREF(fg_fallback_capsule);
    fg_fallback_capsule = current;  /* owned */
    fg_fallback = (PyDataMem_Handler *)PyCapsule_GetPointer(current, "mem_handler");
    if (fg_fallback == NULL) return -1;
    ours = PyCapsule_New(&fg_handler, "mem_handler", NULL);
    if (ours == NULL) return -1;
    previous = PyDataMem_SetHandler(ours);
    Py_DECREF(ours);
    if (previous == NULL) return -1;
    Py_DECREF(previous);
    return 0;
}

/* Put back the allocator that was active before fg_install (arrays allocated by the cache keep
 * a reference to it and are freed through it). */
static int fg_uninstall(void)
{
    PyObject *previous;
    if (fg_fallback_capsule == NULL) return 0;
    previous = PyDataMem_SetHandler(fg_fallback_capsule);
    if (previous == NULL) return -1;
    Py_DECREF(previous);
    return 0;
}

/* Give every cached block back to malloc. */
static void fg_release_all(void)
{
    if (fg_lock == NULL) return;
    PyThread_acquire_lock(fg_lock, WAIT_LOCK);
    for (int i = 0; i < fg_used; i++) free(fg_slots[i].ptr);
    fg_used = 0;
    fg_cached_bytes = 0;
    PyThread_release_lock(fg_lock);
}

#endif
