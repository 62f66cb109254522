"""The pure-Python twins at API level, from a compiled test run: a worker process started with
FASTGRAD_NO_EXTENSIONS=1 (fastgrad binds one backend per process, at import) that runs a test
module's function there and sends its result back.

``TwinWorker().call(fn, *args)`` runs ``fn(front, *args)`` in the worker, ``front`` being the
worker's conftest.Front (fastgrad.Tensor and the ops, on the twins), and returns what it
returned: ``fn`` must be a module-level function of a test module and its arguments and result
picklable (numpy arrays, not Tensors). The parity tests call the same function on their own
Front, so both sides run the same code.
"""
import importlib
import os
import pickle
import subprocess
import sys
import traceback

TESTS = os.path.dirname(os.path.abspath(__file__))


class TwinError(AssertionError):
    """A function run in the twin process raised (its traceback is the message)."""


class TwinWorker:
    def __init__(self):
        import fastgrad
        home = os.path.dirname(os.path.dirname(os.path.abspath(fastgrad.__file__)))
        paths = [home, TESTS] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                 if p]
        env = dict(os.environ, FASTGRAD_NO_EXTENSIONS="1", PYTHONPATH=os.pathsep.join(paths))
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__)], env=env,
                                     cwd=home, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def call(self, fn, *args):
        """``fn(front, *args)`` in the twin process."""
        pickle.dump((fn.__module__, fn.__qualname__, args), self.proc.stdin)
        self.proc.stdin.flush()
        try:
            ok, value = pickle.load(self.proc.stdout)
        except EOFError:
            raise TwinError(f"the twin process died running {fn.__qualname__} "
                            f"(exit code {self.proc.wait()})") from None
        if not ok:
            raise TwinError(f"{fn.__qualname__} in the twin process:\n{value}")
        return value

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _serve():
    """The worker's loop: read (module, function, args), answer (ok, result or traceback)."""
    replies = os.fdopen(os.dup(1), "wb")  # the pickles; the functions' prints go to stderr
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    from conftest import Front

    import fastgrad
    assert fastgrad.BACKEND == "python", fastgrad.BACKEND
    front = Front("python")
    while True:
        try:
            module, qualname, args = pickle.load(requests)
        except EOFError:
            return
        try:
            fn = importlib.import_module(module)
            for part in qualname.split("."):
                fn = getattr(fn, part)
            reply = (True, fn(front, *args))
        except Exception:  # noqa: BLE001  (sent back: the test fails with it)
            reply = (False, traceback.format_exc())
        pickle.dump(reply, replies)
        replies.flush()


if __name__ == "__main__":
    sys.path.insert(0, TESTS)
    _serve()
