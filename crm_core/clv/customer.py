"""Per-customer CLV of a snapshot in one call, the valued customers as a table, and the
fitted parameters in words.

:func:`customer_clv` is the convenience entry point of the CLI: it builds the customer
ledger, fits the model set once (:func:`crm_core.clv.fitted.fit_models`) and values every
customer (:func:`crm_core.clv.valuation.value`). Pages never call it: they read the cached
ledger and model set of the app layer, so nothing is fitted twice.
:func:`customer_table` lays a valuation out for people (the most valuable customers, or all
of them for a download); :func:`parameter_table` lists the fitted parameters.
"""

from __future__ import annotations

import polars as pl

from crm_core.clv.fitted import NEXT_RENEWAL_YEARS, PERIODS_PAID, REVENUE_PER_PERIOD, fit_models
from crm_core.clv.summary import DAYS_PER_YEAR, FREQUENCY, RECENCY, T_AGE
from crm_core.clv.valuation import (
    CLV,
    DEFAULT_HORIZON_YEARS,
    EXPECTED_PURCHASES,
    EXPECTED_SPEND,
    P_ALIVE,
    ClvResult,
    value,
)
from crm_core.data.ledger import Ledger, build_ledger
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot

__all__ = [
    "DAYS_TO_RENEWAL",
    "PARAMETER_COLUMNS",
    "TIME_SINCE_LAST",
    "customer_clv",
    "customer_columns",
    "customer_table",
    "parameter_table",
]

TIME_SINCE_LAST = "time_since_last"
DAYS_TO_RENEWAL = "days_to_next_renewal"


def customer_clv(
    snapshot: Snapshot,
    *,
    horizon_years: float = DEFAULT_HORIZON_YEARS,
    discount_rate: float | None = None,
    margin: float | None = None,
    time_unit: str = "W",
    steps_per_year: int = 12,
    period_months: int = 1,
) -> ClvResult:
    """CLV of every current customer of ``snapshot`` over ``horizon_years``.

    Parameters
    ----------
    snapshot
        The company's data; ``manifest.business_model`` picks the model.
    horizon_years
        Years ahead from as-of that count (years of 365.25 days).
    discount_rate
        Yearly discount rate; default the manifest's.
    margin
        Share of revenue kept as margin (fraction in (0, 1]); default the snapshot's
        contribution margin after direct and service costs.
    time_unit
        BG/NBD time unit, ``"W"`` or ``"D"`` (results agree up to optimiser tolerance).
    steps_per_year
        Discounting steps a year for the BG/NBD path.
    period_months
        Length of one sBG period in calendar months for the contractual path.

    Raises
    ------
    ModelFitError
        If a model cannot be fitted (e.g. no repeat purchases, no churn yet).
    SnapshotError
        If the snapshot's contribution margin is not positive (costs exceed revenue).
    """
    models = fit_models(build_ledger(snapshot), time_unit=time_unit, period_months=period_months)
    return value(
        models,
        horizon_years=horizon_years,
        discount_rate=discount_rate,
        margin=margin,
        steps_per_year=steps_per_year,
    )


# ------------------------------------------------------------------ customers


def customer_columns(result: ClvResult) -> tuple[str, ...]:
    """Columns of :func:`customer_table` for ``result``'s model, in order."""
    if result.sbg is not None:
        model = (PERIODS_PAID, REVENUE_PER_PERIOD, EXPECTED_PURCHASES, DAYS_TO_RENEWAL)
    else:
        model = (P_ALIVE, EXPECTED_PURCHASES, EXPECTED_SPEND, FREQUENCY, TIME_SINCE_LAST)
    return (C.customer_id, CLV, *model, C.acquisition_channel, C.region)


def customer_table(result: ClvResult, ledger: Ledger, *, limit: int | None = None) -> pl.DataFrame:
    """The valued customers, most valuable first, ready to show or download.

    Parameters
    ----------
    result
        A valuation of ``ledger``'s model set.
    ledger
        The customer ledger (for each customer's acquisition channel and region).
    limit
        Only the ``limit`` most valuable customers (default: all).

    Returns
    -------
    pl.DataFrame
        :func:`customer_columns`: ``customer_id``, ``clv`` (currency, to the cent), then
        ``p_alive`` (fraction), ``expected_purchases`` (over the horizon, 2 decimals),
        ``expected_spend`` (currency per purchase, to the cent), ``frequency`` (repeat
        purchases so far) and ``time_since_last`` (whole model time units, weeks or days,
        since the last purchase) for BG/NBD; or ``periods_paid``,
        ``revenue_per_period`` (to the cent), ``expected_purchases`` (renewals) and
        ``days_to_next_renewal`` for sBG; then ``acquisition_channel`` and ``region``.
    """
    table = result.table if limit is None else result.table.head(limit)
    derived = (
        (pl.col(NEXT_RENEWAL_YEARS) * DAYS_PER_YEAR).round(0).cast(pl.Int64).alias(DAYS_TO_RENEWAL)
        if result.sbg is not None
        else (pl.col(T_AGE) - pl.col(RECENCY)).round(0).cast(pl.Int64).alias(TIME_SINCE_LAST)
    )
    cents = [c for c in (CLV, EXPECTED_SPEND, REVENUE_PER_PERIOD) if c in table.columns]
    frame = table.lazy().with_columns(
        derived,
        pl.col(cents).round(2),
        pl.col(EXPECTED_PURCHASES).round(2),
        pl.col(P_ALIVE).round(4),
    )
    frame = ledger.with_customers(frame, C.acquisition_channel, C.region)
    return frame.select(customer_columns(result)).collect()


# ------------------------------------------------------------------ parameters

PARAMETER_COLUMNS = ("model", "parameter", "meaning", "estimate", "standard_error")
"""Columns of :func:`parameter_table`."""


def parameter_table(result: ClvResult) -> pl.DataFrame:
    """The fitted parameters of ``result``'s models with their standard errors, in words.

    Returns
    -------
    pl.DataFrame
        ``model, parameter, meaning, estimate, standard_error`` (asymptotic standard errors
        from the inverse Hessian; NaN where the fit could not estimate one). Rates are in
        the model's time unit (BG/NBD) or per period (sBG); Gamma-Gamma's ``gamma`` is in
        the snapshot's currency.
    """
    rows: list[tuple[str, str, str, float, float]] = []
    if result.bgnbd is not None:
        bg = result.bgnbd
        unit = {"W": "week", "D": "day"}.get(bg.time_unit, bg.time_unit)
        rows += [
            (
                "BG/NBD",
                "r",
                "Purchase rate, shape: how much customers differ in how often they buy",
                bg.r,
                bg.r_se,
            ),
            (
                "BG/NBD",
                "alpha",
                f"Purchase rate, scale in {unit}s (mean rate r / alpha = "
                f"{bg.r / bg.alpha:.2f} purchases a {unit})",
                bg.alpha,
                bg.alpha_se,
            ),
            ("BG/NBD", "a", "Drop-out after a purchase, first Beta shape", bg.a, bg.a_se),
            (
                "BG/NBD",
                "b",
                "Drop-out after a purchase, second Beta shape (mean chance "
                f"a / (a + b) = {bg.a / (bg.a + bg.b):.1%} per repeat purchase)",
                bg.b,
                bg.b_se,
            ),
        ]
    if result.gamma_gamma is not None:
        gg = result.gamma_gamma
        rows += [
            (
                "Gamma-Gamma",
                "p",
                "Spend per purchase, shape: how much one customer's purchases vary",
                gg.p,
                gg.p_se,
            ),
            ("Gamma-Gamma", "q", "Average spend across customers, shape", gg.q, gg.q_se),
            (
                "Gamma-Gamma",
                "gamma",
                f"Average spend across customers, scale ({result.currency})",
                gg.gamma,
                gg.gamma_se,
            ),
        ]
    if result.sbg is not None:
        sb = result.sbg
        mean = sb.alpha / (sb.alpha + sb.beta)
        rows += [
            (
                "sBG",
                "alpha",
                f"Cancellation chance per {sb.period}, first Beta shape",
                sb.alpha,
                sb.alpha_se,
            ),
            (
                "sBG",
                "beta",
                f"Cancellation chance per {sb.period}, second Beta shape (mean "
                f"alpha / (alpha + beta) = {mean:.1%} cancel after their first {sb.period})",
                sb.beta,
                sb.beta_se,
            ),
        ]
    return pl.DataFrame(
        rows,
        schema={
            "model": pl.String,
            "parameter": pl.String,
            "meaning": pl.String,
            "estimate": pl.Float64,
            "standard_error": pl.Float64,
        },
        orient="row",
    )
