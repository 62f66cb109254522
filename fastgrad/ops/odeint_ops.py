"""The op table's entry for scipy.integrate.odeint (``fastgrad.scipy.integrate.odeint`` makes
it): its forward is scipy's odeint, its VJP the adjoint method in fastgrad ops, whose backward
segments are this entry again (so it differentiates to any order in reverse mode). See
fastgrad/scipy/integrate.py for the math."""
import numpy as np

from .. import engine
from ..extend import node_types
from . import kernels as k
from .table import OPS, Op, call_python_op, register

ADJOINT_TOLERANCE = 1e-10


def scipy_odeint():
    try:
        from scipy.integrate import odeint as scipy_odeint
    except ImportError as e:  # pragma: no cover - scipy is installed where the tests run
        raise ImportError("fastgrad.scipy.integrate needs scipy: pip install scipy") from e
    return scipy_odeint


def _traced(x):
    return isinstance(x, node_types())


def _plain(x):
    return np.asarray(x.data if _traced(x) else x, dtype=np.float64)


def _forward(y0, t, *params, func, options, cache):
    """y(t_i) for dy/dt = func(y, t, *params), y(t_0) = y0 (scipy's odeint)"""
    def rhs(y, s):
        return np.ravel(_plain(func(y, s, *params)))
    return scipy_odeint()(rhs, y0, t, **options)


def _leaf(x, like):
    """A fresh leaf requiring grad holding ``x``'s values (on ``like``'s backend)."""
    from .table import backend_of
    return backend_of(like).node.new_node(np.array(_plain(x)), True)


def _state_and_rhs(func, s, t, params, like, recording, n):
    """For an augmented state s = [y, w] (w: the adjoint or the tangent, n values each), with
    grad mode on: the variable y is differentiated as, w, the parameters' variables and
    f = func(y, t, *params) flattened. Traced values that are recorded stay as they are; plain
    or constant ones become fresh leaves (on ``like``'s backend, or the active one)."""
    if like is None:
        from .table import backend_of
        like = backend_of().node.new_node(np.array(_plain(s)), False)
        s = like
    y = k.getitem(s, slice(0, n))
    w = k.getitem(s, slice(n, 2 * n))
    y_var = y if (recording and y.requires_grad) else _leaf(y, like)
    p_vars = [p if (recording and _traced(p) and p.requires_grad) else _leaf(p, like)
              for p in params]
    f = func(y_var, t, *p_vars)
    if not _traced(f):
        f = _leaf(f, like)
    return y_var, w, p_vars, k.reshape(f, (-1,))


def dynamics_with_vjps(func):
    """The augmented dynamics of the adjoint method for ``func``: a function of
    (s = [y, a, a_p], t, *params) giving [f, -a^T df/dy, -a^T df/dp] (flattened). On plain
    arrays it gives numbers; on traced values its result is recorded (and so differentiable)
    when grad mode is on."""
    def augmented(s, t, *params):
        sizes = [int(np.size(_plain(p))) for p in params]
        n = (int(np.size(_plain(s))) - sum(sizes)) // 2
        recording = engine.is_grad_enabled() and (_traced(s) or _traced(t)
                                                   or any(_traced(p) for p in params))
        like = next((v for v in (s, t, *params) if _traced(v)), None)
        with engine.enable_grad():
            y_var, a, p_vars, f = _state_and_rhs(func, s, t, params, like, recording, n)
            from ..recorded import gradients
            grads = gradients(f, [y_var, *p_vars], a, create_graph=recording)
        parts = [f, -grads[0]] + [-k.reshape(g, (-1,)) for g in grads[1:]]
        if recording:
            return k.concatenate(parts, 0)
        return np.concatenate([np.ravel(_plain(p)) for p in parts])
    return augmented


def _rhs(func, y, t, params, like, shape):
    """func(y, t, *params) reshaped, on ``like``'s backend (a plain result as a constant)."""
    f = func(y, t, *params)
    if not _traced(f):
        from .table import backend_of
        f = backend_of(like).node.as_constant(np.asarray(f), like.data.dtype, "odeint")
    return k.reshape(f, shape)


def _adjoint(g, ans, y0, t, params, func, options):
    """The VJP of every argument (y0, t, *params), in fastgrad ops (see the module docstring)."""
    T, D = ans.data.shape
    shapes = [p.data.shape for p in params]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]

    def f_at(i):
        return _rhs(func, k.getitem(ans, i), k.getitem(t, i), params, ans, (-1,))

    def dot(u, v):
        return k.sum(u * v, None, False)

    grad_t = [None] * T
    for i in range(1, T):
        grad_t[i] = dot(k.getitem(g, i), f_at(i))
    a = k.getitem(g, T - 1)
    a_p = np.zeros(sum(sizes))
    augmented = dynamics_with_vjps(func)
    # the backward segments at the forward's options when the caller chose a tolerance (as
    # autograd does, so that a script that asks for rtol=0.01 gets autograd's numbers); at
    # scipy's defaults (1.5e-8) tighter, since their errors add up over the segments and
    # reach the gradient directly
    tight = dict(options)
    if options.get("rtol") is None and options.get("atol") is None:
        tight["rtol"] = tight["atol"] = ADJOINT_TOLERANCE
    for i in range(T - 1, 0, -1):
        s0 = k.concatenate([k.getitem(ans, i), a, a_p], 0)
        times = k.stack([k.getitem(t, i), k.getitem(t, i - 1)], 0)
        s1 = k.getitem(call_python_op(OPS["odeint"], (s0, times, *params),
                                      {"func": augmented, "options": tight, "cache": {}}), 1)
        a = k.getitem(s1, slice(D, 2 * D)) + k.getitem(g, i - 1)
        a_p = k.getitem(s1, slice(2 * D, 2 * D + sum(sizes)))
    f0 = f_at(0)
    grad_t[0] = dot(k.getitem(g, 0), f0) - dot(a, f0)
    out = [a, k.stack(grad_t, 0)]
    start = 0
    for shape, size in zip(shapes, sizes):
        if _traced(a_p):
            out.append(k.reshape(k.getitem(a_p, slice(start, start + size)), shape))
        else:
            out.append(np.zeros(shape))
        start += size
    return out


def _vjp(i, g, ans, y0, t, *params, func, options, cache):
    """every argument's VJP by the adjoint method, computed once per cotangent g"""
    if cache.get("g") is not g:
        cache["g"] = g
        cache["vjps"] = _adjoint(g, ans, y0, t, params, func, options)
    return cache["vjps"][i]


def dynamics_with_jvps(func, n_params):
    """The tangent dynamics for ``func``: a function of (s = [y, v], t, *params,
    *param_tangents) giving [f, df/dy v + df/dp dp] (flattened), v the state's tangent. On
    plain arrays it gives numbers; on traced values it is recorded when grad mode is on."""
    def tangent_system(s, t, *rest):
        params, dparams = rest[:n_params], rest[n_params:]
        n = int(np.size(_plain(s))) // 2
        recording = engine.is_grad_enabled() and (_traced(s) or _traced(t)
                                                   or any(_traced(p) for p in rest))
        like = next((v for v in (s, t, *rest) if _traced(v)), None)
        with engine.enable_grad():
            y_var, v, p_vars, f = _state_and_rhs(func, s, t, params, like, recording, n)
            from ..recorded import tangents
            if recording:
                jv = tangents(f, [y_var, *p_vars], [v, *dparams])[0]
            else:
                with engine.no_grad():
                    jv = tangents(f, [y_var, *p_vars], [v, *dparams])[0]
        if recording:
            return k.concatenate([f, jv], 0)
        return np.concatenate([np.ravel(_plain(f)), np.ravel(_plain(jv))])
    return tangent_system


def _jvp(tangents, ans, y0, t, *params, func, options, cache):
    """Forward sensitivities: [y, v] integrated with v' = df/dy v + df/dp dp from
    v(t_0) = dy0 - f(y0, t0) dt_0; the output's tangent is v(t_i) + f(y_i, t_i) dt_i"""
    T, D = ans.data.shape
    dy0, dt = tangents[0], tangents[1]
    dparams = [np.zeros(p.data.shape) if d is None else d
               for p, d in zip(params, tangents[2:])]
    v0 = np.zeros(D) if dy0 is None else dy0
    if dt is not None:
        f0 = _rhs(func, k.getitem(ans, 0), k.getitem(t, 0), params, ans, (-1,))
        v0 = v0 - f0 * k.getitem(dt, 0)
    s0 = k.concatenate([k.getitem(ans, 0), v0], 0)
    system = dynamics_with_jvps(func, len(params))
    states = call_python_op(OPS["odeint"], (s0, t, *params, *dparams),
                            {"func": system, "options": options, "cache": {}})
    out = k.getitem(states, (slice(None), slice(D, 2 * D)))
    if dt is not None:
        rows = [_rhs(func, k.getitem(ans, i), k.getitem(t, i), params, ans, (1, -1))
                * k.getitem(dt, i) for i in range(T)]
        out = out + k.concatenate(rows, 0)
    return out


register(Op("odeint", _forward, _vjp, _jvp, nargs=None,
            doc="y_i = y(t_i) with dy/dt = func(y, t, *params), y(t_0) = y0"))


