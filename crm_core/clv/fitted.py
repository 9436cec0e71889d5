"""Fit once, then value: the fitted CLV model set of one ledger at one period end.

:func:`fit_models` reads the model inputs off the customer ledger and fits:

* **non-contractual** ledgers: BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers
  the easy way", Marketing Science 24(2)) on every customer's frequency, recency and age,
  and Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV", J. Marketing Research 42(4))
  on the spend of repeat buyers. The inputs equal :func:`crm_core.clv.summary.rfm_summary`
  of the transactions up to the period end (purchase days; durations in weeks or days);
  customers whose first purchase is on the period end (``T = 0``) are not yet observable
  and are left out.
* **contractual** ledgers: the shifted-beta-geometric model (Fader & Hardie 2007, "How to
  project customer retention", J. Interactive Marketing 21(1)) on every contract's
  history in periods of ``period_months`` calendar months, cancelled contracts as
  observed churn and running ones as right-censored.

The result, :class:`FittedModels`, is the input of valuation
(:func:`crm_core.clv.valuation.value`): pages and the CLI value customers at any horizon
from the same fit, and never refit. The app caches one model set per snapshot and date.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import polars as pl

from crm_core.clv._dates import completed_months, shifted
from crm_core.clv.bgnbd import BGNBDModel, fit_bgnbd
from crm_core.clv.errors import ModelFitError
from crm_core.clv.gamma_gamma import GammaGammaModel, fit_gamma_gamma
from crm_core.clv.margin import ContributionMargin, contribution_margin
from crm_core.clv.sbg import SBGModel, fit_sbg_censored
from crm_core.clv.summary import (
    DAYS_PER_UNIT,
    DAYS_PER_YEAR,
    FREQUENCY,
    MONETARY_VALUE,
    RECENCY,
    T_AGE,
)
from crm_core.data.ledger import L, Ledger
from crm_core.data.periods import PERIOD_END
from crm_core.data.schema import C

__all__ = [
    "ACTIVE_CONTRACT",
    "BGNBD_GG",
    "BGNBD_KEYS",
    "CONTRACT_KEYS",
    "CUSTOMERS",
    "NEXT_RENEWAL_YEARS",
    "PERIODS_PAID",
    "REVENUE_PER_PERIOD",
    "SBG",
    "SPEND_KEYS",
    "FittedModels",
    "bgnbd_inputs",
    "contract_inputs",
    "fit_contract_sbg",
    "fit_grouped",
    "fit_models",
    "grouped_inputs",
    "rekey",
]

PERIODS_PAID = "periods_paid"
REVENUE_PER_PERIOD = "revenue_per_period"
NEXT_RENEWAL_YEARS = "years_to_next_renewal"
ACTIVE_CONTRACT = "active"

CUSTOMERS = "customers"
"""Number of customers a grouped model-input row stands for (its weight)."""
BGNBD_KEYS = (FREQUENCY, RECENCY, T_AGE)
SPEND_KEYS = (FREQUENCY, MONETARY_VALUE)
CONTRACT_KEYS = (PERIODS_PAID, ACTIVE_CONTRACT)

BGNBD_GG = "BG/NBD + Gamma-Gamma"
SBG = "sBG"

_ADJECTIVE = {1: "monthly", 3: "quarterly", 6: "half-yearly", 12: "yearly"}


def rekey(models: FittedModels, ledger: Ledger) -> FittedModels:
    """The same fit with ``inputs`` keyed on ``ledger``'s customers (its ``cid`` numbering)
    and ``period`` counted in its grid, for a fit made on another ledger of the same
    snapshot (a fit describes a date, whichever ledger reached it). Nothing is refitted.

    Raises
    ------
    ValueError
        If the fit's date is not a period end of ``ledger``.
    """
    if models.ledger_as_of == ledger.as_of:
        return models
    ends = ledger.grid[PERIOD_END].to_list()
    if models.as_of not in ends:
        raise ValueError(f"the fit of {models.as_of} is not at a period end of this ledger")
    keys = ledger.customers.select(C.customer_id, pl.col(L.cid).alias("_cid"))
    inputs = (
        models.inputs.join(keys, on=C.customer_id, how="inner", maintain_order="left")
        .with_columns(pl.col("_cid").alias(L.cid))
        .drop("_cid")
        .sort(L.cid)
    )
    return replace(
        models, inputs=inputs, period=ends.index(models.as_of), ledger_as_of=ledger.as_of
    )


def period_name(period_months: int) -> str:
    """One sBG period in words: ``"month"``, ``"quarter"``, ..."""
    return {1: "month", 3: "quarter", 6: "half-year", 12: "year"}.get(
        period_months, f"{period_months}-month period"
    )


@dataclass(frozen=True)
class FittedModels:
    """The CLV models fitted on one ledger at the end of one of its periods.

    Attributes
    ----------
    as_of
        The date the fit describes (the end of ``period``).
    period
        The ledger period whose end the fit uses (0: the ledger's as-of date).
    business_model, currency, discount_rate
        From the snapshot's manifest (the yearly discount rate valuation defaults to).
    margin
        The contribution margin over the twelve months to ``as_of``.
    inputs
        One row per customer valued, with ``cid`` and ``customer_id``: ``frequency,
        recency, T, monetary_value`` (BG/NBD; time in ``time_unit``) or ``periods_paid,
        active, revenue_per_period, years_to_next_renewal`` (sBG; running contracts and
        cancelled ones, the valuation uses the running ones).
    bgnbd, gamma_gamma, sbg
        The fitted models (``None`` where not used).
    time_unit
        BG/NBD time unit (``"W"`` or ``"D"``); ``None`` for sBG.
    period_months
        Length of one sBG period in calendar months; ``None`` for BG/NBD.
    ledger_as_of
        As-of date of the ledger whose ``cid`` numbering ``inputs`` uses and whose periods
        ``period`` counts (:func:`rekey` moves a fit to another ledger of the snapshot).
    """

    as_of: date
    period: int
    business_model: str
    currency: str
    discount_rate: float
    margin: ContributionMargin
    inputs: pl.DataFrame
    bgnbd: BGNBDModel | None = None
    gamma_gamma: GammaGammaModel | None = None
    sbg: SBGModel | None = None
    time_unit: str | None = None
    period_months: int | None = None
    ledger_as_of: date | None = None

    @property
    def model_name(self) -> str:
        """The models in words: ``"BG/NBD + Gamma-Gamma"`` or ``"sBG retention, monthly
        renewals"``."""
        if self.sbg is not None:
            months = self.period_months or 1
            return f"sBG retention, {_ADJECTIVE.get(months, f'{months}-monthly')} renewals"
        return BGNBD_GG


def bgnbd_inputs(ledger: Ledger, period: int = 0, time_unit: str = "W") -> pl.DataFrame:
    """BG/NBD and Gamma-Gamma inputs of every customer with a purchase day by the end of
    ``period``: ``cid, customer_id, frequency, recency, T, monetary_value``.

    Equal to :func:`crm_core.clv.summary.rfm_summary` of the transactions up to that date
    (a test checks it), without the customers first seen on that very day.
    """
    unit = DAYS_PER_UNIT[time_unit]
    end = ledger.period_end(period)
    spent = (
        ledger.lazy()
        .filter(pl.col(L.period) >= period)
        .group_by(L.cid)
        .agg(pl.col(L.purchase_day_revenue).sum().alias("_total"))
    )
    first = pl.col(L.first_purchase)
    frequency = (pl.col(L.cum_purchase_days) - 1).cast(pl.Int64)
    state = (
        ledger.at(period)
        .filter(pl.col(L.cum_purchase_days) > 0)
        .select(L.cid, L.cum_purchase_days, L.last_purchase)
        .join(spent, on=L.cid, how="left")
    )
    state = ledger.with_customers(state, C.customer_id, L.first_purchase, L.first_purchase_amount)
    return (
        state.filter(first < pl.lit(end))
        .select(
            L.cid,
            C.customer_id,
            frequency.alias(FREQUENCY),
            ((pl.col(L.last_purchase) - first).dt.total_days() / unit).alias(RECENCY),
            ((pl.lit(end) - first).dt.total_days() / unit).alias(T_AGE),
            pl.when(frequency > 0)
            .then((pl.col("_total") - pl.col(L.first_purchase_amount)) / frequency)
            .otherwise(0.0)
            .alias(MONETARY_VALUE),
        )
        .sort(L.cid)
        .collect()
    )


def contract_inputs(ledger: Ledger, period: int = 0, period_months: int = 1) -> pl.DataFrame:
    """Per customer acquired by the end of ``period``: periods paid, whether the contract
    is still running, revenue per period paid, and the years to the next renewal.

    Period ``j`` (``j = 1, 2, ...``) of a contract starts ``(j - 1) * period_months``
    calendar months after acquisition; a customer who cancels on a period start did not
    pay that period. Columns: ``cid, customer_id, periods_paid, active,
    revenue_per_period, years_to_next_renewal``.
    """
    end = ledger.period_end(period)
    as_of = pl.lit(end)
    acq = pl.col(C.acquired_on)
    churned = pl.col(C.churned_on).is_not_null() & (pl.col(C.churned_on) <= as_of)
    stop = pl.when(churned).then(pl.col(C.churned_on)).otherwise(as_of)
    months = completed_months(stop, acq)
    last_start = (months // period_months) * period_months
    on_start = shifted(acq, last_start) == stop
    paid = (months // period_months + 1) - (churned & on_start).cast(pl.Int64)
    revenue = (
        ledger.lazy()
        .filter(pl.col(L.period) >= period)
        .group_by(L.cid)
        .agg(pl.col(L.revenue).sum().alias("_revenue"))
    )
    return (
        ledger.customers.lazy()
        .filter(acq <= as_of)
        .select(L.cid, C.customer_id, C.acquired_on, C.churned_on)
        .with_columns(
            pl.max_horizontal(paid, pl.lit(1)).alias(PERIODS_PAID),
            (~churned).alias(ACTIVE_CONTRACT),
        )
        .with_columns(shifted(acq, pl.col(PERIODS_PAID) * period_months).alias("_next"))
        .with_columns(
            ((pl.col("_next") - as_of).dt.total_days() / DAYS_PER_YEAR).alias(NEXT_RENEWAL_YEARS)
        )
        .join(revenue, on=L.cid, how="left")
        .with_columns(
            (pl.col("_revenue").fill_null(0.0) / pl.col(PERIODS_PAID)).alias(REVENUE_PER_PERIOD)
        )
        .select(
            L.cid,
            C.customer_id,
            PERIODS_PAID,
            ACTIVE_CONTRACT,
            REVENUE_PER_PERIOD,
            NEXT_RENEWAL_YEARS,
        )
        .sort(L.cid)
        .collect()
    )


def fit_contract_sbg(histories: pl.DataFrame, period_months: int = 1) -> SBGModel:
    """Fit the sBG model to :func:`contract_inputs`: cancelled customers are lost in their
    last paid period, active ones survived ``periods_paid - 1`` renewals (censored).

    ``histories`` may also be grouped (:func:`grouped_inputs` on :data:`CONTRACT_KEYS`):
    a :data:`CUSTOMERS` column then gives the customers each row stands for, and the fit
    equals the one on the ungrouped rows (the likelihood only counts customers per period).
    """
    n = int(histories[PERIODS_PAID].max() or 1)
    lost = np.zeros(n)
    censored = np.zeros(n)
    paid = histories[PERIODS_PAID].to_numpy()
    active = histories[ACTIVE_CONTRACT].to_numpy()
    weight = (
        histories[CUSTOMERS].to_numpy().astype(np.float64)
        if CUSTOMERS in histories.columns
        else np.ones(paid.size)
    )
    np.add.at(lost, paid[~active] - 1, weight[~active])
    survived = paid[active] - 1
    np.add.at(censored, survived[survived > 0] - 1, weight[active][survived > 0])
    return fit_sbg_censored(lost, censored, period=period_name(period_months))


def grouped_inputs(
    inputs: pl.DataFrame | pl.LazyFrame, keys: tuple[str, ...] = BGNBD_KEYS
) -> pl.DataFrame:
    """The distinct ``keys`` rows of per-customer model inputs with the number of customers
    each stands for (:data:`CUSTOMERS`), sorted by ``keys``.

    The BG/NBD likelihood depends on a customer only through ``(frequency, recency, T)``
    (Fader, Hardie & Lee 2005, eq. 6), Gamma-Gamma's through ``(frequency,
    monetary_value)`` and sBG's through ``(periods_paid, active)``, so :func:`fit_grouped`
    on these rows equals the fit on every customer. For :data:`SPEND_KEYS` only the repeat
    buyers with a positive mean spend are kept (those Gamma-Gamma is fitted on).
    """
    lf = inputs.lazy()
    if keys == SPEND_KEYS:
        lf = lf.filter((pl.col(FREQUENCY) > 0) & (pl.col(MONETARY_VALUE) > 0))
    return (
        lf.group_by(list(keys))
        .agg(pl.len().cast(pl.Int64).alias(CUSTOMERS))
        .sort(list(keys))
        .collect()
    )


def fit_grouped(
    bgnbd_rows: pl.DataFrame, spend_rows: pl.DataFrame, *, time_unit: str = "W"
) -> tuple[BGNBDModel, GammaGammaModel]:
    """BG/NBD and Gamma-Gamma fitted on grouped inputs (:func:`grouped_inputs`, e.g. the
    distinct rows a Spark build writes): weighted distinct rows, equal to the fit on the
    customers they stand for.

    Raises
    ------
    ModelFitError
        As :func:`~crm_core.clv.bgnbd.fit_bgnbd` and
        :func:`~crm_core.clv.gamma_gamma.fit_gamma_gamma`.
    """
    if bgnbd_rows.is_empty():
        raise ModelFitError("CLV: no customer has a purchase before the as-of date")
    bg = fit_bgnbd(
        bgnbd_rows[FREQUENCY].to_numpy().astype(np.float64),
        bgnbd_rows[RECENCY].to_numpy(),
        bgnbd_rows[T_AGE].to_numpy(),
        weights=bgnbd_rows[CUSTOMERS].to_numpy(),
        time_unit=time_unit,
    )
    gg = fit_gamma_gamma(
        spend_rows[FREQUENCY].to_numpy().astype(np.float64),
        spend_rows[MONETARY_VALUE].to_numpy(),
        weights=spend_rows[CUSTOMERS].to_numpy(),
    )
    return bg, gg


def fit_models(
    ledger: Ledger, period: int = 0, *, time_unit: str = "W", period_months: int = 1
) -> FittedModels:
    """Fit the CLV models of ``ledger`` at the end of ``period`` (module docstring).

    Parameters
    ----------
    ledger
        The customer ledger.
    period
        Ledger period whose end the fit describes (0: the as-of date; 1: the previous
        quarter end, for quarter-on-quarter deltas).
    time_unit
        BG/NBD time unit, ``"W"`` (weeks) or ``"D"`` (days).
    period_months
        Length of one sBG period in calendar months (contractual ledgers).

    Raises
    ------
    ModelFitError
        If a model cannot be fitted (no repeat purchases, nobody churned yet, ...).
    SnapshotError
        If the contribution margin is not positive (costs exceed revenue).
    """
    if int(period_months) != period_months or period_months < 1:
        raise ValueError(f"period_months must be a whole number >= 1, got {period_months!r}")
    man = ledger.snapshot.manifest
    margin = contribution_margin(ledger, period)
    common = {
        "as_of": ledger.period_end(period),
        "period": period,
        "business_model": man.business_model,
        "currency": man.currency,
        "discount_rate": man.discount_rate,
        "margin": margin,
        "ledger_as_of": ledger.as_of,
    }
    if ledger.contractual:
        histories = contract_inputs(ledger, period, int(period_months))
        if histories.is_empty():
            raise ModelFitError("CLV: the snapshot has no customers")
        model = fit_contract_sbg(histories, int(period_months))
        return FittedModels(**common, inputs=histories, sbg=model, period_months=int(period_months))
    inputs = bgnbd_inputs(ledger, period, time_unit)
    if inputs.is_empty():
        raise ModelFitError("CLV: no customer has a purchase before the as-of date")
    x = inputs[FREQUENCY].to_numpy().astype(np.float64)
    mv = inputs[MONETARY_VALUE].to_numpy()
    bg = fit_bgnbd(x, inputs[RECENCY].to_numpy(), inputs[T_AGE].to_numpy(), time_unit=time_unit)
    spenders = (x > 0) & (mv > 0)
    gg = fit_gamma_gamma(x[spenders], mv[spenders])
    return FittedModels(**common, inputs=inputs, bgnbd=bg, gamma_gamma=gg, time_unit=time_unit)
