"""Print the polynomial coefficients used by csrc/vmath.h (near-minimax Chebyshev fits, mpmath).

expm1 core: expm1(r) = r + r²·Q(r) on |r| <= ln2/2, Q fitted to (e^r - 1 - r)/r².
log core:   log(1+f) = 2s + s·R(z), s = f/(2+f), z = s², |s| <= 3 - 2√2; R(z) = z·P(z) with P
            fitted to (2·atanh(s) - 2s)/(s·z).
float64 fast paths (csrc/vmath_fast.h, tables from tools/vmath_tables.py):
exp:        e^r - 1 = r + r²·Q(r) on |r| <= ln2/256.
log:        log1p(r) = r + r²·P(r) on the range of r = z·invc - 1 that the log table leaves.
Run: python tools/vmath_coefficients.py  (needs mpmath)
"""
import mpmath as mp

mp.mp.dps = 60


def q_expm1(r):
    if abs(r) < mp.mpf("1e-20"):
        return mp.mpf(1) / 2 + r / 6
    return (mp.expm1(r) - r) / (r * r)


def p_log(z):
    if z < mp.mpf("1e-30"):
        return mp.mpf(2) / 3
    s = mp.sqrt(z)
    return (2 * mp.atanh(s) - 2 * s) / (s * z)


def fit(f, lo, hi, degree):
    coeffs, err = mp.chebyfit(f, [lo, hi], degree + 1, error=True)
    return [float(c) for c in reversed(coeffs)], float(err)  # ascending powers


def p_log1p(r):
    if abs(r) < mp.mpf("1e-25"):
        return mp.mpf(-1) / 2 + r / 3
    return (mp.log1p(r) - r) / (r * r)


def log_table_r_range():
    from vmath_tables import LOG_OFF, double, log_table

    lows, highs = [], []
    for i, (invc, _) in enumerate(log_table()):
        lows.append(double(LOG_OFF + (i << 45)) * invc - 1)
        highs.append(double(LOG_OFF + ((i + 1) << 45)) * invc - 1)
    return mp.mpf(min(lows)), mp.mpf(max(highs))


if __name__ == "__main__":
    half_ln2 = mp.log(2) / 2
    smax = 3 - 2 * mp.sqrt(2)
    for name, f, lo, hi, degrees in (
            ("expm1 Q(r)", q_expm1, -half_ln2, half_ln2, (5, 6, 9, 10, 11)),
            ("log P(z)", p_log, mp.mpf(0), smax * smax, (2, 3, 5, 6)),
            ("fast exp Q(r)", q_expm1, -half_ln2 / 128, half_ln2 / 128, (3,)),
            ("fast log P(r)", p_log1p, *log_table_r_range(), (5,))):
        for degree in degrees:
            coeffs, err = fit(f, lo, hi, degree)
            print(f"{name} degree {degree}: max fit error {err:.3g}")
            print("   ", ", ".join(repr(c) for c in coeffs))
