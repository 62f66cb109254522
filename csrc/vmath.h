/* fastgrad's vectorisable exp, log, log1p, tanh and sigmoid for float64 and float32 arrays.
 *
 * Method: range reduction to |r| <= ln2/2 (exp, expm1) or to m in [√½, √2) (log), then
 * near-minimax polynomials (coefficients from tools/vmath_coefficients.py), with special values
 * (±0, subnormals, overflow and underflow, ±inf, NaN) chosen by selects, not branches, so that
 * the compiler vectorises the loops. float32 has its own float arithmetic (shorter polynomials,
 * twice the lanes of float64), written once with float64's in vmath_body.h. The measured error
 * bounds are in fastgrad/_py/vmath.py (ULP_BOUNDS) and the README; tests/test_vmath.py checks
 * them.
 *
 * Dispatch: the element functions and loops (csrc/vmath_level.h) are compiled once per level:
 * baseline (whatever the build targets: SSE2 on x86-64, NEON on arm64; no FMA), and on x86-64
 * with GCC or Clang also AVX2+FMA and AVX-512 (F, DQ, VL, BW), which use explicit fused
 * multiply-adds (setup.py compiles with -ffp-contract=off, so nothing is fused implicitly). The
 * AVX2 and AVX-512 levels give identical results; baseline can differ from them by rounding
 * within the bounds. vm_kernels_for(level) returns a level's table; fastgrad._cy.vmath picks the
 * best level the CPU supports once at import (FASTGRAD_SIMD=baseline|avx2|avx512 lowers it).
 */
#ifndef FASTGRAD_VMATH_H
#define FASTGRAD_VMATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef void (*vm_f64_fn)(double*, const double*, ptrdiff_t);
typedef void (*vm_f32_fn)(float*, const float*, ptrdiff_t);

typedef struct {
    vm_f64_fn exp_f64, log_f64, log1p_f64, tanh_f64, sigmoid_f64;
    vm_f32_fn exp_f32, log_f32, log1p_f32, tanh_f32, sigmoid_f32;
} vm_kernels;

enum { VM_BASELINE = 0, VM_AVX2 = 1, VM_AVX512 = 2 };

#define VM_INF ((double)INFINITY)
#define VM_NAN ((double)NAN)

/* GCC will not if-convert a select whose arm could raise an FP exception (e.g. a clamped
 * argument's constant overflow, folded on one path), so with its default -ftrapping-math it
 * leaves these loops scalar. -fno-trapping-math changes no value (it is not -ffast-math: IEEE
 * rounding, NaN, inf and signed zeros are kept); it only lets FP status flags be raised by
 * speculated operations, which the kernels never read: they select special values explicitly. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#define VM_POP_OPTIONS 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define VM_INLINE static inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define VM_INLINE static __forceinline  /* MSVC's C has no `inline` before C11 mode */
#else
#define VM_INLINE static inline
#endif

/* the loops' o and x are the same array or do not overlap: no run-time alias check needed */
#if defined(__clang__)
#define VM_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define VM_IVDEP _Pragma("GCC ivdep")
#else
#define VM_IVDEP
#endif

VM_INLINE uint64_t vm_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

VM_INLINE double vm_from_bits(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

VM_INLINE uint32_t vm_bits_f(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

VM_INLINE float vm_from_bits_f(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#include "vmath_tables.h"

/* ---- baseline: no target attribute, no FMA */
#define VM_LEVEL(name) vm_base_##name
#define VM_ATTR
#define VM_FMA 0
#include "vmath_level.h"
#undef VM_LEVEL
#undef VM_ATTR
#undef VM_FMA

/* FASTGRAD_VMATH_NO_DISPATCH builds the baseline alone (what other CPUs and compilers get) */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__)) \
    && !defined(FASTGRAD_VMATH_NO_DISPATCH)
#define VM_X86_DISPATCH 1
#include <immintrin.h>

#define VM_LEVEL(name) vm_avx2_##name
#define VM_ATTR __attribute__((target("avx2,fma")))
#define VM_FMA 1
#define VM_LOG_AVX2 1
#include "vmath_level.h"
#undef VM_LEVEL
#undef VM_ATTR
#undef VM_LOG_AVX2

#define VM_LEVEL(name) vm_avx512_##name
#if defined(__clang__)
#define VM_ATTR __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma"), \
                                      min_vector_width(512)))
#else
#define VM_ATTR __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma," \
                                      "prefer-vector-width=512")))
#endif
#define VM_LOG_AVX2 2  /* float64 log: the AVX2 level's loop (see vmath_log_avx2.h) */
#include "vmath_level.h"
#undef VM_LEVEL
#undef VM_ATTR
#undef VM_FMA
#undef VM_LOG_AVX2
#endif

/* The highest level this CPU (and OS) runs. */
static int vm_supported_level(void)
{
#ifdef VM_X86_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("fma"))
        return VM_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return VM_AVX2;
#endif
    return VM_BASELINE;
}

/* The kernels of one level (the caller keeps level <= vm_supported_level()). */
static const vm_kernels* vm_kernels_for(int level)
{
#ifdef VM_X86_DISPATCH
    if (level >= VM_AVX512)
        return &vm_avx512_kernels;
    if (level == VM_AVX2)
        return &vm_avx2_kernels;
#endif
    (void)level;
    return &vm_base_kernels;
}

#ifdef VM_POP_OPTIONS
#pragma GCC pop_options
#undef VM_POP_OPTIONS
#endif

#endif
