"""fastgrad.capture: a replayed step equals the eager step bit for bit, guards catch what would
make a replay wrong, bad input raises CaptureError, and a replay is O(1) Python calls."""
import gc
import sys
import warnings

import numpy as np
import pytest
from conftest import BACKENDS, IDS
from helpers import run_python

import fastgrad
import fastgrad.nn.functional as F
from fastgrad import CaptureError, nn, optim
from fastgrad.capture import capture

OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, 0.1),
    "momentum": lambda ps: optim.SGD(ps, 0.05, momentum=0.9),
    "nesterov_wd": lambda ps: optim.SGD(ps, 0.05, momentum=0.9, nesterov=True,
                                        weight_decay=1e-3),
    "dampening": lambda ps: optim.SGD(ps, 0.05, momentum=0.9, dampening=0.1),
    "adam": lambda ps: optim.Adam(ps, 1e-2),
    "adam_l2": lambda ps: optim.Adam(ps, 1e-2, weight_decay=1e-3),
    "adamw": lambda ps: optim.AdamW(ps, 1e-2),
}


@pytest.fixture(params=BACKENDS, ids=[IDS[b] for b in BACKENDS])
def backend(request):
    return request.param


def make(backend, sizes=(2, 32, 32, 2), dtype=np.float64, opt="momentum", activation="tanh",
         output_activation=None):
    model = nn.mlp(list(sizes), activation=activation, output_activation=output_activation,
                   dtype=dtype, seed=0, backend=backend)
    return model, OPTIMIZERS[opt](model.parameters())


def ce_step(model, opt):
    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    return step


def mse_step(model, opt):
    def step(x, t):
        opt.zero_grad()  # the other order: clear first, leave the gradients after the step
        loss = F.mse_loss(model(x), t)
        loss.backward()
        opt.step()
        return loss
    return step


def batches(n, sizes, dtype, classes=True, batch=32, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.standard_normal((batch, sizes[0])).astype(dtype)
        if classes:
            y = rng.integers(0, sizes[-1], batch)
        else:
            y = rng.standard_normal((batch, sizes[-1])).astype(dtype)
        out.append((x, y))
    return out


def state(model, opt):
    arrays = [p.data.copy() for p in model.parameters()]
    arrays += [None if p.grad is None else p.grad.copy() for p in model.parameters()]
    for name in opt.BUFFERS:
        arrays += [None if a is None else a.copy() for a in getattr(opt, name)]
    return arrays, (opt.lr, opt.steps, tuple(getattr(opt, "t", ())))


def assert_same_state(a, b):
    assert a[1] == b[1]
    assert len(a[0]) == len(b[0])
    for x, y in zip(a[0], b[0]):
        if x is None or y is None:
            assert x is None and y is None
        else:
            assert x.dtype == y.dtype and x.shape == y.shape
            assert x.tobytes() == y.tobytes()


def train(backend, captured, n=100, sizes=(2, 32, 32, 2), dtype=np.float64, opt="momentum",
          loss="ce", activation="tanh", output_activation=None, **options):
    model, optimizer = make(backend, sizes, dtype, opt, activation, output_activation)
    step = (ce_step if loss == "ce" else mse_step)(model, optimizer)
    if captured:
        step = capture(step, **options)
    losses = [step(x, y) for x, y in batches(n, sizes, dtype, loss == "ce")]
    return losses, state(model, optimizer), step


# ---------------------------------------------------------------- bit for bit

@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_replay_equals_eager_bit_for_bit(backend, dtype, opt):
    eager_losses, eager_state, _ = train(backend, False, dtype=dtype, opt=opt)
    losses, replay_state, step = train(backend, True, dtype=dtype, opt=opt)
    assert step.replays == 98  # call 1 eager, call 2 recorded, the rest replayed
    assert all(type(v) is float for v in losses)
    assert losses == eager_losses
    assert_same_state(replay_state, eager_state)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", [
    {"sizes": (16, 64, 64, 10), "activation": "relu", "opt": "adamw"},
    {"sizes": (8, 40, 3), "activation": "sigmoid", "opt": "nesterov_wd"},
    {"sizes": (3, 5, 2), "activation": "tanh", "opt": "adam"},  # typed loops only
    {"sizes": (6, 48, 4), "activation": "tanh", "opt": "momentum", "loss": "mse"},
    {"sizes": (6, 48, 4), "activation": "relu", "output_activation": "sigmoid",
     "opt": "adam", "loss": "mse"},
    # one output: the forward and GW are matrix-vector products (gemv), GX a k=1 gemm
    {"sizes": (16, 64, 1), "activation": "relu", "opt": "adam", "loss": "mse"},
], ids=["relu_w", "sigmoid", "tiny", "mse_tanh", "mse_sigmoid_out", "gemv"])
def test_replay_equals_eager_other_layers_and_losses(backend, dtype, case):
    eager_losses, eager_state, _ = train(backend, False, n=40, dtype=dtype, **case)
    losses, replay_state, step = train(backend, True, n=40, dtype=dtype, **case)
    assert step.replays == 38
    assert losses == eager_losses
    assert_same_state(replay_state, eager_state)


def test_products_replay_the_eager_blas_calls(backend):
    """Above the crossover the compiled tape holds BLAS calls (planned by blas.plan_product,
    the call product_into makes), and no copied or numpy products."""
    _, _, step = train(backend, True, n=3, sizes=(16, 64, 64, 10))
    kinds = step.tape.compiled.op_kinds()
    if backend == "python":
        assert kinds.count("dense_fwd") == 3
        return
    assert kinds.count("blas") == 3 + 2 * 3 - 1  # forward 3, backward GW 3 and GX 2
    assert "numpy_loop" not in kinds[:kinds.index("bias_act")]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_replay_bit_for_bit_with_numpy_products(dtype):
    """With products by numpy's matmul (blas.use("numpy")), the tape runs numpy's matmul loop
    as eager does; switching BLAS on or off after capture raises."""
    if "cython" not in BACKENDS:
        pytest.skip("the compiled modules are not available")
    from fastgrad._backend import load
    blas = load("cython").blas
    if blas.library() != "scipy.linalg.cython_blas":
        pytest.skip("scipy's BLAS is not loaded")
    previous = blas.use("numpy")
    try:
        case = {"sizes": (16, 64, 64, 10), "activation": "relu", "opt": "adam", "n": 20}
        eager_losses, eager_state, _ = train("cython", False, dtype=dtype, **case)
        losses, replay_state, step = train("cython", True, dtype=dtype, **case)
        assert "numpy_loop" in step.tape.compiled.op_kinds()
        assert losses == eager_losses
        assert_same_state(replay_state, eager_state)
        blas.use("scipy")
        x, y = batches(1, case["sizes"], dtype)[0]
        with pytest.raises(CaptureError, match="switched between BLAS and numpy"):
            step(x, y)
    finally:
        blas.use(previous)


def test_replay_gives_parameters_new_versions(backend):
    """A replayed optimizer step changes the parameters as an eager one does: a graph recorded
    before it cannot be differentiated after it (version counters), one recorded after can."""
    model, opt = make(backend)
    step = capture(ce_step(model, opt))
    data = batches(4, (2, 32, 32, 2), np.float64)
    for x, y in data[:3]:
        step(x, y)
    assert step.replays == 1
    T = type(model.parameters()[0])
    x, y = data[3]
    stale = F.cross_entropy(model(T(x)), y)
    versions = [p._version for p in model.parameters()]
    step(x, y)
    assert step.replays == 2
    assert all(p._version > v for p, v in zip(model.parameters(), versions))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        stale.backward()
    for p in model.parameters():
        p.grad = None
    fresh = F.cross_entropy(model(T(x)), y)
    fresh.backward()
    assert all(p.grad is not None for p in model.parameters())


def test_lr_schedule_takes_effect_without_recapture(backend):
    def with_schedule(captured):
        model, opt = make(backend)
        opt.schedule = lambda k: 0.1 / (1 + k)
        step = ce_step(model, opt)
        step = capture(step) if captured else step
        losses = [step(x, y) for x, y in batches(30, (2, 32, 32, 2), np.float64)]
        opt.lr = 0.5  # by hand: no schedule from here
        opt.schedule = None
        losses += [step(x, y) for x, y in batches(10, (2, 32, 32, 2), np.float64, seed=5)]
        return losses, state(model, opt), step
    eager = with_schedule(False)
    replayed = with_schedule(True)
    assert replayed[0] == eager[0]
    assert_same_state(replayed[1], eager[1])
    assert replayed[2].replays == 38 and len(replayed[2].tapes) == 0  # one tape, never redone


def test_earlier_loss_is_a_float_not_overwritten(backend):
    model, opt = make(backend)
    step = capture(ce_step(model, opt))
    data = batches(5, (2, 32, 32, 2), np.float64)
    losses = [step(x, y) for x, y in data]
    first_replayed = losses[2]
    step(*data[0])
    assert type(first_replayed) is float and losses[2] == first_replayed
    assert len(set(losses)) == len(losses)


def test_noncontiguous_input_is_copied_right(backend):
    def run(captured):
        model, opt = make(backend)
        step = capture(ce_step(model, opt)) if captured else ce_step(model, opt)
        out = []
        for x, y in batches(6, (2, 32, 32, 2), np.float64):
            wide = np.zeros((32, 4))
            wide[:, ::2] = x
            out.append(step(wide[:, ::2], y))  # a strided view
        return out, state(model, opt)
    a, b = run(False), run(True)
    assert a[0] == b[0]
    assert_same_state(a[1], b[1])


def test_same_array_passed_twice(backend):
    def run(captured):  # an autoencoder: the input is its own target
        model, opt = make(backend, sizes=(4, 16, 4), opt="adam", activation="tanh")
        step = capture(mse_step(model, opt)) if captured else mse_step(model, opt)
        out = [step(x, x) for x, _ in batches(8, (4, 16, 4), np.float64, classes=False)]
        return out, state(model, opt)
    a, b = run(False), run(True)
    assert a[0] == b[0]
    assert_same_state(a[1], b[1])


def test_train_eval_train(backend):
    def run(captured):
        model, opt = make(backend)
        step = capture(ce_step(model, opt)) if captured else ce_step(model, opt)
        data = batches(20, (2, 32, 32, 2), np.float64)
        out = [step(x, y) for x, y in data[:10]]
        with fastgrad.no_grad():
            evaluated = model(data[0][0]).data.copy()
        out += [step(x, y) for x, y in data[10:]]
        return out, evaluated, state(model, opt)
    a, b = run(False), run(True)
    assert a[0] == b[0]
    assert a[1].tobytes() == b[1].tobytes()
    assert_same_state(a[2], b[2])


def test_retrace_records_a_tape_per_signature(backend):
    def run(captured):
        model, opt = make(backend)
        step = ce_step(model, opt)
        if captured:
            step = capture(step, retrace=2)
        data = batches(4, (2, 32, 32, 2), np.float64) * 3
        out = []
        for i, (x, y) in enumerate(data):
            if i % 4 == 3:  # the last, partial batch of an "epoch"
                x, y = x[:7], y[:7]
            out.append(step(x, y))
        return out, state(model, opt), step
    a, b = run(False), run(True)
    assert a[0] == b[0]
    assert_same_state(a[1], b[1])
    assert len(b[2].tapes) == 2


def test_retrace_warns_when_full_and_runs_eagerly(backend):
    model, opt = make(backend)
    step = capture(ce_step(model, opt), retrace=1)
    (x, y), = batches(1, (2, 32, 32, 2), np.float64)
    step(x, y)
    step(x, y)
    with pytest.warns(RuntimeWarning, match="retrace"):
        loss = step(x[:5], y[:5])
    assert type(loss) is float


def test_verify_passes_on_a_good_step_and_catches_divergence(backend, monkeypatch):
    losses, _, step = train(backend, True, n=12, verify=3)
    eager, _, _ = train(backend, False, n=12)
    assert losses == eager
    cap = sys.modules["fastgrad.capture"]
    real = cap._slot_values
    monkeypatch.setattr(cap, "_slot_values", lambda opt, k: [v * 2 for v in real(opt, k)])
    with pytest.raises(CaptureError, match="verify"):
        for x, y in batches(3, (2, 32, 32, 2), np.float64):
            step(x, y)


# ---------------------------------------------------------------- generic Tensor ops

def generic_run(backend, captured, dtype, batch, hidden, act, steps=25):
    """A step written with generic ops: dense without bias, + a bias row, an activation,
    (x·0.1).exp, a scalar ops chain, mean of squares plus an L2 sum."""
    from fastgrad.nn.functional import resolve_backend
    from fastgrad.tensor import Tensor as T
    bk = resolve_backend(backend)
    ew, rd = bk.elementwise, bk.reduce
    rng = np.random.default_rng(0)
    W1 = T(rng.standard_normal((4, hidden)).astype(dtype) * 0.5, requires_grad=True)
    b1 = T(np.zeros(hidden, dtype), requires_grad=True)
    s1 = T(np.ones((1, hidden), dtype), requires_grad=True)
    c = T(np.full((), 0.5, dtype), requires_grad=True)
    W2 = T(rng.standard_normal((hidden, 1)).astype(dtype) * 0.5, requires_grad=True)
    params = [W1, b1, s1, c, W2]
    opt = optim.Adam(params, 1e-2)
    activation = {"tanh": ew.tanh, "relu": ew.relu, "sigmoid": ew.sigmoid,
                  "exp": lambda v: ew.exp(v * 0.1), "log": lambda v: ew.log(v * v + 1.0)}[act]

    def step(x, t):
        h = activation(bk.dense.dense(x, W1, None) + b1) * s1
        h = 1.0 - (h / 2.0 - c)  # rsub, div_s, sub of one value
        y = bk.dense.dense(h, W2, None)
        d = y - t
        loss = rd.mean(d * d) + 0.001 * rd.sum(W1 * W1) + rd.sum(-b1) * 0.0
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    f = capture(step) if captured else step
    out = []
    for _ in range(steps):
        x = rng.standard_normal((batch, 4)).astype(dtype)
        t = rng.standard_normal((batch, 1)).astype(dtype)
        v = f(x, t)
        out.append(v if isinstance(v, float) else float(v.data))
    return out, [p.data.copy() for p in params], f


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("size", [(8, 16), (64, 32)], ids=["loops", "numpy"])
@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "exp", "log"])
def test_generic_ops_replay_bit_for_bit(backend, dtype, size, act):
    a = generic_run(backend, False, dtype, *size, act)
    b = generic_run(backend, True, dtype, *size, act)
    assert b[2].replays == 23
    assert a[0] == b[0]
    assert all(p.tobytes() == q.tobytes() for p, q in zip(a[1], b[1]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("size", [(4, 3, 5, 2), (32, 2, 32, 2), (64, 20, 48, 6)],
                         ids=["loops", "mixed", "products"])
def test_matmul_mlp_replays_bit_for_bit(backend, dtype, size):
    """The demo's way of writing an MLP: tanh(x @ W + b) @ W2 + b2, fused cross-entropy."""
    from fastgrad.nn.functional import resolve_backend
    from fastgrad.tensor import Tensor as T
    bk = resolve_backend(backend)
    batch, n_in, hidden, classes = size

    def run(captured):
        rng = np.random.default_rng(0)
        params = [T(rng.standard_normal(shape).astype(dtype) * 0.3, requires_grad=True)
                  for shape in ((n_in, hidden), (hidden,), (hidden, classes), (classes,))]
        W1, b1, W2, b2 = params
        opt = optim.SGD(params, 0.1, momentum=0.9)

        def step(x, y):
            h = bk.elementwise.tanh(bk.linalg.matmul(x, W1) + b1)
            loss = bk.losses.softmax_cross_entropy(bk.linalg.matmul(h, W2) + b2, y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss
        f = capture(step) if captured else step
        out = []
        for _ in range(20):
            x = rng.standard_normal((batch, n_in)).astype(dtype)
            v = f(x, rng.integers(0, classes, batch))
            out.append(v if isinstance(v, float) else float(v.data))
        return out, [p.data.copy() for p in params]
    a, b = run(False), run(True)
    assert a[0] == b[0]
    assert all(p.tobytes() == q.tobytes() for p, q in zip(a[1], b[1]))


@pytest.mark.parametrize("variant", ["onehot", "mse_sum", "tensor_args", "hinge"])
def test_other_targets_and_arguments(backend, variant):
    """Probability-row targets, MSE with reduction='sum', Tensors as arguments."""
    def run(captured):
        model, opt = make(backend, sizes=(3, 12, 4), opt="adam")
        T = type(model.parameters()[0])

        def step(x, t):
            out = model(x)
            if variant == "mse_sum":
                loss = F.mse_loss(out, t, reduction="sum")
            elif variant == "hinge":
                loss = F.hinge_loss(out, t)
            else:
                loss = F.cross_entropy(out, t)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss
        f = capture(step) if captured else step
        rng = np.random.default_rng(2)
        out = []
        for _ in range(10):
            x = rng.standard_normal((16, 3))
            labels = rng.integers(0, 4, 16)
            t = np.eye(4)[labels] if variant != "tensor_args" else labels
            if variant == "hinge":  # targets in {-1, 1}, one per output
                t = np.where(np.eye(4)[labels] > 0, 1.0, -1.0)
            if variant == "tensor_args":
                x = T(x)
            out.append(f(x, t))
        return [float(getattr(v, "data", v)) for v in out], state(model, opt)
    a, b = run(False), run(True)
    assert a[0] == b[0]
    assert_same_state(a[1], b[1])


# ---------------------------------------------------------------- guards

def captured_after_replay(backend, **kw):
    model, opt = make(backend, **kw)
    step = capture(ce_step(model, opt))
    data = batches(3, (2, 32, 32, 2), np.float64)
    for x, y in data:
        step(x, y)
    return model, opt, step, data[0]


@pytest.mark.parametrize("change", ["shape", "dtype", "count", "type"])
def test_changed_input_raises_and_changes_nothing(backend, change):
    model, opt, step, (x, y) = captured_after_replay(backend)
    before = state(model, opt)
    args = {"shape": (x[:5], y[:5]), "dtype": (x.astype(np.float32), y),
            "count": (x,), "type": (x, list(y))}[change]
    with pytest.raises(CaptureError, match="argument|arguments"):
        step(*args)
    assert_same_state(state(model, opt), before)


def test_rebound_parameter_raises(backend):
    model, opt, step, (x, y) = captured_after_replay(backend)
    p = model.parameters()[0]
    p.data = p.data.copy()
    before = state(model, opt)
    with pytest.raises(CaptureError, match=r"p\.data"):
        step(x, y)
    assert_same_state(state(model, opt), before)


def test_requires_grad_toggled_raises(backend):
    model, _, step, (x, y) = captured_after_replay(backend)
    model.parameters()[1].requires_grad = False
    with pytest.raises(CaptureError, match="requires_grad"):
        step(x, y)


def test_optimizer_param_groups_guarded(backend):
    _, opt, step, (x, y) = captured_after_replay(backend)
    opt.params.pop()
    with pytest.raises(CaptureError, match="entries|params"):
        step(x, y)


def test_optimizer_structure_change_raises(backend):
    _, opt, step, (x, y) = captured_after_replay(backend)
    opt.momentum = 0.0
    with pytest.raises(CaptureError, match="hyper-parameters"):
        step(x, y)


def test_stale_gradient_raises(backend):
    model, _, step, (x, y) = captured_after_replay(backend)
    F.cross_entropy(model(x), y).backward()  # outside the step: eager would add into it
    with pytest.raises(CaptureError, match="gradient before the step"):
        step(x, y)


def test_grad_mode_off_raises(backend):
    _, _, step, (x, y) = captured_after_replay(backend)
    with fastgrad.no_grad(), pytest.raises(CaptureError, match="grad mode"):
        step(x, y)


def test_out_of_range_label_raises_and_changes_nothing(backend):
    model, opt, step, (x, y) = captured_after_replay(backend)
    before = state(model, opt)
    bad = y.copy()
    bad[3] = 7
    with pytest.raises(ValueError, match="label 7"):
        step(x, bad)
    assert_same_state(state(model, opt), before)


def test_nonfinite_loss_stops_before_the_update(backend):
    model, opt, step, (x, y) = captured_after_replay(backend)
    before = state(model, opt)
    with pytest.raises(FloatingPointError):
        step(np.full_like(x, np.nan), y)
    assert_same_state(state(model, opt), before)


# ---------------------------------------------------------------- bad input at recording

def record(backend, fn_of):
    model, opt = make(backend)
    step = capture(fn_of(model, opt))
    (x, y), = batches(1, (2, 32, 32, 2), np.float64)
    step(x, y)  # eager
    return model, opt, step, x, y


@pytest.mark.parametrize("what", ["item", "float", "bool", "asarray", "compare"])
def test_value_dependent_python_raises_while_recording(backend, what):
    def fn_of(model, opt):
        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            if step.recording:
                {"item": lambda: loss.item(), "float": lambda: float(loss),
                 "bool": lambda: bool(loss), "asarray": lambda: np.asarray(loss),
                 "compare": lambda: loss > 1.0}[what]()
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss
        step.recording = False
        return step
    model, opt = make(backend)
    inner = fn_of(model, opt)
    step = capture(inner)
    (x, y), = batches(1, (2, 32, 32, 2), np.float64)
    step(x, y)
    inner.recording = True
    before = state(model, opt)
    with pytest.raises(CaptureError, match="reads a tensor's value"):
        step(x, y)
    assert_same_state(state(model, opt), before)  # stopped before backward: nothing changed


def test_returning_a_non_tensor_raises(backend):
    def fn_of(model, opt):
        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad()
        return step
    with pytest.raises(CaptureError, match="returned a NoneType"):
        record(backend, fn_of)


def test_never_calling_backward_raises(backend):
    def fn_of(model, opt):
        return lambda x, y: F.cross_entropy(model(x), y)
    model, opt = make(backend)
    step = capture(fn_of(model, opt))
    (x, y), = batches(1, (2, 32, 32, 2), np.float64)
    step(x, y)
    with pytest.raises(CaptureError, match="never called backward"):
        step(x, y)


def test_capture_inside_no_grad_raises(backend):
    model, opt = make(backend)
    step = capture(ce_step(model, opt))
    (x, y), = batches(1, (2, 32, 32, 2), np.float64)
    with fastgrad.no_grad():
        with pytest.raises(RuntimeError):  # the eager call: backward without a graph
            step(x, y)
        with pytest.raises(CaptureError, match="grad mode"):
            step(x, y)


def test_op_without_tape_kernel_raises_or_falls_back(backend):
    def fn_of(model, opt):
        def step(x, y):
            loss = F.cross_entropy(abs(model(x)), y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss
        return step

    model, opt = make(backend)
    step = capture(fn_of(model, opt))
    (x, y), = batches(1, (2, 32, 32, 2), np.float64)
    step(x, y)
    before = state(model, opt)
    with pytest.raises(CaptureError, match="abs"):
        step(x, y)
    assert_same_state(state(model, opt), before)

    def run(captured):
        model, opt = make(backend)
        step = fn_of(model, opt)
        if captured:
            step = capture(step, fallback=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = [step(x, y) for x, y in batches(5, (2, 32, 32, 2), np.float64)]
        return [float(getattr(v, "data", v)) for v in out], state(model, opt), caught
    a, b = run(False), run(True)
    assert a[0] == b[0]
    assert_same_state(a[1], b[1])
    assert len([w for w in b[2] if "runs eagerly" in str(w.message)]) == 1


def test_tape_build_error_raises_or_falls_back():
    """An op the compiled tape cannot hold as eager ran it (here a loss over more elements than
    numpy sums in one pairwise block) is found when the tape is built: CaptureError, or with
    fallback=True a warning and eager steps, equal to eager ones."""
    if "cython" not in BACKENDS:
        pytest.skip("the compiled modules are not available")
    def run(captured, **options):
        model, opt = make("cython", sizes=(4, 8, 100), opt="adam")
        step = mse_step(model, opt)
        if captured:
            step = capture(step, **options)
        out = [step(x, t) for x, t in batches(4, (4, 8, 100), np.float64, classes=False,
                                              batch=64)]
        return [v if isinstance(v, float) else float(v.data) for v in out], state(model, opt)
    with pytest.raises(CaptureError, match="not captured"):
        run(True)
    eager_losses, eager_state = run(False)
    with pytest.warns(RuntimeWarning, match="runs eagerly"):
        losses, replay_state = run(True, fallback=True)
    assert losses == eager_losses
    assert_same_state(replay_state, eager_state)


def test_keyword_arguments_refused(backend):
    model, opt = make(backend)
    step = capture(ce_step(model, opt))
    (x, y), = batches(1, (2, 32, 32, 2), np.float64)
    with pytest.raises(CaptureError, match="keyword"):
        step(x, y=y)


def test_tape_replays_while_the_step_holds_the_model(backend):
    """The step's closure holds the model and optimizer: dropping the caller's names changes
    nothing; replays keep training those parameters."""
    model, opt, step, (x, y) = captured_after_replay(backend)
    params = [id(p) for p in model.parameters()]
    del model, opt
    gc.collect()
    assert type(step(x, y)) is float
    assert [id(p) for p in step.tape.compiled.params] == params


@pytest.mark.parametrize("how", ["rebound", "dropped"])
def test_collected_parameters_raise_and_change_nothing(backend, how):
    """The tape holds the parameters and optimizer weakly: when the step's model is rebound
    (a global replaced by a new model) or dropped, they are collected and a replay raises
    CaptureError instead of training a model nobody holds (or crashing)."""
    held = {}
    held["model"], held["opt"] = make(backend)

    def step(x, y):
        loss = F.cross_entropy(held["model"](x), y)
        loss.backward()
        held["opt"].step()
        held["opt"].zero_grad()
        return loss
    step = capture(step)
    data = batches(3, (2, 32, 32, 2), np.float64)
    for x, y in data:
        step(x, y)
    assert step.replays == 1
    if how == "rebound":
        held["model"], held["opt"] = make(backend)
    else:
        held.clear()
    gc.collect()
    fresh = state(*held.values()) if held else None
    with pytest.raises(CaptureError, match="garbage collected"):
        step(*data[0])
    if held:
        assert_same_state(state(*held.values()), fresh)


# ---------------------------------------------------------------- cost of a replay

def python_calls(backend, depth, replays=5):
    sizes = [2] + [16] * depth + [2]
    model, opt = make(backend, sizes=sizes)
    step = capture(ce_step(model, opt))
    data = batches(2 + replays, sizes, np.float64)
    for x, y in data[:2]:
        step(x, y)
    count = [0]

    def profile(frame, event, arg):
        if event in ("call", "c_call"):
            count[0] += 1
    sys.setprofile(profile)
    try:
        for x, y in data[2:]:
            step(x, y)
    finally:
        sys.setprofile(None)
    return count[0]


def test_python_calls_per_replay_do_not_grow_with_the_graph():
    if "cython" not in BACKENDS:
        pytest.skip("the compiled modules are not available")
    shallow, deep = python_calls("cython", 2), python_calls("cython", 8)
    assert shallow == deep
    assert shallow <= 5 * 30  # a few dozen calls per step, whatever the graph


RSS_SCRIPT = """
import numpy as np, fastgrad.nn.functional as F
from fastgrad import capture, nn, optim
model = nn.mlp([2, 32, 32, 2], seed=0, backend="cython")
opt = optim.Adam(model.parameters(), 1e-3)
@capture
def step(x, y):
    loss = F.cross_entropy(model(x), y)
    loss.backward(); opt.step(); opt.zero_grad()
    return loss
rng = np.random.default_rng(0)
x, y = rng.standard_normal((32, 2)), rng.integers(0, 2, 32)
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
for _ in range(1000):
    step(x, y)
before = rss()
for _ in range(10000):
    step(x, y)
print(rss() - before)
"""


def test_rss_flat_over_ten_thousand_replays():
    if "cython" not in BACKENDS or not sys.platform.startswith("linux"):
        pytest.skip("compiled modules and /proc needed")
    out = run_python(["-c", RSS_SCRIPT], check=True)
    growth = int(out.stdout.strip().splitlines()[-1])
    assert growth < 1 << 20, f"RSS grew by {growth} bytes over 10^4 replays"


# ---------------------------------------------------------------- fit

@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_fit_with_capture_equals_eager(backend, loss):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((100, 4))
    y = rng.integers(0, 3, 100) if loss == "cross_entropy" else rng.standard_normal((100, 3))

    def run(captured):
        model = nn.mlp([4, 16, 3], seed=0, backend=backend)
        opt = optim.Adam(model.parameters(), 1e-2)
        history = fastgrad.fit(model, X, y, loss, opt, epochs=3, batch_size=32, seed=0,
                               progress=False, capture=captured)
        return history, [p.data.copy() for p in model.parameters()]
    (eager, a), (replayed, b) = run(False), run(True)
    assert replayed.pop("captured") is True
    assert replayed == eager
    assert all(p.tobytes() == q.tobytes() for p, q in zip(a, b))


def test_fit_capture_with_checkpoint_and_resume(backend, tmp_path):
    """A captured fit writes checkpoints of the replayed state (optimizer state included)
    and resumes from one bit for bit."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((96, 4)), rng.integers(0, 3, 96)

    def run(epochs, **options):
        model = nn.mlp([4, 16, 3], seed=0, backend=backend)
        opt = optim.Adam(model.parameters(), 1e-2)
        history = fastgrad.fit(model, X, y, "cross_entropy", opt, epochs=epochs,
                               batch_size=32, seed=0, progress=False, capture=True,
                               **options)
        return history, [p.data.copy() for p in model.parameters()]
    whole, a = run(4)
    path = str(tmp_path / "ck.npz")
    run(2, checkpoint=path)
    resumed, b = run(4, checkpoint=path, resume=path)
    assert resumed["loss"] == whole["loss"]
    assert all(p.tobytes() == q.tobytes() for p, q in zip(a, b))


def test_fit_capture_falls_back_with_a_warning(backend):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((40, 4)), rng.standard_normal((40, 1))
    model = nn.mlp([4, 8, 1], seed=0, backend=backend)
    opt = optim.SGD(model.parameters(), 0.1)

    def loss(out, target):  # abs has no tape kernel
        return F.mse_loss(abs(out), target)
    with pytest.warns(RuntimeWarning, match="runs eagerly"):
        history = fastgrad.fit(model, X, y, loss, opt, epochs=2, batch_size=16,
                               progress=False, capture=True)
    assert history["captured"] is False


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_nonfinite_gradient_stops_before_the_update(backend):
    """A finite loss with a NaN gradient (an input of inf saturates tanh: 0 * inf): eager
    backward raises before the update, and so does a replay; nothing changes."""
    model, opt, step, (x, y) = captured_after_replay(backend)
    bad = np.array(x)
    bad[0, 0] = np.inf
    eager_model, eager_opt = make(backend)
    with pytest.raises(FloatingPointError):
        ce_step(eager_model, eager_opt)(bad, y)
    before = state(model, opt)
    with pytest.raises(FloatingPointError, match="gradient of parameter 0"):
        step(bad, y)
    assert_same_state(state(model, opt), before)
    assert all(p.grad is None for p in model.parameters())
    assert type(step(x, y)) is float  # and the tape still replays


def count_replays(monkeypatch):
    from fastgrad.capture import Captured
    count = [0]
    original = Captured._replay

    def counting(self, tape, args):
        loss = original(self, tape, args)
        count[0] += 1
        return loss
    monkeypatch.setattr(Captured, "_replay", counting)
    return count


def test_fit_captures_by_default_where_it_can(backend, monkeypatch):
    """nn layers, a named loss and Adam: fit replays its steps without being asked, silently,
    bit for bit as eager fit; a history without the "captured" key (as before)."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    runs = []
    for capture_ in (None, False):
        replays = count_replays(monkeypatch)
        model = nn.mlp([4, 8, 3], seed=0, backend=backend)
        opt = optim.Adam(model.parameters(), 0.01)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            history = fastgrad.fit(model, X, y, "cross_entropy", opt, epochs=3, batch_size=16,
                                   seed=1, progress=False, capture=capture_)
        runs.append((history, [p.data.tobytes() for p in model.parameters()], replays[0]))
    assert runs[0][2] == 6 and runs[1][2] == 0  # 9 steps: 1 eager, 2 recorded (two shapes)
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
    assert "captured" not in runs[0][0]


@pytest.mark.parametrize("what", ["loss", "optimizer", "model"])
def test_fit_trains_eagerly_with_a_notice_otherwise(backend, monkeypatch, what):
    """A Python loss function, an optimizer without a tape program, or a model with its own
    forward: fit trains eagerly (each step calls them) and says so in one line."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = nn.mlp([4, 8, 3], seed=0, backend=backend)
    calls = []
    loss = "cross_entropy"
    opt = optim.SGD(model.parameters(), 0.1)
    if what == "loss":
        def loss(out, target):
            calls.append(1)
            return F.cross_entropy(out, target)
    elif what == "optimizer":
        class MySGD(optim.SGD):
            pass
        opt = MySGD(model.parameters(), 0.1)
    else:
        class Wrapped(nn.Module):
            def __init__(self, inner):
                self.inner = inner

            def forward(self, x):
                calls.append(1)
                return self.inner(x)
        model = Wrapped(model)
    replays = count_replays(monkeypatch)
    with pytest.warns(RuntimeWarning, match="fit: training eagerly") as caught:
        fastgrad.fit(model, X, y, loss, opt, epochs=2, batch_size=16, progress=False)
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    assert replays[0] == 0
    if what != "optimizer":
        assert len(calls) == 6
