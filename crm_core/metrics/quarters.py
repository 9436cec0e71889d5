"""Company totals per quarter: the one aggregation of the ledger every KPI reads.

:func:`company_quarters` sums the customer ledger (:mod:`crm_core.data.ledger`) over its
quarters (for contractual businesses, whose ledger is monthly, over three months at a
time), on the grid of quarter ends ``t_q = as_of - 3q months``:

* ``revenue, gross_profit, service_cost`` - money booked in the quarter (gross profit is
  revenue minus the direct cost of the sales); ``acquisition_spend`` - the acquisition cost
  of the customers won in it;
* ``active`` - customers active at the quarter end by the one activity rule
  (:mod:`crm_core.data.rules`);
* ``won`` - customers acquired in the quarter; ``reactivated`` - active at its end, not at
  the previous end, and not won; ``lost`` - active at the previous end or won, and not
  active at its end. So ``active(q) = active(q+1) + won + reactivated - lost`` exactly;
* ``active_year_ago`` and ``retained`` - customers active at ``t_{q+4}``, and those of them
  active at ``t_q``: annual retention is ``retained / active_year_ago``;
* ``stage_new`` ... ``stage_churned`` - customers in each lifecycle stage at the quarter end
  (the ledger's stage column, default thresholds).

Because the ledger is causal, the row of quarter ``q`` equals quarter 0 of the ledger of
the snapshot cut at ``t_q``.
"""

from __future__ import annotations

import polars as pl

from crm_core.data.ledger import CUSTOMER_STAGES, L, Ledger
from crm_core.data.periods import LABEL, PERIOD, PERIOD_END, PERIOD_START, period_grid
from crm_core.data.schema import C

__all__ = [
    "ACQUISITION_SPEND",
    "ACTIVE",
    "ACTIVE_YEAR_AGO",
    "GROSS_PROFIT",
    "LOST",
    "QUARTER",
    "REACTIVATED",
    "RETAINED",
    "REVENUE",
    "SERVICE_COST",
    "WON",
    "company_quarters",
    "quarter_periods",
    "stage_column",
]

QUARTER = "quarter"
REVENUE = "revenue"
GROSS_PROFIT = "gross_profit"
SERVICE_COST = "service_cost"
ACQUISITION_SPEND = "acquisition_spend"
ACTIVE = "active"
WON = "won"
REACTIVATED = "reactivated"
LOST = "lost"
ACTIVE_YEAR_AGO = "active_year_ago"
RETAINED = "retained_from_year_ago"

_COUNTS = (ACTIVE, WON, REACTIVATED, LOST, ACTIVE_YEAR_AGO, RETAINED)
_MONEY = (REVENUE, GROSS_PROFIT, SERVICE_COST, ACQUISITION_SPEND)


def stage_column(stage: str) -> str:
    """Column of the customers in lifecycle ``stage`` at the quarter end."""
    return f"stage_{stage}"


_STAGES = tuple(stage_column(s) for s in CUSTOMER_STAGES)


def quarter_periods(ledger: Ledger) -> int:
    """Ledger periods in a quarter (1, or 3 for a monthly ledger)."""
    return 3 // ledger.period_months


def _shift(column: str, n: int) -> pl.Expr:
    """``column`` ``n`` periods earlier for the same customer (False before their rows)."""
    same = (pl.col(L.cid).shift(n) == pl.col(L.cid)).fill_null(False)
    return pl.when(same).then(pl.col(column).shift(n)).otherwise(False)


def company_quarters(ledger: Ledger) -> pl.DataFrame:
    """One row per whole quarter of the ledger, latest first (module docstring).

    Columns: ``quarter`` (0 = the quarter ending on the as-of date), ``period_start,
    period_end, label``, ``revenue, gross_profit, service_cost, acquisition_spend``
    (currency), ``active, won, reactivated, lost, active_year_ago,
    retained_from_year_ago`` (customers).
    """
    step = quarter_periods(ledger)
    year = ledger.periods_per_year
    quarters = ledger.periods // step
    q = (pl.col(L.period) // step).cast(pl.Int32).alias(QUARTER)
    won_in_quarter = pl.col(L.won)
    for j in range(1, step):
        won_in_quarter = won_in_quarter | _shift(L.won, j)
    now = pl.col(L.active)
    before = _shift(L.active, step)
    year_ago = _shift(L.active, year)
    ends = (
        ledger.lazy()
        .with_columns(
            won_in_quarter.alias("_won_q"), before.alias("_before"), year_ago.alias("_year_ago")
        )
        .filter((pl.col(L.period) % step == 0) & (pl.col(L.period) < quarters * step))
        .group_by(q)
        .agg(
            now.sum().alias(ACTIVE),
            pl.col("_won_q").sum().alias(WON),
            (now & ~pl.col("_before") & ~pl.col("_won_q")).sum().alias(REACTIVATED),
            ((pl.col("_before") | pl.col("_won_q")) & ~now).sum().alias(LOST),
            pl.col("_year_ago").sum().alias(ACTIVE_YEAR_AGO),
            (pl.col("_year_ago") & now).sum().alias(RETAINED),
            *((pl.col(L.stage) == s).sum().alias(stage_column(s)) for s in CUSTOMER_STAGES),
        )
    )
    money = (
        ledger.lazy()
        .filter(pl.col(L.period) < quarters * step)
        .group_by(q)
        .agg(
            pl.col(L.revenue).sum().alias(REVENUE),
            (pl.col(L.revenue) - pl.col(L.direct_cost)).sum().alias(GROSS_PROFIT),
            pl.col(L.service_cost).sum().alias(SERVICE_COST),
        )
    )
    acquisition = (
        ledger.customers.lazy()
        .group_by((pl.col(L.acquired_period) // step).cast(pl.Int32).alias(QUARTER))
        .agg(pl.col(C.acquisition_cost).sum().alias(ACQUISITION_SPEND))
    )
    dates = period_grid(ledger.as_of, quarters, 3).lazy().rename({PERIOD: QUARTER})
    return (
        dates.join(ends, on=QUARTER, how="left")
        .join(money, on=QUARTER, how="left")
        .join(acquisition, on=QUARTER, how="left")
        .with_columns(
            pl.col(*_COUNTS, *_STAGES).fill_null(0).cast(pl.Int64),
            pl.col(_MONEY).fill_null(0.0),
        )
        .sort(QUARTER)
        .select(QUARTER, PERIOD_START, PERIOD_END, LABEL, *_MONEY, *_COUNTS, *_STAGES)
        .collect()
    )
