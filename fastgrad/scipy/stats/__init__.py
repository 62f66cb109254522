"""scipy.stats, differentiable where autograd differentiates it: each distribution a module
(``fastgrad.scipy.stats.norm.pdf``, ``import fastgrad.scipy.stats.multivariate_normal as mvn``)
whose methods are scipy's own on plain arrays and composites of fastgrad ops on traced values.
scipy is needed (imported when a method first runs)."""
from . import beta, chi2, dirichlet, gamma, multivariate_normal, norm, poisson, t

__all__ = ["beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"]
