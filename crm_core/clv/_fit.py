"""Maximum likelihood in log-parameter space, shared by the BG/NBD, Gamma-Gamma and sBG fits.

Every model's parameters are positive, so the optimiser works on their logarithms. The
caller supplies the negative log-likelihood and its analytic gradient with respect to the
log-parameters; :func:`maximise` picks the best of a few starting points, runs L-BFGS-B
inside generous bounds, polishes the optimum with Newton steps on a finite-difference
Hessian of the analytic gradient, and checks the result: a finite likelihood, a vanishing
gradient, no parameter at a bound and a positive definite Hessian. Anything else raises
:class:`~crm_core.clv.errors.ModelFitError` rather than returning parameters that do not
describe the data. The inverse Hessian is the asymptotic covariance of the log-parameters
(used for standard errors by the delta method and for parameter draws).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from crm_core.clv.errors import ModelFitError

NegLogLik = Callable[[np.ndarray], tuple[float, np.ndarray]]
NegLogLikHess = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]

LOG_BOUND = 15.0  # parameters live in [e^-15, e^15] (3e-7 .. 3.3e6) after data scaling
_AT_BOUND = LOG_BOUND - 1e-3
_HESS_STEP = 1e-5
_GRAD_TOL = 1e-4  # largest |d mean-LL / d log-parameter| accepted at the optimum


@dataclass(frozen=True)
class Optimum:
    """Result of :func:`maximise` (log-parameters of the data as scaled by the caller)."""

    log_params: np.ndarray
    log_likelihood: float
    covariance: np.ndarray  # asymptotic covariance of the log-parameters
    iterations: int


def hessian(neg_ll: NegLogLik, x: np.ndarray, step: float = _HESS_STEP) -> np.ndarray:
    """Symmetric central-difference Hessian of ``neg_ll`` from its analytic gradient."""
    k = x.size
    h = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = step
        h[i] = (neg_ll(x + e)[1] - neg_ll(x - e)[1]) / (2 * step)
    return (h + h.T) / 2


def _at_bound(x: np.ndarray) -> bool:
    return bool(np.any(np.abs(x) >= _AT_BOUND))


def _newton_polish(neg_ll: NegLogLik, x: np.ndarray, f: float) -> tuple[np.ndarray, float]:
    """A few damped Newton steps; stops once the gradient vanishes or a step fails."""
    for _ in range(4):
        _, g = neg_ll(x)
        if np.max(np.abs(g)) < 1e-9:
            return x, f
        h = hessian(neg_ll, x)
        try:
            chol = np.linalg.cholesky(h)
        except np.linalg.LinAlgError:
            return x, f
        step = np.linalg.solve(chol.T, np.linalg.solve(chol, g))
        improved = False
        for scale in (1.0, 0.5, 0.25):
            cand = np.clip(x - scale * step, -LOG_BOUND, LOG_BOUND)
            fc, _ = neg_ll(cand)
            if np.isfinite(fc) and fc <= f:
                improved = fc < f
                x, f = cand, fc
                break
        if not improved:
            return x, f
    return x, f


def _lbfgs(objective: NegLogLik, start: np.ndarray) -> optimize.OptimizeResult:
    return optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * len(start),
        options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
    )


def _per_customer(neg_ll: NegLogLik, weight: float) -> NegLogLik:
    """``neg_ll`` divided by ``weight``, infinite where it is not finite (for L-BFGS)."""

    def scaled(x: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(all="ignore"):
            f, g = neg_ll(x)
        if not np.isfinite(f) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros_like(x)
        return f / weight, g / weight

    return scaled


def _newton_step(h: np.ndarray, g: np.ndarray) -> np.ndarray | None:
    """``h^-1 g``, with ``h`` shifted towards the identity until it is positive definite
    (far from the optimum the log-likelihood need not be concave)."""
    shift = 0.0
    scale = max(1e-12, float(np.max(np.abs(np.diag(h)))))
    for _ in range(30):
        try:
            chol = np.linalg.cholesky(h + shift * np.eye(h.shape[0]))
        except np.linalg.LinAlgError:
            shift = max(1e-8 * scale, 10 * shift)
            continue
        return np.linalg.solve(chol.T, np.linalg.solve(chol, g))
    return None


def _newton(
    newton: NegLogLikHess,
    x: np.ndarray,
    weight: float,
    gtol: float = 1e-9,
    max_iter: int = 60,
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray] | None:
    """Damped Newton steps with the analytic Hessian until the per-customer gradient is
    below ``gtol``: the point, per-customer objective, gradient and Hessian, or ``None``
    when the objective is not finite or no step can be found. Steps are at most 2 in
    log-parameters and backtracked until the objective falls (Armijo). No scipy here:
    L-BFGS-B's small BLAS calls stall for milliseconds each when OpenBLAS threads compete
    with other work for the cores."""

    def full(x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            f, g, h = newton(x)
        return f / weight, g / weight, h / weight

    def usable(f: float, g: np.ndarray, h: np.ndarray) -> bool:
        return bool(np.isfinite(f) and np.all(np.isfinite(g)) and np.all(np.isfinite(h)))

    f, g, h = full(x)
    if not usable(f, g, h):
        return None
    for _ in range(max_iter):
        gmax = np.max(np.abs(g))
        if gmax < gtol:
            break
        step = _newton_step(h, g)
        if step is None:
            return None
        longest = float(np.max(np.abs(step)))
        if longest > 2.0:
            step = step * (2.0 / longest)
        slope = float(np.sum(g * step))
        # near the optimum the objective's change is below its rounding error (a sum over
        # many customers), so a step is also taken when it shrinks the gradient
        rounding = 1e-12 * max(1.0, abs(f))
        scale = 1.0
        for _ in range(40):
            cand = np.clip(x - scale * step, -LOG_BOUND, LOG_BOUND)
            fc, gc, hc = full(cand)
            if usable(fc, gc, hc) and (
                fc <= f - 1e-4 * scale * slope or (fc <= f + rounding and np.max(np.abs(gc)) < gmax)
            ):
                break
            scale /= 2
        else:
            break  # no step improves: at the optimum up to rounding
        x, f, g, h = cand, fc, gc, hc
    return x, f, g, h


def _coarse_fit(
    coarse: tuple[NegLogLikHess, float], starts: Sequence[np.ndarray]
) -> np.ndarray | None:
    """Optimum of the subsample objective from the best (or second best) start."""
    objective, weight = coarse
    for start in starts[:2]:
        found = _newton(objective, np.asarray(start, dtype=np.float64), weight, gtol=1e-7)
        if found is not None and not _at_bound(found[0]) and np.max(np.abs(found[2])) < 1e-5:
            return found[0]
    return None


def _coarse_then_newton(
    coarse: tuple[NegLogLikHess, float],
    newton: NegLogLikHess,
    starts: Sequence[np.ndarray],
    total_weight: float,
) -> Optimum | None:
    """Fit on a subsample first (cheap), then on the full data from there, both by Newton's
    method with the analytic Hessian; ``None`` when any step fails (the caller then runs
    the plain path)."""
    x0 = _coarse_fit(coarse, starts)
    found = None if x0 is None else _newton(newton, x0, total_weight)
    if found is None:
        return None
    x, f, g, h = found
    if _at_bound(x) or np.max(np.abs(g)) > _GRAD_TOL:
        return None
    try:
        np.linalg.cholesky(h)
        cov = np.linalg.inv(h * total_weight)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(cov)):
        return None
    return Optimum(log_params=x, log_likelihood=-f * total_weight, covariance=cov, iterations=0)


def maximise(
    neg_ll: NegLogLik,
    starts: Sequence[np.ndarray],
    *,
    names: Sequence[str],
    model: str,
    total_weight: float,
    start_objective: NegLogLik | None = None,
    coarse: tuple[NegLogLikHess, float] | None = None,
    newton: NegLogLikHess | None = None,
) -> Optimum:
    """Maximise a log-likelihood over log-parameters.

    Parameters
    ----------
    neg_ll
        ``x -> (-LL, -dLL/dx)`` summed over the (weighted) data, ``x`` the log-parameters.
    starts
        Candidate starting points; the two with the best objective are optimised.
    names
        Parameter names, for error messages.
    model
        Model name, for error messages.
    total_weight
        Number of customers (the objective is divided by it for the optimiser).
    start_objective
        Cheaper objective (e.g. on a subsample) used only to rank ``starts``.
    coarse, newton
        Optional fast path for large data: ``newton`` returns ``(-LL, -dLL/dx,
        -d2LL/dx2)`` on the full data and ``coarse`` is ``(same on a subsample of
        customers, its weight)``. The subsample is fitted first from the best start, then
        the full data from its optimum (a few evaluations instead of dozens), both by
        Newton's method with the analytic Hessian; the Hessian at the optimum gives the
        covariance. If any step fails, the plain path (L-BFGS, finite-difference
        Hessian) runs as if they were not given.

    Raises
    ------
    ModelFitError
        If no start gives a finite likelihood, the optimiser does not converge, a parameter
        runs to a bound (no interior maximum) or the Hessian is not positive definite.
    """
    rank = start_objective or neg_ll
    scored = []
    for s in starts:
        with np.errstate(all="ignore"):
            f0, _ = rank(np.asarray(s, dtype=np.float64))
        if np.isfinite(f0):
            scored.append((f0, np.asarray(s, dtype=np.float64)))
    if not scored:
        raise ModelFitError(f"{model}: the likelihood is not finite at any starting point")
    scored.sort(key=lambda item: item[0])
    if coarse is not None and newton is not None:
        fast = _coarse_then_newton(coarse, newton, [s for _, s in scored], total_weight)
        if fast is not None:
            return fast

    scaled = _per_customer(neg_ll, total_weight)
    best = None
    for _, start in scored[:2]:
        if best is not None and best.success and not _at_bound(best.x):
            break  # the best start converged inside the bounds: no second opinion needed
        res = _lbfgs(scaled, start)
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    if best is None:
        raise ModelFitError(f"{model}: the optimiser found no finite likelihood")

    x, f = _newton_polish(scaled, np.asarray(best.x), float(best.fun))
    if _at_bound(x):
        which = ", ".join(
            f"{n} -> {'infinity' if v > 0 else '0'}"
            for n, v in zip(names, x, strict=True)
            if abs(v) >= _AT_BOUND
        )
        raise ModelFitError(
            f"{model}: the likelihood has no interior maximum ({which}); the data cannot "
            "identify the model (too few customers or no variation in behaviour)"
        )
    _, g = scaled(x)
    if not np.isfinite(f) or np.max(np.abs(g)) > _GRAD_TOL:
        raise ModelFitError(
            f"{model}: the optimiser did not converge (gradient {np.max(np.abs(g)):.2g}, "
            f"{best.message})"
        )
    with np.errstate(all="ignore"):
        h = hessian(neg_ll, x)
    try:
        np.linalg.cholesky(h)
        cov = np.linalg.inv(h)
    except np.linalg.LinAlgError:
        raise ModelFitError(
            f"{model}: the likelihood is flat at its maximum (Hessian not positive "
            "definite); the parameters are not identified by this data"
        ) from None
    if not np.all(np.isfinite(cov)):
        raise ModelFitError(f"{model}: the parameter covariance is not finite")
    return Optimum(
        log_params=x,
        log_likelihood=-f * total_weight,
        covariance=cov,
        iterations=int(best.nit),
    )


def standard_errors(params: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """Delta-method standard errors of ``params = exp(log_params)``."""
    return np.asarray(params) * np.sqrt(np.clip(np.diag(covariance), 0.0, None))


def draw_log_params(
    log_params: np.ndarray, covariance: np.ndarray, draws: int, rng: np.random.Generator
) -> np.ndarray:
    """``draws`` rows of log-parameters from their asymptotic normal distribution."""
    return rng.multivariate_normal(log_params, covariance, size=draws, method="cholesky")
