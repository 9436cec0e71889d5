"""Draw customers from the CLV models themselves (parameter-recovery tests, benchmarks).

Each function takes a seeded ``numpy.random.Generator`` and returns numpy arrays shaped
like the inputs of the matching ``fit_*`` function.
"""

from __future__ import annotations

import numpy as np

__all__ = ["simulate_bgnbd", "simulate_gamma_gamma", "simulate_sbg"]


def simulate_bgnbd(
    r: float, alpha: float, a: float, b: float, T: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Frequency and recency of customers observed for ``T`` time units under BG/NBD.

    While active a customer buys at rate ``lambda ~ Gamma(r, rate alpha)``; after each
    repeat purchase they drop out with probability ``p ~ Beta(a, b)``. Exact and
    vectorised: the repeat purchases a customer would make in ``(0, T]`` if never dropping
    out are ``N ~ Poisson(lambda T)``; they drop out after purchase ``K ~ Geometric(p)``;
    ``x = min(N, K)`` and the ``x``-th of ``N`` uniform arrival times is
    ``T * Beta(x, N - x + 1)``.
    """
    t = np.asarray(T, dtype=np.float64)
    n = t.size
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    arrivals = rng.poisson(lam * t)
    dropout_after = rng.geometric(np.clip(p, 1e-12, 1.0))
    x = np.minimum(arrivals, dropout_after)
    recency = np.zeros(n)
    buyers = x > 0
    recency[buyers] = t[buyers] * rng.beta(x[buyers], arrivals[buyers] - x[buyers] + 1)
    return x.astype(np.float64), recency


def simulate_gamma_gamma(
    p: float, q: float, gamma: float, frequency: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Mean spend per repeat purchase for customers with ``frequency`` purchases (> 0).

    ``nu ~ Gamma(q, rate gamma)``, each purchase ``~ Gamma(p, rate nu)``; the sum of ``x``
    purchases is ``Gamma(p x, rate nu)``, so the mean is drawn in one step.
    """
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(shape=q, scale=1.0 / gamma, size=x.size)
    total = rng.gamma(shape=p * np.maximum(x, 1), scale=1.0 / nu)
    return np.where(x > 0, total / np.maximum(x, 1), 0.0)


def simulate_sbg(
    alpha: float, beta: float, customers: int, periods: int, rng: np.random.Generator
) -> np.ndarray:
    """Customers alive at ``t = 0 .. periods`` in one cohort under sBG.

    Each customer cancels each period with probability ``theta ~ Beta(alpha, beta)``;
    their lifetime ``T ~ Geometric(theta)`` and they are alive at ``t`` when ``T > t``.
    """
    theta = rng.beta(alpha, beta, size=customers)
    lifetime = rng.geometric(np.clip(theta, 1e-12, 1.0))
    t = np.arange(periods + 1)
    return (lifetime[None, :] > t[:, None]).sum(axis=1).astype(np.float64)
