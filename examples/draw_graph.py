"""Draw two graphs: micrograd's single neuron (Values) and a small Tensor MLP's loss.

Writes neuron.svg and mlp.svg (and .png when Graphviz's ``dot`` or graphviz-pure is installed:
the built-in renderer writes SVG only) and says which renderer drew them.

    python examples/draw_graph.py [--out-dir .]
"""
import argparse
import os
import random

import numpy as np

import fastgrad
from fastgrad import Value, nn
from fastgrad.viz import draw_dot
from fastgrad.viz.render import RenderError


def neuron_graph():
    """micrograd's trace_graph notebook: a 2-input ReLU neuron, after backward()."""
    random.seed(1337)
    n = nn.Neuron(2)
    x = [Value(1.0), Value(-2.0)]
    y = n(x)
    y.backward()
    return draw_dot(y, params=n)


def mlp_graph():
    """A 2-3-1 tanh MLP's squared error on one sample; parameters named, layers clustered."""
    model = nn.mlp([2, 3, 1], seed=0)
    x = fastgrad.Tensor(np.array([[0.5, -1.0]]))
    target = fastgrad.Tensor(np.array([[1.0]]))
    loss = ((model(x) - target) ** 2).mean()
    loss.backward(retain_graph=True)  # keep the graph to draw it (backward frees it)
    return draw_dot(loss, params=model)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=".")
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, drawing in (("neuron", neuron_graph()), ("mlp", mlp_graph())):
        written = [drawing.save(os.path.join(args.out_dir, f"{name}.svg"))]
        try:
            written.append(drawing.save(os.path.join(args.out_dir, f"{name}.png")))
        except RenderError as e:
            print(f"{name}: no PNG ({e})")
        print(f"{name}: {drawing.total_nodes} nodes drawn by {drawing.renderer!r}: "
              f"{', '.join(written)}")


if __name__ == "__main__":
    main()
