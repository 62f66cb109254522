"""The built-in renderer: a Picture laid out in layers and written as SVG, with no dependency.

Used when neither Graphviz's ``dot`` nor ``graphviz-pure`` is installed. Each box goes in the
layer after its latest input (inputs sit just before their first consumer); boxes in a layer are
ordered by a few barycentre sweeps, modules kept together, then moved towards their
neighbours. It is meant for graphs of up to a few hundred boxes, which it draws readably; the
picture's own summarising keeps larger graphs under that.
"""
from xml.sax.saxutils import escape

FONT_SIZE = 12
CHAR_WIDTH = 7.0      # an average Helvetica glyph at FONT_SIZE, for sizing boxes
FIELD_PAD = 16
ROW_HEIGHT = 24
RANK_GAP = 50
NODE_GAP = 14
CLUSTER_PAD = 8
CLUSTER_LABEL = 18
MARGIN = 8

# Graphviz's X11 colour names that SVG does not know
COLOURS = {"darkolivegreen1": "#caff70", "gray93": "#ededed", "gray85": "#d9d9d9",
           "lightsteelblue1": "#cae1ff", "lightblue": "#add8e6"}


def _text_width(text):
    return len(text) * CHAR_WIDTH


class _Laid:
    __slots__ = ("box", "h", "key", "order", "rank", "vertical", "w", "x", "y")


def _size(box, vertical_records):
    item = _Laid()
    item.box = box
    if box.shape == "record":
        vertical = box.vertical if box.vertical is not None else vertical_records
        widths = [_text_width(f) + FIELD_PAD for f in box.fields]
        if vertical:
            item.w, item.h = max(widths), ROW_HEIGHT * len(widths)
        else:
            item.w, item.h = sum(widths), ROW_HEIGHT
        item.vertical = vertical
    elif box.shape == "ellipse":
        item.w, item.h = _text_width(box.fields[0]) + 2.2 * FIELD_PAD, ROW_HEIGHT + 8
        item.vertical = False
    else:
        item.w, item.h = _text_width(box.fields[0]) + FIELD_PAD, ROW_HEIGHT
        item.vertical = False
    item.rank = 0
    item.key = 0.0
    item.order = ()
    item.x = item.y = 0.0
    return item


def _ranks(items, index, preds, succs):
    """Layer of each box: one past its latest input (Kahn's order, ties in picture order);
    inputs then move to just before their first consumer."""
    n = len(items)
    pending = [len(preds[i]) for i in range(n)]
    ready = [i for i in range(n) if not pending[i]]
    ready.reverse()
    while ready:
        i = ready.pop()
        r = items[i].rank + 1
        for j in succs[i]:
            items[j].rank = max(items[j].rank, r)
            pending[j] -= 1
            if not pending[j]:
                ready.append(j)
    for i in range(n):
        if not preds[i] and succs[i]:
            items[i].rank = min(items[j].rank for j in succs[i]) - 1


def _order(items, layers, preds, succs, chains):
    """Barycentre sweeps (down, then up) to cut crossings; a module's boxes kept adjacent, and
    modules in the same order in every layer. Returns each cluster's sort key."""
    for i, item in enumerate(items):
        item.key = float(i)
    group_key = {}
    for sweep in range(5):
        neighbours = preds if sweep % 2 == 0 else succs
        sequence = layers if sweep % 2 == 0 else layers[::-1]
        if sweep < 4:
            for layer in sequence:
                for i in layer:
                    near = neighbours[i]
                    if near:
                        items[i].key = sum(items[j].key for j in near) / len(near)
        group_key = _group_keys(items, chains)
        for layer in sequence:
            for i in layer:
                items[i].order = (tuple(group_key[c] for c in chains[i])
                                  + ((items[i].key, -1),))
            layer.sort(key=lambda i: items[i].order)
            for position, i in enumerate(layer):
                items[i].key = float(position)
    return group_key


def _group_keys(items, chains):
    """Each cluster's key: its boxes' mean key over all layers, then its index for ties."""
    total, count = {}, {}
    for i, it in enumerate(items):
        for c in chains[i]:
            total[c] = total.get(c, 0.0) + it.key
            count[c] = count.get(c, 0) + 1
    return {c: (total[c] / count[c], c) for c in total}


def _place(items, layers, preds, succs, chains, horizontal):
    """Coordinates: layers along the rank axis; within a layer, boxes in order, each pulled
    towards the middle of its neighbours without overlapping."""
    def along(it):
        return it.w if horizontal else it.h

    def across(it):
        return it.h if horizontal else it.w

    position = 0.0
    rank_at = []
    for layer in layers:
        rank_at.append(position)
        position += max(along(items[i]) for i in layer) + RANK_GAP if layer else 0
    def gap(i, j):
        """Room between neighbours i, j in a layer: more where a cluster frame starts or ends."""
        a, b = chains[i], chains[j]
        k = 0
        while k < len(a) and k < len(b) and a[k] == b[k]:
            k += 1
        frames = (len(a) - k) + (len(b) - k)
        return NODE_GAP + frames * CLUSTER_PAD + (len(b) - k) * CLUSTER_LABEL

    centre = [0.0] * len(items)
    for layer in layers:
        c = 0.0
        prev = None
        for i in layer:
            if prev is not None:
                c += gap(prev, i)
            centre[i] = c + across(items[i]) / 2
            c += across(items[i])
            prev = i
    for sweep in range(4):
        sequence = layers if sweep % 2 == 0 else layers[::-1]
        for layer in sequence:
            if not layer:
                continue
            wanted = []
            for i in layer:
                near = preds[i] + succs[i]
                wanted.append(sum(centre[j] for j in near) / len(near) if near else centre[i])
            placed = []
            low = None
            prev = None
            for i, want in zip(layer, wanted):
                half = across(items[i]) / 2
                c = want if low is None else max(want, low + gap(prev, i) + half)
                placed.append(c)
                low = c + half
                prev = i
            shift = sum(w - p for w, p in zip(wanted, placed)) / len(layer)
            for i, p in zip(layer, placed):
                centre[i] = p + min(shift, 0.0)
    for r, layer in enumerate(layers):
        for i in layer:
            it = items[i]
            if horizontal:
                it.x = rank_at[r] + (along(it) - it.w) / 2
                it.y = centre[i] - it.h / 2
            else:
                it.y = rank_at[r]
                it.x = centre[i] - it.w / 2


def layout(pic, rankdir):
    """(items, cluster rectangles, width, height) for ``pic``."""
    horizontal = rankdir in ("LR", "RL")
    items = [_size(box, vertical_records=not horizontal) for box in pic.boxes]
    index = {box.id: i for i, box in enumerate(pic.boxes)}
    n = len(items)
    preds = [[] for _ in range(n)]
    succs = [[] for _ in range(n)]
    for a, b in pic.edges:
        preds[index[b]].append(index[a])
        succs[index[a]].append(index[b])
    _ranks(items, index, preds, succs)
    low = min((it.rank for it in items), default=0)
    layers = [[] for _ in range(max((it.rank for it in items), default=0) - low + 1)]
    for i, it in enumerate(items):
        it.rank -= low
        layers[it.rank].append(i)
    chains = []  # each box's clusters, outermost first
    for box in pic.boxes:
        chain = []
        c = box.cluster
        while c is not None:
            chain.append(c)
            c = pic.clusters[c].parent
        chains.append(tuple(reversed(chain)))
    group_key = _order(items, layers, preds, succs, chains)
    _place(items, layers, preds, succs, chains, horizontal)
    _separate_clusters(pic, items, chains, group_key, horizontal)
    rects = _cluster_rects(pic, items)
    # shift everything to start at the margin (and leave room for the notes)
    xs = [it.x for it in items] + [r[0] for r in rects if r]
    ys = [it.y for it in items] + [r[1] for r in rects if r]
    x0 = min(xs, default=0.0) - MARGIN
    y0 = min(ys, default=0.0) - MARGIN
    for it in items:
        it.x -= x0
        it.y -= y0
    rects = [(r[0] - x0, r[1] - y0, r[2], r[3]) if r else None for r in rects]
    width = max([it.x + it.w for it in items] + [r[0] + r[2] for r in rects if r]) + MARGIN
    height = max([it.y + it.h for it in items] + [r[1] + r[3] for r in rects if r]) + MARGIN
    if rankdir in ("RL", "BT"):  # mirror along the rank axis
        for it in items:
            if horizontal:
                it.x = width - it.x - it.w
            else:
                it.y = height - it.y - it.h
        rects = [((width - r[0] - r[2], r[1], r[2], r[3]) if horizontal
                  else (r[0], height - r[1] - r[3], r[2], r[3])) if r else None for r in rects]
    return items, index, rects, width, height


def _separate_clusters(pic, items, chains, group_key, horizontal):
    """Clusters span layers, so frames placed layer by layer can overlap: take the clusters in
    their drawing order and push each one (with everything drawn after it, a suffix of every
    layer) past the frame of the sibling before it."""
    if not pic.clusters:
        return
    prefix = {}
    for chain in chains:
        for k in range(len(chain)):
            prefix.setdefault(chain[k], tuple(group_key[c] for c in chain[:k + 1]))
    members = {k: [] for k in prefix}
    for i, chain in enumerate(chains):
        for c in chain:
            members[c].append(i)

    def lo(it):
        return it.y if horizontal else it.x

    def hi(it):
        return it.y + it.h if horizontal else it.x + it.w

    room = 2 * CLUSTER_PAD + CLUSTER_LABEL + NODE_GAP
    done_by_parent = {}
    for k in sorted(prefix, key=lambda c: prefix[c]):
        parent = pic.clusters[k].parent
        siblings = done_by_parent.setdefault(parent, [])
        if siblings:
            floor = max(hi(items[i]) for c in siblings for i in members[c]) + room
            top = min(lo(items[i]) for i in members[k])
            if top < floor:
                delta = floor - top
                p = prefix[k]
                for it in items:
                    if it.order >= p:
                        if horizontal:
                            it.y += delta
                        else:
                            it.x += delta
        siblings.append(k)


def _cluster_rects(pic, items):
    """(x, y, w, h) around each cluster's boxes and inner clusters (inner ones first: a
    cluster's parent always has the smaller index)."""
    rects = [None] * len(pic.clusters)
    bounds = [None] * len(pic.clusters)

    def grow(k, x0, y0, x1, y1):
        b = bounds[k]
        bounds[k] = (x0, y0, x1, y1) if b is None else (min(b[0], x0), min(b[1], y0),
                                                        max(b[2], x1), max(b[3], y1))
    for it in items:
        if it.box.cluster is not None:
            grow(it.box.cluster, it.x, it.y, it.x + it.w, it.y + it.h)
    for k in range(len(pic.clusters) - 1, -1, -1):
        b = bounds[k]
        if b is None:
            continue
        x0, y0 = b[0] - CLUSTER_PAD, b[1] - CLUSTER_PAD - CLUSTER_LABEL
        x1, y1 = b[2] + CLUSTER_PAD, b[3] + CLUSTER_PAD
        rects[k] = (x0, y0, x1 - x0, y1 - y0)
        parent = pic.clusters[k].parent
        if parent is not None:
            grow(parent, x0, y0, x1, y1)
    return rects


def _fill(colour):
    return COLOURS.get(colour, colour) if colour else "white"


def _f(x):
    return f"{x:.1f}"


def to_svg(pic, rankdir="LR"):
    """The SVG text of ``pic``, laid out by the built-in layered layout."""
    items, index, rects, width, height = layout(pic, rankdir) if pic.boxes else ([], {}, [], 0, 0)
    notes_height = (FONT_SIZE + 4) * len(pic.notes)
    width = max(width, max((_text_width(t) for t in pic.notes), default=0) + 2 * MARGIN, 1)
    height += notes_height
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
           (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}pt" '
           f'height="{_f(height)}pt" viewBox="0 0 {_f(width)} {_f(height)}">'),
           ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
           'fill="black"/></marker></defs>'),
           (f'<g class="graph" font-family="Helvetica,Arial,sans-serif" '
           f'font-size="{FONT_SIZE}"><title>fastgrad</title>'),
           f'<rect x="0" y="0" width="{_f(width)}" height="{_f(height)}" fill="white"/>']
    for k, r in enumerate(rects):
        if r is None:
            continue
        x, y, w, h = r
        out.append(f'<g class="cluster"><title>cluster_{k}</title>'
                   f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" '
                   f'fill="none" stroke="gray" stroke-dasharray="5,2"/>'
                   f'<text x="{_f(x + w / 2)}" y="{_f(y + CLUSTER_LABEL - 4)}" '
                   f'text-anchor="middle">{escape(pic.clusters[k].name)}</text></g>')
    horizontal = rankdir in ("LR", "RL")
    forward = rankdir in ("LR", "TB")
    for a, b in pic.edges:
        s, t = items[index[a]], items[index[b]]
        if horizontal:
            x1, y1 = (s.x + s.w, s.y + s.h / 2) if forward else (s.x, s.y + s.h / 2)
            x2, y2 = (t.x, t.y + t.h / 2) if forward else (t.x + t.w, t.y + t.h / 2)
            d = (x2 - x1) / 2
            path = (f"M{_f(x1)},{_f(y1)} C{_f(x1 + d)},{_f(y1)} {_f(x2 - d)},{_f(y2)} "
                    f"{_f(x2)},{_f(y2)}")
        else:
            x1, y1 = (s.x + s.w / 2, s.y + s.h) if forward else (s.x + s.w / 2, s.y)
            x2, y2 = (t.x + t.w / 2, t.y) if forward else (t.x + t.w / 2, t.y + t.h)
            d = (y2 - y1) / 2
            path = (f"M{_f(x1)},{_f(y1)} C{_f(x1)},{_f(y1 + d)} {_f(x2)},{_f(y2 - d)} "
                    f"{_f(x2)},{_f(y2)}")
        out.append(f'<g class="edge"><title>{escape(a)}-&gt;{escape(b)}</title>'
                   f'<path d="{path}" fill="none" stroke="black" marker-end="url(#arrow)"/>'
                   f'</g>')
    for it in items:
        out.append(_node_svg(it))
    y = height - notes_height
    for note in pic.notes:
        y += FONT_SIZE + 2
        out.append(f'<text x="{_f(width / 2)}" y="{_f(y)}" text-anchor="middle" '
                   f'font-size="{FONT_SIZE - 2}">{escape(note)}</text>')
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _node_svg(it):
    box = it.box
    dash = ' stroke-dasharray="5,2"' if box.dashed else ""
    fill = _fill(box.fill)
    parts = [f'<g class="node"><title>{escape(box.id)}</title>']
    if box.shape == "ellipse":
        cx, cy = it.x + it.w / 2, it.y + it.h / 2
        parts.append(f'<ellipse cx="{_f(cx)}" cy="{_f(cy)}" rx="{_f(it.w / 2)}" '
                     f'ry="{_f(it.h / 2)}" fill="{fill}" stroke="black"{dash}/>')
        parts.append(_text(cx, cy, box.fields[0]))
    else:
        parts.append(f'<rect x="{_f(it.x)}" y="{_f(it.y)}" width="{_f(it.w)}" '
                     f'height="{_f(it.h)}" fill="{fill}" stroke="black"{dash}/>')
        if it.vertical or len(box.fields) == 1:
            for k, field in enumerate(box.fields):
                y = it.y + ROW_HEIGHT * k
                if k:
                    parts.append(_line(it.x, y, it.x + it.w, y))
                parts.append(_text(it.x + it.w / 2, y + ROW_HEIGHT / 2, field))
        else:
            x = it.x
            for k, field in enumerate(box.fields):
                w = _text_width(field) + FIELD_PAD
                if k:
                    parts.append(_line(x, it.y, x, it.y + it.h))
                parts.append(_text(x + w / 2, it.y + it.h / 2, field))
                x += w
    parts.append("</g>")
    return "".join(parts)


def _line(x1, y1, x2, y2):
    return f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="black"/>'


def _text(x, y, text):
    return (f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="middle" '
            f'dominant-baseline="central">{escape(text)}</text>')
