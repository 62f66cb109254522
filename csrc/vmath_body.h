/* The element functions of fastgrad's vectorisable transcendentals, for one floating type at one
 * dispatch level: included by csrc/vmath.h once per (level, type), with
 *   VM_T, VM_U       the float type and the unsigned integer of its width,
 *   VM_E(name)       the name of an element function for this level and type,
 *   VM_MADD(a, b, c) a·b + c (fused or not, by level),
 *   VM_BITS, VM_FROM_BITS, and the constants VM_K_* of the type (see vmath.h).
 * Every function is branch-free (selects only), so that the compiler vectorises the loops.
 */

/* expm1(r) = r + r²·Q(r) for |r| <= ln2/2 (Q: tools/vmath_coefficients.py) */
VM_INLINE VM_ATTR VM_T VM_E(expm1_poly)(VM_T r)
{
    VM_T q;
#if VM_SINGLE
    q = VM_MADD(r, (VM_T)0.00019890980869750327, (VM_T)0.0013933641031986701);
    q = VM_MADD(r, q, (VM_T)0.008333310934448869);
    q = VM_MADD(r, q, (VM_T)0.04166646500604005);
    q = VM_MADD(r, q, (VM_T)0.16666666681614256);
    q = VM_MADD(r, q, (VM_T)0.5000000013457727);
#else
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
#endif
    return VM_MADD(r * r, q, r);
}

/* k = round(x/ln2) and r = x - k·ln2 (ln2 in two parts: k·LN2_HI is exact for the k that
 * occur); returns r and sets *t to x/ln2 + 1.5·2^MANT, whose low bits hold k */
VM_INLINE VM_ATTR VM_T VM_E(reduce_ln2)(VM_T x, VM_T* t)
{
    VM_T tt = VM_MADD(x, VM_K_LOG2E, VM_K_SHIFT);
    VM_T k = tt - VM_K_SHIFT;
    VM_T r = VM_MADD(k, -VM_K_LN2_HI, x);
    *t = tt;
    return VM_MADD(k, -VM_K_LN2_LO, r);
}

/* e^x = 2^k·(1 + expm1(r)), 2^k applied as two normal factors so that subnormal results round
 * once; x is clamped to the range where e^x is finite and nonzero, and a little beyond, first
 * (overflow to inf, underflow to 0; NaN passes the clamps) */
VM_INLINE VM_ATTR VM_T VM_E(exp)(VM_T x)
{
    VM_T xc = x > VM_K_EXP_MAX ? VM_K_EXP_MAX : x;
    xc = xc < VM_K_EXP_MIN ? VM_K_EXP_MIN : xc;
    VM_T t;
    VM_T r = VM_E(reduce_ln2)(xc, &t);
    VM_T p = VM_E(expm1_poly)(r);
    /* k + 2·HALF >= 0: halve it with a logical shift (AVX2 has no 64-bit arithmetic shift) */
    VM_U kb = VM_BITS(t) - VM_BITS(VM_K_SHIFT) + 2 * VM_K_HALF;
    VM_U k1 = (kb >> 1) - VM_K_HALF + VM_K_BIAS;          /* biased exponent of 2^floor(k/2) */
    VM_U k2 = kb - (kb >> 1) - VM_K_HALF + VM_K_BIAS;     /* and of 2^(k - floor(k/2)) */
    VM_T s1 = VM_FROM_BITS(k1 << VM_K_MANT), s2 = VM_FROM_BITS(k2 << VM_K_MANT);
    return (((VM_T)1 + p) * s1) * s2;
}

/* e^a - 1 for 0 <= a <= TANH_CLAMP (the range tanh needs): 2^k·expm1(r) + (2^k - 1) */
VM_INLINE VM_ATTR VM_T VM_E(expm1_pos)(VM_T a)
{
    VM_T t;
    VM_T r = VM_E(reduce_ln2)(a, &t);
    VM_T p = VM_E(expm1_poly)(r);
    VM_T s = VM_FROM_BITS((VM_BITS(t) - VM_BITS(VM_K_SHIFT) + VM_K_BIAS) << VM_K_MANT);
    return VM_MADD(s, p, s - (VM_T)1);  /* s·p is exact (a power of two): one rounding either way */
}

/* tanh x = sign(x)·e/(e + 2), e = expm1(2|x|), 2|x| clamped where tanh has rounded to 1 */
VM_INLINE VM_ATTR VM_T VM_E(tanh)(VM_T x)
{
    VM_T a = (VM_T)2 * VM_FABS(x);
    a = a > VM_K_TANH_CLAMP ? VM_K_TANH_CLAMP : a;
    VM_T e = VM_E(expm1_pos)(a);
    return VM_COPYSIGN(e / (e + (VM_T)2), x);
}

/* σ(x) = 1/(1 + e) for x >= 0 and e/(1 + e) below, e = e^-|x| <= 1: nothing overflows */
VM_INLINE VM_ATTR VM_T VM_E(sigmoid)(VM_T x)
{
    VM_T e = VM_E(exp)(-VM_FABS(x));
    VM_T r = (VM_T)1 / ((VM_T)1 + e);
    return (x >= 0 ? (VM_T)1 : e) * r;  /* a select of operands, not of products: vectorises */
}

/* log(u) + c for finite u > 0 and a small correction c: u = 2^k·m, m in [√½, √2), f = m - 1,
 * s = f/(2 + f), log(1+f) = f - (f²/2 - s·(f²/2 + R(s²))) (fdlibm's arrangement) */
VM_INLINE VM_ATTR VM_T VM_E(log_core)(VM_T u, VM_T c)
{
    int sub = u < VM_K_MIN_NORMAL;  /* subnormal u: scale by 2^MANT first */
    VM_T us = u * (sub ? VM_K_TWO_MANT : (VM_T)1);
    VM_U ub = VM_BITS(us);
    VM_U ke = (ub + (VM_K_ONE_BITS - VM_K_SQRT_HALF_BITS)) >> VM_K_MANT;
    VM_T m = VM_FROM_BITS(ub - (ke << VM_K_MANT) + ((VM_U)VM_K_BIAS << VM_K_MANT));
    VM_T k = (VM_FROM_BITS(ke | VM_K_INT_MAGIC_BITS) - VM_K_TWO_MANT) - (VM_T)VM_K_BIAS;
    k = k - (sub ? (VM_T)VM_K_MANT : (VM_T)0);
    VM_T f = m - (VM_T)1;
    VM_T s = f / ((VM_T)2 + f);
    VM_T z = s * s;
    VM_T pz;
#if VM_SINGLE
    pz = VM_MADD(z, (VM_T)0.2957994939197279, (VM_T)0.3998878056602198);
    pz = VM_MADD(z, pz, (VM_T)0.6666668503957586);
#else
    pz = VM_MADD(z, 0.14616449685043406, 0.15331721600556042);
    pz = VM_MADD(z, pz, 0.18182889125261723);
    pz = VM_MADD(z, pz, 0.2222221113479508);
    pz = VM_MADD(z, pz, 0.28571428625975487);
    pz = VM_MADD(z, pz, 0.39999999999899505);
    pz = VM_MADD(z, pz, 0.666666666666667);
#endif
    VM_T R = z * pz;
    VM_T hfsq = (VM_T)0.5 * f * f;
    return k * VM_K_LN2_HI - ((hfsq - (s * (hfsq + R) + VM_MADD(k, VM_K_LN2_LO, c))) - f);
}

/* log x; log ±0 = -inf, log of x < 0 = NaN, log inf = inf */
VM_INLINE VM_ATTR VM_T VM_E(log)(VM_T x)
{
    VM_T y = VM_E(log_core)(x, (VM_T)0);
    y = x == (VM_T)VM_INF ? x : y;
    y = x == 0 ? -(VM_T)VM_INF : y;
    y = x < 0 ? (VM_T)VM_NAN : y;
    return x != x ? x : y;
}

/* log(1 + x) = log u + (x - (u - 1))/u with u = 1 + x rounded (the bracket is the rounding
 * error of u, exact); log1p ±0 = ±0, log1p -1 = -inf, below -1 NaN */
VM_INLINE VM_ATTR VM_T VM_E(log1p)(VM_T x)
{
    VM_T u = (VM_T)1 + x;
    VM_T y = VM_E(log_core)(u, (x - (u - (VM_T)1)) / u);
    y = x == (VM_T)VM_INF ? x : y;
    y = x == 0 ? x : y;
    y = x == (VM_T)-1 ? -(VM_T)VM_INF : y;
    y = x < (VM_T)-1 ? (VM_T)VM_NAN : y;
    return x != x ? x : y;
}
