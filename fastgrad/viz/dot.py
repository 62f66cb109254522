"""A Picture as Graphviz DOT text (no dependency: DOT is text)."""


def _quote(text):
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_RECORD_SPECIAL = set('{}|<>"\\')


def _record_field(text):
    """Escape what a record label gives meaning to ({ } | < > and the quote)."""
    out = []
    for ch in text:
        if ch in _RECORD_SPECIAL:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        else:
            out.append(ch)
    return "".join(out)


def _box_line(box, rankdir):
    if box.shape == "record":
        label = " | ".join(_record_field(f) for f in box.fields)
        # Graphviz lays a record's fields across the rank direction, braces turn them: LR
        # stacks "a | b" top to bottom and puts "{ a | b }" side by side (micrograd's look)
        if box.vertical is None or (box.vertical == (rankdir in ("TB", "BT"))):
            label = "{ " + label + " }"
        label = '"' + label + '"'
        attrs = [f"label={label}", "shape=record"]
    else:
        attrs = [f"label={_quote(box.fields[0])}"]
        if box.shape == "box":
            attrs.append("shape=box")
    styles = []
    if box.fill:
        styles.append("filled")
        attrs.append(f"fillcolor={box.fill}")
    if box.dashed:
        styles.append("dashed")
    if styles:
        attrs.append(f'style="{",".join(styles)}"')
    return f"  {box.id} [{', '.join(attrs)}];"


def to_dot_source(pic, rankdir):
    """The DOT text of ``pic``: boxes in sort order, then clusters (modules), then edges."""
    lines = ["digraph fastgrad {"]
    graph_attrs = [f"rankdir={rankdir}"]
    if pic.notes:
        graph_attrs += [f"label={_quote(chr(10).join(pic.notes))}", "labelloc=b", "fontsize=10"]
    lines.append(f"  graph [{', '.join(graph_attrs)}];")
    lines.append("  node [fontsize=11];")
    for box in pic.boxes:
        lines.append(_box_line(box, rankdir))
    lines.extend(_cluster_lines(pic))
    for a, b in pic.edges:
        lines.append(f"  {a} -> {b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _cluster_lines(pic):
    """Nested ``subgraph cluster_k`` blocks listing their boxes, without recursion."""
    if not pic.clusters:
        return []
    members = [[] for _ in pic.clusters]
    children = [[] for _ in pic.clusters]
    top = []
    for k, c in enumerate(pic.clusters):
        (children[c.parent] if c.parent is not None else top).append(k)
    for box in pic.boxes:
        if box.cluster is not None:
            members[box.cluster].append(box.id)
    lines = []
    stack = [(k, 1, False) for k in reversed(top)]
    while stack:
        k, depth, closing = stack.pop()
        pad = "  " * depth
        if closing:
            lines.append(pad + "}")
            continue
        lines.append(f"{pad}subgraph cluster_{k} {{")
        lines.append(f"{pad}  label={_quote(pic.clusters[k].name)}; style=dashed; color=gray50;")
        if members[k]:
            lines.append(pad + "  " + "; ".join(members[k]) + ";")
        stack.append((k, depth, True))
        stack.extend((j, depth + 1, False) for j in reversed(children[k]))
    return lines
