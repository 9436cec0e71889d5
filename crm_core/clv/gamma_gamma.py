"""Gamma-Gamma: how much a customer spends per purchase.

Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base
analysis", *Journal of Marketing Research* 42(4), 415-430, in the form of Fader & Hardie
(2013), "The Gamma-Gamma model of monetary value" (note). Each purchase of a customer is
``z ~ Gamma(p, nu)`` (mean ``p / nu``), and ``nu ~ Gamma(q, gamma)`` across customers, so
the population mean spend per purchase is ``p * gamma / (q - 1)``. A customer is
summarised by ``x`` (repeat purchases) and ``m_x`` (their mean spend per repeat purchase,
currency). Only customers with at least one repeat purchase inform the fit; spend is
assumed independent of purchase frequency.

:func:`fit_gamma_gamma` maximises the likelihood of the note's eq. (5) with spend
rescaled internally to a mean of one; ``gamma`` and the likelihood are reported in the
caller's currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.special import digamma, gammaln, polygamma

from crm_core.clv._arrays import (
    ArrayLike,
    as_float,
    check_weights,
    codes,
    group_codes,
    wrap,
    wsum,
)
from crm_core.clv._fit import draw_log_params, maximise, standard_errors
from crm_core.clv.errors import ModelFitError

__all__ = ["GammaGammaModel", "fit_gamma_gamma"]

_NAMES = ("p", "q", "gamma")
_START_SAMPLE = 20_000  # customers fitted first when there are more (then Newton on all)


@dataclass(frozen=True)
class GammaGammaModel:
    """A fitted Gamma-Gamma spend model (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

    Attributes
    ----------
    p
        Shape of the Gamma distribution of one customer's transaction values.
    q, gamma
        Shape and rate of the Gamma distribution of the scale ``nu`` across customers
        (``gamma`` in currency units).
    log_likelihood
        Maximised log-likelihood of the repeaters' mean spend (constants included).
    n_customers
        Number of customers with repeat purchases that were fitted (sum of weights).
    p_se, q_se, gamma_se
        Asymptotic standard errors (delta method on the log-parameter Hessian).
    covariance
        Asymptotic covariance of ``log(p), log(q), log(gamma)``.
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    p_se: float = float("nan")
    q_se: float = float("nan")
    gamma_se: float = float("nan")
    covariance: np.ndarray = field(default_factory=lambda: np.full((3, 3), np.nan),
                                   repr=False, compare=False)  # fmt: skip

    @property
    def params(self) -> tuple[float, float, float]:
        """``(p, q, gamma)``."""
        return (self.p, self.q, self.gamma)

    @property
    def log_params(self) -> np.ndarray:
        """Logarithms of ``(p, q, gamma)``."""
        return np.log(np.array(self.params))

    @property
    def mean_spend(self) -> float:
        """Population mean spend per purchase, ``p * gamma / (q - 1)`` (currency)."""
        return self.p * self.gamma / (self.q - 1)

    def with_params(self, p: float, q: float, gamma: float) -> GammaGammaModel:
        """The same model with other parameter values (used for uncertainty draws)."""
        return replace(self, p=float(p), q=float(q), gamma=float(gamma))

    def sample_params(self, draws: int, rng: np.random.Generator) -> np.ndarray:
        """``draws x 3`` parameter sets from the asymptotic normal of the log-parameters."""
        return np.exp(draw_log_params(self.log_params, self.covariance, draws, rng))

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> Any:
        """Expected spend per future purchase given ``x`` repeat purchases of mean ``m_x``.

        ``E[Z | x, m_x] = (p * (gamma + x * m_x)) / (p * x + q - 1)``, a weighted mean of
        the population mean ``p * gamma / (q - 1)`` and the customer's own ``m_x``
        (Fader & Hardie 2013, eq. 8). Customers with ``x = 0`` get the population mean.
        Currency units.

        Raises
        ------
        ValueError
            On negative or non-finite inputs, or when ``q <= 1`` (no finite mean).
        """
        if self.q <= 1:
            raise ValueError(f"q = {self.q:.3g} <= 1: the spend distribution has no finite mean")
        x = as_float("frequency", frequency)
        m = as_float("monetary_value", monetary_value)
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(m))):
            raise ValueError("frequency and monetary_value must be finite")
        if np.any(x < 0) or np.any(m < 0):
            raise ValueError("frequency and monetary_value must be >= 0")
        m = np.where(x > 0, m, 0.0)
        out = self.p * (self.gamma + x * m) / (self.p * x + self.q - 1)
        return wrap(out, frequency, monetary_value, name="expected_spend")


class _Spend:
    """Repeat customers grouped into distinct ``(x, m)`` rows with weights ``w`` (spend
    divided by the fit's scale), with the per-frequency and per-row constants of the
    likelihood."""

    def __init__(self, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> None:
        self.x, self.m, self.w = x, m, w
        self.ux, self.ix = codes(x, steps=(1.0,))
        self.wx = np.bincount(self.ix, weights=w, minlength=self.ux.size)
        self.total = float(w.sum())
        self.wxr = w * x  # weight times frequency, per row
        logm = np.log(m)
        self.sums = (float(wsum(self.wxr, logm)), float(wsum(w, logm)))

    def subsample(self, size: int, seed: int = 0) -> _Spend:
        """A random sample of ``size`` customers (rows drawn with replacement in proportion
        to their weights), or ``self`` when there are no more distinct rows."""
        if self.x.size <= size:
            return self
        counts = np.random.default_rng(seed).multinomial(size, self.w / self.total)
        keep = counts > 0
        return _Spend(self.x[keep], self.m[keep], counts[keep].astype(np.float64))


def _neg_ll(theta: np.ndarray, d: _Spend, hess: bool = False) -> Any:
    """Negative log-likelihood of Fader & Hardie (2013) eq. 5, its log-space gradient and,
    with ``hess``, its log-space Hessian (analytic)."""
    p, q, g = np.exp(theta)
    ux, wx = d.ux, d.wx
    sum_wx_logm, sum_w_logm = d.sums
    px = p * ux
    # per distinct x
    per_x = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + px * np.log(ux)
    gm = g + d.m * d.x
    log_gm = np.log(gm)
    inv_gm = 1.0 / gm
    a_x, a_1 = wsum(d.wxr, log_gm), wsum(d.w, log_gm)  # sums of w x ln(gm), w ln(gm)
    c_x, c_1 = wsum(d.wxr, inv_gm), wsum(d.w, inv_gm)
    ll = wsum(wx, per_x) + p * sum_wx_logm - sum_w_logm - (p * a_x + q * a_1)
    psi_pxq = digamma(px + q)
    d_p = wsum(wx, ux * (psi_pxq - digamma(px) + np.log(ux))) + sum_wx_logm - a_x
    d_q = wsum(wx, psi_pxq - digamma(q) + np.log(g)) - a_1
    d_g = d.total * q / g - (p * c_x + q * c_1)
    theta_e = np.array([p, q, g])
    g_log = np.array([d_p, d_q, d_g]) * theta_e
    if not hess:
        return -float(ll), -g_log
    t1_pxq = polygamma(1, px + q)
    inv2 = inv_gm * inv_gm
    h = np.empty((3, 3))
    h[0, 0] = wsum(wx, ux * ux * (t1_pxq - polygamma(1, px)))
    h[0, 1] = h[1, 0] = wsum(wx, ux * t1_pxq)
    h[0, 2] = h[2, 0] = -c_x
    h[1, 1] = wsum(wx, t1_pxq - polygamma(1, q))
    h[1, 2] = h[2, 1] = d.total / g - c_1
    h[2, 2] = -d.total * q / g**2 + p * wsum(d.wxr, inv2) + q * wsum(d.w, inv2)
    h_log = h * np.outer(theta_e, theta_e) + np.diag(g_log)
    return -float(ll), -g_log, -h_log


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
) -> GammaGammaModel:
    """Fit the Gamma-Gamma spend model by maximum likelihood.

    Parameters
    ----------
    frequency
        Repeat purchases per customer; rows with 0 are ignored (they carry no
        information about spend per repeat purchase).
    monetary_value
        Mean spend per repeat purchase (currency, > 0 where frequency > 0).
    weights
        Optional number of customers each row stands for.

    Raises
    ------
    ModelFitError
        On NaN or negative values, non-positive spend of a repeater, no repeaters, or no
        proper maximum of the likelihood, and when the fitted ``q <= 1`` (mean spend would
        be infinite).
    """
    try:
        x = as_float("frequency", frequency).reshape(-1)
        m = as_float("monetary_value", monetary_value).reshape(-1)
    except ValueError as exc:
        raise ModelFitError(f"Gamma-Gamma: {exc}") from None
    if x.size != m.size:
        raise ModelFitError(
            f"Gamma-Gamma: frequency and monetary_value differ in length ({x.size}, {m.size})"
        )
    w = check_weights(weights, x.size, ModelFitError)
    w = np.ones_like(x) if w is None else w
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(m))):
        raise ModelFitError("Gamma-Gamma: frequency and monetary_value must be finite (no NaN)")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ModelFitError("Gamma-Gamma: frequency must be whole numbers >= 0")
    keep = (x > 0) & (w > 0)
    if np.any(m[keep] <= 0):
        raise ModelFitError(
            "Gamma-Gamma: customers with repeat purchases need a positive monetary_value "
            f"({int(np.count_nonzero(m[keep] <= 0))} have <= 0)"
        )
    # identical (x, m) rows once: codes of the distinct values, one sort of packed keys
    ux, ix = codes(x[keep], steps=(1.0,))
    um, im = codes(m[keep], steps=())
    (gx, gm), w = group_codes((ix, im), (ux.size, um.size), w[keep])
    x, m = ux[gx], um[gm]
    if w.sum() < 2:
        raise ModelFitError("Gamma-Gamma: need at least two customers with repeat purchases")
    if np.ptp(m) == 0:
        raise ModelFitError("Gamma-Gamma: every repeater has the same mean spend")
    n_total = float(w.sum())
    scale = float(wsum(w, m) / n_total)
    data = _Spend(x, m / scale, w)
    sub = data.subsample(_START_SAMPLE)
    starts = [np.log([p, q, (q - 1) / p]) for p in (0.5, 2.0, 8.0) for q in (1.5, 3.0, 8.0)]
    opt = maximise(
        lambda th: _neg_ll(th, data),
        starts,
        names=_NAMES,
        model="Gamma-Gamma",
        total_weight=n_total,
        start_objective=None if sub is data else lambda th: _neg_ll(th, sub),
        coarse=None if sub is data else (lambda th: _neg_ll(th, sub, hess=True), sub.total),
        newton=lambda th: _neg_ll(th, data, hess=True),
    )
    p, q, g_s = np.exp(opt.log_params)
    params = np.array([p, q, g_s * scale])
    se = standard_errors(params, opt.covariance)
    if q <= 1:
        raise ModelFitError(
            f"Gamma-Gamma: fitted q = {q:.3g} <= 1, so mean spend is infinite; the spend "
            "data are too heavy-tailed for this model"
        )
    return GammaGammaModel(
        p=float(p),
        q=float(q),
        gamma=float(params[2]),
        log_likelihood=float(opt.log_likelihood - n_total * np.log(scale)),
        n_customers=round(n_total),
        p_se=float(se[0]),
        q_se=float(se[1]),
        gamma_se=float(se[2]),
        covariance=opt.covariance,
    )
