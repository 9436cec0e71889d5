"""BG/NBD: how many purchases a customer will make, and whether they are still active.

The beta-geometric / negative binomial distribution model of Fader, Hardie & Lee (2005),
"'Counting your customers' the easy way: an alternative to the Pareto/NBD model",
*Marketing Science* 24(2), 275-284. While active, a customer buys at a Poisson rate
``lambda ~ Gamma(r, alpha)`` (rate ``alpha``, so ``E[lambda] = r / alpha`` purchases per
time unit); after each repeat purchase they drop out for good with probability
``p ~ Beta(a, b)``. A customer is summarised by ``frequency`` x (repeat purchases),
``recency`` t_x (time of the last purchase since the first) and ``T`` (time since the first
purchase), all in one time unit (weeks by default, see :func:`crm_core.summary.rfm_summary`).

:func:`fit_bgnbd` maximises the likelihood (FHL 2005, eq. 6) with identical customers
grouped, so a million customers fit in seconds. Times are rescaled internally so that
``alpha`` is of order one whatever the time unit; the reported ``alpha`` and likelihood are
in the caller's unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.special import expit, hyp2f1

from crm_core.clv._arrays import (
    ArrayLike,
    as_float,
    check_weights,
    wrap,
    wsum,
)
from crm_core.clv._bgnbd_ll import _group, _neg_ll, _starts, _subsample
from crm_core.clv._fit import draw_log_params, maximise, standard_errors
from crm_core.clv.errors import ModelFitError

__all__ = ["BGNBDModel", "fit_bgnbd"]

_NAMES = ("r", "alpha", "a", "b")
_NEAR_ONE = 1e-3  # the expectation formulas divide by (a - 1); see _alive_expectation
_START_SAMPLE = 20_000


@dataclass(frozen=True)
class BGNBDModel:
    """A fitted BG/NBD model (Fader, Hardie & Lee 2005).

    Attributes
    ----------
    r, alpha
        Shape and rate of the Gamma distribution of purchase rates while active
        (``alpha`` in the time unit ``time_unit``; mean rate ``r / alpha`` per unit).
    a, b
        Beta distribution of the dropout probability after each repeat purchase
        (mean ``a / (a + b)``).
    log_likelihood
        Maximised log-likelihood (natural log, all constants included; comparable with
        FHL 2005's -9582.4 on CDNOW).
    n_customers
        Number of customers fitted (sum of weights).
    time_unit
        ``"W"`` (weeks) or ``"D"`` (days): the unit of recency, T and every ``t``.
    r_se, alpha_se, a_se, b_se
        Asymptotic standard errors (inverse Hessian of the log-likelihood in
        log-parameters, delta method).
    covariance
        Asymptotic covariance of ``log(r), log(alpha), log(a), log(b)``.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    time_unit: str = "W"
    r_se: float = float("nan")
    alpha_se: float = float("nan")
    a_se: float = float("nan")
    b_se: float = float("nan")
    covariance: np.ndarray = field(default_factory=lambda: np.full((4, 4), np.nan),
                                   repr=False, compare=False)  # fmt: skip

    @property
    def params(self) -> tuple[float, float, float, float]:
        """``(r, alpha, a, b)``."""
        return (self.r, self.alpha, self.a, self.b)

    @property
    def log_params(self) -> np.ndarray:
        """Logarithms of ``(r, alpha, a, b)``."""
        return np.log(np.array(self.params))

    def with_params(self, r: float, alpha: float, a: float, b: float) -> BGNBDModel:
        """The same model with other parameter values (used for uncertainty draws)."""
        return replace(self, r=float(r), alpha=float(alpha), a=float(a), b=float(b))

    def sample_params(self, draws: int, rng: np.random.Generator) -> np.ndarray:
        """``draws x 4`` parameter sets from the asymptotic normal of the log-parameters."""
        return np.exp(draw_log_params(self.log_params, self.covariance, draws, rng))

    # ------------------------------------------------------------------ predictions

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Any:
        """Probability that a customer is still active at ``T`` (FHL 2005, eq. 11).

        ``1 / (1 + [x > 0] * a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))``:
        a customer without repeat purchases is active by assumption (dropout can only
        follow a repeat purchase).
        """
        x, tx, t = _as_xtT(frequency, recency, T)
        return wrap(self._p_alive(x, tx, t), frequency, recency, T, name="p_alive")

    def _p_alive(self, x: np.ndarray, tx: np.ndarray, t: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self.params
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = (
                np.log(a)
                - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
            )
        return np.where(x > 0, expit(-log_odds), 1.0)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> Any:
        """Expected purchases in the next ``t`` time units of a customer with history
        ``(frequency, recency, T)`` (FHL 2005, eq. 10).

        ``E[Y(t) | x, t_x, T] = P(alive) * (a + b + x - 1) / (a - 1)
        * [1 - ((alpha + T) / (alpha + T + t))^(r + x) 2F1(r + x, b + x; a + b + x - 1;
        t / (alpha + T + t))]``.
        """
        tt = as_float("t", t)
        if np.any(~np.isfinite(tt)) or np.any(tt < 0):
            raise ValueError("t must be finite and non-negative")
        x, tx, big_t = _as_xtT(frequency, recency, T)
        out = self._p_alive(x, tx, big_t) * self._alive_expectation(tt, x, big_t)
        return wrap(out, t, frequency, recency, T, name="expected_purchases")

    def expected_purchases_new(self, t: ArrayLike) -> Any:
        """Expected repeat purchases of a new customer in their first ``t`` time units:
        ``E[X(t)] = (a + b - 1) / (a - 1) * [1 - (alpha / (alpha + t))^r
        2F1(r, b; a + b - 1; t / (alpha + t))]`` (FHL 2005, eq. 9)."""
        tt = as_float("t", t)
        if np.any(~np.isfinite(tt)) or np.any(tt < 0):
            raise ValueError("t must be finite and non-negative")
        out = self._alive_expectation(tt, np.zeros_like(tt), np.zeros_like(tt))
        return wrap(out, t, name="expected_purchases_new")

    def _alive_expectation(self, t: np.ndarray, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """Expected purchases in ``(T, T + t]`` of a customer active at ``T`` with ``x``
        repeat purchases. The formula has a removable singularity at ``a = 1``; near it
        the value is interpolated linearly between ``a = 1 -+ 1e-3`` (error below ``1e-6``)."""
        r, alpha, a, b = self.params
        if abs(a - 1) < _NEAR_ONE / 2:
            lo = replace(self, a=1 - _NEAR_ONE)._alive_expectation(t, x, big_t)
            hi = replace(self, a=1 + _NEAR_ONE)._alive_expectation(t, x, big_t)
            weight = (a - (1 - _NEAR_ONE)) / (2 * _NEAR_ONE)
            return lo + weight * (hi - lo)
        base = alpha + big_t
        z = t / (base + t)
        c = a + b + x - 1
        # Euler's transformation of 2F1(r + x, b + x; c; z) times (1 - z)^(r + x): finite
        # for very frequent buyers over long horizons, where the original form is inf * 0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            bracket = 1 - (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
            out = c / (a - 1) * bracket
        return np.where(t == 0, 0.0, out)


def _as_xtT(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, ...]:
    x, tx, t = (as_float(n, v) for n, v in
                (("frequency", frequency), ("recency", recency), ("T", T)))  # fmt: skip
    for name, arr in (("frequency", x), ("recency", tx), ("T", t)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
    if np.any(x < 0) or np.any(tx < 0) or np.any(tx > t + 1e-9):
        raise ValueError("need frequency >= 0 and 0 <= recency <= T")
    return x, tx, t


# ---------------------------------------------------------------------- likelihood


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    time_unit: str = "W",
) -> BGNBDModel:
    """Fit the BG/NBD model by maximum likelihood (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    frequency
        Repeat purchases per customer (whole numbers >= 0).
    recency
        Time from the first to the last purchase (0 when frequency is 0).
    T
        Time from the first purchase to the end of observation (> 0).
    weights
        Optional number of customers each row stands for.
    time_unit
        Label of the unit of ``recency`` and ``T`` (``"W"`` weeks, ``"D"`` days); kept
        on the model so predictions and CLV convert horizons correctly.

    Returns
    -------
    BGNBDModel
        Parameters, log-likelihood and standard errors.

    Raises
    ------
    ModelFitError
        On missing, NaN, negative or inconsistent values, when nobody made a repeat
        purchase, or when the likelihood has no proper maximum.
    """
    x, tx, t = _fit_inputs(frequency, recency, T)
    w = check_weights(weights, x.size, ModelFitError)
    n_total = float(x.size if w is None else w.sum())
    wx = np.ones_like(x) if w is None else w
    if wsum(wx, x > 0) == 0:
        raise ModelFitError(
            "BG/NBD: nobody made a repeat purchase, so the purchase and dropout processes "
            "cannot be told apart"
        )
    scale = float(wsum(wx, t) / wx.sum())
    data = _group(x, tx, t, w, scale)
    sub = _subsample(data, _START_SAMPLE)
    coarse = None if sub is data else (lambda th: _neg_ll(th, sub, hess=True), sub.total)
    opt = maximise(
        lambda th: _neg_ll(th, data),
        _starts(data),
        names=_NAMES,
        model="BG/NBD",
        total_weight=n_total,
        start_objective=lambda th: _neg_ll(th, sub),
        coarse=coarse,
        newton=lambda th: _neg_ll(th, data, hess=True),
    )
    r, alpha_s, a, b = np.exp(opt.log_params)
    alpha = alpha_s * scale
    params = np.array([r, alpha, a, b])
    se = standard_errors(params, opt.covariance)
    # LL in the caller's time unit: each customer's density picks up scale^-x
    ll = opt.log_likelihood - data.sum_wx * np.log(scale)
    return BGNBDModel(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        log_likelihood=float(ll),
        n_customers=round(n_total),
        time_unit=time_unit,
        r_se=float(se[0]),
        alpha_se=float(se[1]),
        a_se=float(se[2]),
        b_se=float(se[3]),
        covariance=opt.covariance,
    )


def _fit_inputs(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[np.ndarray, ...]:
    try:
        arrays = [as_float(n, v).reshape(-1) for n, v in
                  (("frequency", frequency), ("recency", recency), ("T", T))]  # fmt: skip
    except ValueError as exc:
        raise ModelFitError(f"BG/NBD: {exc}") from None
    x, tx, t = arrays
    if not (x.size == tx.size == t.size):
        raise ModelFitError(
            f"BG/NBD: frequency, recency and T differ in length ({x.size}, {tx.size}, {t.size})"
        )
    if x.size == 0:
        raise ModelFitError("BG/NBD: no customers to fit")
    for name, arr in (("frequency", x), ("recency", tx), ("T", t)):
        if not np.all(np.isfinite(arr)):
            raise ModelFitError(f"BG/NBD: {name} has NaN or infinite values")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ModelFitError("BG/NBD: frequency must be whole numbers >= 0")
    if np.any(t <= 0):
        raise ModelFitError("BG/NBD: T must be positive (time since the first purchase)")
    if np.any(tx < 0) or np.any(tx > t * (1 + 1e-9)):
        raise ModelFitError("BG/NBD: recency must lie between 0 and T")
    if np.any((x == 0) & (tx > 0)):
        raise ModelFitError("BG/NBD: recency must be 0 for customers without repeat purchases")
    return x, np.minimum(tx, t), t
