/* One dispatch level of fastgrad's vectorisable transcendentals (included by csrc/vmath.h once
 * per level, with VM(name), VM_ATTR and VM_MADD defined; see that file for the method).
 *
 * Every element function is branch-free (selects only), so that GCC and Clang vectorise the
 * array loops at the end; `single` is a compile-time constant after inlining: 1 evaluates the
 * shorter polynomials that a float32 result needs (the arithmetic is still double).
 */

/* expm1(r) = r + r²·Q(r) for |r| <= ln2/2 (Q: tools/vmath_coefficients.py) */
VM_INLINE VM_ATTR double VM(expm1_poly)(double r, int single)
{
    double q;
    if (single) {
        q = VM_MADD(r, 0.00019890980869750327, 0.0013933641031986701);
        q = VM_MADD(r, q, 0.008333310934448869);
        q = VM_MADD(r, q, 0.04166646500604005);
        q = VM_MADD(r, q, 0.16666666681614256);
        q = VM_MADD(r, q, 0.5000000013457727);
    } else {
        q = VM_MADD(r, 2.0914679376583935e-09, 2.510520637395701e-08);
        q = VM_MADD(r, q, 2.7557273661348637e-07);
        q = VM_MADD(r, q, 2.7557255425746435e-06);
        q = VM_MADD(r, q, 2.4801587325533363e-05);
        q = VM_MADD(r, q, 0.00019841269874800493);
        q = VM_MADD(r, q, 0.0013888888888883752);
        q = VM_MADD(r, q, 0.008333333333326141);
        q = VM_MADD(r, q, 0.04166666666666667);
        q = VM_MADD(r, q, 0.1666666666666667);
        q = VM_MADD(r, q, 0.5);
    }
    return VM_MADD(r * r, q, r);
}

/* k = round(x/ln2) and r = x - k·ln2 (ln2 in two parts: k·LN2_HI is exact for |k| < 2^11);
 * returns r and sets *t to x/ln2 + 1.5·2^52, whose low bits hold k */
VM_INLINE VM_ATTR double VM(reduce_ln2)(double x, double* t)
{
    double tt = VM_MADD(x, VM_LOG2E, VM_SHIFT);
    double k = tt - VM_SHIFT;
    double r = VM_MADD(k, -VM_LN2_HI, x);
    *t = tt;
    return VM_MADD(k, -VM_LN2_LO, r);
}

/* e^x: 2^k·(1 + expm1(r)), 2^k applied as two normal factors so that subnormal results round
 * once; x is clamped to [-746, 709.8] first (overflow to inf, underflow to 0, NaN passes) */
VM_INLINE VM_ATTR double VM(exp_elem)(double x, int single)
{
    double xc = x > 709.8 ? 709.8 : x;
    xc = xc < -746.0 ? -746.0 : xc;
    double t;
    double r = VM(reduce_ln2)(xc, &t);
    double p = VM(expm1_poly)(r, single);
    /* k + 2048 >= 0: halve it with a logical shift (AVX2 has no 64-bit arithmetic shift) */
    uint64_t kb = vm_bits(t) - vm_bits(VM_SHIFT) + 2048;
    uint64_t k1 = (kb >> 1) - 1024 + 1023;          /* biased exponent of 2^floor(k/2) */
    uint64_t k2 = kb - (kb >> 1) - 1024 + 1023;     /* biased exponent of 2^(k - floor(k/2)) */
    double s1 = vm_from_bits(k1 << 52), s2 = vm_from_bits(k2 << 52);
    return ((1.0 + p) * s1) * s2;
}

/* e^a - 1 for 0 <= a <= 44 (the range tanh needs): 2^k·expm1(r) + (2^k - 1) */
VM_INLINE VM_ATTR double VM(expm1_pos)(double a, int single)
{
    double t;
    double r = VM(reduce_ln2)(a, &t);
    double p = VM(expm1_poly)(r, single);
    double s = vm_from_bits((vm_bits(t) - vm_bits(VM_SHIFT) + 1023) << 52);
    return VM_MADD(s, p, s - 1.0);  /* s·p is exact (a power of two): one rounding either way */
}

/* tanh x = sign(x)·e/(e + 2), e = expm1(2|x|) (|x| clamped to 22, where tanh rounds to 1) */
VM_INLINE VM_ATTR double VM(tanh_elem)(double x, int single)
{
    double a = 2.0 * fabs(x);
    a = a > 44.0 ? 44.0 : a;
    double e = VM(expm1_pos)(a, single);
    return copysign(e / (e + 2.0), x);
}

/* σ(x) = 1/(1 + e) for x >= 0 and e/(1 + e) below, e = e^-|x| <= 1: nothing overflows */
VM_INLINE VM_ATTR double VM(sigmoid_elem)(double x, int single)
{
    double e = VM(exp_elem)(-fabs(x), single);
    double r = 1.0 / (1.0 + e);
    return (x >= 0 ? 1.0 : e) * r;  /* a select of operands, not of products: vectorises */
}

/* log(u) + c for finite u > 0 and a small correction c: u = 2^k·m, m in [√½, √2), f = m - 1,
 * s = f/(2 + f), log(1+f) = f - (f²/2 - s·(f²/2 + R(s²))) (fdlibm's arrangement) */
VM_INLINE VM_ATTR double VM(log_core)(double u, double c, int single)
{
    int sub = u < 2.2250738585072014e-308;
    double us = u * (sub ? 4503599627370496.0 : 1.0);  /* subnormal u: scale by 2^52 first */
    uint64_t ub = vm_bits(us);
    uint64_t ke = (ub + (0x3ff0000000000000ULL - 0x3fe6a09e667f3bcdULL)) >> 52;
    double m = vm_from_bits(ub - (ke << 52) + (1023ULL << 52));
    double k = (vm_from_bits(ke | 0x4330000000000000ULL) - 4503599627370496.0) - 1023.0;
    k = k - (sub ? 52.0 : 0.0);
    double f = m - 1.0;
    double s = f / (2.0 + f);
    double z = s * s;
    double pz;
    if (single) {
        pz = VM_MADD(z, 0.2957994939197279, 0.3998878056602198);
        pz = VM_MADD(z, pz, 0.6666668503957586);
    } else {
        pz = VM_MADD(z, 0.14616449685043406, 0.15331721600556042);
        pz = VM_MADD(z, pz, 0.18182889125261723);
        pz = VM_MADD(z, pz, 0.2222221113479508);
        pz = VM_MADD(z, pz, 0.28571428625975487);
        pz = VM_MADD(z, pz, 0.39999999999899505);
        pz = VM_MADD(z, pz, 0.666666666666667);
    }
    double R = z * pz;
    double hfsq = 0.5 * f * f;
    return k * VM_LN2_HI - ((hfsq - (s * (hfsq + R) + VM_MADD(k, VM_LN2_LO, c))) - f);
}

/* log x; log 0 = -inf, log of x < 0 = NaN, log inf = inf */
VM_INLINE VM_ATTR double VM(log_elem)(double x, int single)
{
    double y = VM(log_core)(x, 0.0, single);
    y = x == VM_INF ? x : y;
    y = x == 0 ? -VM_INF : y;
    y = x < 0 ? VM_NAN : y;
    return x != x ? x : y;
}

/* log(1 + x) = log u + (x - (u - 1))/u with u = 1 + x rounded (the bracket is the rounding
 * error of u, exact); log1p ±0 = ±0, log1p -1 = -inf, below -1 NaN */
VM_INLINE VM_ATTR double VM(log1p_elem)(double x, int single)
{
    double u = 1.0 + x;
    double y = VM(log_core)(u, (x - (u - 1.0)) / u, single);
    y = x == VM_INF ? x : y;
    y = x == 0 ? x : y;
    y = x == -1.0 ? -VM_INF : y;
    y = x < -1.0 ? VM_NAN : y;
    return x != x ? x : y;
}

/* The array loops: o[i] = f(x[i]); o may be x (in place), never a partial overlap. */
#define VM_LOOPS(name)                                                                       \
    static VM_ATTR void VM(name##_f64)(double* o, const double* x, ptrdiff_t n)              \
    {                                                                                        \
        VM_IVDEP                                                                             \
        for (ptrdiff_t i = 0; i < n; i++)                                                    \
            o[i] = VM(name##_elem)(x[i], 0);                                                 \
    }                                                                                        \
    static VM_ATTR void VM(name##_f32)(float* o, const float* x, ptrdiff_t n)                \
    {                                                                                        \
        VM_IVDEP                                                                             \
        for (ptrdiff_t i = 0; i < n; i++)                                                    \
            o[i] = (float)VM(name##_elem)((double)x[i], 1);                                  \
    }

VM_LOOPS(exp)
VM_LOOPS(log)
VM_LOOPS(log1p)
VM_LOOPS(tanh)
VM_LOOPS(sigmoid)
#undef VM_LOOPS

static const vm_kernels VM(kernels) = {
    VM(exp_f64), VM(log_f64), VM(log1p_f64), VM(tanh_f64), VM(sigmoid_f64),
    VM(exp_f32), VM(log_f32), VM(log1p_f32), VM(tanh_f32), VM(sigmoid_f32),
};
