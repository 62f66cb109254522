/* float32 e^x with explicit AVX2+FMA intrinsics, eight elements a vector (included by
 * csrc/vmath_level.h in the AVX2 level, after the element functions). It computes the
 * operations of vm_avx2_exp_f (vmath_body.h, with the float constants of vmath_level.h) and gives
 * the same results bit for bit. What differs: GCC turns exp's two clamps (selects that must let
 * NaN through) into four compares, three logic operations and two blends; here they are one
 * max and one min, ordered so that NaN passes (vmaxps/vminps return their second operand when
 * either is NaN).
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
