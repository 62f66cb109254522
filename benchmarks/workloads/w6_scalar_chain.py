"""W6: a deep chain of scalar ops, h = tanh(h w + b) repeated `depth` times, forward + backward.

w and b are two leaves shared by every link, so the graph has 3 nodes per link plus the leaves.
Variants are depths: BENCHMARKS.md's 10^5 (10^4 with --quick), and a depth shallow enough for
micrograd, whose recursive topological sort raises RecursionError near depth 1000 / 3 (three
nodes per link, one Python frame per node). micrograd's RecursionError at the full depth is
reported as its result, not hidden. Without --quick, fastgrad's Value also runs depths 10^6 and
10^7 (compiled only: the twin would take minutes), to show the time per link staying flat.
"""

import math

from .registry import QUICK, register

DEEP = 10_000 if QUICK else 100_000
SHALLOW = 200  # micrograd's recursive sort still fits in Python's default 1000 frames
W, B, H0 = 0.5, 0.1, 0.3


def micrograd_tanh(Value, x):
    """tanh as a micrograd node, as in micrograd's lecture (micrograd 0.1 ships no tanh)."""
    t = math.tanh(x.data)
    out = Value(t, (x,), "tanh")

    def _backward():
        x.grad += (1 - t * t) * out.grad
    out._backward = _backward
    return out


def micrograd_chain(depth):
    from micrograd.engine import Value

    w, b = Value(W), Value(B)

    def forward_backward():
        w.grad = b.grad = 0
        h = Value(H0)
        for _ in range(depth):
            h = micrograd_tanh(Value, h * w + b)
        h.backward()
        return w.grad

    return forward_backward


def torch_chain(depth):
    import torch

    from onecore import limit_torch

    limit_torch(torch)
    w = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(B, dtype=torch.float64, requires_grad=True)
    h0 = torch.tensor(H0, dtype=torch.float64)

    def forward_backward():
        w.grad = b.grad = None
        h = h0
        for _ in range(depth):
            h = torch.tanh(h * w + b)
        h.backward()
        return w.grad.item()

    return forward_backward


def fastgrad_value_chain(depth):
    """fastgrad's Value (the micrograd face), which has tanh."""
    from fastgrad import Value

    w, b = Value(W), Value(B)

    def forward_backward():
        w.grad = b.grad = 0
        h = Value(H0)
        for _ in range(depth):
            h = (h * w + b).tanh()
        h.backward()
        return w.grad

    return forward_backward


def fastgrad_tensor_chain(depth):
    """fastgrad's Tensor face on 0-d float64 tensors, written as the torch entry is."""
    import fastgrad

    w = fastgrad.Tensor(W, requires_grad=True)
    b = fastgrad.Tensor(B, requires_grad=True)
    h0 = fastgrad.Tensor(H0)

    def forward_backward():
        w.grad = b.grad = None
        h = h0
        for _ in range(depth):
            h = fastgrad.tanh(h * w + b)
        h.backward()
        return w.grad.item()

    return forward_backward


SCALING = () if QUICK else (1_000_000, 10_000_000)  # the Value face's further depths


def chain_case(depth):
    return dict(unit="forward+backward", variant=f"depth={depth}", params={"depth": depth},
                per_item=(depth, "link"))


DEEP_CASE = chain_case(DEEP)
SHALLOW_CASE = chain_case(SHALLOW)


@register("W6", "fastgrad", reference=True, **DEEP_CASE)
def fastgrad_value_deep():
    return fastgrad_value_chain(DEEP)


@register("W6", "fastgrad-tensor", slow=True, **DEEP_CASE)
def fastgrad_tensor_deep():
    return fastgrad_tensor_chain(DEEP)


@register("W6", "micrograd", requires=("micrograd",), may_fail=(RecursionError,), slow=True,
          **DEEP_CASE)
def micrograd_deep():
    return micrograd_chain(DEEP)


@register("W6", "torch", requires=("torch",), slow=True, **DEEP_CASE)
def torch_deep():
    return torch_chain(DEEP)


@register("W6", "fastgrad", reference=True, **SHALLOW_CASE)
def fastgrad_value_shallow():
    return fastgrad_value_chain(SHALLOW)


@register("W6", "fastgrad-tensor", **SHALLOW_CASE)
def fastgrad_tensor_shallow():
    return fastgrad_tensor_chain(SHALLOW)


@register("W6", "micrograd", requires=("micrograd",), **SHALLOW_CASE)
def micrograd_shallow():
    return micrograd_chain(SHALLOW)


@register("W6", "torch", requires=("torch",), **SHALLOW_CASE)
def torch_shallow():
    return torch_chain(SHALLOW)


for depth in SCALING:
    register("W6", "fastgrad", slow=True, twin=False, **chain_case(depth))(
        lambda depth=depth: fastgrad_value_chain(depth))
