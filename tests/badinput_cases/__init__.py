"""The bad-input cases: mistakes users make, each with the error it must get.

A case is a function ``case_fn(fg, np)`` (``fg`` the fastgrad package, on the backend the run
selects) registered with :func:`case`: ``raises`` names the exception it must raise and
``says`` the pieces of text its message must hold (the op, the shapes or dtypes); with
``raises=None`` it must return normally, having checked its own result. tests/badinput_run.py
runs each case in a process of its own; tests/test_badinput.py asserts the outcomes.
"""
import importlib
import pkgutil

CASES = {}


class Skip(Exception):
    """Raised by a case that does not apply here (e.g. it needs the compiled backend)."""


class Case:
    def __init__(self, fn, raises, says, name=None):
        self.name = name or fn.__name__
        self.fn = fn
        self.raises = raises
        self.says = tuple(says)

    def check(self, outcome):
        """None if ``outcome`` (the runner's record) is what this case expects, else why not."""
        kind = outcome["outcome"]
        if kind == "skipped":
            return None
        if kind == "crashed":
            return f"the process died: {outcome['detail']}"
        if self.raises is None:
            if kind == "returned":
                return None
            return f"expected no error, got {outcome['type']}: {outcome['message']}"
        if kind == "returned":
            return f"expected {self.raises.__name__}, but nothing was raised (silently wrong)"
        if self.raises.__name__ not in outcome["mro"]:
            return (f"expected {self.raises.__name__}, got {outcome['type']}: "
                    f"{outcome['message']}")
        missing = [s for s in self.says if s.lower() not in outcome["message"].lower()]
        if missing:
            return f"the message lacks {missing}: {outcome['message']}"
        return None


def case(raises=None, says=(), name=None):
    """Register the decorated function as a case (named ``name``, or as the function)."""
    def register(fn):
        made = Case(fn, raises, says, name)
        if made.name in CASES:
            raise ValueError(f"two bad-input cases are called {made.name}")
        CASES[made.name] = made
        return fn
    return register


def load_all():
    """Import every case module of this package; return the cases by name."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return CASES
