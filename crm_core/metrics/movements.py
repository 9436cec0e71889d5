"""Revenue movements: where the change in revenue came from, customer by customer.

Each customer's change in revenue between a ledger period ``k`` and a comparison period
``k + lag`` is assigned in full to one movement, so the movements add up exactly to the
change in the company's revenue (floating-point rounding aside):

* **quarterly ledgers** (non-contractual, retail) compare each quarter with **the same
  quarter a year earlier** (``lag = 4``), so seasonality does not look like growth; the
  amount tracked is the quarter's net revenue (refunds included);
* **monthly ledgers** (contractual, subscriptions) compare each month with **the previous
  month** (``lag = 1``); the amount tracked is **MRR**, the month's net revenue of the
  customers under contract at its end (the activity rule of a contractual business), so a
  customer whose contract ended in the month brings no MRR to it. The snapshot does not
  tell plan fees from add-on purchases: a subscriber's add-ons count as MRR.

With ``a`` the amount then, ``b`` the amount now and *a customer then* = acquired by the
end of the comparison period, the movement of a customer is the first that holds of:

==================  ===============================================  ==================
movement            who                                              amount
==================  ===============================================  ==================
``new``             not a customer then                              ``b - a`` (``= b``)
``churned``         ``a > 0`` and ``b <= 0``: revenue then, none now  ``b - a`` (``<= -a``)
``reactivation``    a customer then, ``a <= 0`` and ``b > 0``         ``b - a`` (``>= b``)
``expansion``       ``b > a``                                        ``b - a > 0``
``contraction``     ``b < a``                                        ``b - a < 0``
==================  ===============================================  ==================

(``a`` of a customer not yet acquired is zero unless they bought before their recorded
acquisition date.) Expansion and contraction also take the rare change in net refunds of
a customer with no sales in either period.

**Net and gross revenue retention** compare the same customers a year apart (``lag`` = a
year: 4 quarters, or 12 months for contractual ledgers), with the *retention base* ``B``
= the amount a year ago of the customers then:

    NRR = (B + expansion + contraction + churned) / B,   GRR = (B + contraction + churned) / B

(contraction and churned are negative amounts); new customers and reactivations are left
out. For quarterly ledgers these are the quarter's own movements; for monthly ledgers the
12-month comparison, not a sum of monthly movements.

**Churned revenue is not the activity rule's churn.** The rule
(:mod:`crm_core.data.rules`) calls a retail customer churned after a year or more without a
purchase; churned revenue counts everyone who bought in the same quarter a year earlier
and not in this one, most of whom are still active. Every customer the rule lost in the
year who bought in that quarter is part of it. For subscriptions churned MRR is, apart
from months billed at zero, the MRR of the customers whose contract ended in the month:
the rule's churned customers.
"""

from __future__ import annotations

import polars as pl

from crm_core.data.ledger import L, Ledger
from crm_core.data.periods import LABEL, PERIOD, PERIOD_END, PERIOD_START
from crm_core.metrics.quarters import QUARTER, quarter_periods

__all__ = [
    "AMOUNT_NOW",
    "AMOUNT_THEN",
    "CHURNED",
    "COMPARED_LABEL",
    "CONTRACTION",
    "COUNTS",
    "EXPANSION",
    "GRR_KEPT",
    "MOVEMENT",
    "MOVEMENTS",
    "MOVEMENT_COLUMNS",
    "MRR",
    "NEW",
    "NRR_BASE",
    "NRR_KEPT",
    "REACTIVATION",
    "RETENTION_BASE",
    "comparison_lag",
    "customer_movements",
    "gross_revenue_retention",
    "movement_amount",
    "movement_total",
    "net_revenue_retention",
    "period_movements",
    "quarter_movements",
    "quick_ratio",
    "recurring_revenue",
]

NEW, EXPANSION, CONTRACTION, CHURNED, REACTIVATION = (
    "new",
    "expansion",
    "contraction",
    "churned",
    "reactivation",
)
MOVEMENTS = (NEW, EXPANSION, REACTIVATION, CONTRACTION, CHURNED)
"""The movements: the three that add revenue, then the two that take it away."""
MOVEMENT_DTYPE = pl.Enum(MOVEMENTS)

MOVEMENT = "revenue_movement"
AMOUNT_NOW = "revenue_now"
AMOUNT_THEN = "revenue_then"
RETENTION_BASE = "retention_base"
COMPARED_LABEL = "compared_label"
MOVEMENT_COLUMNS = {m: f"{m}_revenue" for m in MOVEMENTS}
"""Column of each movement's amount (signed: contraction and churned are negative)."""
COUNTS = {m: f"{m}_customers" for m in MOVEMENTS}
"""Column of the number of customers in each movement."""
# quarterly frame: the year-apart comparison behind NRR / GRR, and MRR
NRR_BASE = "nrr_base"
NRR_KEPT = "nrr_kept"
GRR_KEPT = "grr_kept"
MRR = "mrr"

_KNOWN = "_customer_then"


def comparison_lag(ledger: Ledger) -> int:
    """Periods between a period and the one it is compared with: 4 (the same quarter a
    year earlier) for quarterly ledgers, 1 (the previous month) for monthly ones."""
    return 1 if ledger.contractual else ledger.periods_per_year


def movement_amount(ledger: Ledger) -> pl.Expr:
    """The amount movements track, per panel row: net revenue, or for contractual ledgers
    MRR (net revenue of the month while under contract at its end, else 0)."""
    if ledger.contractual:
        return pl.when(pl.col(L.active)).then(pl.col(L.revenue)).otherwise(0.0)
    return pl.col(L.revenue)


def _check_lag(lag: int) -> None:
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 1:
        raise ValueError(f"lag must be a whole number of periods >= 1, got {lag!r}")


def _compared(ledger: Ledger, lag: int) -> pl.LazyFrame:
    """Every panel row whose period has a comparison period in the grid: ``cid, period``,
    the amount now and ``lag`` periods earlier, whether a customer then, the movement.

    Each customer's rows are consecutive periods, oldest first, so the row ``lag`` rows up
    is period ``k + lag`` of the same customer when its ``cid`` is the same; otherwise the
    customer had no row then (not yet acquired, no activity: amount 0)."""
    same = (pl.col(L.cid).shift(lag) == pl.col(L.cid)).fill_null(False)
    amount = movement_amount(ledger)
    now, then, known = pl.col(AMOUNT_NOW), pl.col(AMOUNT_THEN), pl.col(_KNOWN)
    movement = (
        pl.when(~known)
        .then(pl.lit(NEW))
        .when((then > 0) & (now <= 0))
        .then(pl.lit(CHURNED))
        .when((then <= 0) & (now > 0))
        .then(pl.lit(REACTIVATION))
        .when(now > then)
        .then(pl.lit(EXPANSION))
        .when(now < then)
        .then(pl.lit(CONTRACTION))
    )
    return (
        ledger.lazy()
        .select(
            L.cid,
            L.period,
            amount.alias(AMOUNT_NOW),
            pl.when(same).then(amount.shift(lag)).otherwise(0.0).alias(AMOUNT_THEN),
            pl.when(same).then(pl.col(L.acquired).shift(lag)).otherwise(False).alias(_KNOWN),
        )
        .filter(pl.col(L.period) + lag < ledger.periods)
        .with_columns(movement.cast(MOVEMENT_DTYPE).alias(MOVEMENT))
    )


def _sums(frame: pl.LazyFrame, by: str) -> pl.LazyFrame:
    change = pl.col(AMOUNT_NOW) - pl.col(AMOUNT_THEN)
    return frame.group_by(by).agg(
        pl.col(AMOUNT_NOW).sum(),
        pl.col(AMOUNT_THEN).sum(),
        pl.col(AMOUNT_THEN).filter(pl.col(_KNOWN)).sum().alias(RETENTION_BASE),
        *(change.filter(pl.col(MOVEMENT) == m).sum().alias(c) for m, c in MOVEMENT_COLUMNS.items()),
        *((pl.col(MOVEMENT) == m).sum().cast(pl.Int64).alias(c) for m, c in COUNTS.items()),
    )


def period_movements(ledger: Ledger, lag: int | None = None) -> pl.DataFrame:
    """The revenue movements of every ledger period against the one ``lag`` periods
    earlier (default :func:`comparison_lag`), latest first (module docstring).

    Returns
    -------
    pl.DataFrame
        One row per period ``k`` with ``k + lag`` in the grid: ``period, period_start,
        period_end, label, compared_label`` (the comparison period), ``revenue_now,
        revenue_then`` (the company's amount in each; MRR for contractual ledgers),
        ``retention_base`` (the amount then of the customers then), the signed amount of
        each movement (``new_revenue, expansion_revenue, reactivation_revenue,
        contraction_revenue, churned_revenue``) and the customers in each
        (``new_customers`` ...). The five amounts add up to ``revenue_now - revenue_then``.
    """
    lag = comparison_lag(ledger) if lag is None else lag
    _check_lag(lag)
    grid = ledger.grid.lazy()
    dates = grid.filter(pl.col(PERIOD) + lag < ledger.periods).join(
        grid.select((pl.col(PERIOD) - lag).alias(PERIOD), pl.col(LABEL).alias(COMPARED_LABEL)),
        on=PERIOD,
        how="left",
    )
    money = [AMOUNT_NOW, AMOUNT_THEN, RETENTION_BASE, *MOVEMENT_COLUMNS.values()]
    return (
        dates.join(_sums(_compared(ledger, lag), PERIOD), on=PERIOD, how="left")
        .with_columns(pl.col(money).fill_null(0.0), pl.col(list(COUNTS.values())).fill_null(0))
        .select(PERIOD, PERIOD_START, PERIOD_END, LABEL, COMPARED_LABEL, *money, *COUNTS.values())
        .sort(PERIOD)
        .collect()
    )


def quarter_movements(ledger: Ledger) -> pl.DataFrame:
    """Per quarter ``q`` of :func:`crm_core.metrics.quarters.company_quarters`: the
    quarter's movements and the year-apart comparison behind NRR and GRR.

    Quarterly ledgers: the movements of quarter ``q`` against the same quarter a year
    earlier. Monthly ledgers: the month-on-month MRR movements of the quarter's three
    months summed, ``revenue_then`` the MRR of the month before the quarter and
    ``revenue_now`` that of its last month (customer counts are left out: a customer can
    move in several months).

    Returns
    -------
    pl.DataFrame
        ``quarter``, the five movement amounts, ``revenue_now, revenue_then`` (quarters with
        a comparison period only), ``nrr_base, nrr_kept, grr_kept`` (the retention base a
        year earlier, and ``B + expansion + contraction + churned`` and ``B + contraction +
        churned`` of the 12-month comparison; null without a year of history) and ``mrr``
        (the MRR of the quarter's last month; null for quarterly ledgers).
    """
    step = quarter_periods(ledger)
    amounts = list(MOVEMENT_COLUMNS.values())
    quarter = (pl.col(PERIOD) // step).cast(pl.Int32).alias(QUARTER)
    moves = period_movements(ledger).lazy()
    if step == 1:
        moved = moves.select(quarter, *amounts, AMOUNT_NOW, AMOUNT_THEN)
    else:
        ends = moves.filter(pl.col(PERIOD) % step == 0).select(quarter, AMOUNT_NOW)
        starts = moves.filter(pl.col(PERIOD) % step == step - 1).select(quarter, AMOUNT_THEN)
        moved = (
            moves.group_by(quarter)
            .agg(pl.col(amounts).sum(), pl.len().alias("_months"))
            .filter(pl.col("_months") == step)  # whole quarters only
            .drop("_months")
            .join(ends, on=QUARTER, how="inner")
            .join(starts, on=QUARTER, how="inner")
        )
    year = period_movements(ledger, ledger.periods_per_year).lazy()
    keep = pl.col(RETENTION_BASE) + pl.col(MOVEMENT_COLUMNS[CONTRACTION])
    keep = keep + pl.col(MOVEMENT_COLUMNS[CHURNED])
    retention = year.filter(pl.col(PERIOD) % step == 0).select(
        quarter,
        pl.col(RETENTION_BASE).alias(NRR_BASE),
        (keep + pl.col(MOVEMENT_COLUMNS[EXPANSION])).alias(NRR_KEPT),
        keep.alias(GRR_KEPT),
    )
    quarters = ledger.periods // step
    mrr = (
        ledger.lazy()
        .filter((pl.col(L.period) % step == 0) & (pl.col(L.period) < quarters * step))
        .group_by(quarter)
        .agg(movement_amount(ledger).sum().alias(MRR))
    )
    frame = (
        pl.LazyFrame({QUARTER: pl.int_range(0, quarters, dtype=pl.Int32, eager=True)})
        .join(moved, on=QUARTER, how="left")
        .join(retention, on=QUARTER, how="left")
    )
    if step == 1:
        frame = frame.with_columns(pl.lit(None, pl.Float64).alias(MRR))
    else:
        frame = frame.join(mrr, on=QUARTER, how="left")
    return frame.sort(QUARTER).collect()


def customer_movements(
    ledger: Ledger, periods: range | tuple[int, ...], lag: int | None = None
) -> pl.LazyFrame:
    """Per customer, the movements summed over ledger ``periods`` (each against the period
    ``lag`` earlier): the drill-down behind :func:`period_movements`.

    Returns
    -------
    pl.LazyFrame
        One row per customer with a non-zero change: ``cid``, ``revenue_then`` (the amount
        in the comparison period of the earliest period), ``revenue_now`` (in the latest
        period), the five signed movement amounts (summing to the change over the periods)
        and ``revenue_movement``, the movement of the largest amount.
    """
    lag = comparison_lag(ledger) if lag is None else lag
    _check_lag(lag)
    wanted = sorted(set(periods))
    if not wanted:
        raise ValueError("periods must name at least one ledger period")
    latest, earliest = wanted[0], wanted[-1]
    change = pl.col(AMOUNT_NOW) - pl.col(AMOUNT_THEN)
    amounts = list(MOVEMENT_COLUMNS.values())
    rows = _compared(ledger, lag).filter(pl.col(PERIOD).is_in(wanted))
    per = rows.group_by(L.cid).agg(
        pl.col(AMOUNT_THEN).filter(pl.col(PERIOD) == earliest).sum(),
        pl.col(AMOUNT_NOW).filter(pl.col(PERIOD) == latest).sum(),
        *(change.filter(pl.col(MOVEMENT) == m).sum().alias(c) for m, c in MOVEMENT_COLUMNS.items()),
    )
    largest = pl.concat_list(pl.col(amounts).abs()).list.arg_max()
    return (
        per.filter(pl.any_horizontal(pl.col(amounts) != 0))
        .with_columns(
            pl.lit(pl.Series(MOVEMENTS, dtype=MOVEMENT_DTYPE)).gather(largest).alias(MOVEMENT)
        )
        .sort(L.cid)
    )


# ------------------------------------------------------------------ measures at a quarter
# read by the metric registry (crm_core.metrics.registry) off quarter_movements(ledger)


def _value(frame: pl.DataFrame, column: str, q: int) -> float | None:
    rows = frame.filter(pl.col(QUARTER) == q)
    value = rows[column][0] if rows.height else None
    return None if value is None else float(value)


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or bottom is None or bottom == 0 else top / bottom


def net_revenue_retention(frame: pl.DataFrame, q: int) -> float | None:
    """``(B + expansion + contraction + churned) / B`` a year apart, at quarter ``q``."""
    return _ratio(_value(frame, NRR_KEPT, q), _value(frame, NRR_BASE, q))


def gross_revenue_retention(frame: pl.DataFrame, q: int) -> float | None:
    """``(B + contraction + churned) / B`` a year apart, at quarter ``q``."""
    return _ratio(_value(frame, GRR_KEPT, q), _value(frame, NRR_BASE, q))


def movement_total(
    frame: pl.DataFrame, q: int, movement: str, *, lost: bool = False
) -> float | None:
    """The quarter's amount of ``movement``; with ``lost``, an amount lost as a positive
    number."""
    value = _value(frame, MOVEMENT_COLUMNS[movement], q)
    return None if value is None else (-value if lost else value)


def quick_ratio(frame: pl.DataFrame, q: int) -> float | None:
    """``(new + expansion + reactivation) / (contraction + churned)`` of quarter ``q``
    (lost amounts as positive numbers)."""
    gained = [movement_total(frame, q, m) for m in (NEW, EXPANSION, REACTIVATION)]
    lost = [movement_total(frame, q, m, lost=True) for m in (CONTRACTION, CHURNED)]
    if any(v is None for v in (*gained, *lost)):
        return None
    return _ratio(sum(gained), sum(lost))  # type: ignore[arg-type]


def recurring_revenue(frame: pl.DataFrame, q: int, *, months: int = 1) -> float | None:
    """MRR at quarter ``q`` times ``months`` (12: ARR); ``None`` for quarterly ledgers."""
    value = _value(frame, MRR, q)
    return None if value is None else months * value
