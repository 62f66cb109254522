"""Save and load a model's parameters as a numpy .npz file (one array per parameter name).

Loading never unpickles (``np.load(..., allow_pickle=False)``), so a file from elsewhere cannot
run code. Every problem raises an error naming the file, and the parameter when one is at
fault: a missing or unreadable file, a parameter the file lacks or has in excess, a shape that
differs, an array that is not real numbers. Nothing is changed unless the whole file fits.
"""
import os
import tempfile
import zipfile

import numpy as np


def _state_of(model_or_state, where):
    if hasattr(model_or_state, "named_parameters"):
        return {name: np.asarray(p.data) for name, p in model_or_state.named_parameters()}
    if isinstance(model_or_state, dict):
        return {name: np.asarray(getattr(v, "data", v)) for name, v in model_or_state.items()}
    raise TypeError(f"{where}: expected a Module or a dict of arrays, got "
                    f"{type(model_or_state).__name__}")


def save_parameters(model_or_state, file):
    """Write the parameters (a Module's, or a dict name -> array) to ``file`` (.npz).

    numpy appends ".npz" to a file name without it; the name written is returned.
    """
    state = _state_of(model_or_state, "save_parameters")
    if isinstance(file, (str, os.PathLike)):
        file = os.fspath(file)
        if not file.endswith(".npz"):
            file += ".npz"
    write_atomically(file, lambda f: np.savez(f, **state))
    return file


def write_atomically(file, write):
    """``write(f)`` into a temporary file beside ``file``, flushed to disk, then renamed over
    it: a crash or a full disk mid-write leaves the previous file whole. A file object (not a
    path) is written directly."""
    if not isinstance(file, str):
        write(file)
        return
    folder = os.path.dirname(os.path.abspath(file))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(file) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, file)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # the rename itself reaches the disk with the folder's entry
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _unreadable(name, why):
    return ValueError(f"load_parameters: {name!r} is not a readable .npz file of parameters "
                      f"({why})")


def load_state(file):
    """The arrays stored in ``file`` (.npz), as a dict, read without unpickling anything."""
    name = os.fspath(file) if isinstance(file, (str, os.PathLike)) else repr(file)
    if isinstance(file, (str, os.PathLike)) and not os.path.exists(file):
        raise FileNotFoundError(f"load_parameters: no such file: {name!r}")
    try:
        archive = np.load(file, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise _unreadable(name, f"corrupt or of another format: {e}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise _unreadable(name, "it holds a single array, not named parameters")
    state = {}
    with archive:
        for key in archive.files:
            try:
                state[key] = archive[key]
            except Exception as e:  # noqa: BLE001 - a corrupt header raises anything (TokenError)
                if "allow_pickle" in str(e):  # an object array: reading it would unpickle
                    raise ValueError(f"load_parameters: {name!r}: parameter {key!r} cannot "
                                     f"be read without unpickling; refused") from None
                raise _unreadable(name, f"parameter {key!r} is corrupt: {e}") from None
    return state


def load_parameters(model, file, strict=True):
    """Copy the parameters stored in ``file`` (.npz) into ``model``'s, in place; return model.

    Names and shapes must match; values are cast to each parameter's dtype (float32 <->
    float64). With ``strict=False`` parameters missing from the file keep their values and
    names the model lacks are ignored.
    """
    name = os.fspath(file) if isinstance(file, (str, os.PathLike)) else repr(file)
    return assign_parameters(model, load_state(file), name, strict)


def assign_parameters(model, state, name, strict=True):
    """load_parameters' work on ``state`` (a dict name -> array read from file ``name``)."""
    params = dict(model.named_parameters())
    if strict:
        missing = [k for k in params if k not in state]
        if missing:
            raise KeyError(f"load_parameters: {name!r} has no parameter {missing[0]!r}"
                           + (f" (nor {missing[1:]})" if len(missing) > 1 else "")
                           + f"; it holds {sorted(state)}")
        unexpected = sorted(set(state) - set(params))
        if unexpected:
            raise KeyError(f"load_parameters: {name!r} holds parameter {unexpected[0]!r}, "
                           f"which the model does not have (model: {list(params)})")
    for key, p in params.items():  # check everything before changing anything
        if key not in state:
            continue
        value, current = state[key], np.asarray(p.data)
        if value.dtype.kind not in "biuf":
            raise TypeError(f"load_parameters: {name!r}: parameter {key!r} has dtype "
                            f"{value.dtype}, not real numbers")
        if value.shape != current.shape:
            raise ValueError(f"load_parameters: {name!r}: parameter {key!r} has shape "
                             f"{value.shape} in the file but {current.shape} in the model")
    for key, p in params.items():
        if key in state:
            p.data[...] = state[key]
            backend = getattr(type(p), "_backend", None)
            if backend is not None:  # graphs recorded before now hold stale values
                backend.node.mark_modified(p)
    return model


__all__ = ["save_parameters", "load_parameters", "load_state", "write_atomically"]
