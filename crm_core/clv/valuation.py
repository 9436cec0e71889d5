"""Valuation: every customer's CLV from a fitted model set, at any horizon.

:func:`value` turns :class:`~crm_core.clv.fitted.FittedModels` into per-customer CLV: the
discounted expected margin a customer will bring over ``horizon_years`` from the fit's date
(residual value; past profit and acquisition costs are sunk and not included):

* **BG/NBD + Gamma-Gamma** (non-contractual): the horizon is cut into ``steps_per_year``
  equal steps (default 12 steps of 365.25 / 12 days); the purchases expected in step ``k``
  are discounted from the step's end by ``(1 + d)^-(k / steps_per_year)``, ``d`` the yearly
  discount rate, and valued at the Gamma-Gamma expected spend times the margin. Model time
  is in weeks (a year = 365.25 / 7 = 52.18 weeks) or days; no month of "30 days" is assumed.
  The CLV is weighted by P(alive), so customers who have most likely lapsed add almost
  nothing.
* **sBG** (contractual): an active customer who has paid ``m`` periods renews ``t`` more
  times with probability ``S(m - 1 + t) / S(m - 1)``; each renewal brings their average
  revenue per period so far, times the margin, discounted from its calendar date; only
  renewals within the horizon count. Cancelled customers are not valued.

Future revenue is valued at the contribution margin ratio of the fit
(:mod:`crm_core.clv.margin`) unless ``margin`` is given. ``customer_equity`` is the sum of
CLV over the customers valued: the value of the current base, without future cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from crm_core.clv._horizon import horizon_steps, purchases_by_customer
from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.errors import ModelFitError
from crm_core.clv.fitted import (
    ACTIVE_CONTRACT,
    BGNBD_GG,
    NEXT_RENEWAL_YEARS,
    PERIODS_PAID,
    REVENUE_PER_PERIOD,
    SBG,
    FittedModels,
)
from crm_core.clv.gamma_gamma import GammaGammaModel
from crm_core.clv.margin import ContributionMargin, margin_label
from crm_core.clv.sbg import SBGModel
from crm_core.clv.summary import FREQUENCY, MONETARY_VALUE, RECENCY, T_AGE, units_per_year
from crm_core.data.ledger import L
from crm_core.data.schema import C

__all__ = [
    "CLV",
    "DEFAULT_HORIZON_YEARS",
    "EXPECTED_PURCHASES",
    "EXPECTED_SPEND",
    "MODEL",
    "P_ALIVE",
    "ClvResult",
    "bgnbd_clv_values",
    "sbg_clv_values",
    "value",
]

CLV = "clv"
P_ALIVE = "p_alive"
EXPECTED_PURCHASES = "expected_purchases"
EXPECTED_SPEND = "expected_spend"
MODEL = "model"

DEFAULT_HORIZON_YEARS = 3.0
"""The horizon of "CLV" and "customer equity" wherever the product shows them."""


@dataclass(frozen=True)
class ClvResult:
    """Per-customer CLV of a snapshot and the models behind it.

    Attributes
    ----------
    table
        One row per customer counted (see the module docstring): ``customer_id, clv
        (currency), p_alive, expected_purchases (count over the horizon, undiscounted),
        expected_spend (currency per purchase or per period), model``, then the model
        inputs (``frequency, recency, T, monetary_value`` or ``periods_paid,
        revenue_per_period, years_to_next_renewal``). Sorted by CLV, highest first.
    method
        Human-readable description, e.g. ``"BG/NBD + Gamma-Gamma (3-year horizon)"``.
    customer_equity
        Sum of CLV over the table (currency).
    average_clv
        Mean CLV per customer in the table (currency).
    horizon_years, discount_rate, margin
        The horizon (years), yearly discount rate and margin ratio used.
    margin_source
        Where the margin comes from: the snapshot's :class:`ContributionMargin`, or
        ``None`` when it was given by the caller.
    currency, as_of, business_model
        From the snapshot.
    time_unit
        BG/NBD time unit (``"W"`` or ``"D"``), or ``None`` for the sBG path.
    steps_per_year
        Discounting steps a year (BG/NBD path).
    period_months
        Length of one sBG period in calendar months (sBG path), else ``None``.
    bgnbd, gamma_gamma, sbg
        The fitted models (``None`` where not used).
    """

    table: pl.DataFrame
    method: str
    customer_equity: float
    average_clv: float
    horizon_years: float
    discount_rate: float
    margin: float
    currency: str
    as_of: date
    business_model: str
    time_unit: str | None = None
    steps_per_year: int = 12
    period_months: int | None = None
    bgnbd: BGNBDModel | None = None
    gamma_gamma: GammaGammaModel | None = None
    sbg: SBGModel | None = None
    margin_source: ContributionMargin | None = None

    @property
    def margin_label(self) -> str:
        """The margin in words: ``"margin 31% after direct and service costs"``."""
        return margin_label(self.margin, self.margin_source)

    @property
    def customers(self) -> int:
        """Number of customers valued."""
        return self.table.height

    @property
    def expected_active(self) -> float:
        """Expected number of customers still active at as-of (sum of P(alive))."""
        return float(self.table[P_ALIVE].sum())

    def top_share(self, fraction: float) -> float | None:
        """Share of customer equity held by the most valuable ``fraction`` of customers
        (at least one customer); ``None`` when there is no equity to share.

        Raises
        ------
        ValueError
            If ``fraction`` is not in (0, 1].
        """
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must lie in (0, 1], got {fraction!r}")
        if self.table.is_empty() or self.customer_equity <= 0:
            return None
        top = max(1, round(fraction * self.table.height))
        return float(self.table[CLV].head(top).sum()) / self.customer_equity


def _horizon_label(horizon_years: float) -> str:
    years = f"{horizon_years:g}"
    return f"{years}-year horizon"


def _finish(
    table: pl.DataFrame,
    model: str,
    *,
    horizon_years: float,
    margin: float,
    margin_source: ContributionMargin | None,
    **kwargs: object,
) -> ClvResult:
    """The sorted result; ``method`` reads ``"<model> (<horizon>, <margin>)"``."""
    table = table.sort([CLV, C.customer_id], descending=[True, False])
    equity = float(table[CLV].sum()) if table.height else 0.0
    return ClvResult(
        table=table,
        method=f"{model} ({_horizon_label(horizon_years)}, {margin_label(margin, margin_source)})",
        customer_equity=equity,
        average_clv=equity / table.height if table.height else 0.0,
        horizon_years=float(horizon_years),
        margin=margin,
        margin_source=margin_source,
        **kwargs,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------ non-contractual


def bgnbd_clv_values(
    bg: BGNBDModel,
    gg: GammaGammaModel,
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    monetary: np.ndarray,
    *,
    margin: float,
    horizon_years: float,
    discount_rate: float,
    steps_per_year: int = 12,
) -> dict[str, np.ndarray]:
    """CLV arrays for BG/NBD + Gamma-Gamma customers (see the module docstring).

    Returns ``clv, p_alive, expected_purchases, expected_spend`` (numpy arrays aligned
    with the inputs). The expected purchases of an alive customer come from
    :mod:`crm_core.clv._horizon` (the FHL formula after Euler's transformation, interpolated
    per distinct frequency: equal to the direct formula to about 1e-11, finite for very
    frequent buyers over long horizons, and as fast for 10 years as for one).
    """
    years, disc = horizon_steps(horizon_years, steps_per_year, discount_rate)
    times = years * units_per_year(bg.time_unit)
    discounted, purchases = purchases_by_customer(bg.params, frequency, age, times, disc)
    alive = bg._p_alive(frequency, recency, age)
    spend = np.asarray(gg.expected_spend(frequency, np.maximum(monetary, 0.0)))
    clv = margin * spend * alive * discounted
    if not np.all(np.isfinite(clv)):
        raise ModelFitError("CLV: the fitted models give non-finite values for some customers")
    return {
        CLV: np.maximum(clv, 0.0),
        P_ALIVE: alive,
        EXPECTED_PURCHASES: alive * purchases,
        EXPECTED_SPEND: spend,
    }


def sbg_clv_values(
    model: SBGModel,
    periods_paid: np.ndarray,
    years_to_next: np.ndarray,
    revenue_per_period: np.ndarray,
    *,
    margin: float,
    horizon_years: float,
    discount_rate: float,
    period_months: int = 1,
) -> dict[str, np.ndarray]:
    """CLV arrays for active contractual customers (see the module docstring)."""
    period_years = period_months / 12
    v_period = (1.0 + discount_rate) ** -period_years
    count = np.where(
        years_to_next <= horizon_years,
        np.floor((horizon_years - years_to_next) / period_years + 1e-9) + 1,
        0,
    ).astype(np.int64)
    renewals = periods_paid.astype(np.float64) - 1
    discounted = np.zeros(periods_paid.size)
    expected = np.zeros(periods_paid.size)
    for h in np.unique(count):
        sel = count == h
        if h == 0:
            continue
        discounted[sel] = model._future_payments(renewals[sel], int(h), v_period)
        expected[sel] = model._future_payments(renewals[sel], int(h), 1.0)
    discounted *= (1.0 + discount_rate) ** -years_to_next
    spend = np.maximum(revenue_per_period, 0.0)
    clv = margin * spend * discounted
    if not np.all(np.isfinite(clv)):
        raise ModelFitError("CLV: the sBG model gives non-finite values for some customers")
    return {
        CLV: clv,
        P_ALIVE: np.ones(periods_paid.size),
        EXPECTED_PURCHASES: expected,
        EXPECTED_SPEND: spend,
    }


def _check_args(horizon_years: float, discount_rate: float, margin: float | None) -> None:
    if not np.isfinite(horizon_years) or horizon_years <= 0:
        raise ValueError(f"horizon_years must be positive, got {horizon_years!r}")
    if not np.isfinite(discount_rate) or discount_rate <= -1:
        raise ValueError(f"discount_rate must be > -1, got {discount_rate!r}")
    if margin is not None and (not np.isfinite(margin) or not 0 < margin <= 1):
        raise ValueError(f"margin must be a fraction in (0, 1], got {margin!r}")


def value(
    models: FittedModels,
    *,
    horizon_years: float = DEFAULT_HORIZON_YEARS,
    discount_rate: float | None = None,
    margin: float | None = None,
    steps_per_year: int = 12,
) -> ClvResult:
    """CLV of every customer the fit covers, over ``horizon_years`` (module docstring).

    Parameters
    ----------
    models
        The fitted model set (:func:`crm_core.clv.fitted.fit_models`).
    horizon_years
        Years ahead that count (years of 365.25 days).
    discount_rate
        Yearly discount rate; default the manifest's.
    margin
        Share of revenue kept as margin (fraction in (0, 1]); default the fit's
        contribution margin after direct and service costs.
    steps_per_year
        Discounting steps a year (BG/NBD).

    Raises
    ------
    ModelFitError
        If the fitted models give non-finite values.
    """
    d = models.discount_rate if discount_rate is None else float(discount_rate)
    _check_args(horizon_years, d, margin)
    if int(steps_per_year) != steps_per_year or steps_per_year < 1:
        raise ValueError(f"steps_per_year must be a whole number >= 1, got {steps_per_year!r}")
    source = models.margin if margin is None else None
    m = models.margin.ratio if margin is None else float(margin)
    common = {
        "horizon_years": horizon_years,
        "margin": m,
        "margin_source": source,
        "discount_rate": d,
        "currency": models.currency,
        "as_of": models.as_of,
        "business_model": models.business_model,
    }
    t = models.inputs
    if models.sbg is not None:
        active = t.filter(pl.col(ACTIVE_CONTRACT))
        values = sbg_clv_values(
            models.sbg,
            active[PERIODS_PAID].to_numpy(),
            active[NEXT_RENEWAL_YEARS].to_numpy(),
            active[REVENUE_PER_PERIOD].to_numpy(),
            margin=m,
            horizon_years=horizon_years,
            discount_rate=d,
            period_months=models.period_months or 1,
        )
        table = active.select(L.cid, C.customer_id).with_columns(
            *(pl.Series(k, v) for k, v in values.items()),
            pl.lit(SBG).alias(MODEL),
            active[PERIODS_PAID],
            active[REVENUE_PER_PERIOD],
            active[NEXT_RENEWAL_YEARS],
        )
        return _finish(
            table, models.model_name, period_months=models.period_months, sbg=models.sbg, **common
        )
    if models.bgnbd is None or models.gamma_gamma is None:
        raise ValueError("the model set holds no fitted model")
    x = t[FREQUENCY].to_numpy().astype(np.float64)
    values = bgnbd_clv_values(
        models.bgnbd,
        models.gamma_gamma,
        x,
        t[RECENCY].to_numpy(),
        t[T_AGE].to_numpy(),
        t[MONETARY_VALUE].to_numpy(),
        margin=m,
        horizon_years=horizon_years,
        discount_rate=d,
        steps_per_year=int(steps_per_year),
    )
    table = t.select(L.cid, C.customer_id).with_columns(
        *(pl.Series(k, v) for k, v in values.items()),
        pl.lit(BGNBD_GG).alias(MODEL),
        t[FREQUENCY],
        t[RECENCY],
        t[T_AGE],
        t[MONETARY_VALUE],
    )
    return _finish(
        table,
        BGNBD_GG,
        time_unit=models.time_unit,
        steps_per_year=int(steps_per_year),
        bgnbd=models.bgnbd,
        gamma_gamma=models.gamma_gamma,
        **common,
    )
