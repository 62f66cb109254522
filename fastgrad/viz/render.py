"""Renderers, best first: Graphviz's ``dot`` on PATH; ``graphviz-pure`` (pip install
fastgrad[viz]: Graphviz's layout as one self-contained program, no system package); the built-in
SVG layout (fastgrad.viz.svg). A drawing in a notebook never fails for want of a renderer: it
falls back to the next one, warns, and says which one it used.
"""
import os
import shutil
import subprocess
import sysconfig
import warnings

from .svg import to_svg

# What each renderer can write (besides "dot"/"gv", the DOT text itself, which needs none)
FORMATS = {
    "dot": ("svg", "png", "pdf", "jpg", "jpeg", "gif", "ps"),
    "graphviz-pure": ("svg", "png", "jpg", "jpeg"),
    "builtin": ("svg",),
}
SOURCE_FORMATS = ("dot", "gv")
ALL_FORMATS = tuple(sorted({f for fs in FORMATS.values() for f in fs} | set(SOURCE_FORMATS)))
RENDERERS = ("auto", "dot", "graphviz-pure", "builtin")
TIMEOUT = 120  # seconds a renderer may take before it is given up on

INSTALL_HINT = ("install Graphviz (its `dot` program: apt-get install graphviz, brew install "
                "graphviz, conda install graphviz) or `pip install fastgrad[viz]` "
                "(graphviz-pure, no system package); the built-in renderer writes SVG only")


class RenderError(RuntimeError):
    """A renderer is missing, cannot write the format, or failed."""


def find_executable(renderer):
    """The path of ``dot`` or ``graphviz-pure``, or None. graphviz-pure is also looked for
    beside this Python's scripts (a pip install into a venv that is not activated)."""
    name = "dot" if renderer == "dot" else "graphviz-pure"
    if renderer == "graphviz-pure":
        # this Python's own copy first: a PATH entry may be another environment's (or a shim)
        path = installed_script(name)
        if path is not None:
            return path
    return shutil.which(name)


def installed_script(name):
    """The path of console script ``name`` installed beside this Python, or None."""
    for candidate in (name, name + ".exe"):
        path = os.path.join(sysconfig.get_path("scripts"), candidate)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def candidates(renderer, fmt):
    """The renderers to try for ``fmt``, in order (those installed that can write it)."""
    names = ("dot", "graphviz-pure", "builtin") if renderer == "auto" else (renderer,)
    out = []
    for name in names:
        if fmt not in FORMATS[name]:
            continue
        if name == "builtin" or find_executable(name) is not None:
            out.append(name)
    return out


def run_executable(renderer, source, fmt):
    """The bytes ``dot -T<fmt>`` (or graphviz-pure) writes for ``source``."""
    exe = find_executable(renderer)
    if exe is None:
        raise RenderError(f"draw_dot: the {renderer!r} renderer is not installed; "
                          f"{INSTALL_HINT}")
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RenderError(f"draw_dot: running {exe} failed: {e}") from e
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"draw_dot: {exe} -T{fmt} failed (exit {done.returncode}): "
                          f"{message}")
    return done.stdout


def render(source, pic, rankdir, fmt, renderer):
    """(bytes, the renderer that made them) for ``fmt``; tries the candidates in order."""
    tried = []
    for name in candidates(renderer, fmt):
        if name == "builtin":
            return to_svg(pic, rankdir).encode("utf-8"), name
        try:
            return run_executable(name, source, fmt), name
        except RenderError as e:
            if renderer != "auto":
                raise
            tried.append(str(e))
            warnings.warn(f"{e}; trying the next renderer", RuntimeWarning, stacklevel=4)
    if renderer == "auto":
        raise RenderError(f"draw_dot: no installed renderer writes {fmt!r}: {INSTALL_HINT}"
                          + (f" (tried: {'; '.join(tried)})" if tried else ""))
    if fmt not in FORMATS[renderer]:
        raise RenderError(f"draw_dot: the {renderer!r} renderer cannot write {fmt!r} (it "
                          f"writes {', '.join(FORMATS[renderer])}); {INSTALL_HINT}")
    raise RenderError(f"draw_dot: the {renderer!r} renderer is not installed; {INSTALL_HINT}")
