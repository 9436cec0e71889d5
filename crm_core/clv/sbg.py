"""Shifted-beta-geometric (sBG): projecting retention in a contractual business.

Fader & Hardie (2007), "How to project customer retention", *Journal of Interactive
Marketing* 21(1), 76-90. At the end of each period an active customer cancels with
probability ``theta``, constant for the customer, and ``theta ~ Beta(alpha, beta)`` across
customers. With ``T`` the period in which a customer cancels (``T = 1`` means they do not
renew after the first period):

* ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``
* survival ``S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta)``
* retention ``r(t) = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)``, which
  rises with tenure: the customers who stay are those with low ``theta``.

Discounted expected residual lifetime (DERL) follows Fader & Hardie (2010), "Customer-base
valuation in a contractual setting: the perils of ignoring heterogeneity", *Marketing
Science* 29(1), 85-93, eq. (6).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.special import betaln, digamma, hyp2f1

from crm_core.clv._arrays import ArrayLike, as_float, wrap, wsum
from crm_core.clv._fit import draw_log_params, maximise, standard_errors
from crm_core.clv.errors import ModelFitError

__all__ = ["SBGModel", "fit_sbg", "fit_sbg_censored"]

_NAMES = ("alpha", "beta")


@dataclass(frozen=True)
class SBGModel:
    """A fitted shifted-beta-geometric retention model (Fader & Hardie 2007).

    Attributes
    ----------
    alpha, beta
        Beta distribution of the per-period cancellation probability (mean
        ``alpha / (alpha + beta)``).
    log_likelihood
        Maximised log-likelihood.
    n_customers
        Customers fitted (the cohort size ``alive[0]`` for :func:`fit_sbg`).
    period
        Name of one period (``"year"``, ``"month"``...), for labels.
    alpha_se, beta_se
        Asymptotic standard errors (treating the counts as numbers of customers).
    covariance
        Asymptotic covariance of ``log(alpha), log(beta)``.
    """

    alpha: float
    beta: float
    log_likelihood: float = float("nan")
    n_customers: int = 0
    period: str = "period"
    alpha_se: float = float("nan")
    beta_se: float = float("nan")
    covariance: np.ndarray = field(
        default_factory=lambda: np.full((2, 2), np.nan), repr=False, compare=False
    )

    @property
    def params(self) -> tuple[float, float]:
        """``(alpha, beta)``."""
        return (self.alpha, self.beta)

    @property
    def log_params(self) -> np.ndarray:
        """Logarithms of ``(alpha, beta)``."""
        return np.log(np.array(self.params))

    def with_params(self, alpha: float, beta: float) -> SBGModel:
        """The same model with other parameter values (used for uncertainty draws)."""
        return replace(self, alpha=float(alpha), beta=float(beta))

    def sample_params(self, draws: int, rng: np.random.Generator) -> np.ndarray:
        """``draws x 2`` parameter sets from the asymptotic normal of the log-parameters."""
        return np.exp(draw_log_params(self.log_params, self.covariance, draws, rng))

    def survival(self, t: ArrayLike) -> Any:
        """Share of a new cohort still active after ``t >= 0`` periods, ``S(t)``."""
        tt = _periods("t", t, minimum=0)
        out = np.exp(betaln(self.alpha, self.beta + tt) - betaln(self.alpha, self.beta))
        return wrap(out, t, name="survival")

    def retention(self, t: ArrayLike) -> Any:
        """Retention rate in period ``t >= 1``: the share of those active at ``t - 1`` who
        renew, ``(beta + t - 1) / (alpha + beta + t - 1)``."""
        tt = _periods("t", t, minimum=1)
        out = (self.beta + tt - 1) / (self.alpha + self.beta + tt - 1)
        return wrap(out, t, name="retention")

    def churn_probability(self, t: ArrayLike) -> Any:
        """``P(T = t)`` for ``t >= 1``: the share of a new cohort lost in period ``t``."""
        tt = _periods("t", t, minimum=1)
        out = np.exp(betaln(self.alpha + 1, self.beta + tt - 1) - betaln(self.alpha, self.beta))
        return wrap(out, t, name="churn_probability")

    def derl(self, renewals: ArrayLike, discount_rate: float, *, horizon: int | None = None) -> Any:
        """Discounted expected residual lifetime (Fader & Hardie 2010, eq. 6).

        For a customer who has made ``renewals = n - 1`` renewals (is in their ``n``-th
        period), evaluated just before the next renewal decision, the expected number of
        future payments, each discounted at ``discount_rate`` per period and the first
        (on renewal) undiscounted::

            DERL = sum_{k>=1} S(n - 1 + k) / S(n - 1) / (1 + d)^(k - 1)
                 = B(alpha, beta + n) / B(alpha, beta + n - 1)
                   * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))

        Multiply by the margin per period to get the customer's residual value.

        Parameters
        ----------
        renewals
            Renewals made so far (0 for a customer in their first period).
        discount_rate
            Discount rate per period (``> 0`` for the infinite sum, ``> -1`` with a
            horizon).
        horizon
            Count at most this many future payments (``None``: no limit).
        """
        k = _periods("renewals", renewals, minimum=0)
        d = float(discount_rate)
        if not np.isfinite(d) or d <= -1 or (horizon is None and d <= 0):
            raise ValueError(
                "discount_rate must be > 0 per period (or > -1 with a horizon), "
                f"got {discount_rate!r}"
            )
        if horizon is None:
            n = k + 1
            out = np.exp(betaln(self.alpha, self.beta + n) - betaln(self.alpha, self.beta + n - 1))
            out = out * hyp2f1(1.0, self.beta + n, self.alpha + self.beta + n, 1 / (1 + d))
            bad = ~np.isfinite(out)
            if np.any(bad):  # extreme parameters: sum until the discount makes terms vanish
                terms = int(np.ceil(np.log(1e-15) / -np.log1p(d))) + 1
                out = np.where(bad, self._future_payments(k, terms, 1 / (1 + d)), out)
        else:
            if horizon < 0 or int(horizon) != horizon:
                raise ValueError(f"horizon must be a whole number >= 0, got {horizon!r}")
            out = self._future_payments(k, int(horizon), 1 / (1 + d))
        return wrap(out, renewals, name="derl")

    def _future_payments(self, k: np.ndarray, horizon: int, v: float) -> np.ndarray:
        """``sum_{j=1..horizon} S(k + j) / S(k) * v^(j - 1)`` via the retention recursion."""
        k = np.asarray(k, dtype=np.float64)
        total = np.zeros_like(k)
        surv = np.ones_like(k)
        disc = 1.0
        for j in range(1, horizon + 1):
            surv = surv * (self.beta + k + j - 1) / (self.alpha + self.beta + k + j - 1)
            total = total + surv * disc
            disc *= v
        return total


def _periods(name: str, value: ArrayLike, *, minimum: int) -> np.ndarray:
    arr = as_float(name, value)
    if not np.all(np.isfinite(arr)) or np.any(arr < minimum):
        raise ValueError(f"{name} must be finite and >= {minimum}")
    return arr


# ---------------------------------------------------------------------- fitting


def _neg_ll(
    theta: np.ndarray, t: np.ndarray, lost: np.ndarray, censored: np.ndarray
) -> tuple[float, np.ndarray]:
    """Negative sBG log-likelihood with right-censoring and its log-space gradient."""
    al, be = np.exp(theta)
    base = betaln(al, be)
    log_p = betaln(al + 1, be + t - 1) - base
    log_s = betaln(al, be + t) - base
    ll = wsum(lost, log_p) + wsum(censored, log_s)
    psi_ab = digamma(al + be)
    psi_abt = digamma(al + be + t)
    dp_a = digamma(al + 1) - digamma(al) + psi_ab - psi_abt
    dp_b = digamma(be + t - 1) - digamma(be) + psi_ab - psi_abt
    ds_a = psi_ab - psi_abt
    ds_b = digamma(be + t) - digamma(be) + psi_ab - psi_abt
    d_a = wsum(lost, dp_a) + wsum(censored, ds_a)
    d_b = wsum(lost, dp_b) + wsum(censored, ds_b)
    return -float(ll), -np.array([d_a * al, d_b * be])


def fit_sbg_censored(lost: ArrayLike, censored: ArrayLike, *, period: str = "period") -> SBGModel:
    """Fit the sBG model to customers lost per period and customers still active.

    Parameters
    ----------
    lost
        ``lost[t - 1]``: customers whose last period was ``t`` (they did not renew after
        it), for ``t = 1 .. n``.
    censored
        ``censored[t - 1]``: customers still active whose observation ends after ``t``
        completed renewal decisions survived (``T > t``), for ``t = 1 .. n``; customers
        seen for different lengths (several cohorts) go to different positions.
    period
        Name of one period, for labels.

    Raises
    ------
    ModelFitError
        On NaN or negative counts, when nobody was lost or nobody survived a renewal
        (the Beta distribution is not identified), or when the fit has no proper maximum.
    """
    try:
        lo = as_float("lost", lost).reshape(-1)
        ce = as_float("censored", censored).reshape(-1)
    except ValueError as exc:
        raise ModelFitError(f"sBG: {exc}") from None
    if lo.size != ce.size or lo.size == 0:
        raise ModelFitError("sBG: lost and censored must be equally long and not empty")
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(ce))):
        raise ModelFitError("sBG: counts must be finite (no NaN)")
    if np.any(lo < 0) or np.any(ce < 0):
        raise ModelFitError("sBG: counts must be >= 0")
    n_total = float(lo.sum() + ce.sum())
    if lo.sum() <= 0:
        raise ModelFitError("sBG: nobody churned, so the churn distribution is not identified")
    t = np.arange(1, lo.size + 1, dtype=np.float64)
    survived_one = ce.sum() + lo[1:].sum()
    if survived_one <= 0:
        raise ModelFitError(
            "sBG: every customer churned in the first period; retention cannot be projected"
        )
    if lo.size == 1:
        raise ModelFitError("sBG: need at least two periods to separate alpha from beta")
    starts = [np.log([a, b]) for a in (0.3, 1.0, 3.0) for b in (0.5, 2.0, 8.0)]
    opt = maximise(
        lambda th: _neg_ll(th, t, lo, ce),
        starts,
        names=_NAMES,
        model="sBG",
        total_weight=n_total,
    )
    params = np.exp(opt.log_params)
    se = standard_errors(params, opt.covariance)
    return SBGModel(
        alpha=float(params[0]),
        beta=float(params[1]),
        log_likelihood=float(opt.log_likelihood),
        n_customers=round(n_total),
        period=period,
        alpha_se=float(se[0]),
        beta_se=float(se[1]),
        covariance=opt.covariance,
    )


def fit_sbg(alive: ArrayLike, *, period: str = "period") -> SBGModel:
    """Fit the sBG model to one cohort: ``alive[t]`` customers active at ``t = 0 .. n``.

    ``alive[0]`` is the cohort size; the counts must not increase. This is the setting of
    Fader & Hardie (2007): e.g. 1000, 631, 468, 382, 326, 289, 262, 241 gives
    ``alpha = 0.668, beta = 3.806``.

    Raises
    ------
    ModelFitError
        On fewer than three counts, NaN, negative or increasing counts, and the cases of
        :func:`fit_sbg_censored`.
    """
    try:
        a = as_float("alive", alive).reshape(-1)
    except ValueError as exc:
        raise ModelFitError(f"sBG: {exc}") from None
    if a.size < 3:
        raise ModelFitError("sBG: need the cohort size and at least two periods of survivors")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ModelFitError("sBG: alive counts must be finite and >= 0")
    if a[0] <= 0:
        raise ModelFitError("sBG: the cohort is empty (alive[0] = 0)")
    if np.any(np.diff(a) > 0):
        raise ModelFitError("sBG: alive counts must not increase over time")
    lost = -np.diff(a)
    censored = np.zeros_like(lost)
    censored[-1] = a[-1]
    return fit_sbg_censored(lost, censored, period=period)
