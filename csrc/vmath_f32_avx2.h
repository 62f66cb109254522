/* float32 e^x and log x with explicit AVX2+FMA intrinsics, eight elements a vector (included by
 * csrc/vmath_level.h in the AVX2 level, after the element functions). They compute the
 * operations of vm_avx2_exp_f and vm_avx2_log_f (vmath_body.h, with the float constants of
 * vmath_level.h) and give the same results bit for bit; tests/test_vmath.py compares them with
 * the AVX-512 level's compiled loops. What differs is the selects GCC makes of the portable code:
 * exp's two clamps (which must let NaN through) become four compares, three logic operations
 * and two blends there, one max and one min here (vmaxps/vminps return their second operand when
 * either is NaN); log computes its reduction twice (scaled for subnormals and not) and blends,
 * then blends four special cases, where here a vector of normal positive numbers skips all of
 * that and any other vector runs vm_avx2_log_f element by element.
 */

/* e^x for 8 floats */
static inline __attribute__((always_inline, target("avx2,fma")))
__m256 vm_avx2_exp8(__m256 x)
{
    __m256 xc = _mm256_max_ps(_mm256_set1_ps(-104.0f), x);  /* EXP_MIN; NaN: x */
    xc = _mm256_min_ps(_mm256_set1_ps(89.0f), xc);          /* EXP_MAX */
    /* reduce_ln2: t = x/ln2 + 1.5·2^23 (its low bits hold k), r = x - k·ln2 in two parts */
    __m256 t = _mm256_fmadd_ps(xc, _mm256_set1_ps(1.44269504f), _mm256_set1_ps(12582912.0f));
    __m256 k = _mm256_sub_ps(t, _mm256_set1_ps(12582912.0f));
    __m256 r = _mm256_fmadd_ps(k, _mm256_set1_ps(-0.693359375f), xc);
    r = _mm256_fmadd_ps(k, _mm256_set1_ps(2.12194440e-4f), r);
    /* expm1_poly */
    __m256 q = _mm256_fmadd_ps(r, _mm256_set1_ps((float)0.00019890980869750327),
                               _mm256_set1_ps((float)0.0013933641031986701));
    q = _mm256_fmadd_ps(r, q, _mm256_set1_ps((float)0.008333310934448869));
    q = _mm256_fmadd_ps(r, q, _mm256_set1_ps((float)0.04166646500604005));
    q = _mm256_fmadd_ps(r, q, _mm256_set1_ps((float)0.16666666681614256));
    q = _mm256_fmadd_ps(r, q, _mm256_set1_ps((float)0.5000000013457727));
    __m256 p = _mm256_fmadd_ps(_mm256_mul_ps(r, r), q, r);
    /* 2^k as 2^floor(k/2)·2^(k - floor(k/2)): kb = k + 256 >= 0, halved by a logical shift */
    __m256i kb = _mm256_add_epi32(_mm256_castps_si256(t),
                                  _mm256_set1_epi32((int)(256u - 0x4b400000u)));
    __m256i h = _mm256_srli_epi32(kb, 1);
    __m256i k1 = _mm256_add_epi32(h, _mm256_set1_epi32(127 - 128));
    __m256i k2 = _mm256_add_epi32(_mm256_sub_epi32(kb, h), _mm256_set1_epi32(127 - 128));
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(k1, 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(k2, 23));
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_add_ps(_mm256_set1_ps(1.0f), p), s1), s2);
}

/* e^x elementwise (o may be x) */
static __attribute__((target("avx2,fma")))
void vm_avx2_exp_f32_x8(float* o, const float* x, ptrdiff_t n)
{
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(o + i, vm_avx2_exp8(_mm256_loadu_ps(x + i)));
    for (; i < n; i++)
        o[i] = vm_avx2_exp_f(x[i]);
}

/* log x for 8 normal positive finite floats: vm_avx2_log_f's operations for such x (where its
 * subnormal scaling multiplies by 1 and subtracts 0, and its special-value selects keep y) */
static inline __attribute__((always_inline, target("avx2,fma")))
__m256 vm_avx2_log8(__m256 x)
{
    __m256i ub = _mm256_castps_si256(x);
    __m256i ke = _mm256_srli_epi32(
        _mm256_add_epi32(ub, _mm256_set1_epi32((int)(0x3f800000u - 0x3f3504f3u))), 23);
    __m256 m = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_sub_epi32(ub, _mm256_slli_epi32(ke, 23)),
                                                    _mm256_set1_epi32(127 << 23)));
    __m256 k = _mm256_sub_ps(
        _mm256_sub_ps(_mm256_castsi256_ps(_mm256_or_si256(ke, _mm256_set1_epi32(0x4b000000))),
                      _mm256_set1_ps(8388608.0f)),
        _mm256_set1_ps(127.0f));
    __m256 f = _mm256_sub_ps(m, _mm256_set1_ps(1.0f));
    __m256 s = _mm256_div_ps(f, _mm256_add_ps(_mm256_set1_ps(2.0f), f));
    __m256 z = _mm256_mul_ps(s, s);
    __m256 pz = _mm256_fmadd_ps(z, _mm256_set1_ps((float)0.2957994939197279),
                                _mm256_set1_ps((float)0.3998878056602198));
    pz = _mm256_fmadd_ps(z, pz, _mm256_set1_ps((float)0.6666668503957586));
    __m256 R = _mm256_mul_ps(z, pz);
    __m256 hfsq = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), f), f);
    __m256 lo = _mm256_fmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), _mm256_setzero_ps());
    __m256 inner = _mm256_sub_ps(
        _mm256_sub_ps(hfsq, _mm256_add_ps(_mm256_mul_ps(s, _mm256_add_ps(hfsq, R)), lo)), f);
    return _mm256_sub_ps(_mm256_mul_ps(k, _mm256_set1_ps(0.693359375f)), inner);
}

/* log x elementwise (o may be x: a vector is read before it is written) */
static __attribute__((target("avx2,fma")))
void vm_avx2_log_f32_x8(float* o, const float* x, ptrdiff_t n)
{
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 ok = _mm256_and_ps(_mm256_cmp_ps(v, _mm256_set1_ps(1.17549435e-38f), _CMP_GE_OQ),
                                  _mm256_cmp_ps(v, _mm256_set1_ps(3.40282347e38f), _CMP_LE_OQ));
        if (_mm256_movemask_ps(ok) != 0xff) {  /* 0, subnormal, negative, inf or NaN: rare */
            for (int j = 0; j < 8; j++)
                o[i + j] = vm_avx2_log_f(x[i + j]);
            continue;
        }
        _mm256_storeu_ps(o + i, vm_avx2_log8(v));
    }
    for (; i < n; i++)
        o[i] = vm_avx2_log_f(x[i]);
}
