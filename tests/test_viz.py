"""fastgrad.viz: DOT text (golden), the built-in SVG layout, renderer fallback, summarising, and
bad input. Every graph test runs on both engines."""
import random
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from helpers import run_python

import fastgrad as fastgrad_module
from fastgrad.nn.scalar import on_engine
from fastgrad.viz import Drawing, draw_dot, render, svg, to_dot, walk

SVG = "{http://www.w3.org/2000/svg}"

# ---------------------------------------------------------------- golden DOT

GOLDEN_VALUE = """\
digraph fastgrad {
  graph [rankdir=LR];
  node [fontsize=11];
  n0 [label="{ a | data 2.0000 | grad -1.0148 }", shape=record, fillcolor=lightblue, style="filled"];
  n1 [label="{ b | data -3.0000 | grad -0.0197 }", shape=record, fillcolor=lightblue, style="filled"];
  n2 [label="{ data -6.0000 | grad 0.0049 }", shape=record];
  n2_op [label="*"];
  n3 [label="{ data 9.0000 | grad 0.0049 }", shape=record];
  n3_op [label="**2"];
  n4 [label="{ data 3.0000 | grad 0.0049 }", shape=record];
  n4_op [label="+"];
  n5 [label="{ data 0.9951 | grad 0.5000 }", shape=record];
  n5_op [label="tanh"];
  n6 [label="{ data 0.4975 | grad 1.0000 }", shape=record];
  n6_op [label="*"];
  n7 [label="{ data -2.0000 | grad 1.0000 }", shape=record];
  n7_op [label="*"];
  n8 [label="{ data -1.5025 | grad 1.0000 }", shape=record, fillcolor=darkolivegreen1, style="filled"];
  n8_op [label="+"];
  n2_op -> n2;
  n0 -> n2_op;
  n1 -> n2_op;
  n3_op -> n3;
  n1 -> n3_op;
  n4_op -> n4;
  n2 -> n4_op;
  n3 -> n4_op;
  n5_op -> n5;
  n4 -> n5_op;
  n6_op -> n6;
  n5 -> n6_op;
  n7_op -> n7;
  n0 -> n7_op;
  n8_op -> n8;
  n6 -> n8_op;
  n7 -> n8_op;
}
"""

GOLDEN_MLP = """\
digraph fastgrad {
  graph [rankdir=LR];
  node [fontsize=11];
  n0 [label="constant | (1, 2) float64 | data [0.5, -1] | grad None", shape=record, fillcolor=gray93, style="filled"];
  n1 [label="weight | (2, 3) float64 | data [0.3001, -0.5044, -1.006, -1.059, 0.6863, 0.9043] | grad [-0.1011, -0.3337, -0.0294, 0.2023, 0.6674, 0.05881]", shape=record, fillcolor=lightblue, style="filled"];
  n2 [label="bias | (3,) float64 | data [0, 0, 0] | grad [-0.2023, -0.6674, -0.05881]", shape=record, fillcolor=lightblue, style="filled"];
  n3 [label="dense+tanh | (1, 3) float64 | data [0.8365, -0.7345, -0.8869] | grad None", shape=record];
  n4 [label="weight | (3, 1) float64 | data [0.2612, 0.5621, 0.1069] | grad [-2.157, 1.894, 2.287]", shape=record, fillcolor=lightblue, style="filled"];
  n5 [label="bias | (1,) float64 | data [0] | grad [-2.578]", shape=record, fillcolor=lightblue, style="filled"];
  n6 [label="dense | (1, 1) float64 | data [-0.2892] | grad None", shape=record];
  n7 [label="constant | (1, 1) float64 | data [1] | grad None", shape=record, fillcolor=gray93, style="filled"];
  n8 [label="sub | (1, 1) float64 | data [-1.289] | grad None", shape=record];
  n9 [label="pow_s (x ** 2) | (1, 1) float64 | data [1.662] | grad None", shape=record];
  n10 [label="mean | () float64 | data 1.662 | grad None", shape=record, fillcolor=darkolivegreen1, style="filled"];
  subgraph cluster_0 {
    label="0"; style=dashed; color=gray50;
    n1; n2; n3;
  }
  subgraph cluster_1 {
    label="1"; style=dashed; color=gray50;
    n4; n5; n6;
  }
  n0 -> n3;
  n1 -> n3;
  n2 -> n3;
  n3 -> n6;
  n4 -> n6;
  n5 -> n6;
  n6 -> n8;
  n7 -> n8;
  n8 -> n9;
  n9 -> n10;
}
"""


def value_expression(Value):
    """A small expression of two named leaves, after backward()."""
    a, b = Value(2.0), Value(-3.0)
    out = (a * b + b ** 2).tanh() / 2 - a
    out.backward()
    return out, {"a": a, "b": b}


def tensor_mlp(fg, retain_graph=True):
    """A 2-3-1 tanh MLP (seeded) on one sample, its MSE loss after backward()."""
    model = fastgrad_module.nn.mlp([2, 3, 1], seed=0, backend=fg.name)
    x = fg.Tensor(np.array([[0.5, -1.0]]))
    y = fg.Tensor(np.array([[1.0]]))
    loss = ((model(x) - y) ** 2).mean()
    loss.backward(retain_graph=retain_graph)
    return loss, model


def test_golden_value_expression(fg):
    out, params = value_expression(fg.bk.scalar.Value)
    assert to_dot(out, params=params) == GOLDEN_VALUE


def test_golden_tensor_mlp(fg):
    loss, model = tensor_mlp(fg)
    assert to_dot(loss, params=model) == GOLDEN_MLP
    # a dict of the named parameters names them the same way
    assert to_dot(loss, params=dict(model.named_parameters())) == GOLDEN_MLP


def test_same_text_run_to_run_and_on_both_engines(both):
    # the scalar Value is a class of the kernel modules: both sit side by side in one process
    py, cy = fastgrad_module._backend.load("python").scalar, both[1].bk.scalar
    texts = [to_dot(*value_expression(m.Value)) for m in (py, cy, py)]
    assert texts[0] == texts[1] == texts[2]


def test_micrograd_neuron_is_one_fused_op_with_named_parameters(fg):
    Neuron, _, _ = on_engine(fg.bk.scalar)
    random.seed(1337)
    n = Neuron(2)
    y = n([fg.bk.scalar.Value(1.0), fg.bk.scalar.Value(-2.0)])
    y.backward()
    text = to_dot(y, params=n)
    # parents in recorded order: b, w0, x0, w1, x1 (micrograd's sum order)
    assert 'n0 [label="{ b | data 0.0000 | grad 1.0000 }"' in text
    assert 'n1 [label="{ w.0 |' in text and 'n3 [label="{ w.1 |' in text
    assert 'n5_op [label="ReLU(b+w*x)"]' in text
    assert [line.strip() for line in text.splitlines() if "-> n5_op" in line] == [
        f"n{i} -> n5_op;" for i in range(5)]


def test_modules_nest_as_clusters(fg):
    _, _, MLP = on_engine(fg.bk.scalar)
    random.seed(0)
    model = MLP(2, [3, 1])
    out = model([1.0, -1.0])
    text = to_dot(out, params=model)
    for name in ("layers.0", "layers.1", "layers.0.neurons.2", "layers.1.neurons.0"):
        assert f'label="{name}"' in text
    assert text.count("subgraph cluster_") == 6
    # a neuron's cluster sits inside its layer's: the layer's block is open around it
    lines = text.splitlines()
    for name, outer in (("layers.0.neurons.0", "layers.0"), ("layers.1.neurons.0", "layers.1")):
        inner_at = next(i for i, line in enumerate(lines) if f'label="{name}";' in line)
        outer_at = next(i for i, line in enumerate(lines) if f'label="{outer}";' in line)
        assert outer_at < inner_at
        assert lines[inner_at].startswith("      label=")  # nested one level deeper
        assert all(line.strip() != "}" or line.startswith("    }")
                   for line in lines[outer_at:inner_at])


def test_several_roots_are_all_marked(fg):
    Value = fg.bk.scalar.Value
    a = Value(1.0)
    outs = [a * 2, a + 3]
    text = to_dot(outs)
    assert text.count("darkolivegreen1") == 2


def test_module_names_and_record_escaping():
    assert walk.module_of("layers.0.neurons.1.w.0") == "layers.0.neurons.1"
    assert walk.module_of("0.weight") == "0"
    assert walk.module_of("weight") == ""
    from fastgrad import Value
    x = Value(1.0)
    y = Value(2.0, (x,), 'f{"|<>}')  # a custom op with every record metacharacter
    text = to_dot(y, params={"x|{}": x})
    assert '{ x\\|\\{\\} | data 1.0000' in text
    assert 'n1_op [label="f{\\"|<>}"]' in text


# ---------------------------------------------------------------- the built-in SVG

def parse_svg(svg):
    root = ET.fromstring(svg)
    groups = list(root.iter(SVG + "g"))
    return ([g for g in groups if g.get("class") == "node"],
            [g for g in groups if g.get("class") == "edge"],
            [g for g in groups if g.get("class") == "cluster"])


def test_builtin_svg_has_every_box_and_edge(fg):
    out, params = value_expression(fg.bk.scalar.Value)
    drawing = draw_dot(out, params=params, renderer="builtin")
    nodes, edges, clusters = parse_svg(drawing.svg())
    assert drawing.renderer == "builtin"
    # 9 values, 7 of them computed (one op box each); 17 edges as in the DOT text
    assert len(nodes) == 16
    assert len(edges) == 17 == drawing.source.count("->")
    titles = {n.find(SVG + "title").text for n in nodes}
    assert titles == {f"n{i}" for i in range(9)} | {f"n{i}_op" for i in range(2, 9)}
    assert not clusters


def test_builtin_svg_of_a_tensor_mlp_with_clusters(fg):
    loss, model = tensor_mlp(fg)
    for rankdir in ("LR", "TB", "RL", "BT"):
        nodes, edges, clusters = parse_svg(draw_dot(loss, params=model, rankdir=rankdir,
                                                    renderer="builtin").svg())
        assert (len(nodes), len(edges), len(clusters)) == (11, 10, 2)


def test_builtin_svg_boxes_do_not_overlap(fg):
    _, _, MLP = on_engine(fg.bk.scalar)
    random.seed(1)
    model = MLP(3, [4, 4, 1])
    out = model([1.0, 2.0, 3.0])
    items, _, _, _, _ = svg.layout(walk.picture(out, model), "LR")
    boxes = [(it.x, it.y, it.x + it.w, it.y + it.h) for it in items]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


# ---------------------------------------------------------------- renderers

def test_without_dot_the_notebook_still_gets_svg(fg, monkeypatch):
    out, _ = value_expression(fg.bk.scalar.Value)
    monkeypatch.setattr(render, "find_executable", lambda name: None)
    drawing = draw_dot(out)
    bundle = drawing._repr_mimebundle_()
    assert drawing.renderer == "builtin"
    assert set(bundle) == {"image/svg+xml"}
    nodes, _, _ = parse_svg(bundle["image/svg+xml"])
    assert len(nodes) == 16
    # png asked for: the notebook gets the SVG and a warning naming what to install
    drawing = draw_dot(out, format="png")
    with pytest.warns(RuntimeWarning, match="apt-get install graphviz"):
        bundle = drawing._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml"}


def test_with_path_emptied_the_notebook_still_gets_svg(fg, monkeypatch):
    out, _ = value_expression(fg.bk.scalar.Value)
    monkeypatch.setenv("PATH", "")
    drawing = draw_dot(out)
    bundle = drawing._repr_mimebundle_()
    # graphviz-pure may still be found beside this Python's scripts; dot cannot
    assert drawing.renderer in ("graphviz-pure", "builtin")
    ET.fromstring(bundle["image/svg+xml"])


@pytest.mark.parametrize("program", ["dot", "graphviz-pure"])
def test_graphviz_accepts_the_text(fg, program, tmp_path):
    exe = (render.find_executable(program) if program == "dot"
           else render.installed_script(program))
    if exe is None:
        pytest.skip(f"{program} is not installed")
    out, params = value_expression(fg.bk.scalar.Value)
    loss, model = tensor_mlp(fg)
    _, _, MLP = on_engine(fg.bk.scalar)
    random.seed(0)
    mlp = MLP(4, [8, 8, 1])
    big = mlp([1.0, 2.0, 3.0, 4.0])
    for text in (to_dot(out, params=params), to_dot(loss, params=model, rankdir="TB"),
                 to_dot(big, params=mlp, max_nodes=20), to_dot(big, max_nodes=20)):
        done = subprocess.run([exe, "-Tsvg"], input=text.encode(), capture_output=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr.decode()
        assert not done.stderr, done.stderr.decode()  # no warning either
        ET.fromstring(done.stdout)
    drawing = draw_dot(out, renderer=program)
    assert drawing.renderer == program
    assert drawing.save(tmp_path / "g.png") == str(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(render.installed_script("graphviz-pure") is None,
                    reason="graphviz-pure (pip install fastgrad[viz]) is not installed in this "
                           "Python's environment")
def test_graphviz_pure_renders_svg_and_png(fg, monkeypatch, tmp_path):
    loss, model = tensor_mlp(fg)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)  # no dot on PATH
    drawing = draw_dot(loss, params=model, format="png")
    assert drawing.renderer == "graphviz-pure"
    assert drawing._repr_mimebundle_()["image/png"][:4] == b"\x89PNG"
    ET.fromstring(drawing.svg())
    assert drawing.renderer == "graphviz-pure"


def test_render_writes_source_and_drawing_like_graphviz(fg, tmp_path, monkeypatch):
    out, _ = value_expression(fg.bk.scalar.Value)
    monkeypatch.setattr(render, "find_executable", lambda name: None)
    drawing = draw_dot(out)
    path = drawing.render(str(tmp_path / "gout"))
    assert path == str(tmp_path / "gout.svg")
    assert (tmp_path / "gout").read_text() == drawing.source
    ET.parse(path)
    drawing.save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == drawing.source


def test_micrograd_notebook_runs_with_only_its_imports_changed(tmp_path, monkeypatch):
    # micrograd's trace_graph notebook, its own draw_dot replaced by the import
    code = """
from fastgrad import Value
from fastgrad.viz import draw_dot

# a very simple example
x = Value(1.0)
y = (x * 2 + 1).relu()
y.backward()
draw_dot(y)

# a simple 2D neuron
import random
from fastgrad import nn

random.seed(1337)
n = nn.Neuron(2)
x = [Value(1.0), Value(-2.0)]
y = n(x)
y.backward()

dot = draw_dot(y)
dot
dot.render('gout')
print(dot.renderer, sorted(dot._repr_mimebundle_()))
"""
    result = run_python(["-c", code], cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "['image/svg+xml']" in result.stdout
    assert (tmp_path / "gout.svg").stat().st_size > 0
    ET.parse(tmp_path / "gout.svg")


def test_importing_fastgrad_imports_no_renderer(tmp_path):
    code = ("import sys, fastgrad\n"
            "print([m for m in ('fastgrad.viz', 'graphviz', 'pydot', 'pygraphviz') "
            "if m in sys.modules])\n"
            "import fastgrad.viz\n"
            "print([m for m in ('graphviz', 'pydot', 'pygraphviz', 'matplotlib') "
            "if m in sys.modules])\n")
    result = run_python(["-c", code], cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "[]"]


# ---------------------------------------------------------------- summarising

def test_a_deep_chain_is_summarised_within_the_limit(fg):
    Value = fg.bk.scalar.Value
    y = Value(0.5)
    for _ in range(10 ** 5):
        y = y * 1.0000001
    pic = walk.picture(y, max_nodes=500)
    assert pic.total == 10 ** 5 + 1
    assert pic.shown == 499 and pic.hidden == 10 ** 5 + 1 - 499
    text = to_dot(y, max_nodes=500)
    assert text.count("shape=record") == 499  # values; one summary box besides
    assert "100001 nodes, over max_nodes=500" in text
    assert "99502 nodes not shown (max_nodes=500)" in text
    # the kept nodes are the ones nearest the output: the root is drawn, its edges intact
    assert 'n100000 [label="{ data' in text and "summary0 -> n100000_op" not in text
    nodes, _edges, _ = parse_svg(draw_dot(y, max_nodes=500, renderer="builtin").svg())
    assert len(nodes) == 499 * 2 + 1


def test_modules_are_collapsed_before_nodes_are_dropped(fg):
    _, _, MLP = on_engine(fg.bk.scalar)
    random.seed(0)
    model = MLP(30, [40, 40, 1])
    out = model([1.0] * 30)
    pic = walk.picture(out, model, max_nodes=120)  # 81 neurons (and 30 inputs): a box each
    assert (pic.collapsed, pic.hidden) == (81, 0)
    pic = walk.picture(out, model, max_nodes=60)   # too many neurons: one box per layer
    assert (pic.collapsed, pic.hidden) == (3, 0)
    text = to_dot(out, params=model, max_nodes=60)
    assert 'label="layers.1 | module: ' in text
    drawing = draw_dot(out, params=model, max_nodes=60, renderer="builtin")
    assert drawing.total_nodes == pic.total and drawing.notes == pic.notes
    nodes, _, _ = parse_svg(drawing.svg())
    assert len(nodes) == len(walk.picture(out, model, max_nodes=60).boxes)


# ---------------------------------------------------------------- bad input

def test_bad_roots():
    for bad in (1.0, np.ones(3), None, "x", object()):
        with pytest.raises(TypeError, match="must be a fastgrad Value or Tensor"):
            to_dot(bad)
        with pytest.raises(TypeError, match="must be a fastgrad Value or Tensor"):
            draw_dot(bad)
    with pytest.raises(ValueError, match="empty list of roots"):
        to_dot([])


def test_a_micrograd_value_is_refused_with_its_name():
    engine = pytest.importorskip("micrograd.engine")
    with pytest.raises(TypeError, match="micrograd.engine.Value"):
        draw_dot(engine.Value(1.0))


def test_a_freed_graph_is_drawn_as_far_as_it_remains(fg):
    loss, model = tensor_mlp(fg, retain_graph=False)
    with pytest.warns(UserWarning, match="freed by backward"):
        text = to_dot(loss, params=model)
    assert "mean (graph freed)" in text and "retain_graph=True" in text
    assert "dashed" in text
    with pytest.warns(UserWarning, match="freed by backward"):
        nodes, _, _ = parse_svg(draw_dot(loss, renderer="builtin").svg())
    assert len(nodes) == 1


def test_bad_arguments(fg, tmp_path, monkeypatch):
    out, _ = value_expression(fg.bk.scalar.Value)
    with pytest.raises(ValueError, match="unknown format 'bmpx'"):
        draw_dot(out, format="bmpx")
    with pytest.raises(ValueError, match="rankdir must be one of"):
        to_dot(out, rankdir="XY")
    with pytest.raises(ValueError, match="renderer must be one of"):
        draw_dot(out, renderer="cairo")
    with pytest.raises(ValueError, match="max_nodes must be an integer"):
        to_dot(out, max_nodes=1)
    with pytest.raises(TypeError, match="params must be a Module, a dict"):
        to_dot(out, params=42)
    with pytest.raises(TypeError, match="parameter names must be strings"):
        to_dot(out, params={1: out})
    drawing = draw_dot(out)
    with pytest.raises(ValueError, match="unknown format"):
        drawing.save(tmp_path / "g.svg", format="bmpx")
    with pytest.raises(OSError, match="cannot write the drawing to .*missing"):
        drawing.save(tmp_path / "missing" / "g.svg")
    # the built-in renderer writes SVG only: PNG names what to install
    monkeypatch.setattr(render, "find_executable", lambda name: None)
    with pytest.raises(render.RenderError, match="pip install fastgrad\\[viz\\]"):
        draw_dot(out).save(tmp_path / "g.png")
    with pytest.raises(render.RenderError, match="'dot' renderer is not installed"):
        draw_dot(out, renderer="dot").pipe()
    with pytest.raises(render.RenderError, match="cannot write 'png'"):
        draw_dot(out, renderer="builtin").save(tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


def test_a_failing_renderer_falls_back(fg, monkeypatch):
    out, _ = value_expression(fg.bk.scalar.Value)
    monkeypatch.setattr(render, "find_executable", lambda name: sys.executable
                        if name == "dot" else None)  # "dot" that rejects its input
    drawing = draw_dot(out)
    assert drawing.renderer == "dot"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svg = drawing.svg()
    assert drawing.renderer == "builtin"
    assert any("trying the next renderer" in str(w.message) for w in caught)
    ET.fromstring(svg)


def test_drawing_is_the_public_type(fg):
    out, _ = value_expression(fg.bk.scalar.Value)
    drawing = draw_dot(out)
    assert isinstance(drawing, Drawing)
    assert str(drawing) == drawing.source == to_dot(out)
    assert "9 of 9 nodes" in repr(drawing)


def test_ipython_displays_the_drawing(fg, monkeypatch):
    formatters = pytest.importorskip("IPython.core.formatters")
    out, _ = value_expression(fg.bk.scalar.Value)
    data, _ = formatters.DisplayFormatter().format(draw_dot(out))
    ET.fromstring(data["image/svg+xml"])
    monkeypatch.setattr(render, "find_executable", lambda name: None)
    with pytest.warns(RuntimeWarning, match="showing SVG instead"):
        data, _ = formatters.DisplayFormatter().format(draw_dot(out, format="png"))
    ET.fromstring(data["image/svg+xml"])


def test_a_value_subclass_with_a_label_is_drawn_with_it(fg):
    class Labelled(fg.bk.scalar.Value):  # the micrograd lecture's Value(data, label=...)
        def __init__(self, data, label=""):
            super().__init__(data)
            self.label = label

    a = Labelled(2.0, "a")
    text = to_dot(a * 3)
    assert 'n0 [label="{ a | data 2.0000 | grad 0.0000 }"' in text
    assert 'n0 [label="{ x | data' in to_dot(a * 3, params={"x": a})  # a given name wins
