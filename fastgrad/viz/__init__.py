"""Drawing the graph: micrograd's ``draw_dot``, for Values and Tensors, in a notebook or a file.

>>> from fastgrad import Value
>>> from fastgrad.viz import draw_dot, to_dot
>>> x = Value(1.0)
>>> y = (x * 2 + 1).relu()
>>> y.backward()
>>> print(to_dot(y).splitlines()[3])
  n0 [label="{ data 1.0000 | grad 2.0000 }", shape=record];
>>> dot = draw_dot(y)          # in Jupyter, the cell shows the graph (SVG)
>>> dot.renderer in ("dot", "graphviz-pure", "builtin")
True

``to_dot`` gives the DOT text (no dependency). ``draw_dot`` gives a :class:`Drawing` that
renders itself in Jupyter and writes SVG or PNG files, with the best renderer installed:
Graphviz's ``dot``, else ``graphviz-pure`` (``pip install fastgrad[viz]``), else a built-in
SVG layout (SVG only, for graphs of up to a few hundred boxes). Importing fastgrad does not
import this module.
"""
import os
import warnings

from . import render as _render
from .dot import to_dot_source
from .walk import picture

__all__ = ["Drawing", "draw_dot", "to_dot"]

RANKDIRS = ("LR", "TB", "RL", "BT")


def _check_rankdir(rankdir, where):
    if rankdir not in RANKDIRS:
        raise ValueError(f"{where}: rankdir must be one of {', '.join(RANKDIRS)}, got "
                         f"{rankdir!r}")


def _check_format(fmt, where):
    if not isinstance(fmt, str) or fmt.lower() not in _render.ALL_FORMATS:
        raise ValueError(f"{where}: unknown format {fmt!r}; expected one of "
                         f"{', '.join(_render.ALL_FORMATS)}")
    return fmt.lower()


def to_dot(root, params=None, rankdir="LR", max_nodes=500, max_elements=8):
    """The graph behind ``root`` as Graphviz DOT text.

    Parameters
    ----------
    root : Value or Tensor, or a list of them
        The output(s); every node they were computed from is drawn, outputs filled green.
    params : Module, dict or (name, parameter) pairs, optional
        Names parameters (filled blue) and groups each module's nodes in a cluster: a node
        joins the module whose parameters it uses directly. ``model`` and
        ``dict(model.named_parameters())`` both work.
    rankdir : "LR", "TB", "RL" or "BT"
    max_nodes : int
        Graphs with more nodes are summarised: modules collapsed into one box each (innermost
        first), then the nodes farthest from the output replaced by one box; the graph's label
        reports it.
    max_elements : int
        Tensors of at most this many elements show their data and grad.

    Box ids are ``n<i>``, i the node's position in the sort (parents first, outputs last), and
    ``n<i>_op`` for a Value's op: the same text for the same graph, run to run.
    """
    _check_rankdir(rankdir, "to_dot")
    pic = picture(root, params, max_nodes, max_elements, where="to_dot")
    return to_dot_source(pic, rankdir)


def draw_dot(root, format="svg", rankdir="LR", params=None, max_nodes=500, max_elements=8,
             renderer="auto"):
    """A :class:`Drawing` of the graph behind ``root`` (micrograd's ``draw_dot``).

    ``format`` ("svg" or "png"; "pdf", "jpg", "gif" with Graphviz) is what the drawing shows in
    Jupyter and writes by default. ``renderer`` "auto" picks Graphviz's ``dot``, else
    ``graphviz-pure``, else the built-in SVG layout; "dot", "graphviz-pure" or "builtin" insist
    on one (and raise if it is missing). The other arguments are :func:`to_dot`'s.
    """
    _check_rankdir(rankdir, "draw_dot")
    fmt = _check_format(format, "draw_dot")
    if renderer not in _render.RENDERERS:
        raise ValueError(f"draw_dot: renderer must be one of {', '.join(_render.RENDERERS)}, "
                         f"got {renderer!r}")
    pic = picture(root, params, max_nodes, max_elements, where="draw_dot")
    return Drawing(to_dot_source(pic, rankdir), pic, fmt, rankdir, renderer)


class Drawing:
    """A drawn graph: ``.source`` (DOT text), ``.renderer`` (which renderer drew it: "dot",
    "graphviz-pure" or "builtin"), ``.save(path)``, ``.render(filename)``, ``.pipe(format)``;
    Jupyter shows it through ``_repr_mimebundle_``.

    ``total_nodes`` nodes were found, ``shown_nodes`` are drawn one box each; ``notes`` says
    what was summarised (past ``max_nodes``) or freed by backward().
    """

    def __init__(self, source, pic, format, rankdir, renderer):
        self.source = source
        self.format = format
        self.rankdir = rankdir
        self.requested_renderer = renderer
        self.total_nodes = pic.total
        self.shown_nodes = pic.shown
        self.max_nodes = pic.max_nodes
        self.notes = list(pic.notes)
        self._pic = pic
        self._cache = {}
        found = _render.candidates(renderer, "svg" if format in _render.SOURCE_FORMATS
                                   else format)
        self.renderer = found[0] if found else None

    def __repr__(self):
        return (f"<fastgrad.viz.Drawing: {self.shown_nodes} of {self.total_nodes} nodes, "
                f"format {self.format!r}, renderer {self.renderer!r}>")

    def __str__(self):
        return self.source

    # ------------------------------------------------------------ rendering

    def pipe(self, format=None):
        """The drawing as bytes in ``format`` (default: the drawing's)."""
        fmt = _check_format(format or self.format, "Drawing.pipe")
        if fmt in _render.SOURCE_FORMATS:
            return self.source.encode("utf-8")
        if fmt not in self._cache:
            data, used = _render.render(self.source, self._pic, self.rankdir, fmt,
                                        self.requested_renderer)
            self._cache[fmt] = data
            self.renderer = used
        return self._cache[fmt]

    def svg(self):
        """The drawing as SVG text."""
        return self.pipe("svg").decode("utf-8")

    def _repr_mimebundle_(self, include=None, exclude=None):
        """For Jupyter: image/png if the format is png and a renderer can write it, else
        image/svg+xml (the built-in renderer always can). Never raises for want of one."""
        if self.format == "png":
            try:
                return {"image/png": self.pipe("png")}
            except _render.RenderError as e:
                warnings.warn(f"{e}; showing SVG instead", RuntimeWarning, stacklevel=2)
        try:
            return {"image/svg+xml": self.svg()}
        except _render.RenderError:
            if self.requested_renderer == "auto":
                raise
            # an insisted-on renderer failed: the built-in layout still shows the graph
            warnings.warn(f"draw_dot: the {self.requested_renderer!r} renderer failed; "
                          f"showing the built-in layout", RuntimeWarning, stacklevel=2)
            self.renderer = "builtin"
            return {"image/svg+xml": _render.to_svg(self._pic, self.rankdir)}

    def _repr_svg_(self):
        return self._repr_mimebundle_().get("image/svg+xml")

    # ------------------------------------------------------------ files

    def save(self, path, format=None):
        """Write the drawing to ``path``; the format is ``format``, else the path's suffix
        (.svg, .png, .dot, ...), else the drawing's. Returns the path."""
        path = os.fspath(path)
        if format is None:
            suffix = os.path.splitext(path)[1][1:].lower()
            format = suffix if suffix in _render.ALL_FORMATS else self.format
        data = self.pipe(format)
        _write(path, data, "Drawing.save")
        return path

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None,
               outfile=None):
        """graphviz.Digraph.render's call: write the DOT text to ``filename`` (default
        "fastgrad.gv") and the drawing to ``filename.<format>``; return the drawing's path.
        ``outfile`` writes the drawing there instead (format from its suffix)."""
        if view:
            raise ValueError("Drawing.render: view=True is not supported; open the file it "
                             "returns")
        if outfile is not None:
            return self.save(outfile if directory is None else os.path.join(directory, outfile),
                             format)
        fmt = _check_format(format or self.format, "Drawing.render")
        filename = os.fspath(filename) if filename is not None else "fastgrad.gv"
        if directory is not None:
            filename = os.path.join(os.fspath(directory), filename)
        data = self.pipe(fmt)  # before any file is written: a missing renderer writes nothing
        if not cleanup:
            _write(filename, self.source.encode("utf-8"), "Drawing.render")
        out = f"{filename}.{fmt}"
        _write(out, data, "Drawing.render")
        return out


def _write(path, data, where):
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise type(e)(e.errno, f"{where}: cannot write the drawing to {path!r}: "
                               f"{e.strerror}") from e
