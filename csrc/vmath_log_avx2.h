/* float64 log with explicit AVX2+FMA intrinsics, four elements a vector (included by
 * csrc/vmath.h after the AVX2 level, whose vm_avx2_log_tab, vm_avx2_log_d and vm_avx2_all_in
 * it uses). It computes the operations of vm_avx2_log_tab (csrc/vmath_fast.h) and gives the
 * same results bit for bit; what differs is how it finds the table rows. The compiler's loop
 * loads invc and logc with two 4-element gathers, which cost about half of its time here; this
 * one reads each element's row number with a 16-bit scalar load of x and one mask (bits 44..51
 * of x index vm_log_pairs_d directly, csrc/vmath_tables.h) and loads invc and logc together in
 * one 16-byte load, two rows to an insert and two unpacks. The AVX-512 level uses this loop
 * too: it measured faster than the 8-wide gather loop on an AVX-512 CPU.
 */

/* log x for 4 normal x > 0 (v holds xs[0..3]) */
static inline __attribute__((always_inline, target("avx2,fma")))
__m256d vm_avx2_log4(__m256d v, const double* xs)
{
    const char* rows = (const char*)vm_log_pairs_d;
    const char* xb = (const char*)xs;
    uint16_t w0, w1, w2, w3;  /* bits 40..55 of each x; & 0xff0: bits 44..51 times 16 bytes */
    memcpy(&w0, xb + 5, 2);
    memcpy(&w1, xb + 13, 2);
    memcpy(&w2, xb + 21, 2);
    memcpy(&w3, xb + 29, 2);
    __m256d a = _mm256_insertf128_pd(
        _mm256_castpd128_pd256(_mm_loadu_pd((const double*)(rows + (w0 & 0xff0)))),
        _mm_loadu_pd((const double*)(rows + (w2 & 0xff0))), 1);
    __m256d b = _mm256_insertf128_pd(
        _mm256_castpd128_pd256(_mm_loadu_pd((const double*)(rows + (w1 & 0xff0)))),
        _mm_loadu_pd((const double*)(rows + (w3 & 0xff0))), 1);
    __m256d invc = _mm256_unpacklo_pd(a, b), logc = _mm256_unpackhi_pd(a, b);
    /* t = x - OFF + 2^62 (bits): k + 1024 = t >> 52, z = OFF + t's low 52 bits */
    __m256i t = _mm256_add_epi64(_mm256_castpd_si256(v),
                                 _mm256_set1_epi64x((long long)((1ULL << 62) - VM_LOG_OFF_BITS)));
    __m256d k = _mm256_sub_pd(
        _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(t, 52),
                                            _mm256_set1_epi64x(0x4330000000000000LL))),
        _mm256_set1_pd(4503599627370496.0 + 1024.0));
    __m256d z = _mm256_castsi256_pd(
        _mm256_add_epi64(_mm256_and_si256(t, _mm256_set1_epi64x(0x000fffffffffffffLL)),
                         _mm256_set1_epi64x((long long)VM_LOG_OFF_BITS)));
    __m256d r = _mm256_fmadd_pd(z, invc, _mm256_set1_pd(-1.0));
    /* vm_avx2_log_tab_kr, operation for operation */
    __m256d hi = _mm256_fmadd_pd(k, _mm256_set1_pd(6.93147180369123816490e-01), logc);
    __m256d p = _mm256_fmadd_pd(r, _mm256_set1_pd(0.14279708778447522),
                                _mm256_set1_pd(-0.1666696318883375));
    p = _mm256_fmadd_pd(r, p, _mm256_set1_pd(0.20000000097882145));
    p = _mm256_fmadd_pd(r, p, _mm256_set1_pd(-0.24999999998238415));
    p = _mm256_fmadd_pd(r, p, _mm256_set1_pd(0.3333333333333304));
    p = _mm256_fmadd_pd(r, p, _mm256_set1_pd(-0.5));
    __m256d lo = _mm256_fmadd_pd(k, _mm256_set1_pd(1.90821492927058770002e-10), r);
    return _mm256_add_pd(hi, _mm256_fmadd_pd(_mm256_mul_pd(r, r), p, lo));
}

/* o[:m] = log x[:m] if every x[i] is normal and positive (then returns 1); else returns 0 and
 * o[:m] holds garbage. The check rides along: x's bits + 0x7ff0...0 lie in [INT64_MIN,
 * 0xffdf...f] exactly for normal positive x, so the running maximum of their high 32-bit
 * halves (signed) says whether any x was not. */
static __attribute__((target("avx2,fma")))
int vm_avx2_log_block(double* o, const double* x, ptrdiff_t m)
{
    const __m256i shift = _mm256_set1_epi64x(0x7ff0000000000000LL);
    __m256i top = _mm256_set1_epi32(INT32_MIN);
    ptrdiff_t i = 0;
    for (; i + 4 <= m; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i);
        top = _mm256_max_epi32(top, _mm256_add_epi64(_mm256_castpd_si256(v), shift));
        _mm256_storeu_pd(o + i, vm_avx2_log4(v, x + i));
    }
    __m256i over = _mm256_cmpgt_epi32(top, _mm256_set1_epi32((int)0xffdfffff));
    if (_mm256_movemask_ps(_mm256_castsi256_ps(over)) & 0xaa)  /* the high halves */
        return 0;
    for (; i < m; i++) {
        if (!(x[i] >= 2.2250738585072014e-308 && x[i] <= 1.7976931348623157e308))
            return 0;
        o[i] = vm_avx2_log_tab(x[i]);
    }
    return 1;
}

/* log x elementwise, by blocks of VM_LOG_BLOCK as the other levels' loops (vmath_level.h): a
 * block holding anything but normal positive numbers runs the full vm_avx2_log_d. In place
 * (o == x) a block is checked before it is written, since the full path needs x. */
#define VM_LOG_BLOCK 512
static __attribute__((target("avx2,fma")))
void vm_avx2_log_f64_blocks(double* o, const double* x, ptrdiff_t n)
{
    for (ptrdiff_t s = 0; s < n; s += VM_LOG_BLOCK) {
        ptrdiff_t m = n - s < VM_LOG_BLOCK ? n - s : VM_LOG_BLOCK;
        const double* xs = x + s;
        double* os = o + s;
        int fast = o != x || vm_avx2_all_in(xs, m, 2.2250738585072014e-308,
                                            1.7976931348623157e308);
        if (fast && vm_avx2_log_block(os, xs, m))
            continue;
        VM_IVDEP
        for (ptrdiff_t i = 0; i < m; i++)
            os[i] = vm_avx2_log_d(xs[i]);
    }
}
#undef VM_LOG_BLOCK
