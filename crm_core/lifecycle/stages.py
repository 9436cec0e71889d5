"""Lifecycle stages at every period end of the customer ledger, with any stage thresholds.

The customer ledger (:mod:`crm_core.data.ledger`) carries every customer's stage at every
period end under the product's default :class:`~crm_core.data.rules.StageRules`. The
Lifecycle page lets a manager try other thresholds; this module re-evaluates the stage
rules as polars expressions on the ledger's columns (no new pass over the transactions):

* *churned* - not active by the one activity rule (:class:`~crm_core.data.rules.ActivityRule`;
  the ledger's ``active`` column, never redefined here);
* *new* - acquired less than ``new_days`` ago (``tenure_days``);
* *declining* - overdue (``days_since_activity`` above ``decline_gap_multiple`` x
  ``usual_gap_days`` and above ``decline_after_days``), or spend in the recent trend window
  below ``1 - decline_drop`` x the previous window, or optionally BG/NBD P(alive) below
  ``decline_p_alive``;
* *growing* - recent window above ``1 + growth_rise`` x the previous, or acquired less than
  ``mature_days`` ago; *mature* - the rest.

The trend windows are ``trend_months`` (a whole number of ledger periods ``w``): the
revenue of the ``w`` periods up to the period end and of the ``w`` before, compared only
for customers acquired before both windows who normally buy in every window (usual gap
shorter than a window). With the default thresholds the result equals the ledger's
``stage`` column exactly (a test checks it), so the page and the registry's stage counts
agree.

P(alive) (non-contractual only) comes from the BG/NBD model fitted at the as-of date, the
shared fit, evaluated on each period end's purchase history (frequency = purchase days - 1,
recency and age from the first purchase day, in the model's time unit). At earlier period
ends this applies today's fitted parameters to the history as it stood then.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_core.clv.bgnbd import BGNBDModel
from crm_core.clv.summary import DAYS_PER_UNIT
from crm_core.data.ledger import (
    CHURNED,
    CUSTOMER_STAGES,
    DECLINING,
    GROWING,
    MATURE,
    NEW,
    L,
    Ledger,
)
from crm_core.data.ledger_schema import STAGE_DTYPE
from crm_core.data.periods import PERIOD_END
from crm_core.data.rules import DEFAULT_STAGES, StageRules
from crm_core.data.schema import C
from crm_core.lifecycle.values import P_ALIVE, REVENUE_TTM, revenue_ttm

__all__ = [
    "CHURNED",
    "CUSTOMER_STAGES",
    "DECLINING",
    "GROWING",
    "LOW_P_ALIVE",
    "MATURE",
    "NEW",
    "PROSPECT",
    "P_ALIVE",
    "SIGNALS",
    "STAGE",
    "STAGES",
    "StageRules",
    "assign_stages",
    "evaluate_stages",
    "stage_panel",
    "uses_ledger_stages",
]

PROSPECT = "prospect"
STAGES: tuple[str, ...] = (PROSPECT, *CUSTOMER_STAGES)
"""Every stage in lifecycle order: prospects are leads (not customers), then the five
customer stages of the ledger."""

STAGE = L.stage
LOW_P_ALIVE = "low_p_alive"
SIGNALS: tuple[str, ...] = (L.overdue, L.spend_drop, LOW_P_ALIVE)
"""The early-warning signals that make an active customer *declining*."""

_STAGE_COLUMNS = (
    L.cid,
    L.period,
    STAGE,
    L.overdue,
    L.spend_drop,
    L.spend_rising,
    LOW_P_ALIVE,
    L.recent_revenue,
    L.previous_revenue,
)


def uses_ledger_stages(ledger: Ledger, rules: StageRules) -> bool:
    """Whether ``rules`` are the ledger's own (its ``stage`` column applies as it is)."""
    return rules == ledger.stages and (rules.decline_p_alive is None or ledger.contractual)


def _same(n: int) -> pl.Expr:
    """The row ``n`` rows up is the same customer (the panel is sorted by customer)."""
    return (pl.col(L.cid).shift(n) == pl.col(L.cid)).fill_null(False)


def _group_shift(column: pl.Expr, n: int) -> pl.Expr:
    return pl.when(_same(n)).then(column.shift(n))


def _by_period(values: list[int], n: int, shift: int = 0) -> pl.Expr:
    """A per-period value (``values[k]``) at the row's period + ``shift`` (clamped)."""
    index = pl.min_horizontal(pl.col(L.period) + shift, pl.lit(n - 1, pl.Int32))
    return pl.lit(pl.Series(values, dtype=pl.Int32)).gather(index)


def _p_alive(panel: pl.DataFrame, ledger: Ledger, model: BGNBDModel) -> pl.Series:
    """BG/NBD P(alive) of the panel rows where it can matter: active customers with a
    repeat purchase day before the period end (without one, P(alive) is 1 by the model's
    assumption; inactive customers are churned whatever it says). Null elsewhere."""
    unit = DAYS_PER_UNIT[model.time_unit]
    origin = ledger.grid[PERIOD_END][-1]
    ends = pl.Series([(e - origin).days for e in ledger.grid[PERIOD_END]], dtype=pl.Float64)
    first = pl.lit(ledger.customers[L.first_purchase]).gather(pl.col(L.cid))
    day = pl.duration(days=1)
    first_day = (first - pl.lit(origin)) / day
    need = pl.col(L.active) & (pl.col(L.cum_purchase_days) >= 2)
    rows = (
        panel.lazy()
        .with_row_index("_i")
        .filter(need)
        .select(
            "_i",
            (pl.col(L.cum_purchase_days) - 1).cast(pl.Float64).alias("x"),
            ((pl.lit(ends).gather(pl.col(L.period)) - first_day) / unit).alias("t"),
            (((pl.col(L.last_purchase) - pl.lit(origin)) / day - first_day) / unit).alias("tx"),
        )
        .filter(pl.col("t") > 0)
        .collect()
    )
    values = np.full(panel.height, np.nan)
    if rows.height:
        x, tx, t = (rows[c].to_numpy() for c in ("x", "tx", "t"))
        values[rows["_i"].to_numpy()] = np.asarray(model.p_alive(x, tx, t))
    return pl.Series(P_ALIVE, values).fill_nan(None)


def _signals(ledger: Ledger, rules: StageRules) -> list[pl.Expr]:
    """Trend windows, overdue and spend signals under ``rules`` (see the module docstring)."""
    w = rules.trend_periods(ledger.period_months)
    n = ledger.periods
    origin = ledger.grid[PERIOD_END][-1]
    end_days = [(e - origin).days for e in ledger.grid[PERIOD_END]]
    revenue = pl.col(L.revenue)
    # the same order of additions as the ledger, so default thresholds give equal floats
    recent = sum((_group_shift(revenue, j).fill_null(0.0) for j in range(1, w)), revenue)
    gap = pl.col(L.usual_gap_days)
    window_days = _by_period(end_days, n) - _by_period(end_days, n, w)
    acquired_period = pl.lit(ledger.customers[L.acquired_period]).gather(pl.col(L.cid))
    windows_ok = (
        (pl.col(L.period) + 2 * w < n)
        & (acquired_period >= pl.col(L.period) + 2 * w)
        & gap.is_not_null()
        & (gap < window_days)
    )
    decline_after = pl.max_horizontal(
        pl.lit(float(rules.decline_after_days)), rules.decline_gap_multiple * gap
    )
    return [
        recent.alias(L.recent_revenue),
        windows_ok.alias("_windows_ok"),
        (pl.col(L.days_since_activity) > decline_after).alias(L.overdue),
    ]


def _stage(rules: StageRules) -> pl.Expr:
    tenure = pl.col(L.tenure_days)
    return (
        pl.when(~pl.col(L.acquired))
        .then(None)
        .when(~pl.col(L.active))
        .then(pl.lit(CHURNED))
        .when(tenure < rules.new_days)
        .then(pl.lit(NEW))
        .when(pl.col(L.overdue) | pl.col(L.spend_drop) | pl.col(LOW_P_ALIVE))
        .then(pl.lit(DECLINING))
        .when(pl.col(L.spend_rising) | (tenure < rules.mature_days))
        .then(pl.lit(GROWING))
        .otherwise(pl.lit(MATURE))
        .cast(STAGE_DTYPE)
    )


def stage_panel(
    ledger: Ledger, rules: StageRules = DEFAULT_STAGES, p_alive_model: BGNBDModel | None = None
) -> pl.DataFrame:
    """Every customer's stage at every period end of ``ledger`` under ``rules``.

    Parameters
    ----------
    ledger
        The customer ledger.
    rules
        Stage thresholds; ``trend_months`` must be a whole number of ledger periods.
    p_alive_model
        The shared BG/NBD fit, used when ``rules.decline_p_alive`` is set (non-contractual
        ledgers only; otherwise ignored).

    Returns
    -------
    pl.DataFrame
        The panel's rows (same order): ``cid, period, stage`` (null before acquisition),
        ``overdue, spend_drop, spend_rising, low_p_alive`` (signals) and
        ``recent_revenue, previous_revenue`` (currency, the two trend windows).

    Raises
    ------
    ValueError
        If ``trend_months`` is not a multiple of the ledger's period, or P(alive) is asked
        for without a model on a non-contractual ledger.
    """
    rules.trend_periods(ledger.period_months)
    if uses_ledger_stages(ledger, rules):
        return (
            ledger.panel.lazy()
            .with_columns(pl.lit(False).alias(LOW_P_ALIVE))
            .select(_STAGE_COLUMNS)
            .collect()
            .rechunk()  # the ledger's panel comes in many chunks: gathers and shifts are faster
        )
    return evaluate_stages(ledger, rules, p_alive_model)


def evaluate_stages(
    ledger: Ledger, rules: StageRules, p_alive_model: BGNBDModel | None = None
) -> pl.DataFrame:
    """:func:`stage_panel` by evaluating the rules on the ledger's columns (never reading
    its ``stage`` column): with the default thresholds it reproduces that column."""
    w = rules.trend_periods(ledger.period_months)
    wants_p_alive = rules.decline_p_alive is not None and not ledger.contractual
    if wants_p_alive and p_alive_model is None:
        raise ValueError("P(alive) is a decline signal of these rules, but no model was given")
    base = ledger.panel
    low = pl.lit(False)
    if wants_p_alive:
        base = base.with_columns(_p_alive(base, ledger, p_alive_model))
        low = (pl.col(P_ALIVE) < rules.decline_p_alive).fill_null(False)
    recent, previous = pl.col(L.recent_revenue), pl.col(L.previous_revenue)
    return (
        base.lazy()
        .with_columns(_signals(ledger, rules))
        .with_columns(_group_shift(recent, w).fill_null(0.0).alias(L.previous_revenue))
        .with_columns(
            (
                pl.col("_windows_ok")
                & (previous > 0)
                & (recent < (1 - rules.decline_drop) * previous)
            ).alias(L.spend_drop),
            (
                pl.col("_windows_ok")
                & (recent > 0)
                & (recent > (1 + rules.growth_rise) * pl.max_horizontal(previous, pl.lit(0.0)))
            ).alias(L.spend_rising),
            low.alias(LOW_P_ALIVE),
        )
        .with_columns(_stage(rules).alias(STAGE))
        .select(_STAGE_COLUMNS)
        .collect()
        .rechunk()
    )


FACTS: tuple[str, ...] = (L.tenure_days, L.days_since_activity, L.usual_gap_days, L.last_purchase)
"""Ledger columns :func:`assign_stages` adds by default."""


def assign_stages(
    ledger: Ledger,
    period: int = 0,
    rules: StageRules = DEFAULT_STAGES,
    p_alive_model: BGNBDModel | None = None,
    *,
    stages: pl.DataFrame | None = None,
    customer_columns: bool = True,
    facts: tuple[str, ...] = FACTS,
) -> pl.DataFrame:
    """The stage of every customer acquired by the end of ``period`` (0: the as-of date).

    ``stages`` is a :func:`stage_panel` already computed with the same rules (else it is
    computed). Returns one row per customer, in ``cid`` order: ``cid, customer_id,
    acquisition_channel``, the columns of :func:`stage_panel`, the ledger columns
    ``facts`` (default ``tenure_days, days_since_activity, usual_gap_days`` in days and
    ``last_purchase``) and ``revenue_ttm`` (net revenue of the twelve months to the period
    end). Without ``customer_columns`` the ``customer_id`` and ``acquisition_channel`` are
    left out (gather them later for the rows that need them, :meth:`Ledger.with_customers`).
    """
    if not 0 <= period < ledger.periods:
        raise ValueError(f"period must be in 0..{ledger.periods - 1}, got {period}")
    frame = stages if stages is not None else stage_panel(ledger, rules, p_alive_model)
    # one mask for both frames: the stage panel's rows are the ledger's
    keep = (frame[L.period] == period) & frame[STAGE].is_not_null()
    columns = [pl.col(c) for c in facts]
    twelve_months = 2 * ledger.stages.trend_months == 12  # the ledger's two windows
    if twelve_months:
        columns.append((pl.col(L.recent_revenue) + pl.col(L.previous_revenue)).alias(REVENUE_TTM))
    ledger_rows = ledger.panel.filter(keep).select(columns)
    rows = pl.concat([frame.filter(keep), ledger_rows], how="horizontal").lazy()
    if not twelve_months:
        rows = rows.join(revenue_ttm(ledger, period), on=L.cid, how="left", maintain_order="left")
        rows = rows.with_columns(pl.col(REVENUE_TTM).fill_null(0.0))
    if customer_columns:
        rows = ledger.with_customers(rows, C.customer_id, C.acquisition_channel)
    return rows.collect()
