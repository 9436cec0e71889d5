"""What one fit forecast for each quarter after its date, and what happened.

A fit at an earlier quarter end ``k`` (:func:`crm_core.clv.fitted.fit_models`, the model
set the app caches for that date) describes the customers it knew then; their forecast
for every quarter end after ``k`` up to the ledger's as-of date is compared with what the
same customers did in the ledger. Quarter ``h`` after the fit ends ``h`` quarters later.

**BG/NBD + Gamma-Gamma** (non-contractual; Fader, Hardie & Lee 2005):

* *repeat purchases* - purchase days in the quarter. Forecast: ``P(alive) x (E(t_h) -
  E(t_{h-1}))`` summed over customers, ``E(t)`` the expected purchases of an alive
  customer in the ``t`` model time units after the fit (FHL eq. 10 without P(alive), as
  valuation and the holdout check compute it, :mod:`crm_core.clv._horizon`). Summed to
  the as-of date this is the Customer value page's holdout check for the same
  calibration date (:func:`crm_core.clv.holdout.holdout_check`);
* *revenue* - net revenue in the quarter; forecast: the same purchases times the
  Gamma-Gamma expected spend per purchase (FHL 2005b, eq. 5). Refunds booked later lower
  the actual: the model forecasts spend on purchase days;
* *active customers* - customers active at the quarter end by the activity rule
  (:mod:`crm_core.data.rules`). With ``D`` the days since the fit, a customer whose last
  activity is within their lapse threshold ``D`` days on is active for sure; any other is
  active if they buy in those ``D`` days (any purchase then is within the threshold,
  which is at least 365 days), with probability ``P(alive) x (1 - ((alpha + T) / (alpha +
  T + t))^(r + x))``: the gamma posterior of an alive customer's rate, who cannot drop
  out without buying. Exact for ``D <= 366`` days, so forecast for up to four quarters.

**sBG** (contractual; Fader & Hardie 2007): *active customers* are the contracts running
at the fit still running at each quarter end, taken from the holdout check's tracking
(the same numbers the Customer value page shows). *Revenue*: a running contract that has
paid ``m`` periods pays its ``n``-th renewal with probability ``S(m - 1 + n) / S(m - 1)``;
each renewal falling in the quarter brings the customer's revenue per period paid so far.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from crm_core.clv._dates import completed_months
from crm_core.clv._horizon import purchases_by_customer
from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.fitted import ACTIVE_CONTRACT, PERIODS_PAID, REVENUE_PER_PERIOD, FittedModels
from crm_core.clv.holdout import holdout_check
from crm_core.clv.summary import DAYS_PER_UNIT, FREQUENCY, MONETARY_VALUE, RECENCY, T_AGE
from crm_core.data.ledger import L, Ledger
from crm_core.data.schema import C
from crm_core.metrics.quarters import quarter_periods

__all__ = [
    "ACTIVE",
    "ACTUAL",
    "FORECAST",
    "MEASURE",
    "PERIOD_END",
    "PURCHASES",
    "REVENUE",
    "STEP",
    "buy_probability",
    "fit_paths",
]

PURCHASES, REVENUE, ACTIVE = "repeat_purchases", "revenue", "active_customers"
STEP = "quarters_ahead"
PERIOD_END = "period_end"
MEASURE = "measure"
FORECAST = "forecast"
ACTUAL = "actual"
ACTIVE_DAYS = 366
"""Longest span (days) over which the active-customer forecast is exact (see above)."""


def _ends(ledger: Ledger, k: int) -> tuple[list[int], list[date]]:
    """Ledger periods and dates of the quarter ends after period ``k``, oldest first."""
    step = quarter_periods(ledger)
    periods = [k - h * step for h in range(1, k // step + 1)]
    return periods, [ledger.period_end(p) for p in periods]


def _frame(dates: list[date], values: dict[str, tuple[list, list]]) -> pl.DataFrame:
    parts = [
        pl.DataFrame(
            {
                STEP: np.arange(1, len(dates) + 1, dtype=np.int32),
                PERIOD_END: pl.Series(dates, dtype=pl.Date),
                MEASURE: [measure] * len(dates),
                FORECAST: pl.Series(forecast, dtype=pl.Float64),
                ACTUAL: pl.Series(actual, dtype=pl.Float64),
            }
        )
        for measure, (forecast, actual) in values.items()
    ]
    return pl.concat(parts)


def _actuals(ledger: Ledger, cids: np.ndarray, periods: list[int]) -> dict[str, np.ndarray]:
    """Per quarter after the fit (oldest first): purchase days and revenue of ``cids`` in
    the quarter, and how many of them are active at its end."""
    step = quarter_periods(ledger)
    known = np.zeros(ledger.customers.height, dtype=bool)
    known[cids] = True
    rows = ledger.panel.filter(pl.col(L.period) <= periods[0] + step - 1)
    member = known[rows[L.cid].to_numpy()]
    period = rows[L.period].to_numpy()[member]
    n = periods[0] + step
    sums = {
        name: np.bincount(period, weights=rows[col].to_numpy()[member].astype(float), minlength=n)
        for name, col in ((PURCHASES, L.purchase_days), (REVENUE, L.revenue), (ACTIVE, L.active))
    }
    by_quarter = {
        PURCHASES: [sums[PURCHASES][p : p + step].sum() for p in periods],
        REVENUE: [sums[REVENUE][p : p + step].sum() for p in periods],
        ACTIVE: [sums[ACTIVE][p] for p in periods],  # at the quarter end
    }
    return {k: np.asarray(v, dtype=float) for k, v in by_quarter.items()}


def buy_probability(
    bg: BGNBDModel, x: np.ndarray, age: np.ndarray, t: float, alive: np.ndarray
) -> np.ndarray:
    """P(at least one purchase in the ``t`` model time units after ``T``) of customers with
    ``x`` repeat purchases, age ``T`` and P(alive) ``alive``: ``alive x (1 - ((alpha + T) /
    (alpha + T + t))^(r + x))`` (an alive customer's rate is Gamma(r + x, alpha + T) a
    posteriori, and they cannot drop out without buying)."""
    r, alpha = bg.params[0], bg.params[1]
    return alive * (1.0 - ((alpha + age) / (alpha + age + t)) ** (r + x))


def _bgnbd_paths(ledger: Ledger, fit: FittedModels) -> pl.DataFrame:
    bg, gg, t = fit.bgnbd, fit.gamma_gamma, fit.inputs
    assert bg is not None and gg is not None
    periods, dates = _ends(ledger, fit.period)
    unit = DAYS_PER_UNIT[fit.time_unit or "W"]
    x = t[FREQUENCY].to_numpy().astype(np.float64)
    age = t[T_AGE].to_numpy()
    alive = bg._p_alive(x, t[RECENCY].to_numpy(), age)
    spend = np.asarray(gg.expected_spend(x, np.maximum(t[MONETARY_VALUE].to_numpy(), 0.0)))
    days = np.array([(d - fit.as_of).days for d in dates], dtype=np.float64)
    cumulative = np.zeros((len(dates) + 1, x.size))
    for h, d in enumerate(days, start=1):  # each horizon as the holdout check computes it
        cumulative[h] = purchases_by_customer(bg.params, x, age, np.array([d / unit]), np.ones(1))[
            1
        ]
    per_quarter = np.diff(cumulative, axis=0) * alive
    # active at each quarter end: sure within the lapse threshold, else if they buy
    cids = t[L.cid].to_numpy()
    state = (
        ledger.at(fit.period)
        .select(L.cid, L.days_since_activity, L.lapse_after_days)
        .collect()
        .join(t.select(L.cid), on=L.cid, how="right")
    )
    since, lapse = state[L.days_since_activity].to_numpy(), state[L.lapse_after_days].to_numpy()
    active = []
    for d in days:
        if d > ACTIVE_DAYS:
            active.append(None)
            continue
        buys = buy_probability(bg, x, age, d / unit, alive)
        active.append(float(np.where(since + d <= lapse, 1.0, buys).sum()))
    actual = _actuals(ledger, cids, periods)
    return _frame(
        dates,
        {
            PURCHASES: (per_quarter.sum(axis=1).tolist(), actual[PURCHASES].tolist()),
            REVENUE: ((per_quarter @ spend).tolist(), actual[REVENUE].tolist()),
            ACTIVE: (active, actual[ACTIVE].tolist()),
        },
    )


def _sbg_paths(ledger: Ledger, fit: FittedModels) -> pl.DataFrame:
    model = fit.sbg
    assert model is not None
    periods, dates = _ends(ledger, fit.period)
    check = holdout_check(ledger, fit.period, models=fit)
    tracking = check.tracking.filter(pl.col(C.date).is_in(dates)).sort(C.date)
    running = fit.inputs.filter(pl.col(ACTIVE_CONTRACT))
    months = fit.period_months or 1
    paid = running[PERIODS_PAID].to_numpy().astype(np.int64)
    rate = running[REVENUE_PER_PERIOD].to_numpy()
    acquired = ledger.with_customers(running.lazy().select(L.cid), C.acquired_on).collect()
    started = acquired.select(
        *(
            (completed_months(pl.lit(d), pl.col(C.acquired_on)) // months + 1).alias(str(h))
            for h, d in enumerate(dates)
        )
    )
    renewals = np.maximum(started.to_numpy() - paid[:, None], 0)  # customers x quarter ends
    # expected renewals paid by each date: sum_{n=1..R} S(m - 1 + n) / S(m - 1)
    top = int(paid.max(initial=1) + renewals.max(initial=0))
    cum = np.concatenate([[0.0], np.cumsum(np.asarray(model.survival(np.arange(top + 1))))])
    base = np.asarray(model.survival(paid - 1))
    bills = (cum[paid[:, None] + renewals] - cum[paid[:, None]]) / base[:, None]
    revenue = np.diff(np.concatenate([np.zeros((paid.size, 1)), bills], axis=1), axis=1).T @ rate
    actual = _actuals(ledger, running[L.cid].to_numpy(), periods)
    return _frame(
        dates,
        {
            ACTIVE: (tracking["predicted"].to_list(), tracking["actual"].to_list()),
            REVENUE: (revenue.tolist(), actual[REVENUE].tolist()),
        },
    )


def fit_paths(ledger: Ledger, fit: FittedModels) -> pl.DataFrame:
    """Forecast against actual, quarter by quarter, of ``fit`` (module docstring).

    Parameters
    ----------
    ledger
        The customer ledger (its as-of date ends the comparison).
    fit
        A model set fitted at a period end of ``ledger`` a whole number of quarters before
        its as-of date, keyed on its customers (``fit.ledger_as_of == ledger.as_of``).

    Returns
    -------
    pl.DataFrame
        ``quarters_ahead, period_end, measure, forecast, actual``: one row per quarter end
        after the fit and measure (``repeat_purchases``, ``revenue``, ``active_customers``;
        subscriptions: ``active_customers``, ``revenue``). Purchases and revenue are the
        quarter's, active customers those at its end (forecast null beyond 366 days).

    Raises
    ------
    ValueError
        If the fit is keyed on another ledger or not a whole number of quarters back.
    """
    step = quarter_periods(ledger)
    if fit.ledger_as_of != ledger.as_of or fit.as_of != ledger.period_end(fit.period):
        raise ValueError(f"the fit of {fit.as_of} is keyed on another ledger (rekey it first)")
    if fit.period < step or fit.period % step:
        raise ValueError(f"the fit of {fit.as_of} is not a whole number of quarters back")
    return _sbg_paths(ledger, fit) if fit.sbg is not None else _bgnbd_paths(ledger, fit)
