/* One dispatch level of fastgrad's vectorised transcendentals (included by csrc/vmath.h once per
 * level, with VM_LEVEL(name), VM_ATTR and VM_FMA defined): the element functions of
 * vmath_body.h for double and for float, the array loops, and the level's table. VM_LOG_AVX2
 * (1 in the AVX2 level, 2 in the AVX-512 level) makes float64 log the AVX2 loop of
 * vmath_log_avx2.h, which the AVX2 level defines; the AVX2 level's float32 exp and log are the
 * loops of vmath_f32_avx2.h (the AVX-512 level keeps its 16-wide compiled loops). */

#if VM_FMA
#define VM_MADD_D(a, b, c) __builtin_fma((a), (b), (c))
#define VM_MADD_F(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define VM_MADD_D(a, b, c) ((a) * (b) + (c))
#define VM_MADD_F(a, b, c) ((a) * (b) + (c))
#endif

/* ---- double: 52-bit mantissa, exponent bias 1023 */
#define VM_T double
#define VM_U uint64_t
#define VM_SINGLE 0
#define VM_E(name) VM_LEVEL(name##_d)
#define VM_MADD VM_MADD_D
#define VM_BITS vm_bits
#define VM_FROM_BITS vm_from_bits
#define VM_FABS fabs
#define VM_COPYSIGN copysign
#define VM_K_LOG2E 1.4426950408889634
#define VM_K_LN2_HI 6.93147180369123816490e-01 /* 0x3fe62e42fee00000: 32 significant bits */
#define VM_K_LN2_LO 1.90821492927058770002e-10
#define VM_K_SHIFT 6755399441055744.0          /* 1.5·2^52: adding it rounds to an integer */
#define VM_K_MANT 52
#define VM_K_BIAS 1023
#define VM_K_HALF 1024                          /* > |k|/2 for every k that occurs */
#define VM_K_EXP_MAX 709.8                      /* e^x overflows above 709.79 */
#define VM_K_EXP_MIN -746.0                     /* and rounds to 0 below -745.14 */
#define VM_K_TANH_CLAMP 44.0                    /* tanh rounds to 1 from |x| = 19.1 */
#define VM_K_MIN_NORMAL 2.2250738585072014e-308
#define VM_K_TWO_MANT 4503599627370496.0        /* 2^52 */
#define VM_K_ONE_BITS 0x3ff0000000000000ULL
#define VM_K_SQRT_HALF_BITS 0x3fe6a09e667f3bcdULL
#define VM_K_INT_MAGIC_BITS 0x4330000000000000ULL /* 2^52: its low mantissa bits hold an int */
#include "vmath_body.h"
#undef VM_T
#undef VM_U
#undef VM_SINGLE
#undef VM_E
#undef VM_MADD
#undef VM_BITS
#undef VM_FROM_BITS
#undef VM_FABS
#undef VM_COPYSIGN
#undef VM_K_LOG2E
#undef VM_K_LN2_HI
#undef VM_K_LN2_LO
#undef VM_K_SHIFT
#undef VM_K_MANT
#undef VM_K_BIAS
#undef VM_K_HALF
#undef VM_K_EXP_MAX
#undef VM_K_EXP_MIN
#undef VM_K_TANH_CLAMP
#undef VM_K_MIN_NORMAL
#undef VM_K_TWO_MANT
#undef VM_K_ONE_BITS
#undef VM_K_SQRT_HALF_BITS
#undef VM_K_INT_MAGIC_BITS

/* ---- float: 23-bit mantissa, exponent bias 127 */
#define VM_T float
#define VM_U uint32_t
#define VM_SINGLE 1
#define VM_E(name) VM_LEVEL(name##_f)
#define VM_MADD VM_MADD_F
#define VM_BITS vm_bits_f
#define VM_FROM_BITS vm_from_bits_f
#define VM_FABS fabsf
#define VM_COPYSIGN copysignf
#define VM_K_LOG2E 1.44269504f
#define VM_K_LN2_HI 0.693359375f                /* 0x3f318000: 9 significant bits */
#define VM_K_LN2_LO -2.12194440e-4f
#define VM_K_SHIFT 12582912.0f                  /* 1.5·2^23 */
#define VM_K_MANT 23
#define VM_K_BIAS 127
#define VM_K_HALF 128
#define VM_K_EXP_MAX 89.0f                      /* e^x overflows above 88.73 */
#define VM_K_EXP_MIN -104.0f                    /* and rounds to 0 below -103.98 */
#define VM_K_TANH_CLAMP 20.0f                   /* tanh rounds to 1 from |x| = 9.01 */
#define VM_K_MIN_NORMAL 1.17549435e-38f
#define VM_K_TWO_MANT 8388608.0f                /* 2^23 */
#define VM_K_ONE_BITS 0x3f800000U
#define VM_K_SQRT_HALF_BITS 0x3f3504f3U
#define VM_K_INT_MAGIC_BITS 0x4b000000U         /* 2^23 */
#include "vmath_body.h"
#undef VM_T
#undef VM_U
#undef VM_SINGLE
#undef VM_E
#undef VM_MADD
#undef VM_BITS
#undef VM_FROM_BITS
#undef VM_FABS
#undef VM_COPYSIGN
#undef VM_K_LOG2E
#undef VM_K_LN2_HI
#undef VM_K_LN2_LO
#undef VM_K_SHIFT
#undef VM_K_MANT
#undef VM_K_BIAS
#undef VM_K_HALF
#undef VM_K_EXP_MAX
#undef VM_K_EXP_MIN
#undef VM_K_TANH_CLAMP
#undef VM_K_MIN_NORMAL
#undef VM_K_TWO_MANT
#undef VM_K_ONE_BITS
#undef VM_K_SQRT_HALF_BITS
#undef VM_K_INT_MAGIC_BITS
#include "vmath_fast.h"
#undef VM_MADD_D
#undef VM_MADD_F

/* The array loops: o[i] = f(x[i]); o may be x (in place), never a partial overlap. */
#define VM_F64_LOOP(name)                                                                    \
    static VM_ATTR void VM_LEVEL(name##_f64)(double* o, const double* x, ptrdiff_t n)        \
    {                                                                                        \
        VM_IVDEP                                                                             \
        for (ptrdiff_t i = 0; i < n; i++)                                                    \
            o[i] = VM_LEVEL(name##_d)(x[i]);                                                 \
    }
#define VM_F32_LOOP(name)                                                                    \
    static VM_ATTR void VM_LEVEL(name##_f32)(float* o, const float* x, ptrdiff_t n)          \
    {                                                                                        \
        VM_IVDEP                                                                             \
        for (ptrdiff_t i = 0; i < n; i++)                                                    \
            o[i] = VM_LEVEL(name##_f)(x[i]);                                                 \
    }

/* float64 by blocks: a block whose elements all lie in [LO, HI] runs the fast path name##_tab
 * (vmath_fast.h), any other block the full element functions. (float32 keeps the element
 * functions: computing it through the float64 fast paths measured slower.) */
#define VM_BLOCK 512
#define VM_F64_TAB_LOOP(name, LO, HI)                                                        \
    static VM_ATTR void VM_LEVEL(name##_f64)(double* o, const double* x, ptrdiff_t n)        \
    {                                                                                        \
        for (ptrdiff_t s = 0; s < n; s += VM_BLOCK) {                                        \
            ptrdiff_t m = n - s < VM_BLOCK ? n - s : VM_BLOCK;                               \
            const double* xs = x + s;                                                        \
            double* os = o + s;                                                              \
            if (VM_LEVEL(all_in)(xs, m, LO, HI)) {                                           \
                VM_IVDEP                                                                     \
                for (ptrdiff_t i = 0; i < m; i++)                                            \
                    os[i] = VM_LEVEL(name##_tab)(xs[i]);                                     \
            } else {                                                                         \
                VM_IVDEP                                                                     \
                for (ptrdiff_t i = 0; i < m; i++)                                            \
                    os[i] = VM_LEVEL(name##_d)(xs[i]);                                       \
            }                                                                                \
        }                                                                                    \
    }

/* the fast paths' ranges: e^x normal; log's argument normal; log1p's 1 + x and 2^-k normal */
VM_F64_TAB_LOOP(exp, -704.0, 704.0)
#if defined(VM_LOG_AVX2) && VM_LOG_AVX2 == 1
#include "vmath_log_avx2.h"
#endif
#ifdef VM_LOG_AVX2  /* the AVX2 and AVX-512 levels: the explicit AVX2 loop */
#define VM_LOG_F64 vm_avx2_log_f64_blocks
#else
VM_F64_TAB_LOOP(log, 2.2250738585072014e-308, 1.7976931348623157e308)
#define VM_LOG_F64 VM_LEVEL(log_f64)
#endif
VM_F64_TAB_LOOP(log1p, -0.99999999999999989, 1.0715086071862673e301)
VM_F64_TAB_LOOP(sigmoid, -704.0, 704.0)
VM_F64_LOOP(tanh)
#if defined(VM_LOG_AVX2) && VM_LOG_AVX2 == 1  /* the AVX2 level: float32 exp, log in intrinsics */
#include "vmath_f32_avx2.h"
#define VM_EXP_F32 vm_avx2_exp_f32_x8
#define VM_LOG_F32 vm_avx2_log_f32_x8
#else
VM_F32_LOOP(exp)
VM_F32_LOOP(log)
#define VM_EXP_F32 VM_LEVEL(exp_f32)
#define VM_LOG_F32 VM_LEVEL(log_f32)
#endif
VM_F32_LOOP(log1p)
VM_F32_LOOP(tanh)
VM_F32_LOOP(sigmoid)
#undef VM_F64_LOOP
#undef VM_F32_LOOP
#undef VM_F64_TAB_LOOP
#undef VM_BLOCK

static const vm_kernels VM_LEVEL(kernels) = {
    VM_LEVEL(exp_f64), VM_LOG_F64, VM_LEVEL(log1p_f64), VM_LEVEL(tanh_f64),
    VM_LEVEL(sigmoid_f64),
    VM_EXP_F32, VM_LOG_F32, VM_LEVEL(log1p_f32), VM_LEVEL(tanh_f32),
    VM_LEVEL(sigmoid_f32),
};
#undef VM_LOG_F64
#undef VM_EXP_F32
#undef VM_LOG_F32
