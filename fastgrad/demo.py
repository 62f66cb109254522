"""fastgrad-demo (or python -m fastgrad.demo): a small tanh MLP, written with Tensor ops, trained
on two moons.

It prints the loss as training goes, the test accuracy, and the time per training step of the
compiled engine against the pure-Python twin (run in a second process with
FASTGRAD_NO_EXTENSIONS=1, so both use exactly this code). Then the same step written with
nn.mlp, the fused cross-entropy and optim.SGD, side by side: eager, captured (fastgrad.capture:
recorded once, replayed in compiled code), the twin eager and captured, and PyTorch eager and
jax.jit when they are installed. No data is downloaded: the moons are generated here.
"""
import argparse
import itertools
import json
import os
import subprocess
import sys
import time

import numpy as np

SIZES = (2, 32, 32, 2)


def two_moons(n, noise, rng):
    """n points on two interleaving half circles (labels 0 and 1), with Gaussian noise."""
    half = n // 2
    t_outer = np.linspace(0, np.pi, n - half)
    t_inner = np.linspace(0, np.pi, half)
    X = np.concatenate([np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
                        np.stack([1 - np.cos(t_inner), 0.5 - np.sin(t_inner)], axis=1)])
    y = np.concatenate([np.zeros(n - half, dtype=int), np.ones(half, dtype=int)])
    X += rng.normal(scale=noise, size=X.shape)
    order = rng.permutation(n)
    return X[order], y[order]


def train(steps, log_every=0, seed=0, batch=32):
    """Minibatch SGD with momentum; returns (losses, test accuracy, seconds per step)."""
    import fastgrad as fg

    rng = np.random.default_rng(seed)
    X, y = two_moons(600, 0.15, rng)
    X_train, y_train, X_test, y_test = X[:400], y[:400], X[400:], y[400:]
    onehot = np.eye(2)[y_train]
    batches = [rng.permutation(len(X_train))[:batch] for _ in range(steps)]
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):  # Xavier-uniform weights, zero biases
        bound = np.sqrt(6 / (fan_in + fan_out))
        params += [fg.Tensor(rng.uniform(-bound, bound, (fan_in, fan_out)), requires_grad=True),
                   fg.Tensor(np.zeros(fan_out), requires_grad=True)]
    velocity = [np.zeros_like(p.data) for p in params]

    def logits(x):
        h = x
        for i in range(0, len(params) - 2, 2):
            h = fg.tanh(h @ params[i] + params[i + 1])
        return h @ params[-2] + params[-1]

    losses = []
    started = time.perf_counter()
    for step in range(steps):
        rows = batches[step]
        log_p = fg.log_softmax(logits(X_train[rows]), axis=1)
        loss = -(log_p * onehot[rows]).sum(axis=1).mean()
        for p in params:
            p.zero_grad()
        loss.backward()
        for p, v in zip(params, velocity):
            v *= 0.9
            v -= 0.1 * p.grad
            p.data += v
        losses.append(float(loss.data))
        if log_every and (step % log_every == 0 or step == steps - 1):
            recent = losses[-log_every:]
            print(f"  step {step:4d}  loss {sum(recent) / len(recent):.4f} "
                  f"(mean of the last {len(recent)} minibatches)")
    seconds = (time.perf_counter() - started) / steps
    with fg.no_grad():
        accuracy = float(np.mean(logits(X_test).data.argmax(axis=1) == y_test))
    return losses, accuracy, seconds


def time_per_call(fn, steps):
    fn()
    fn()
    fn()  # eager, recorded, first replay (for a captured step); warm caches otherwise
    started = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - started) / steps


def side_by_side(steps, batch=32, peers=True):
    """Seconds per step of the demo step (nn.mlp + fused cross-entropy + momentum SGD):
    {"eager": ..., "captured": ...} on this backend, plus "torch" and "jax" if installed."""
    import fastgrad as fg
    import fastgrad.nn.functional as F

    rng = np.random.default_rng(0)
    X, y = two_moons(400, 0.15, rng)
    x, labels = X[:batch], y[:batch]
    times = {}
    for name in ("eager", "captured"):
        model = fg.nn.mlp(list(SIZES), seed=0)
        opt = fg.optim.SGD(model.parameters(), 0.1, momentum=0.9)

        def step(xb, yb, model=model, opt=opt):
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss
        call = fg.capture(step) if name == "captured" else step
        times[name] = time_per_call(lambda call=call: call(x, labels), steps)
    if not peers:
        return times
    try:
        times["torch"] = torch_seconds(x, labels, steps)
    except ImportError:
        pass
    try:
        times["jax.jit"] = jax_seconds(x, labels, steps)
    except ImportError:
        pass
    return times


def torch_seconds(x, labels, steps):
    import torch
    torch.set_num_threads(1)
    layers = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        layers += [torch.nn.Linear(fan_in, fan_out, dtype=torch.float64), torch.nn.Tanh()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)

    def step():
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.item()
    return time_per_call(step, steps)


def jax_seconds(x, labels, steps):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(0)
    params = [(jnp.asarray(rng.standard_normal((i, o)) / np.sqrt(i)), jnp.zeros(o))
              for i, o in itertools.pairwise(SIZES)]
    state = [params, jax.tree.map(jnp.zeros_like, params)]
    xj, yj = jnp.asarray(x), jnp.asarray(labels)

    def loss(params):
        h = xj
        for W, b in params[:-1]:
            h = jnp.tanh(h @ W + b)
        log_p = jax.nn.log_softmax(h @ params[-1][0] + params[-1][1], axis=1)
        return -jnp.mean(jnp.take_along_axis(log_p, yj[:, None], axis=1))

    @jax.jit
    def update(params, velocity):
        value, grads = jax.value_and_grad(loss)(params)
        velocity = jax.tree.map(lambda v, g: 0.9 * v + g, velocity, grads)
        return value, jax.tree.map(lambda p, v: p - 0.1 * v, params, velocity), velocity

    def step():
        value, state[0], state[1] = update(*state)
        return float(value)
    return time_per_call(step, steps)


def twin_seconds_per_step(steps):
    """Time per step of this same training on the pure-Python twin, in a fresh process."""
    import fastgrad
    env = dict(os.environ, FASTGRAD_NO_EXTENSIONS="1")
    # run where this fastgrad lives: `-m` puts the working directory first on sys.path, and a
    # source checkout there would otherwise be imported instead
    home = os.path.dirname(os.path.dirname(os.path.abspath(fastgrad.__file__)))
    out = subprocess.run([sys.executable, "-m", "fastgrad.demo", "--measure", str(steps)],
                         env=env, cwd=home, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # the twin's run
    args = parser.parse_args(argv)
    if args.measure:
        _, _, seconds = train(args.measure)
        steps = max(args.measure, 20)
        times = side_by_side(steps, peers=False)
        print(json.dumps({"seconds_per_step": seconds, "eager": times["eager"],
                          "captured": times["captured"]}))
        return

    import fastgrad
    print(f"fastgrad {fastgrad.__version__} demo: a {'-'.join(map(str, SIZES))} tanh MLP on 400 "
          f"two-moons points (minibatches of 32, momentum SGD), backend '{fastgrad.BACKEND}'")
    losses, accuracy, seconds = train(args.steps, log_every=max(args.steps // 6, 1))
    print(f"test accuracy: {accuracy:.1%} on 200 held-out points")
    print(f"time per step ({fastgrad.BACKEND}): {seconds * 1e3:.3f} ms")
    if fastgrad.BACKEND != "cython":
        print("(the compiled engine is not built here, so there is nothing to compare with)")
        return
    twin = twin_seconds_per_step(max(args.steps // 5, 20))
    print(f"time per step (pure-Python twin): {twin['seconds_per_step'] * 1e3:.3f} ms, "
          f"so the compiled engine is {twin['seconds_per_step'] / seconds:.1f}x faster on "
          f"this step")
    times = side_by_side(max(args.steps, 200))
    times["twin eager"], times["twin captured"] = twin["eager"], twin["captured"]
    print("the same step with nn.mlp, the fused cross-entropy and optim.SGD (momentum):")
    for name, value in times.items():
        print(f"  {name:14s} {value * 1e6:9.1f} us per step   "
              f"({times['eager'] / value:5.2f}x eager compiled)")


if __name__ == "__main__":
    main()
