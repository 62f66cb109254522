"""scipy.integrate.odeint, differentiable (see odeint)."""
__all__ = ["odeint"]


def odeint(func, y0, t, args=(), **kwargs):
    """Not written yet."""
    raise NotImplementedError("fastgrad.scipy.integrate.odeint is not implemented yet")
