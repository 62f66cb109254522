/* fastgrad's own matrix product C = A·B (+ bias) for float64 and float32, for AVX-512 CPUs.
 *
 * Why: numpy's OpenBLAS runs its AVX2 kernels where OPENBLAS_CORETYPE=Haswell is set, and even
 * its AVX-512 kernels are slow at the shapes of an MLP (k and n of 64 ... 800); the dense
 * layers need the products at XLA's speed or better on one core.
 *
 * How (BLIS's structure, gemm_typed.h): C is computed in tiles of MR = 8 rows × NR = 2 vectors
 * (16 doubles or 32 floats), 16 zmm accumulators; per step of the sum the micro-kernel loads
 * two vectors of B and broadcasts 8 values of A. Measured on Zen 5 (one core, share of its FMA
 * peak): 8×2 vectors beat 12×2, 10×2, 8×3, 6×4 and 4×4 at every shape tried (by 3-15 %).
 * Around the micro-kernel, the loops block k by KC, m by MC and n by NC. An operand is either
 * packed into contiguous zero-padded micro-panels (the classic way: cheap when it is reused
 * many times) or read in place through its strides, with only its ragged last panel packed
 * (no copy: what pays at MLP shapes, where packing took 15-35 % of the time). Transposed
 * operands (Xᵀ, Wᵀ) are read through their strides too; a transposed B is packed with 8×8
 * (16×16) in-register transposes. Ragged column edges are masked, ragged row edges skipped.
 *
 * Results differ from BLAS only by summation order and fused multiply-adds, and depend on the
 * shape and strides alone (not on alignment, threads or the build machine): the same bits run
 * to run.
 *
 * Portability: the kernels are compiled for AVX-512F through function attributes (no global -m
 * flags) and may run only where fg_gemm_cpu_supported() says the CPU and OS have AVX-512F (the
 * caller checks once); elsewhere (other CPUs, non-x86, MSVC) callers use numpy's matmul.
 *
 * API: fg_dgemm / fg_sgemm (gemm_typed.h) return 0 when C holds the result, -1 when they could
 * not run (no kernel compiled in, C without unit column stride, out of memory): then the caller
 * falls back.
 */
#ifndef FASTGRAD_GEMM_H
#define FASTGRAD_GEMM_H

#include <stddef.h>

/* x86-64 only (in 32-bit mode AVX-512 has 8 vector registers, too few for the tile).
 * FG_GEMM_DISABLE (CFLAGS=-DFG_GEMM_DISABLE) builds without the kernel, as on other CPUs. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(_MSC_VER) \
    && !defined(FG_GEMM_DISABLE)
#define FG_GEMM_X86 1
#else
#define FG_GEMM_X86 0
#endif

#if FG_GEMM_X86

#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define FG_TARGET __attribute__((target("avx512f")))
#define FG_INLINE static inline __attribute__((always_inline))

/* 1 if this CPU and OS run AVX-512F code (the OS must save the zmm state; both GCC's and
 * Clang's __builtin_cpu_supports check that through XGETBV). */
static int fg_gemm_cpu_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

/* Packing buffers: one per thread (a product may run without the GIL), kept between calls so
 * that steady-state training does not fault pages in again each step; their size is bounded
 * by the block sizes (a few MiB) and they are freed when the thread ends. */
static pthread_key_t fg_scratch_key;
static pthread_once_t fg_scratch_once = PTHREAD_ONCE_INIT;
static __thread void *fg_scratch_ptr = NULL;
static __thread size_t fg_scratch_bytes = 0;

static void fg_scratch_free(void *p) { free(p); }
static void fg_scratch_init(void) { pthread_key_create(&fg_scratch_key, fg_scratch_free); }

/* A 64-byte aligned buffer of at least `bytes` bytes for this thread, or NULL. */
static void *fg_scratch(size_t bytes)
{
    if (bytes <= fg_scratch_bytes) return fg_scratch_ptr;
    pthread_once(&fg_scratch_once, fg_scratch_init);
    void *p = NULL;
    bytes = (bytes + 4095) & ~(size_t)4095;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    free(fg_scratch_ptr);
    fg_scratch_ptr = p;
    fg_scratch_bytes = bytes;
    pthread_setspecific(fg_scratch_key, p);
    return p;
}

static inline ptrdiff_t fg_min(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }

/* Split `total` into the fewest blocks of at most `most`, of equal size rounded up to a
 * multiple of `unit` (so that k = KC + 1 is two half blocks, not a full one and a sliver). */
static inline ptrdiff_t fg_block(ptrdiff_t total, ptrdiff_t most, ptrdiff_t unit)
{
    ptrdiff_t blocks = (total + most - 1) / most;
    ptrdiff_t size = (total + blocks - 1) / blocks;
    size = (size + unit - 1) / unit * unit;
    return size < most ? size : most;
}

/* dst[c·ldd + r] = src[r·lds + c] for an 8×8 block of doubles (three rounds of shuffles). */
FG_INLINE FG_TARGET void fg_dtranspose(const double *src, ptrdiff_t lds, double *dst,
                                       ptrdiff_t ldd)
{
    __m512d t[8], v, w, v2, w2;
    for (int p = 0; p < 4; p++) {  /* t[2p + c], lane q: rows 2p, 2p+1 of column 2q + c */
        const __m512d r0 = _mm512_loadu_pd(src + 2 * p * lds);
        const __m512d r1 = _mm512_loadu_pd(src + (2 * p + 1) * lds);
        t[2 * p] = _mm512_unpacklo_pd(r0, r1);
        t[2 * p + 1] = _mm512_unpackhi_pd(r0, r1);
    }
    for (int c = 0; c < 2; c++) {
        v = _mm512_shuffle_f64x2(t[c], t[2 + c], 0x88);
        w = _mm512_shuffle_f64x2(t[c], t[2 + c], 0xDD);
        v2 = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0x88);
        w2 = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0xDD);
        _mm512_storeu_pd(dst + c * ldd, _mm512_shuffle_f64x2(v, v2, 0x88));
        _mm512_storeu_pd(dst + (4 + c) * ldd, _mm512_shuffle_f64x2(v, v2, 0xDD));
        _mm512_storeu_pd(dst + (2 + c) * ldd, _mm512_shuffle_f64x2(w, w2, 0x88));
        _mm512_storeu_pd(dst + (6 + c) * ldd, _mm512_shuffle_f64x2(w, w2, 0xDD));
    }
}

/* dst[c·ldd + r] = src[r·lds + c] for a 16×16 block of floats (four rounds of shuffles). */
FG_INLINE FG_TARGET void fg_stranspose(const float *src, ptrdiff_t lds, float *dst,
                                       ptrdiff_t ldd)
{
    __m512 t[16], u[16], v, w, v2, w2;
    for (int p = 0; p < 8; p++) {  /* t[2p], t[2p+1]: rows 2p, 2p+1 interleaved */
        const __m512 r0 = _mm512_loadu_ps(src + 2 * p * lds);
        const __m512 r1 = _mm512_loadu_ps(src + (2 * p + 1) * lds);
        t[2 * p] = _mm512_unpacklo_ps(r0, r1);
        t[2 * p + 1] = _mm512_unpackhi_ps(r0, r1);
    }
    for (int g = 0; g < 4; g++) {  /* u[4g + c], lane q: rows 4g..4g+3 of column 4q + c */
        const __m512d t0 = _mm512_castps_pd(t[4 * g]), t1 = _mm512_castps_pd(t[4 * g + 1]);
        const __m512d t2 = _mm512_castps_pd(t[4 * g + 2]), t3 = _mm512_castps_pd(t[4 * g + 3]);
        u[4 * g] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    for (int c = 0; c < 4; c++) {
        v = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
        w = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
        v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
        w2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        _mm512_storeu_ps(dst + c * ldd, _mm512_shuffle_f32x4(v, v2, 0x88));
        _mm512_storeu_ps(dst + (8 + c) * ldd, _mm512_shuffle_f32x4(v, v2, 0xDD));
        _mm512_storeu_ps(dst + (4 + c) * ldd, _mm512_shuffle_f32x4(w, w2, 0x88));
        _mm512_storeu_ps(dst + (12 + c) * ldd, _mm512_shuffle_f32x4(w, w2, 0xDD));
    }
}

/* Block sizes, in elements, for both types, chosen by measurement on Zen 5 (48 KiB L1d, 1 MiB
 * L2 per core) over the MLP shapes and 2048³: KC from 128 to 512, MC from 48 to 336 and NC
 * from 1024 to 4096 were all within ±5 % (the noise of this shared machine) except MC >= 240
 * at k ~ 1000, which lost 5-10 %; KC = 256 and MC = 96 keep a packed A block (96×256) in a
 * fifth of L2. */
#define FG_KC 256
#define FG_MC 96
#define FG_NC 2048
/* Read A in place (if its rows or columns are unit-stride) when n <= 512, and B (if its rows
 * are) when n <= 256 or m <= 64; pack otherwise. Measured: in place is 5-25 % faster at
 * n <= 256 for any m up to 2048 (the packing it saves is a large share when operands are
 * reused only n/NR or m/MR times), A in place still ~5 % faster at n = 512, both 5-15 % slower
 * at n >= 1024 and m >= 128; B in place 10-25 % faster at m <= 32, as fast at m = 64. */
#define FG_DIRECT_A(m, n, k) ((n) <= 512)
#define FG_DIRECT_B(m, n, k) ((n) <= 256 || (m) <= 64)
/* ... but pack B anyway if its rows are not 64-byte aligned (each vector load would then span
 * two cache lines: 5-25 % slower) and it is used by at least this many rows of A (measured:
 * packing pays from m = 64; below, it costs more than the split loads). */
#define FG_PACK_UNALIGNED_MIN_M 64

/* float64: 8 lanes per zmm */
#define FG_T double
#define FG_V __m512d
#define FG_M __mmask8
#define FG_LANES 8
#define FG_NAME(x) fg_d##x
#define FG_ZERO() _mm512_setzero_pd()
#define FG_SET1(x) _mm512_set1_pd(x)
#define FG_LOAD(p) _mm512_loadu_pd(p)
#define FG_STORE(p, v) _mm512_storeu_pd(p, v)
#define FG_MLOAD(m, p) _mm512_maskz_loadu_pd(m, p)
#define FG_MSTORE(p, m, v) _mm512_mask_storeu_pd(p, m, v)
#define FG_ADD(a, b) _mm512_add_pd(a, b)
#define FG_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define FG_TRANSPOSE fg_dtranspose
#include "gemm_typed.h"

/* float32: 16 lanes per zmm */
#define FG_T float
#define FG_V __m512
#define FG_M __mmask16
#define FG_LANES 16
#define FG_NAME(x) fg_s##x
#define FG_ZERO() _mm512_setzero_ps()
#define FG_SET1(x) _mm512_set1_ps(x)
#define FG_LOAD(p) _mm512_loadu_ps(p)
#define FG_STORE(p, v) _mm512_storeu_ps(p, v)
#define FG_MLOAD(m, p) _mm512_maskz_loadu_ps(m, p)
#define FG_MSTORE(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define FG_ADD(a, b) _mm512_add_ps(a, b)
#define FG_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define FG_TRANSPOSE fg_stranspose
#include "gemm_typed.h"

#else  /* not x86 with GCC/Clang: no kernel; callers use numpy */

static int fg_gemm_cpu_supported(void) { return 0; }

static int fg_dgemm(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const double *A, ptrdiff_t rsa,
                    ptrdiff_t csa, const double *B, ptrdiff_t rsb, ptrdiff_t csb, double *C,
                    ptrdiff_t rsc, ptrdiff_t csc, const double *bias, int accumulate)
{
    (void)m; (void)n; (void)k; (void)A; (void)rsa; (void)csa; (void)B; (void)rsb; (void)csb;
    (void)C; (void)rsc; (void)csc; (void)bias; (void)accumulate;
    return -1;
}

static int fg_sgemm(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t rsa,
                    ptrdiff_t csa, const float *B, ptrdiff_t rsb, ptrdiff_t csb, float *C,
                    ptrdiff_t rsc, ptrdiff_t csc, const float *bias, int accumulate)
{
    (void)m; (void)n; (void)k; (void)A; (void)rsa; (void)csa; (void)B; (void)rsb; (void)csb;
    (void)C; (void)rsc; (void)csc; (void)bias; (void)accumulate;
    return -1;
}

#endif  /* FG_GEMM_X86 */

#endif  /* FASTGRAD_GEMM_H */
