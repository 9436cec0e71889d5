"""Features from the CLV models fitted at a cut, and the expected date of the next purchase.

The model set is the shared one (:func:`crm_core.clv.fitted.fit_models`, one fit per cut
date; the app's :func:`crm_app.loaders.base.models`), never refitted here.

* **BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing
  Science 24(2)): ``p_alive``, the probability that the customer is still active at the
  cut (eq. 11), and ``expected_purchases``, the purchase days expected in the horizon
  (eq. 10, horizon in the model's time unit). ``next_purchase_days`` is the median wait
  for the next purchase of a customer who is still active: given alive, the purchase rate
  is ``Gamma(r + x, alpha + T)`` (the Poisson-gamma posterior of the model), so the wait
  ``W`` has ``P(W > w) = ((alpha + T) / (alpha + T + w))^(r + x)`` (a Lomax distribution)
  and median ``(alpha + T) (2^(1 / (r + x)) - 1)``. Its mean is infinite when
  ``r + x <= 1``, hence the median. Customers the fit leaves out (first purchase on the
  cut date) get nulls.
* **sBG** (Fader & Hardie 2007, "How to project customer retention", J. Interactive
  Marketing 21(1)): ``renewal_probability``, the probability that a running contract
  renews at every renewal date in the horizon, ``S(m - 1 + n) / S(m - 1)`` for a customer
  who has paid ``m`` periods with ``n`` renewal dates due (``S(t) = B(alpha, beta + t) /
  B(alpha, beta)``); ``periods_paid``, ``days_to_renewal`` (days to the next renewal
  date, which is also ``next_purchase_days``) and ``revenue_per_period``.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.special import betaln

from crm_core.churn.columns import F
from crm_core.clv.fitted import (
    ACTIVE_CONTRACT,
    NEXT_RENEWAL_YEARS,
    PERIODS_PAID,
    REVENUE_PER_PERIOD,
    FittedModels,
)
from crm_core.clv.summary import DAYS_PER_UNIT, DAYS_PER_YEAR, FREQUENCY, RECENCY, T_AGE
from crm_core.data.ledger import L

__all__ = ["median_wait", "model_features", "renewal_probability"]


def median_wait(r: float, alpha: float, frequency: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Median time to the next purchase of an active BG/NBD customer (module docstring),
    in the model's time unit: ``(alpha + T) (2^(1 / (r + x)) - 1)``."""
    return (alpha + age) * np.expm1(np.log(2.0) / (r + frequency))


def renewal_probability(
    alpha: float, beta: float, periods_paid: np.ndarray, renewals: np.ndarray
) -> np.ndarray:
    """``S(m - 1 + n) / S(m - 1)``: the sBG probability that a contract which has paid
    ``m`` periods renews ``n`` more times (module docstring)."""
    m = periods_paid.astype(np.float64) - 1.0
    return np.exp(betaln(alpha, beta + m + renewals) - betaln(alpha, beta + m))


def _renewals_due(years_to_next: np.ndarray, horizon_years: float, period_years: float):
    """Renewal dates in ``(cut, cut + horizon]``: the next one and one every period after."""
    inside = years_to_next <= horizon_years + 1e-9
    count = np.floor((horizon_years - years_to_next) / period_years + 1e-9) + 1
    return np.where(inside, count, 0.0)


def model_features(fit: FittedModels, cut: int, horizon_days: float) -> pl.DataFrame:
    """Model features of the customers ``fit`` describes, as of the fit's date.

    Parameters
    ----------
    fit
        The model set fitted at the cut's end, keyed on the ledger's ``cid``.
    cut
        The cut (ledger period) the rows are labelled with.
    horizon_days
        The horizon in days.

    Returns
    -------
    pl.DataFrame
        ``cut, cid`` and ``p_alive, expected_purchases, next_purchase_days`` (BG/NBD) or
        ``renewal_probability, periods_paid, days_to_renewal, revenue_per_period,
        next_purchase_days`` (sBG, running contracts only).
    """
    t = fit.inputs
    if fit.sbg is not None:
        t = t.filter(pl.col(ACTIVE_CONTRACT))
        paid = t[PERIODS_PAID].to_numpy()
        years = t[NEXT_RENEWAL_YEARS].to_numpy()
        months = fit.period_months or 1
        due = _renewals_due(years, horizon_days / DAYS_PER_YEAR, months / 12)
        days = years * DAYS_PER_YEAR
        columns = {
            F.renewal_probability: renewal_probability(fit.sbg.alpha, fit.sbg.beta, paid, due),
            F.periods_paid: paid.astype(np.float64),
            F.days_to_renewal: days,
            F.revenue_per_period: t[REVENUE_PER_PERIOD].to_numpy(),
            F.next_purchase_days: days,
        }
    elif fit.bgnbd is not None:
        bg = fit.bgnbd
        unit = DAYS_PER_UNIT[bg.time_unit]
        x = t[FREQUENCY].to_numpy().astype(np.float64)
        tx, age = t[RECENCY].to_numpy(), t[T_AGE].to_numpy()
        columns = {
            F.p_alive: bg.p_alive(x, tx, age),
            F.expected_purchases: bg.expected_purchases(horizon_days / unit, x, tx, age),
            F.next_purchase_days: median_wait(bg.r, bg.alpha, x, age) * unit,
        }
    else:
        raise ValueError("the model set holds no fitted model")
    return t.select(pl.lit(cut, pl.Int32).alias(F.cut), pl.col(L.cid).alias(F.cid)).with_columns(
        pl.Series(name, np.asarray(values, dtype=np.float64)) for name, values in columns.items()
    )
