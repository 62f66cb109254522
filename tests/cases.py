"""The ops under test: one case per op and layout worth checking (broadcasting, scalars on
either side, the typed-loop sizes and the numpy sizes, reductions over each kind of axis).

A case is (id, function of (fg, *tensors), input specs); a spec is (shape, domain). Domains keep
inputs where the op is smooth: away from kinks (relu, abs, clip, max), ties and poles.
"""
import numpy as np

BIG = (30, 40)  # 1200 elements: above the typed-loop sizes, so numpy computes


def draw(rng, shape, domain):
    """Random float64 input of ``shape`` from ``domain``."""
    if domain == "any":
        return rng.standard_normal(shape)
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "away0":  # |x| in [0.3, 2]: away from the kink at 0
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)
    if domain == "distinct":  # a permutation of well separated values: no ties
        size = int(np.prod(shape, dtype=int))
        return (rng.permutation(size) * 0.37 - size * 0.15).reshape(shape)
    if domain == "inside":  # inside (-0.4, 0.4) or outside (+-0.6, +-1.5) of the clip bounds
        inner = rng.uniform(-0.4, 0.4, shape)
        outer = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.6, 1.5, shape)
        return np.where(rng.random(shape) < 0.5, inner, outer)
    raise ValueError(domain)


A = "any"
CASES = [
    # binary, with broadcasting and with scalars on either side
    ("add", lambda fg, a, b: a + b, [((3, 4), A), ((4,), A)]),
    ("add_bcast_both", lambda fg, a, b: fg.add(a, b), [((2, 1, 3), A), ((4, 3), A)]),
    ("add_big", lambda fg, a, b: a + b, [(BIG, A), (BIG, A)]),
    ("add_scalar", lambda fg, a: 2.5 + a + 1, [((3, 4), A)]),
    ("sub", lambda fg, a, b: a - b, [((3, 4), A), ((3, 1), A)]),
    ("sub_same", lambda fg, a, b: a - b, [((5,), A), ((5,), A)]),
    ("sub_scalar", lambda fg, a: (a - 1.5) * (1.5 - a), [((3, 4), A)]),
    ("mul", lambda fg, a, b: a * b, [((3, 4), A), ((1, 4), A)]),
    ("mul_same", lambda fg, a, b: a * b, [((6,), A), ((6,), A)]),
    ("mul_big", lambda fg, a, b: a * b, [(BIG, A), (BIG, A)]),
    ("mul_scalar", lambda fg, a: 3.0 * a * 0.5, [((3, 4), A)]),
    ("div", lambda fg, a, b: a / b, [((3, 4), A), ((4,), "pos")]),
    ("div_same", lambda fg, a, b: a / b, [((5,), A), ((5,), "pos")]),
    ("div_scalar", lambda fg, a: a / 2.0, [((3, 4), A)]),
    ("rdiv_scalar", lambda fg, a: 2.0 / a, [((3, 4), "pos")]),
    ("pow", lambda fg, a, b: a ** b, [((3, 4), "pos"), ((4,), A)]),
    ("pow_scalar", lambda fg, a: a ** 2.5 + a ** 2, [((3, 4), "pos")]),
    ("rpow_scalar", lambda fg, a: 2.0 ** a, [((3, 4), A)]),
    ("maximum", lambda fg, a, b: fg.maximum(a, b), [((3, 4), "distinct"), ((4,), "distinct")]),
    ("minimum", lambda fg, a, b: fg.minimum(a, b), [((3, 4), "distinct"), ((4,), "distinct")]),
    ("maximum_scalar", lambda fg, a: fg.maximum(a, 0.1), [((3, 4), "away0")]),
    ("where", lambda fg, a, b: fg.where(np.arange(12).reshape(3, 4) % 3 == 0, a, b),
     [((3, 4), A), ((4,), A)]),
    # unary, small (typed loops) and big (numpy)
    ("neg", lambda fg, a: -a, [((3, 4), A)]),
    ("exp", lambda fg, a: fg.exp(a), [((3, 4), A)]),
    ("exp_big", lambda fg, a: fg.exp(a), [(BIG, A)]),
    ("log", lambda fg, a: fg.log(a), [((3, 4), "pos")]),
    ("log_big", lambda fg, a: fg.log(a), [(BIG, "pos")]),
    ("tanh", lambda fg, a: fg.tanh(a), [((3, 4), A)]),
    ("tanh_big", lambda fg, a: a.tanh(), [(BIG, A)]),
    ("relu", lambda fg, a: fg.relu(a), [((3, 4), "away0")]),
    ("relu_big", lambda fg, a: a.relu(), [(BIG, "away0")]),
    ("sigmoid", lambda fg, a: fg.sigmoid(a * 3), [((3, 4), A)]),
    ("sigmoid_big", lambda fg, a: fg.sigmoid(a * 3), [(BIG, A)]),
    ("sqrt", lambda fg, a: fg.sqrt(a), [((3, 4), "pos")]),
    ("abs", lambda fg, a: abs(a), [((3, 4), "away0")]),
    ("log1p", lambda fg, a: fg.log1p(a), [((3, 4), "pos")]),
    ("sin", lambda fg, a: fg.sin(a), [((3, 4), A)]),
    ("cos", lambda fg, a: fg.cos(a), [((3, 4), A)]),
    ("clip", lambda fg, a: fg.clip(a, -0.5, 0.5), [((3, 4), "inside")]),
    ("clip_one_side", lambda fg, a: fg.clip(a, None, 0.5), [((3, 4), "inside")]),
    # reductions
    ("sum_all", lambda fg, a: a.sum(), [((3, 4), A)]),
    ("sum_all_big", lambda fg, a: a.sum(), [(BIG, A)]),
    ("sum_axis", lambda fg, a: fg.sum(a, axis=0), [((3, 4), A)]),
    ("sum_axes_keep", lambda fg, a: fg.sum(a, axis=(0, 2), keepdims=True), [((2, 3, 4), A)]),
    ("mean_all", lambda fg, a: a.mean(), [((3, 4), A)]),
    ("mean_axis", lambda fg, a: fg.mean(a, axis=-1, keepdims=True), [((3, 4), A)]),
    ("max_all", lambda fg, a: a.max(), [((3, 4), "distinct")]),
    ("max_axis", lambda fg, a: fg.max(a, axis=1), [((3, 4), "distinct")]),
    ("min_all", lambda fg, a: a.min(), [((3, 4), "distinct")]),
    ("min_axis", lambda fg, a: fg.min(a, axis=0, keepdims=True), [((3, 4), "distinct")]),
    ("logsumexp_all", lambda fg, a: fg.logsumexp(a), [((3, 4), A)]),
    ("logsumexp_axis", lambda fg, a: fg.logsumexp(a, axis=1), [((3, 4), A)]),
    ("softmax", lambda fg, a: fg.softmax(a), [((3, 4), A)]),
    ("softmax_axis0", lambda fg, a: fg.softmax(a, axis=0), [((3, 4), A)]),
    ("log_softmax", lambda fg, a: fg.log_softmax(a), [((3, 4), A)]),
    # shape
    ("reshape", lambda fg, a: a.reshape(4, 3) * np.arange(12.0).reshape(4, 3), [((3, 4), A)]),
    ("transpose", lambda fg, a: a.T * np.arange(12.0).reshape(4, 3), [((3, 4), A)]),
    ("transpose_axes", lambda fg, a: fg.transpose(a, (2, 0, 1)) * np.arange(24.0).reshape(4, 2, 3),
     [((2, 3, 4), A)]),
    ("getitem_slice", lambda fg, a: a[1:, ::2] * 2, [((3, 4), A)]),
    ("getitem_int_array", lambda fg, a: a[np.array([0, 2, 0, 1])] * np.arange(16.0).reshape(4, 4),
     [((3, 4), A)]),
    ("getitem_mask", lambda fg, a: a[np.arange(12).reshape(3, 4) % 2 == 0] * 3, [((3, 4), A)]),
    ("concatenate",
     lambda fg, a, b: fg.concatenate([a, b, a], axis=1) * np.arange(30.0).reshape(3, 10),
     [((3, 4), A), ((3, 2), A)]),
    ("stack", lambda fg, a, b: fg.stack([a, b], axis=-1) * np.arange(24.0).reshape(3, 4, 2),
     [((3, 4), A), ((3, 4), A)]),
    ("broadcast_to", lambda fg, a: fg.broadcast_to(a, (3, 4)) * np.arange(12.0).reshape(3, 4),
     [((4,), A)]),
    ("astype", lambda fg, a: fg.astype(a, a.dtype) * 2, [((3, 4), A)]),
    # matrix products: every 1-D/2-D combination, batches, and a size past the typed loop
    ("matmul", lambda fg, a, b: a @ b, [((2, 3), A), ((3, 4), A)]),
    ("matmul_vec_mat", lambda fg, a, b: a @ b, [((3,), A), ((3, 4), A)]),
    ("matmul_mat_vec", lambda fg, a, b: fg.matmul(a, b), [((2, 3), A), ((3,), A)]),
    ("matmul_vec_vec", lambda fg, a, b: a @ b, [((3,), A), ((3,), A)]),
    ("matmul_batch", lambda fg, a, b: a @ b, [((2, 2, 3), A), ((3, 4), A)]),
    ("matmul_batch_bcast", lambda fg, a, b: a @ b, [((5, 2, 3), A), ((1, 3, 2), A)]),
    ("matmul_vec_batch", lambda fg, a, b: a @ b, [((3,), A), ((2, 3, 4), A)]),
    ("matmul_batch_vec", lambda fg, a, b: a @ b, [((2, 4, 3), A), ((3,), A)]),
    ("matmul_big", lambda fg, a, b: a @ b, [((20, 30), A), ((30, 10), A)]),
    ("dot", lambda fg, a, b: fg.dot(a, b), [((3,), A), ((3, 2), A)]),
    ("matmul_const", lambda fg, a: np.arange(6.0).reshape(2, 3) @ a, [((3, 4), A)]),
]

# ---------------------------------------------------------------- fused dense layer and losses
# (appended by the dense-layer work). Small shapes run the compiled typed loops, "big" ones
# BLAS and numpy's SIMD tanh/exp; x given as an array inside the lambda does not require grad.
_fixed = np.random.default_rng(2024)
X_CONST = _fixed.standard_normal((5, 4))
X_CONST_BIG = _fixed.standard_normal((40, 30))
LABELS = np.array([0, 2, 1, 3, 2])
PROBS = _fixed.dirichlet(np.ones(4), size=5)
LABELS_BIG = _fixed.integers(0, 10, size=60)
BCE_T = _fixed.uniform(0, 1, (6, 3))
BCE_T_BIG = (_fixed.random((40, 20)) < 0.5).astype(float)
BCE_T_COL = _fixed.uniform(0, 1, 7)
HINGE_T = _fixed.choice([-1.0, 1.0], 20)
HINGE_T_BIG = _fixed.choice([-1.0, 1.0], (30, 20))


def _dense(fg, x, W, b=None, activation=None):
    return fg.bk.dense.dense(x, W, b, activation)


def _loss(fg, name, *args, **kwargs):
    return getattr(fg.bk.losses, name)(*args, **kwargs)


CASES += [
    ("dense", lambda fg, x, W, b: _dense(fg, x, W, b), [((5, 4), A), ((4, 3), A), ((3,), A)]),
    ("dense_tanh", lambda fg, x, W, b: _dense(fg, x, W, b, "tanh"),
     [((5, 4), A), ((4, 3), A), ((3,), A)]),
    ("dense_relu", lambda fg, x, W, b: _dense(fg, x, W, b, "relu"),
     [((5, 4), A), ((4, 3), A), ((3,), A)]),
    ("dense_sigmoid", lambda fg, x, W, b: _dense(fg, x, W, b, "sigmoid"),
     [((5, 4), A), ((4, 3), A), ((3,), A)]),
    ("dense_no_bias", lambda fg, x, W: _dense(fg, x, W, None, "tanh"), [((5, 4), A), ((4, 6), A)]),
    ("dense_x_const", lambda fg, W, b: _dense(fg, X_CONST, W, b, "tanh"), [((4, 3), A), ((3,), A)]),
    ("dense_narrow", lambda fg, x, W, b: _dense(fg, x, W, b, "relu"),
     [((9, 4), A), ((4, 1), A), ((1,), A)]),
    ("dense_vector_x", lambda fg, x, W, b: _dense(fg, x, W, b, "sigmoid"),
     [((4,), A), ((4, 3), A), ((3,), A)]),
    ("dense_batch_axes", lambda fg, x, W, b: _dense(fg, x, W, b, "tanh"),
     [((2, 3, 4), A), ((4, 3), A), ((3,), A)]),
    ("dense_big", lambda fg, x, W, b: _dense(fg, x, W, b),
     [((40, 30), A), ((30, 20), A), ((20,), A)]),
    ("dense_big_tanh", lambda fg, x, W, b: _dense(fg, x, W, b, "tanh"),
     [((40, 30), A), ((30, 20), A), ((20,), A)]),
    ("dense_big_relu", lambda fg, x, W, b: _dense(fg, x, W, b, "relu"),
     [((40, 30), A), ((30, 20), A), ((20,), A)]),
    ("dense_big_sigmoid", lambda fg, x, W, b: _dense(fg, x, W, b, "sigmoid"),
     [((40, 30), A), ((30, 20), A), ((20,), A)]),
    ("dense_big_no_bias_x_const", lambda fg, W: _dense(fg, X_CONST_BIG, W, None, "tanh"),
     [((30, 20), A)]),
    ("softmax_ce_labels", lambda fg, z: _loss(fg, "softmax_cross_entropy", z, LABELS),
     [((5, 4), A)]),
    ("softmax_ce_probs", lambda fg, z: _loss(fg, "softmax_cross_entropy", z, PROBS),
     [((5, 4), A)]),
    ("softmax_ce_sum", lambda fg, z: _loss(fg, "softmax_cross_entropy", z, LABELS, "sum"),
     [((5, 4), A)]),
    ("softmax_ce_none", lambda fg, z: _loss(fg, "softmax_cross_entropy", z, PROBS, "none"),
     [((5, 4), A)]),
    ("softmax_ce_big", lambda fg, z: _loss(fg, "softmax_cross_entropy", z * 3, LABELS_BIG),
     [((60, 10), A)]),
    ("softmax_ce_big_none", lambda fg, z: _loss(fg, "softmax_cross_entropy", z, LABELS_BIG,
                                                "none"), [((60, 10), A)]),
    ("bce_logits", lambda fg, z: _loss(fg, "binary_cross_entropy_with_logits", z * 3, BCE_T),
     [((6, 3), A)]),
    ("bce_logits_none", lambda fg, z: _loss(fg, "binary_cross_entropy_with_logits", z, BCE_T,
                                            "none"), [((6, 3), A)]),
    ("bce_logits_big", lambda fg, z: _loss(fg, "binary_cross_entropy_with_logits", z * 3,
                                           BCE_T_BIG, "sum"), [((40, 20), A)]),
    ("bce_logits_column", lambda fg, z: _loss(fg, "binary_cross_entropy_with_logits", z,
                                              BCE_T_COL), [((7, 1), A)]),
    ("mse", lambda fg, p, t: _loss(fg, "mse_loss", p, t), [((5, 3), A), ((5, 3), A)]),
    ("mse_sum", lambda fg, p: _loss(fg, "mse_loss", p, BCE_T, "sum"), [((6, 3), A)]),
    ("mse_none", lambda fg, p, t: _loss(fg, "mse_loss", p, t, "none"), [((5, 3), A), ((5, 3), A)]),
    ("mse_column", lambda fg, p, t: _loss(fg, "mse_loss", p, t), [((7, 1), A), ((7,), A)]),
    ("hinge", lambda fg, s: _loss(fg, "hinge_loss", s, HINGE_T), [((20,), A)]),
    ("hinge_none", lambda fg, s: _loss(fg, "hinge_loss", s, HINGE_T, "none"), [((20,), A)]),
    ("hinge_big", lambda fg, s: _loss(fg, "hinge_loss", s, HINGE_T_BIG, "sum"), [((30, 20), A)]),
    ("hinge_column", lambda fg, s: _loss(fg, "hinge_loss", s, HINGE_T[:9]), [((9, 1), A)]),
]
