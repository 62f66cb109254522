"""From a fastgrad graph to a picture: the boxes, edges and clusters to draw, renderer-neutral.

The graph is walked without recursion from the root(s), parents in recorded order, so the sort
order (and every box's id, ``n<position>``) is the same run to run and backend to backend.
Parameters are named from a module (``named_parameters()``) or a dict; a node joins the cluster
of the module whose parameters it uses directly. Past ``max_nodes`` the picture is summarised:
modules are collapsed into one box each (innermost first), then what is still too much is cut to
the nodes nearest the output, behind one box that says how many were left out.
"""
import warnings

from .. import _backend
from .._py import opcodes
from .._py.dense import ACTIVATION_NAMES
from .._py.opcodes import OP_DENSE, OP_LEAF, OP_NAMES

PARAMETER_FILL = "lightblue"
OUTPUT_FILL = "darkolivegreen1"
CONSTANT_FILL = "gray93"
MODULE_FILL = "lightsteelblue1"
SUMMARY_FILL = "gray85"


class Box:
    """One box of the picture: a record (``fields`` side by side, micrograd's data | grad), an
    op ellipse or a plain box, with an optional fill colour and a cluster."""

    __slots__ = ("cluster", "dashed", "fields", "fill", "id", "shape", "vertical")

    def __init__(self, id, shape, fields, fill=None, dashed=False, cluster=None,
                 vertical=None):
        self.id = id
        self.shape = shape      # "record", "ellipse" or "box"
        self.fields = fields    # list of str (one for an ellipse or a box)
        self.fill = fill
        self.dashed = dashed
        self.cluster = cluster  # index into Picture.clusters, or None
        # a record's fields: True stacked top to bottom; None as micrograd's "{ data | grad }"
        # is drawn by Graphviz (side by side left to right, stacked top to bottom)
        self.vertical = vertical


class Cluster:
    """A module: its name, and the cluster it sits in (None at the top)."""

    __slots__ = ("name", "parent")

    def __init__(self, name, parent):
        self.name = name
        self.parent = parent


class Picture:
    """What to draw. ``total`` graph nodes were found, ``shown`` are drawn one box each;
    ``notes`` say what was summarised or freed (drawn as the graph's label)."""

    def __init__(self):
        self.boxes = []
        self.edges = []       # (from id, to id), in order, no duplicates
        self.clusters = []
        self.notes = []
        self.total = 0
        self.shown = 0
        self.collapsed = 0    # modules drawn as one box
        self.hidden = 0       # nodes behind the summary box
        self.freed = 0        # interior tensors whose parents backward() freed
        self.max_nodes = None
        self.units = []       # summarised boxes: ["module", name, count] or ["summary", None, count]


# ---------------------------------------------------------------- what is a fastgrad node

def _kinds():
    """(Value classes, Node classes) of every backend loaded in this process."""
    backends = _backend.loaded()
    return (tuple(bk.scalar.Value for bk in backends), tuple(bk.node.Node for bk in backends))


def as_roots(root, where):
    """``root`` (a Value or a Tensor, or a list/tuple of them) as a list, checked."""
    values, tensors = _kinds()
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    if not roots:
        raise ValueError(f"{where}: got an empty list of roots; pass a fastgrad Value or Tensor")
    for r in roots:
        if not isinstance(r, values + tensors):
            kind = type(r)
            raise TypeError(
                f"{where}: the root must be a fastgrad Value or Tensor (or a list of them), got "
                f"{kind.__module__}.{kind.__qualname__}; a graph from another library (micrograd, "
                f"PyTorch) needs that library's drawing tool")
    return roots, values


# ---------------------------------------------------------------- parameter names and modules

def parameter_names(params, where):
    """{id(parameter): name} from a module (named_parameters()), a dict or (name, p) pairs."""
    if params is None:
        return {}, {}
    if hasattr(params, "named_parameters") and callable(params.named_parameters):
        pairs = list(params.named_parameters())
    elif isinstance(params, dict):
        pairs = list(params.items())
    else:
        try:
            pairs = [tuple(p) for p in params]
        except TypeError:
            pairs = None
        if pairs is None or any(len(p) != 2 for p in pairs):
            raise TypeError(f"{where}: params must be a Module, a dict {{name: parameter}} or "
                            f"(name, parameter) pairs, got {type(params).__name__}")
    names, objects = {}, {}
    for name, p in pairs:
        if not isinstance(name, str):
            raise TypeError(f"{where}: parameter names must be strings, got {name!r}")
        names.setdefault(id(p), name)
        objects.setdefault(id(p), p)  # kept alive, so that ids stay unique while we draw
    return names, objects


def module_of(name):
    """The module a parameter (or module) name belongs to: "layers.0.neurons.1.w.0" ->
    "layers.0.neurons.1" (list indices dropped, then the attribute), "0.weight" -> "0"."""
    parts = name.split(".")
    while parts and parts[-1].isdigit():
        parts.pop()
    return ".".join(parts[:-1])


def _chain(module):
    """module, its parent module, ... (the top, "", excluded)."""
    out = []
    while module:
        out.append(module)
        module = module_of(module)
    return out


def _common(modules):
    """The innermost module holding all of ``modules`` ("" for none)."""
    chains = [_chain(m) for m in modules]
    first = chains[0]
    rest = [set(c) for c in chains[1:]]
    for m in first:
        if all(m in c for c in rest):
            return m
    return ""


# ---------------------------------------------------------------- the walk

def sort(roots, values):
    """(nodes, prevs, index): nodes parents-first with the roots last, found without
    recursion; prevs[i] is node i's parents in recorded order (None: freed by backward);
    index maps id(node) to its position."""
    index = {}
    nodes = []
    prevs = []
    for root in roots:
        if id(root) in index:
            continue
        # a Value's parents are Values, a tensor's are tensors: one way to read them per root
        parents_of = _value_parents if isinstance(root, values) else _tensor_parents
        index[id(root)] = -1  # found, not yet placed
        prev = parents_of(root)
        path = [(root, prev, iter(prev or ()))]
        while path:
            node, prev, pending = path[-1]
            for p in pending:
                if id(p) not in index:
                    index[id(p)] = -1
                    grand = parents_of(p)
                    path.append((p, grand, iter(grand or ())))
                    break
            else:
                path.pop()
                index[id(node)] = len(nodes)
                nodes.append(node)
                prevs.append(prev)
    return nodes, prevs, index


def _value_parents(node):
    return node._prev_ordered


def _tensor_parents(node):
    prev = node._prev
    if prev is None:
        return None if node._op != OP_LEAF else ()
    return prev


# ---------------------------------------------------------------- labels

def _number(x):
    return f"{x:.4g}"


def _array_summary(arr, max_elements):
    """The values of a small array, flattened ("[1, 2.5, -3]"); None past max_elements."""
    if arr is None or arr.size > max_elements:
        return None
    if arr.ndim == 0:
        return _number(float(arr))
    return "[" + ", ".join(_number(x) for x in arr.reshape(-1).tolist()) + "]"


# ops of a tensor and a Python number c (kept in ctx): the formula they compute
SCALAR_FORMULAS = {opcodes.OP_ADD_S: "x + {}", opcodes.OP_MUL_S: "x * {}",
                   opcodes.OP_DIV_S: "x / {}", opcodes.OP_RSUB_S: "{} - x",
                   opcodes.OP_RDIV_S: "{} / x", opcodes.OP_POW_S: "x ** {}",
                   opcodes.OP_RPOW_S: "{} ** x"}


def _op_name(node):
    op, ctx = node._op, node._ctx
    name = OP_NAMES.get(op, str(op))
    if op == OP_DENSE and isinstance(ctx, int) and ctx:
        name = f"dense+{ACTIVATION_NAMES[ctx]}"
    elif op in SCALAR_FORMULAS and isinstance(ctx, (int, float)):
        name = f"{name} ({SCALAR_FORMULAS[op].format(_number(ctx))})"
    return name


def _tensor_fields(node, name, freed, max_elements):
    data = node.data
    if name is not None:
        title = name
    elif node._op != OP_LEAF:
        title = _op_name(node) + (" (graph freed)" if freed else "")
    else:
        title = "leaf" if node.requires_grad else "constant"
    fields = [title, f"{tuple(data.shape)} {data.dtype}"]
    summary = _array_summary(data, max_elements)
    if summary is not None:
        fields.append("data " + summary)
        grad = node.grad
        summary = _array_summary(grad, max_elements) if grad is not None else "None"
        if summary is not None:
            fields.append("grad " + summary)
    return fields


def _value_fields(node, name):
    # micrograd's draw_dot: "{ data %.4f | grad %.4f }"; its lecture's "{ label | ... }" for a
    # Value subclass that carries a label
    fields = [f"data {node.data:.4f}", f"grad {node.grad:.4f}"]
    if name is None:
        label = getattr(node, "label", None)
        name = label if isinstance(label, str) and label else None
    return [name] + fields if name is not None else fields


# ---------------------------------------------------------------- building the picture

def picture(root, params=None, max_nodes=500, max_elements=8, where="to_dot"):
    """The Picture of the graph behind ``root``."""
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 2:
        raise ValueError(f"{where}: max_nodes must be an integer >= 2, got {max_nodes!r}")
    if isinstance(max_elements, bool) or not isinstance(max_elements, int) or max_elements < 0:
        raise ValueError(f"{where}: max_elements must be an integer >= 0, got {max_elements!r}")
    roots, values = as_roots(root, where)
    names, keep_alive = parameter_names(params, where)
    nodes, prevs, index = sort(roots, values)
    n = len(nodes)
    pic = Picture()
    pic.total = n
    pic.max_nodes = max_nodes
    is_root = {id(r) for r in roots}

    name_of = [names.get(id(node)) for node in nodes] if names else [None] * n
    module = _modules(prevs, index, name_of)
    unit = _units(n, module, max_nodes, pic)
    unit_ids = [_unit_box_id(u, pic) for u in range(len(pic.units))]
    # without modules the hidden nodes are a prefix of the order: their parents are hidden too
    only_summary = len(pic.units) == 1 and pic.units[0][0] == "summary"

    clusters = {}  # module name -> cluster index

    def cluster_of(m):
        if not m:
            return None
        c = clusters.get(m)
        if c is None:
            parent = cluster_of(module_of(m))  # (nesting is shallow: a few levels)
            c = clusters[m] = len(pic.clusters)
            pic.clusters.append(Cluster(m, parent))
        return c

    emitted = set()
    edges = pic.edges
    seen_edges = set()

    def edge(a, b):
        if (a, b) not in seen_edges:
            seen_edges.add((a, b))
            edges.append((a, b))

    def unit_id(i):
        u = unit[i]
        return f"n{i}" if u < 0 else unit_ids[u]

    for i, node in enumerate(nodes):
        u = unit[i]
        if u >= 0:  # drawn as a module box or the summary box
            box_id = unit_ids[u]
            if box_id not in emitted:
                emitted.add(box_id)
                pic.boxes.append(_unit_box(u, pic, cluster_of))
            if id(node) in is_root:
                _mark_output(pic, box_id)
            if not only_summary:
                for p in prevs[i] or ():
                    j = index[id(p)]
                    if unit[j] != u:
                        edge(unit_id(j), box_id)
            continue
        pic.shown += 1
        nid = f"n{i}"
        name = name_of[i]
        c = cluster_of(module[i])
        fill = PARAMETER_FILL if name is not None else None
        if name is not None and module[i]:
            name = name[len(module[i]) + 1:]  # the cluster's label says the rest
        if id(node) in is_root:
            fill = OUTPUT_FILL
        prev = prevs[i]
        if prev is not None:
            prev = [index[id(p)] for p in prev]
        if isinstance(node, values):
            pic.boxes.append(Box(nid, "record", _value_fields(node, name), fill, cluster=c))
            if prev:  # micrograd's op node: parents -> op -> value
                op_id = nid + "_op"
                pic.boxes.append(Box(op_id, "ellipse", [node._op], cluster=c))
                edge(op_id, nid)
                for p in prev:
                    edge(unit_id(p), op_id)
            continue
        is_freed = prev is None
        if fill is None and node._op == OP_LEAF and not node.requires_grad:
            fill = CONSTANT_FILL
        pic.boxes.append(Box(nid, "record", _tensor_fields(node, name, is_freed, max_elements),
                             fill, dashed=is_freed, cluster=c, vertical=True))
        for p in prev or ():
            edge(unit_id(p), nid)
    del keep_alive
    pic.freed = freed = prevs.count(None)
    if pic.collapsed or pic.hidden:
        note = f"{n} nodes, over max_nodes={max_nodes}: "
        parts = []
        if pic.collapsed:
            parts.append(f"{pic.collapsed} modules drawn as one box each")
        if pic.hidden:
            parts.append(f"{pic.hidden} nodes farthest from the output not shown")
        pic.notes.append(note + "; ".join(parts))
    if freed:
        message = (f"{freed} node(s) had their graph freed by backward(): drawn without their "
                   f"inputs; call backward(retain_graph=True) to keep the whole graph")
        pic.notes.append(message)
        warnings.warn(f"{where}: {message}", UserWarning, stacklevel=3)
    return pic


def _modules(prevs, index, name_of):
    """Each node's module: a parameter's own; an op's, the innermost module holding every
    named parameter it uses directly; else "" (outside every module)."""
    if not any(name is not None for name in name_of):
        return [""] * len(name_of)
    module = []
    for i in range(len(name_of)):
        name = name_of[i]
        if name is not None:
            module.append(module_of(name))
            continue
        positions = [index[id(p)] for p in prevs[i] or ()]
        used = [module[p] for p in positions if name_of[p] is not None]
        module.append(_common(used) if used else "")
    return module


def _units(n, module, max_nodes, pic):
    """unit[i] = -1 for a node drawn as itself, else the index of the box it is summarised
    into (pic.units: ("module", name) or ("summary", count))."""
    unit = [-1] * n
    if n <= max_nodes:
        return unit
    chains = {m: _chain(m) for m in set(module) if m}
    if not chains:  # no modules: the nodes nearest the output, and one box for the rest
        cut = n - (max_nodes - 1)
        pic.units.append(["summary", None, cut])
        unit[:cut] = [0] * cut
        pic.hidden = cut
        return unit
    collapsed_to = None
    for d in range(max(len(c) for c in chains.values()), 0, -1):
        # modules at depth >= d become their ancestor at depth d
        to = [(chains[m][-d] if m and len(chains[m]) >= d else None) for m in module]
        count = len({t for t in to if t is not None}) + sum(1 for t in to if t is None)
        collapsed_to = to
        if count <= max_nodes:
            break
    index = {}
    for i, t in enumerate(collapsed_to):
        if t is not None:
            u = index.get(t)
            if u is None:
                u = index[t] = len(pic.units)
                pic.units.append(["module", t, 0])
            pic.units[u][2] += 1
            unit[i] = u
    pic.collapsed = len(index)
    # what is drawn, each at the position of its last node (the one nearest the output)
    last = {}
    for i in range(n):
        last[unit[i] if unit[i] >= 0 else ~i] = i
    if len(last) <= max_nodes:
        return unit
    drawn = sorted(last.items(), key=lambda kv: kv[1])
    cut = len(drawn) - (max_nodes - 1)
    summary = len(pic.units)
    pic.units.append(["summary", None, 0])
    dropped_modules = set()
    for key, _ in drawn[:cut]:
        if key >= 0:
            dropped_modules.add(key)
    for i in range(n):
        u = unit[i]
        if (u < 0 and last[~i] <= drawn[cut - 1][1]) or u in dropped_modules:
            unit[i] = summary
            pic.units[summary][2] += 1
    pic.hidden = pic.units[summary][2]
    pic.collapsed -= len(dropped_modules)
    return unit


def _unit_box_id(u, pic):
    kind = pic.units[u][0]
    return f"summary{u}" if kind == "summary" else f"module{u}"


def _unit_box(u, pic, cluster_of):
    kind, name, count = pic.units[u]
    if kind == "summary":
        return Box(_unit_box_id(u, pic), "box",
                   [f"{count} nodes not shown (max_nodes={pic.max_nodes})"], SUMMARY_FILL,
                   dashed=True)
    return Box(_unit_box_id(u, pic), "record", [name, f"module: {count} nodes"], MODULE_FILL,
               cluster=cluster_of(module_of(name)), vertical=True)


def _mark_output(pic, box_id):
    for box in pic.boxes:
        if box.id == box_id:
            box.fill = OUTPUT_FILL
