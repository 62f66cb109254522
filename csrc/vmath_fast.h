/* The table-driven float64 fast paths of exp, log, log1p and sigmoid for one dispatch level
 * (included by csrc/vmath_level.h after the element functions, with VM_LEVEL, VM_ATTR, VM_FMA
 * and VM_MADD_D defined). Each is valid only in the range its loop names (vmath_level.h): the
 * loops check each block of elements first and run a block holding anything else (zeros for log,
 * subnormals, overflow, ±inf, NaN) through the full element functions of vmath_body.h instead.
 * Tables and their construction: csrc/vmath_tables.h, tools/vmath_tables.py.
 * Against the full functions they save the long polynomials (a 2^(j/128) table leaves |r| <=
 * ln2/256 for exp) and log's division (a 1/c table leaves |r| < 2^-8); the table loads are
 * the loops' only gathers.
 */

/* e^x = 2^(q/128)·(1 + expm1(r)) for |x| < 704: q = round(128·x/ln2), r = x - q·ln2/128 (ln2/128
 * in two parts: q·hi is exact for |q| < 2^17); 2^(q/128)'s bits are a table entry plus q << 45 */
VM_INLINE VM_ATTR double VM_LEVEL(exp_tab)(double x)
{
    double z = VM_MADD_D(x, 184.6649652337873, 6755399441055744.0);  /* 128/ln2, 1.5·2^52 */
    double q = z - 6755399441055744.0;
    double r = VM_MADD_D(q, -6.93147180369123816490e-01 / 128, x);
    r = VM_MADD_D(q, -1.90821492927058770002e-10 / 128, r);
    uint64_t qi = vm_bits(z);
    double s = vm_from_bits(vm_exp_tab_d[qi & (VM_TAB_N - 1)] + (qi << 45));
    double r2 = r * r;
    double p = VM_MADD_D(r2, VM_MADD_D(r, 0.008333334787922985, 0.04166667684879449),
                         VM_MADD_D(r, 0.16666666666666533, 0.4999999999999907));
    p = VM_MADD_D(r2, p, r);  /* e^r - 1 = r + r²·Q(r) */
    return VM_MADD_D(s, p, s);
}

/* u = 2^k·z for normal u > 0, z in [OFF, 2·OFF): returns z; sets k (a double), kb = k + 1024
 * and invc, logc (the table row of z's interval) */
VM_INLINE VM_ATTR double VM_LEVEL(log_tab_reduce)(double u, double* k, uint64_t* kb,
                                                  double* invc, double* logc)
{
    uint64_t iu = vm_bits(u);
    uint64_t t = iu - VM_LOG_OFF_BITS;
    uint64_t i = (t >> 45) & (VM_TAB_N - 1);
    *kb = (t + (1ULL << 62)) >> 52;  /* k + 1024 >= 0: a logical shift (AVX2 has no 64-bit
                                        arithmetic one) */
    *k = vm_from_bits(*kb | 0x4330000000000000ULL) - (4503599627370496.0 + 1024.0);
    *invc = vm_log_invc_d[i];
    *logc = vm_log_logc_d[i];
    return vm_from_bits(iu - (t & 0xfff0000000000000ULL));
}

/* r = z·invc - 1 rounded once (an FMA; without FMA z is split so that both products are exact) */
VM_INLINE VM_ATTR double VM_LEVEL(log_tab_r)(double z, double invc)
{
#if VM_FMA
    return VM_MADD_D(z, invc, -1.0);
#else
    double zhi = vm_from_bits(vm_bits(z) & 0xfffffffffff00000ULL);  /* 33 significant bits */
    return (zhi * invc - 1.0) + (z - zhi) * invc;  /* invc has 20: both products exact */
#endif
}

/* log u + c/u for normal u > 0 (u = 1 + x rounded, c its rounding error): u = 2^k·z,
 * r = z·invc - 1, log u = k·ln2 + logc + log1p(r), log1p(r) = r + r²·P(r); c/u = c·2^-k·invc/(1 + r)
 * to first order in r (r² < 2^-16 of a term below half an ulp of u) */
VM_INLINE VM_ATTR double VM_LEVEL(log_tab_core)(double u, double c)
{
    double k, invc, logc;
    uint64_t kb;
    double z = VM_LEVEL(log_tab_reduce)(u, &k, &kb, &invc, &logc);
    double r = VM_LEVEL(log_tab_r)(z, invc);
    /* k·ln2_hi is exact; the rounding of hi and of the sums below is left uncompensated (2 ulp
     * at most; keeping hi's rounding error measured 1 ulp and 12% slower) */
    double hi = VM_MADD_D(k, 6.93147180369123816490e-01, logc);
    double r2 = r * r, r4 = r2 * r2;
    double p = VM_MADD_D(r4, VM_MADD_D(r, 0.14279708778447522, -0.1666696318883375),
                         VM_MADD_D(r2, VM_MADD_D(r, 0.20000000097882145, -0.24999999998238415),
                                   VM_MADD_D(r, 0.3333333333333304, -0.5)));
    double lo = VM_MADD_D(k, 1.90821492927058770002e-10, r2 * p);
    double ck = c * vm_from_bits((2047 - kb) << 52) * invc;  /* c·2^-k·invc */
    lo = lo + VM_MADD_D(ck, -r, ck);
    return hi + (r + lo);
}

/* log x for normal x > 0, from k, logc and r as above:
 * (k·ln2_hi + logc) + (r + k·ln2_lo + r²·P(r)), P by Horner's rule (the fewest operations: the
 * loop is bound by its arithmetic, not by latency). csrc/vmath_log_avx2.h computes the same
 * operations four at a time and must stay identical to this. */
VM_INLINE VM_ATTR double VM_LEVEL(log_tab_kr)(double k, double logc, double r)
{
    double hi = VM_MADD_D(k, 6.93147180369123816490e-01, logc);
    double p = VM_MADD_D(r, 0.14279708778447522, -0.1666696318883375);
    p = VM_MADD_D(r, p, 0.20000000097882145);
    p = VM_MADD_D(r, p, -0.24999999998238415);
    p = VM_MADD_D(r, p, 0.3333333333333304);
    p = VM_MADD_D(r, p, -0.5);
    return hi + VM_MADD_D(r * r, p, VM_MADD_D(k, 1.90821492927058770002e-10, r));
}

/* log x for normal x > 0 */
VM_INLINE VM_ATTR double VM_LEVEL(log_tab)(double x)
{
    double k, invc, logc;
    uint64_t kb;
    double z = VM_LEVEL(log_tab_reduce)(x, &k, &kb, &invc, &logc);
    return VM_LEVEL(log_tab_kr)(k, logc, VM_LEVEL(log_tab_r)(z, invc));
}

/* log(1 + x) for -1 < x < 2^1000 (x = ±0 keeps its sign) */
VM_INLINE VM_ATTR double VM_LEVEL(log1p_tab)(double x)
{
    double u = 1.0 + x;
    double y = VM_LEVEL(log_tab_core)(u, x - (u - 1.0));
    return x == 0 ? x : y;
}

/* σ(x) = 1/(1 + e) for x >= 0 and e/(1 + e) below, e = e^-|x|, for |x| < 704 */
VM_INLINE VM_ATTR double VM_LEVEL(sigmoid_tab)(double x)
{
    double e = VM_LEVEL(exp_tab)(-fabs(x));
    double r = 1.0 / (1.0 + e);
    return (x >= 0 ? 1.0 : e) * r;
}

/* Whether every x[i] lies in [lo, hi] (NaN does not): the blocks the fast paths take. The flag
 * is as wide as the elements, so that the vectorised loop needs no repacking. */
static VM_ATTR int VM_LEVEL(all_in)(const double* x, ptrdiff_t n, double lo, double hi)
{
    uint64_t out = 0;
    VM_IVDEP
    for (ptrdiff_t i = 0; i < n; i++)
        out |= (uint64_t)(!(x[i] >= lo) | !(x[i] <= hi));
    return !out;
}
