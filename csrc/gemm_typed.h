/* The body of gemm.h for one element type, included once per type after gemm.h has defined
 * FG_T (the element), FG_V (its zmm vector), FG_M (a lane mask), FG_LANES, FG_NAME(x) (the
 * prefixed name), the intrinsic macros FG_ZERO ... FG_FMA and FG_TRANSPOSE; this file undefines
 * them at its end. Block sizes and the in-place rules (FG_KC, FG_MC, FG_NC, FG_DIRECT_*) are
 * gemm.h's.
 *
 * Operands of the micro-kernel (tile): a(i, l) = a[i·ars + l·acs], b(l, j) = b[l·rsb + j].
 * - A read in place: the source with its strides (rows or columns unit-stride).
 * - A packed by rows (source columns unit-stride): panel p holds A[p·MR + i, l] at i·KCS + l,
 *   each row a plain copy (KCS = KC plus one cache line, so that the rows do not share L1 sets).
 * - A packed by columns (any other source): panel p holds A[p·MR + i, l] at l·MR + i.
 * - B read in place (rows unit-stride), or packed in micro-panels of NR columns: panel p holds
 *   B[l, p·NR + j] at l·NR + j.
 * Packing A is thus always a copy of contiguous runs; packing B is a copy, or for Bᵀ a
 * transpose of LANES×LANES blocks.
 */

#define FG_MR 8
#define FG_NR (2 * FG_LANES)
#define FG_KCS (FG_KC + FG_LANES)

/* All-ones in the first `count` lanes (count may be <= 0 or >= FG_LANES). */
FG_INLINE FG_M FG_NAME(mask)(ptrdiff_t count)
{
    if (count <= 0) return (FG_M)0;
    if (count >= FG_LANES) return (FG_M)~(FG_M)0;
    return (FG_M)((1u << count) - 1u);
}

/* Rows and vectors of a tile (the macros below expand once per row and per vector; a tile of
 * MR rows and NV vectors uses the first ones: MR and NV are constants after inlining). */
#define FG_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FG_VECS(X, i) X(i, 0) X(i, 1)
#define FG_DECLARE_V(i, v) FG_V c##i##_##v = FG_ZERO();
#define FG_DECLARE(i) FG_VECS(FG_DECLARE_V, i)
#define FG_PREFETCH_ROW(i)                                                                  \
    if ((i) < MR && (i) < mr) { /* a row spans 2 cache lines, 3 if C is not aligned */       \
        _mm_prefetch((const char *)(c + (i) * rsc), _MM_HINT_T0);                           \
        _mm_prefetch((const char *)(c + (i) * rsc + FG_LANES), _MM_HINT_T0);                \
        _mm_prefetch((const char *)(c + (i) * rsc + FG_NR - 1), _MM_HINT_T0);               \
    }
#define FG_STEP_V(i, v) if ((v) < NV) c##i##_##v = FG_FMA(ai, b##v, c##i##_##v);
#define FG_STEP(i)                                                                          \
    if ((i) < MR) {                                                                         \
        const FG_V ai = FG_SET1(a[(i) * ars]);                                              \
        FG_VECS(FG_STEP_V, i)                                                               \
    }
#define FG_STORE_V(i, v)                                                                    \
    if ((v) < NV) {                                                                         \
        FG_V x = c##i##_##v;                                                                \
        if (beta) x = FG_ADD(FG_MLOAD(mask##v, ci + (v) * FG_LANES), x);                    \
        if (bias) x = FG_ADD(x, bias##v);                                                   \
        FG_MSTORE(ci + (v) * FG_LANES, mask##v, x);                                         \
    }
#define FG_STORE_ROW(i)                                                                     \
    if ((i) < MR && (i) < mr) {                                                             \
        FG_T *ci = c + (i) * rsc;                                                           \
        FG_VECS(FG_STORE_V, i)                                                              \
    }
#define FG_BIAS_V(v)                                                                        \
    const FG_M mask##v = FG_NAME(mask)(nr - (v) * FG_LANES);                                \
    const FG_V bias##v = bias && (v) < NV ? FG_MLOAD(mask##v, bias + (v) * FG_LANES)        \
                                          : FG_ZERO();

/* One tile of mr <= MR rows and nr <= NV·LANES columns:
 * C[i, j] = (beta ? C[i, j] : 0) + Σ_l a(i, l)·b(l, j) (+ bias[j]), with
 * a(i, l) = a[i·ars + l·acs] and b(l, j) = b[l·rsb + j]: A and B are either packed
 * (zero-padded) or read in place (then all MR rows and NV vectors of columns must exist). */
FG_INLINE FG_TARGET void FG_NAME(tile)(const int MR, const int NV, ptrdiff_t kc,
                                       const FG_T *a, ptrdiff_t ars, ptrdiff_t acs,
                                       const FG_T *b, ptrdiff_t rsb, FG_T *c, ptrdiff_t rsc,
                                       ptrdiff_t mr, ptrdiff_t nr, int beta, const FG_T *bias)
{
    FG_ROWS(FG_DECLARE)
    FG_ROWS(FG_PREFETCH_ROW)  /* C is needed only at the end: start fetching it now */
    for (ptrdiff_t l = 0; l < kc; l++) {
        const FG_V b0 = FG_LOAD(b), b1 = NV > 1 ? FG_LOAD(b + FG_LANES) : FG_ZERO();
        FG_ROWS(FG_STEP)
        a += acs;
        b += rsb;
    }
    FG_BIAS_V(0) FG_BIAS_V(1)
    FG_ROWS(FG_STORE_ROW)
}

/* The tiles: 8 rows (the micro-kernel) and 4, 2, 1 (for the ragged last rows: m = 2 would
 * otherwise cost as much as m = 8), each with 2 vectors of columns or 1 (n <= LANES). */
typedef void (*FG_NAME(tile_fn))(ptrdiff_t, const FG_T *, ptrdiff_t, ptrdiff_t, const FG_T *,
                                 ptrdiff_t, FG_T *, ptrdiff_t, ptrdiff_t, ptrdiff_t, int,
                                 const FG_T *);
#define FG_TILE(MR, NV)                                                                     \
    static FG_TARGET void FG_NAME(tile##MR##x##NV)(                                         \
        ptrdiff_t kc, const FG_T *a, ptrdiff_t ars, ptrdiff_t acs, const FG_T *b,           \
        ptrdiff_t rsb, FG_T *c, ptrdiff_t rsc, ptrdiff_t mr, ptrdiff_t nr, int beta,        \
        const FG_T *bias)                                                                   \
    {                                                                                       \
        FG_NAME(tile)(MR, NV, kc, a, ars, acs, b, rsb, c, rsc, mr, nr, beta, bias);         \
    }
FG_TILE(8, 2) FG_TILE(4, 2) FG_TILE(2, 2) FG_TILE(1, 2)
FG_TILE(8, 1) FG_TILE(4, 1) FG_TILE(2, 1) FG_TILE(1, 1)

/* The tile for mr rows and nr columns: the smallest that covers them. */
static FG_NAME(tile_fn) FG_NAME(tile_for)(ptrdiff_t mr, ptrdiff_t nr)
{
    static const FG_NAME(tile_fn) two[4] = {FG_NAME(tile1x2), FG_NAME(tile2x2),
                                            FG_NAME(tile4x2), FG_NAME(tile8x2)};
    static const FG_NAME(tile_fn) one[4] = {FG_NAME(tile1x1), FG_NAME(tile2x1),
                                            FG_NAME(tile4x1), FG_NAME(tile8x1)};
    const int rows = mr > 4 ? 3 : mr > 2 ? 2 : mr > 1 ? 1 : 0;
    return nr > FG_LANES ? two[rows] : one[rows];
}

/* Bp <- B[0:kc, 0:nc] (B[l, j] at B[l·rsb + j·csb]) as zero-padded micro-panels of NR columns. */
static FG_TARGET void FG_NAME(pack_b)(ptrdiff_t kc, ptrdiff_t nc, const FG_T *B, ptrdiff_t rsb,
                                      ptrdiff_t csb, FG_T *Bp)
{
    for (ptrdiff_t j0 = 0; j0 < nc; j0 += FG_NR, Bp += kc * FG_NR) {
        const ptrdiff_t nr = fg_min(FG_NR, nc - j0);
        const FG_T *src = B + j0 * csb;
        if (csb == 1) {  /* rows of B are contiguous: copy NR-runs */
            const FG_M m0 = FG_NAME(mask)(nr), m1 = FG_NAME(mask)(nr - FG_LANES);
            for (ptrdiff_t l = 0; l < kc; l++) {
                FG_STORE(Bp + l * FG_NR, FG_MLOAD(m0, src + l * rsb));
                FG_STORE(Bp + l * FG_NR + FG_LANES, FG_MLOAD(m1, src + l * rsb + FG_LANES));
            }
        } else {  /* e.g. Wᵀ: transpose LANES×LANES blocks where whole, gather the rest */
            if (nr < FG_NR) memset(Bp, 0, (size_t)(kc * FG_NR) * sizeof(FG_T));
            for (ptrdiff_t j = 0; j < nr; j += FG_LANES) {
                ptrdiff_t l = 0;
                if (rsb == 1 && j + FG_LANES <= nr)
                    for (; l + FG_LANES <= kc; l += FG_LANES)
                        FG_TRANSPOSE(src + j * csb + l, csb, Bp + l * FG_NR + j, FG_NR);
                for (ptrdiff_t jj = j; jj < fg_min(j + FG_LANES, nr); jj++)
                    for (ptrdiff_t ll = l; ll < kc; ll++)
                        Bp[ll * FG_NR + jj] = src[jj * csb + ll * rsb];
            }
        }
    }
}

/* Ap <- A[0:mc, 0:kc] (A[i, l] at A[i·rsa + l]) packed by rows: panel p holds A[p·MR + i, l]
 * at i·KCS + l, each row a plain copy (KCS = KC plus one cache line, so that the MR rows do
 * not share L1 sets). */
static FG_TARGET void FG_NAME(pack_a_by_rows)(ptrdiff_t mc, ptrdiff_t kc, const FG_T *A,
                                              ptrdiff_t rsa, FG_T *Ap)
{
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += FG_MR, Ap += FG_MR * FG_KCS) {
        const ptrdiff_t mr = fg_min(FG_MR, mc - i0);
        for (ptrdiff_t i = 0; i < FG_MR; i++) {
            FG_T *dst = Ap + i * FG_KCS;
            if (i >= mr) {
                memset(dst, 0, (size_t)kc * sizeof(FG_T));
                continue;
            }
            const FG_T *src = A + (i0 + i) * rsa;
            ptrdiff_t l = 0;
            for (; l + FG_LANES <= kc; l += FG_LANES) FG_STORE(dst + l, FG_LOAD(src + l));
            if (l < kc) {
                const FG_M m = FG_NAME(mask)(kc - l);
                FG_MSTORE(dst + l, m, FG_MLOAD(m, src + l));
            }
        }
    }
}

/* Ap <- A[0:mc, 0:kc] (any strides) packed by columns: panel p holds A[p·MR + i, l] at
 * l·MR + i (runs of MR are copied when rsa == 1). */
static FG_TARGET void FG_NAME(pack_a_by_cols)(ptrdiff_t mc, ptrdiff_t kc, const FG_T *A,
                                              ptrdiff_t rsa, ptrdiff_t csa, FG_T *Ap)
{
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += FG_MR, Ap += FG_MR * kc) {
        const ptrdiff_t mr = fg_min(FG_MR, mc - i0);
        const FG_T *src = A + i0 * rsa;
        if (rsa == 1) {
            const FG_M load = FG_NAME(mask)(mr), store = FG_NAME(mask)(FG_MR);
            for (ptrdiff_t l = 0; l < kc; l++)
                FG_MSTORE(Ap + l * FG_MR, store, FG_MLOAD(load, src + l * csa));
        } else {
            for (ptrdiff_t l = 0; l < kc; l++)
                for (ptrdiff_t i = 0; i < FG_MR; i++)
                    Ap[l * FG_MR + i] = i < mr ? src[i * rsa + l * csa] : (FG_T)0;
        }
    }
}

/* C = A·B (+ bias), or C += A·B (+ bias) if accumulate, for A (m×k), B (k×n), C (m×n) given by
 * element strides; bias (n values, or NULL) is added last, as numpy's matmul followed by + b
 * would. Returns 0, or -1 (C untouched) if C's columns are not unit-stride or memory ran out. */
static FG_TARGET int FG_NAME(gemm)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                   const FG_T *A, ptrdiff_t rsa, ptrdiff_t csa,
                                   const FG_T *B, ptrdiff_t rsb, ptrdiff_t csb,
                                   FG_T *C, ptrdiff_t rsc, ptrdiff_t csc,
                                   const FG_T *bias, int accumulate)
{
    if (csc != 1 && n > 1) return -1;
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0) {  /* an empty sum: C = (C or 0) + bias */
        for (ptrdiff_t i = 0; i < m; i++) {
            FG_T *ci = C + i * rsc;
            for (ptrdiff_t j = 0; j < n; j++)
                ci[j] = (accumulate ? ci[j] : (FG_T)0) + (bias ? bias[j] : (FG_T)0);
        }
        return 0;
    }
    const ptrdiff_t kcb = fg_block(k, FG_KC, 8);
    const ptrdiff_t mcb = fg_block(m, FG_MC, FG_MR);
    const ptrdiff_t ncb = fg_block(n, FG_NC, FG_NR);
    /* Operands read in place (only edge panels packed) or packed; see FG_DIRECT_* in gemm.h. */
    const int direct_a = (csa == 1 || rsa == 1) && FG_DIRECT_A(m, n, k);
    const int direct_b = csb == 1 && FG_DIRECT_B(m, n, k)
                         && (m < FG_PACK_UNALIGNED_MIN_M
                             || ((size_t)B | (size_t)(rsb * (ptrdiff_t)sizeof(FG_T))) % 64 == 0);
    const int by_rows = csa == 1;
    const size_t a_elems = (size_t)((mcb + FG_MR - 1) / FG_MR * FG_MR)
                           * (size_t)(by_rows ? FG_KCS : kcb);
    const size_t b_elems = (size_t)kcb * (size_t)((ncb + FG_NR - 1) / FG_NR * FG_NR);
    FG_T *Ap = (FG_T *)fg_scratch((a_elems + b_elems) * sizeof(FG_T));
    if (Ap == NULL) return -1;
    FG_T *Bp = Ap + a_elems;  /* a_elems is a multiple of 8·8: Bp stays 64-byte aligned */

    for (ptrdiff_t jc = 0; jc < n; jc += ncb) {
        const ptrdiff_t nc = fg_min(ncb, n - jc);
        const ptrdiff_t nc_full = direct_b ? nc / FG_NR * FG_NR : 0;  /* read in place */
        for (ptrdiff_t pc = 0; pc < k; pc += kcb) {
            const ptrdiff_t kc = fg_min(kcb, k - pc);
            const int beta = accumulate || pc > 0;
            const FG_T *bias_c = (bias && pc + kc >= k) ? bias + jc : NULL;
            const FG_T *Bblock = B + pc * rsb + jc * csb;
            if (nc_full < nc)
                FG_NAME(pack_b)(kc, nc - nc_full, Bblock + nc_full * csb, rsb, csb, Bp);
            for (ptrdiff_t ic = 0; ic < m; ic += mcb) {
                const ptrdiff_t mc = fg_min(mcb, m - ic);
                const ptrdiff_t mc_full = direct_a ? mc / FG_MR * FG_MR : 0;
                const FG_T *Ablock = A + ic * rsa + pc * csa;
                ptrdiff_t ars = 1, acs = FG_MR, a_panel = FG_MR * kc;  /* packed by columns */
                if (mc_full < mc) {
                    if (by_rows && !direct_a) {
                        FG_NAME(pack_a_by_rows)(mc, kc, Ablock, rsa, Ap);
                        ars = FG_KCS;
                        acs = 1;
                        a_panel = FG_MR * FG_KCS;
                    } else {
                        FG_NAME(pack_a_by_cols)(mc - mc_full, kc, Ablock + mc_full * rsa,
                                                rsa, csa, Ap);
                    }
                }
                for (ptrdiff_t jr = 0; jr < nc; jr += FG_NR) {
                    const int b_packed = jr >= nc_full;
                    const FG_T *bp = b_packed ? Bp + (jr - nc_full) * kc : Bblock + jr;
                    const ptrdiff_t b_rs = b_packed ? FG_NR : rsb;
                    FG_T *cj = C + ic * rsc + jc + jr;
                    const FG_T *bias_j = bias_c ? bias_c + jr : NULL;
                    const ptrdiff_t nr = fg_min(FG_NR, nc - jr);
                    const FG_NAME(tile_fn) tile = FG_NAME(tile_for)(FG_MR, nr);
                    for (ptrdiff_t ir = 0; ir < mc; ir += FG_MR) {
                        const ptrdiff_t mr = fg_min(FG_MR, mc - ir);
                        if (ir < mc_full)
                            tile(kc, Ablock + ir * rsa, rsa, csa, bp, b_rs, cj + ir * rsc, rsc,
                                 mr, nr, beta, bias_j);
                        else
                            (mr < FG_MR ? FG_NAME(tile_for)(mr, nr) : tile)(
                                kc, Ap + (ir - mc_full) / FG_MR * a_panel, ars, acs, bp, b_rs,
                                cj + ir * rsc, rsc, mr, nr, beta, bias_j);
                    }
                }
            }
        }
    }
    return 0;
}

#undef FG_ROWS
#undef FG_DECLARE
#undef FG_STEP
#undef FG_STORE_ROW
#undef FG_NR
#undef FG_KCS
#undef FG_T
#undef FG_V
#undef FG_M
#undef FG_LANES
#undef FG_NAME
#undef FG_ZERO
#undef FG_SET1
#undef FG_LOAD
#undef FG_STORE
#undef FG_MLOAD
#undef FG_MSTORE
#undef FG_ADD
#undef FG_FMA
#undef FG_TRANSPOSE
#undef FG_MR
#undef FG_VECS
#undef FG_DECLARE_V
#undef FG_PREFETCH_ROW
#undef FG_STEP_V
#undef FG_STORE_V
#undef FG_BIAS_V
#undef FG_TILE
