"""Module: the base of every model, for both faces.

micrograd's scripts subclass it and define ``parameters()`` themselves; PyTorch-style models
assign parameters (leaf tensors with requires_grad=True) and sub-modules as attributes and let
``named_parameters()`` find them. ``zero_grad()`` asks each parameter to forget its gradient
(a Value's becomes 0, as in micrograd; a Tensor's becomes None, as in PyTorch).
"""


class Module:
    """Base class of models and layers."""

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def named_parameters(self, prefix=""):
        """(name, parameter) pairs: attributes that are trainable leaves, and those of
        sub-modules, lists and tuples, found depth first in attribute order. Each parameter
        is listed once, under the first name it is reached by."""
        seen = set()
        out = []
        stack = [(prefix, self)]
        while stack:
            name, obj = stack.pop()
            if isinstance(obj, Module):
                children = [(f"{name}.{k}" if name else k, v) for k, v in vars(obj).items()
                            if not k.startswith("_")]
            elif isinstance(obj, (list, tuple)):
                children = [(f"{name}.{i}" if name else str(i), v) for i, v in enumerate(obj)]
            else:
                if _is_parameter(obj) and id(obj) not in seen:
                    seen.add(id(obj))
                    out.append((name, obj))
                continue
            stack.extend(reversed(children))
        return out

    def parameters(self):
        """The trainable parameters, as a list."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        """Forget every parameter's gradient."""
        for p in self.parameters():
            p.zero_grad()

    def state_dict(self):
        """{name: a copy of the parameter's values as a numpy array}."""
        import numpy as np
        return {name: np.array(p.data, copy=True) for name, p in self.named_parameters()}

    def load_state_dict(self, state):
        """Copy values into the parameters; names and shapes must match exactly."""
        import numpy as np
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise KeyError(f"load_state_dict: missing parameters {missing}, "
                           f"unexpected {unexpected}")
        for name, p in params.items():
            value = np.asarray(state[name])
            current = np.asarray(p.data)
            if value.shape != current.shape:
                raise ValueError(f"load_state_dict: parameter {name!r} has shape "
                                 f"{current.shape}, the state gives {value.shape}")
            if np.ndim(p.data) == 0 and not hasattr(p.data, "shape"):
                p.data = float(value)  # a scalar Value
            else:
                p.data[...] = value
                mark_modified(p)

    def __repr__(self):
        return f"{type(self).__name__}()"


def mark_modified(p):
    """Tell p's engine that its data changed (graphs recorded before are stale)."""
    backend = getattr(type(p), "_backend", None)
    if backend is not None:
        backend.node.mark_modified(p)


def _is_parameter(obj):
    """A trainable leaf: has data and grad, requires grad (Tensors) and is not computed."""
    if not hasattr(obj, "zero_grad") or not hasattr(obj, "data"):
        return False
    return getattr(obj, "requires_grad", True) and getattr(obj, "is_leaf", True)
