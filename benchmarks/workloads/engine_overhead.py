"""The engine's own costs (issue 2): per-op overhead on tiny tensors, and a chain of 10^5 nodes,
forward + backward. fastgrad's two backends (the report runs the suite once per backend) and
PyTorch, the usual eager reference.

- OP: one op, or a tiny graph, where everything but the bookkeeping is negligible. "fwd" times
  the forward alone (no graph is freed by a backward, so it measures recording too); "fwd+bwd"
  adds backward().
- CHAIN: h = tanh(h*w + b) on one-element tensors, 3 nodes per link, 33 334 links = 10^5 nodes
  (10^4 with --quick): the sort, the sweep and the freeing of a long graph.
"""

import numpy as np

from .registry import QUICK, register

CHAIN_NODES = 10_000 if QUICK else 100_000
LINKS = CHAIN_NODES // 3 + 1


def fastgrad_op(kind):
    import fastgrad as fg
    rng = np.random.default_rng(0)
    a = fg.Tensor(rng.standard_normal(3), requires_grad=True)
    b = fg.Tensor(rng.standard_normal(3), requires_grad=True)
    W = fg.Tensor(rng.standard_normal((16, 16)), requires_grad=True)
    x = fg.Tensor(rng.standard_normal((4, 16)))
    if kind == "mul fwd":
        return lambda: a * b
    if kind == "tanh fwd":
        return lambda: fg.tanh(a)
    if kind == "mul+sum fwd+bwd":
        def step():
            a.grad = b.grad = None
            (a * b).sum().backward()
        return step
    if kind == "matmul16+tanh+sum fwd+bwd":
        def step():
            W.grad = None
            fg.tanh(x @ W).sum().backward()
        return step
    raise ValueError(kind)


def torch_op(kind):
    import torch

    from onecore import limit_torch
    limit_torch(torch)
    g = torch.Generator().manual_seed(0)
    opts = dict(dtype=torch.float64, generator=g)
    a = torch.randn(3, **opts).requires_grad_()
    b = torch.randn(3, **opts).requires_grad_()
    W = torch.randn(16, 16, **opts).requires_grad_()
    x = torch.randn(4, 16, **opts)
    if kind == "mul fwd":
        return lambda: a * b
    if kind == "tanh fwd":
        return lambda: torch.tanh(a)
    if kind == "mul+sum fwd+bwd":
        def step():
            a.grad = b.grad = None
            (a * b).sum().backward()
        return step
    if kind == "matmul16+tanh+sum fwd+bwd":
        def step():
            W.grad = None
            torch.tanh(x @ W).sum().backward()
        return step
    raise ValueError(kind)


for _kind in ("mul fwd", "tanh fwd", "mul+sum fwd+bwd", "matmul16+tanh+sum fwd+bwd"):
    register("OP", "fastgrad", variant=_kind, unit="call")(
        lambda kind=_kind: fastgrad_op(kind))
    register("OP", "torch", variant=_kind, unit="call", requires=("torch",))(
        lambda kind=_kind: torch_op(kind))


@register("CHAIN", "fastgrad", variant=f"nodes={CHAIN_NODES}", unit="forward+backward",
          params={"nodes": CHAIN_NODES})
def fastgrad_chain():
    import fastgrad as fg
    w = fg.Tensor([0.5], requires_grad=True)
    b = fg.Tensor([0.1], requires_grad=True)
    h0 = fg.Tensor([0.3])

    def forward_backward():
        w.grad = b.grad = None
        h = h0
        for _ in range(LINKS):
            h = fg.tanh(h * w + b)
        h.sum().backward()
        return w.grad
    return forward_backward


@register("CHAIN", "torch", variant=f"nodes={CHAIN_NODES}", unit="forward+backward",
          requires=("torch",), params={"nodes": CHAIN_NODES})
def torch_chain():
    import torch

    from onecore import limit_torch
    limit_torch(torch)
    w = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.1], dtype=torch.float64, requires_grad=True)
    h0 = torch.tensor([0.3], dtype=torch.float64)

    def forward_backward():
        w.grad = b.grad = None
        h = h0
        for _ in range(LINKS):
            h = torch.tanh(h * w + b)
        h.sum().backward()
        return w.grad
    return forward_backward
