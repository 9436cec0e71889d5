"""Customer lifecycle: which stage every customer is in, how long they stay, where they go.

The domain brief (section 5) describes the relationship as exploration, formation,
stability and decline, or in six stages potential, acquisition, growth, maturity, decline
and termination, with one management aim: shorten exploration, speed up formation,
lengthen stability, avoid decline. This module puts every prospect and customer of a
snapshot into one of six stages as of any date:

============  ==============  ================================================================
stage         brief's stage   rule (thresholds are the fields of :class:`StageRules`)
============  ==============  ================================================================
prospect      potential       a lead (``prospects.parquet``) first contacted on or before the
                              date, within the last ``prospect_days``, not converted by then
new           exploration     first purchase (no purchase yet: acquisition) less than
                              ``new_days`` ago
growing       formation       spend rising (recent trend window above the previous one by
                              more than ``growth_rise``), or younger than ``mature_days``
mature        stability       ``mature_days`` or more since the first purchase, steady spend
declining     decline         overdue (no purchase for longer than ``decline_gap_multiple`` x
                              the customer's own mean gap between purchase days, and at least
                              ``decline_after_days``), or spend in the recent window below
                              ``1 - decline_drop`` x the previous one, or optionally P(alive)
                              below ``decline_p_alive`` (BG/NBD, non-contractual only)
churned       termination     contractual: ``churned_on`` on or before the date;
                              non-contractual: no purchase for longer than ``churn_gap_multiple``
                              x the customer's own mean gap, at least ``churn_after_days`` and
                              at most ``churn_max_days``
============  ==============  ================================================================

The rules are tried in the order churned, new, declining, growing, mature and the first
that holds gives the stage, so stages are mutually exclusive and every customer has one
(prospects are leads, never customers). Definitions shared by the rules:

* a **purchase day** is a day whose net amount (purchases minus refunds booked that day)
  is >= 0, as in :func:`crm_core.summary.purchase_days`; refunds are not purchases, so a
  customer with only refunds, or with no transaction at all, has no purchase day;
* the **start** of the relationship is the first purchase day, or the acquisition date for
  a customer who has not bought yet; **tenure** is measured from the start;
* the **last activity** is the last purchase day, or the acquisition date for a customer
  who has not bought yet; a customer without purchases is therefore new for ``new_days``
  after acquisition, then declining (acquired but not buying: an early warning), then
  churned after ``churn_after_days`` (non-contractual; contractual: until ``churned_on``);
* the **own rhythm** is the mean gap in days between purchase days, ``(last - first) /
  (purchase days - 1)``; it is unknown with fewer than two purchase days, and the day
  floors apply alone;
* the **trend windows** are the ``trend_months`` calendar months up to the date (recent)
  and the ``trend_months`` before them (previous); spend in a window is the net of all
  transactions in it (refunds included). The window comparison is used only for customers
  whose relationship started before both windows and who normally buy in every window
  (own rhythm shorter than a window), so a customer who buys twice a year is not called
  declining for an empty half-year.

Stages at earlier dates use only the data recorded up to that date (the same result as
:meth:`Snapshot.cut`), except P(alive): with ``decline_p_alive``, one BG/NBD model is
fitted on the snapshot's own as-of data and evaluated at every date on the customer's
purchases up to that date.

Leads: every lead is an open prospect from its first contact until its customer is
acquired (or it is older than ``prospect_days``). A customer with several converted leads
is linked to the earliest (ties: the lowest ``prospect_id``); in transitions the others
end as ``lead_dropped`` when the customer is acquired.

:func:`lifecycle_report` is the entry point of the page: stages now and at a comparison
date (default three months earlier), the share of customers and of revenue and CLV in each
stage, the time customers have spent in their stage (from a monthly stage history),
transitions between the two dates with the value that moved into decline and churn, and
the stage mix month by month.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from crm_core.clv.summary import DAYS_PER_UNIT
from crm_core.data.expressions import add_months
from crm_core.data.schema import C
from crm_core.data.snapshot import Snapshot
from crm_core.metrics.registry import Kpi

__all__ = [
    "AS_OF",
    "CHURNED",
    "CUSTOMER_STAGES",
    "DECLINING",
    "FLOW_LABELS",
    "FLOW_NODES",
    "FROM_STAGE",
    "GROWING",
    "LEAD_DROPPED",
    "MATURE",
    "MONTHS_IN_STAGE",
    "NEW",
    "NOT_YET",
    "PROSPECT",
    "REVENUE_TTM",
    "STAGE",
    "STAGES",
    "STAGE_LABELS",
    "TO_STAGE",
    "LifecycleReport",
    "MovedValue",
    "StageRules",
    "Transitions",
    "assign_stages",
    "leads_lazy",
    "lifecycle_report",
    "stage_history",
    "stage_transitions",
]

# ----------------------------------------------------------------------------- names

PROSPECT = "prospect"
NEW = "new"
GROWING = "growing"
MATURE = "mature"
DECLINING = "declining"
CHURNED = "churned"
STAGES: tuple[str, ...] = (PROSPECT, NEW, GROWING, MATURE, DECLINING, CHURNED)
"""Every stage, in lifecycle order."""
CUSTOMER_STAGES: tuple[str, ...] = STAGES[1:]
"""The stages a customer (not a lead) can be in; they partition the customer base."""
NOT_YET = "not_yet"
"""Transitions: where entities unknown at the earlier date come from."""
LEAD_DROPPED = "lead_dropped"
"""Transitions: where leads go that were open at the earlier date and are no longer
counted (older than ``prospect_days``) without having converted."""
FLOW_NODES: tuple[str, ...] = (NOT_YET, *STAGES, LEAD_DROPPED)

STAGE_LABELS: dict[str, str] = {
    PROSPECT: "Prospect",
    NEW: "New",
    GROWING: "Growing",
    MATURE: "Mature",
    DECLINING: "Declining",
    CHURNED: "Churned",
}
FLOW_LABELS: dict[str, str] = {
    NOT_YET: "Not yet known",
    **STAGE_LABELS,
    LEAD_DROPPED: "Lead dropped",
}

# Output columns of the stage tables.
AS_OF = "as_of"
STAGE = "stage"
CHANNEL = "channel"
FIRST_PURCHASE = "first_purchase"
LAST_PURCHASE = "last_purchase"
PURCHASE_DAYS = "purchase_days"
MEAN_GAP_DAYS = "mean_gap_days"
TENURE_DAYS = "tenure_days"
DAYS_SINCE_ACTIVITY = "days_since_activity"
RECENT_REVENUE = "recent_revenue"
PREVIOUS_REVENUE = "previous_revenue"
REVENUE_TTM = "revenue_ttm"
P_ALIVE = "p_alive"
DECLINE_AFTER_DAYS = "decline_after_days"
CHURN_AFTER_DAYS = "churn_after_days"
OVERDUE = "overdue"
SPEND_DROP = "spend_drop"
LOW_P_ALIVE = "low_p_alive"
SPEND_RISING = "spend_rising"
CLV = "clv"
MONTHS_IN_STAGE = "months_in_stage"
CENSORED = "in_stage_whole_history"
FROM_STAGE = "from_stage"
TO_STAGE = "to_stage"
CUSTOMERS = "customers"

_DAYS_PER_YEAR = 365.25


# ----------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class StageRules:
    """Thresholds of the lifecycle stages (see the module docstring for the rules).

    Attributes
    ----------
    new_days
        A customer is *new* for this many days after the first purchase (or, without a
        purchase, after acquisition). Default 90.
    mature_days
        Days since the first purchase from which a steady customer is *mature* rather
        than *growing* (still forming). Default 365.
    trend_months
        Length in calendar months of the two trend windows (recent and previous) whose
        spend is compared for *growing* and *declining*. Default 6.
    growth_rise
        *Growing*: spend in the recent window above ``(1 + growth_rise)`` x the previous
        window. Default 0.25 (25% more).
    decline_drop
        *Declining*: spend in the recent window below ``(1 - decline_drop)`` x the previous
        window. Default 0.5 (less than half).
    decline_gap_multiple, decline_after_days
        *Declining* (overdue): no purchase for more than ``decline_gap_multiple`` x the
        customer's own mean gap between purchase days, and more than ``decline_after_days``
        days. Defaults 2.0 and 90.
    churn_gap_multiple, churn_after_days, churn_max_days
        *Churned* (non-contractual): no purchase for more than ``churn_gap_multiple`` x
        the own mean gap, and more than ``churn_after_days`` days; the threshold never
        exceeds ``churn_max_days`` (``None``: no cap). Defaults 4.0, 365 and 730.
        Contractual businesses use ``customers.churned_on`` instead.
    decline_p_alive
        If set (e.g. 0.5), a non-contractual customer whose BG/NBD probability of still
        being active is below it is *declining* too. Default ``None`` (not used).
    prospect_days
        Leads first contacted more than this many days ago and not converted are no longer
        counted as prospects (``None``: every unconverted lead counts). Default 365.
    """

    new_days: int = 90
    mature_days: int = 365
    trend_months: int = 6
    growth_rise: float = 0.25
    decline_drop: float = 0.5
    decline_gap_multiple: float = 2.0
    decline_after_days: int = 90
    churn_gap_multiple: float = 4.0
    churn_after_days: int = 365
    churn_max_days: int | None = 730
    decline_p_alive: float | None = None
    prospect_days: int | None = 365

    def __post_init__(self) -> None:
        def whole(name: str, low: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")

        def number(name: str, low: float, high: float | None = None) -> None:
            value = getattr(self, name)
            ok = (
                not isinstance(value, bool)
                and isinstance(value, int | float)
                and math.isfinite(value)
                and value >= low
                and (high is None or value <= high)
            )
            if not ok:
                span = f">= {low}" if high is None else f"in [{low}, {high}]"
                raise ValueError(f"{name} must be a number {span}, got {value!r}")

        whole("new_days", 1)
        whole("mature_days", 1)
        whole("trend_months", 1)
        whole("decline_after_days", 0)
        whole("churn_after_days", 1)
        number("growth_rise", 0.0)
        number("decline_drop", 0.0, 1.0)
        number("decline_gap_multiple", 0.0)
        number("churn_gap_multiple", 0.0)
        if self.churn_max_days is not None:
            whole("churn_max_days", 1)
            if self.churn_max_days < self.churn_after_days:
                raise ValueError(
                    f"churn_max_days ({self.churn_max_days}) must not be below "
                    f"churn_after_days ({self.churn_after_days})"
                )
        if self.decline_p_alive is not None:
            number("decline_p_alive", 0.0, 1.0)
        if self.prospect_days is not None:
            whole("prospect_days", 1)

    def definitions(self, *, contractual: bool) -> dict[str, str]:
        """One sentence per stage stating its rule with these thresholds (for the page)."""
        months = f"{self.trend_months} month{'s' if self.trend_months != 1 else ''}"
        window = (
            f"spend in the last {months} compared with the {months} before (for customers "
            "who normally buy in every such window)"
        )
        leads = (
            "every lead not converted"
            if self.prospect_days is None
            else f"leads first contacted in the last {self.prospect_days} days, not converted"
        )
        if contractual:
            churn = "the contract has ended (churned_on on or before the date)."
        else:
            cap = "" if self.churn_max_days is None else f", at most {self.churn_max_days}"
            churn = (
                f"no purchase for more than {self.churn_gap_multiple:g}x the customer's usual "
                f"gap between purchases (at least {self.churn_after_days} days{cap})."
            )
        decline = (
            f"no purchase for more than {self.decline_gap_multiple:g}x the usual gap (at "
            f"least {self.decline_after_days} days), or {window} fell by more than "
            f"{self.decline_drop:.0%}"
        )
        if self.decline_p_alive is not None and not contractual:
            decline += f", or BG/NBD P(alive) below {self.decline_p_alive:.0%}"
        return {
            PROSPECT: f"Prospect: {leads}.",
            NEW: f"New (exploration): first purchase less than {self.new_days} days ago "
            "(or acquired that recently without a purchase yet).",
            GROWING: f"Growing (formation): {window} rose by more than "
            f"{self.growth_rise:.0%}, or less than {self.mature_days} days since the first "
            "purchase.",
            MATURE: f"Mature (stability): at least {self.mature_days} days since the first "
            "purchase and steady spend.",
            DECLINING: f"Declining (decline, the early warning): {decline}.",
            CHURNED: f"Churned: {churn}",
        }


# ----------------------------------------------------------------------------- inputs


def leads_lazy(snapshot: Snapshot, *, one_per_customer: bool = True) -> pl.LazyFrame:
    """Leads joined to the customer they converted into.

    With ``one_per_customer`` a customer with several converted leads keeps the earliest
    (ties: the lowest ``prospect_id``); without it every lead is kept (before its
    customer is acquired each is an open prospect of its own, as in a cut snapshot).

    Returns
    -------
    pl.LazyFrame
        ``prospect_id, first_contact, channel, converted_customer_id, acquired_on`` (the
        acquisition date of the converted customer, null when not converted).
    """
    prospects = snapshot.prospects.select(
        C.prospect_id, C.first_contact, C.channel, C.converted_customer_id
    )
    converted = prospects.filter(pl.col(C.converted_customer_id).is_not_null())
    if one_per_customer:
        converted = (
            converted.sort(C.first_contact, C.prospect_id)
            .group_by(C.converted_customer_id, maintain_order=True)
            .first()
        )
    converted = converted.join(
        snapshot.customers.select(
            pl.col(C.customer_id).alias(C.converted_customer_id), C.acquired_on
        ),
        on=C.converted_customer_id,
        how="left",
    )
    unconverted = prospects.filter(pl.col(C.converted_customer_id).is_null()).with_columns(
        pl.lit(None, dtype=pl.Date).alias(C.acquired_on)
    )
    return pl.concat(
        [
            converted.select(
                C.prospect_id, C.first_contact, C.channel, C.converted_customer_id, C.acquired_on
            ),
            unconverted.select(
                C.prospect_id, C.first_contact, C.channel, C.converted_customer_id, C.acquired_on
            ),
        ]
    )


_CUM_REVENUE = "_cum_revenue"
_CUM_DAYS = "_cum_days"
_LAST = "_last_purchase"
_LEDGER_DATE = "_ledger_date"


def _ledger(snapshot: Snapshot) -> pl.LazyFrame:
    """Per customer and transaction day: running net revenue, purchase days, last purchase."""
    is_purchase = pl.col("_net") >= 0
    return (
        snapshot.transactions.group_by(C.customer_id, C.date)
        .agg(pl.col(C.amount).sum().alias("_net"))
        .with_columns(
            pl.col("_net").cum_sum().over(C.customer_id, order_by=C.date).alias(_CUM_REVENUE),
            is_purchase.cast(pl.Int64)
            .cum_sum()
            .over(C.customer_id, order_by=C.date)
            .alias(_CUM_DAYS),
            pl.when(is_purchase)
            .then(pl.col(C.date))
            .otherwise(None)
            .forward_fill()
            .over(C.customer_id, order_by=C.date)
            .alias(_LAST),
        )
        .select(C.customer_id, pl.col(C.date).alias(_LEDGER_DATE), _CUM_REVENUE, _CUM_DAYS, _LAST)
        .sort(_LEDGER_DATE)
    )


def _at(pairs: pl.LazyFrame, ledger: pl.LazyFrame, on: str, suffix: str) -> pl.LazyFrame:
    """Join the ledger's running totals as they stood on the date in column ``on``."""
    renamed = ledger.select(
        C.customer_id,
        _LEDGER_DATE,
        *(pl.col(c).alias(c + suffix) for c in (_CUM_REVENUE, _CUM_DAYS, _LAST)),
    )
    return (
        pairs.sort(on)
        .join_asof(
            renamed,
            left_on=on,
            right_on=_LEDGER_DATE,
            by=C.customer_id,
            strategy="backward",
            check_sortedness=False,
        )
        .drop(_LEDGER_DATE)
    )


_B_RECENT = "_b_recent"
_B_PREVIOUS = "_b_previous"
_B_TTM = "_b_ttm"
_WINDOW_DAYS = "_window_days"


def _dates_frame(dates: Sequence[date], rules: StageRules) -> pl.LazyFrame:
    rows = []
    for d in sorted(set(dates)):
        recent = add_months(d, -rules.trend_months)
        rows.append(
            (
                d,
                recent,
                add_months(d, -2 * rules.trend_months),
                add_months(d, -12),
                (d - recent).days,
            )
        )
    return pl.LazyFrame(
        rows,
        schema={
            AS_OF: pl.Date,
            _B_RECENT: pl.Date,
            _B_PREVIOUS: pl.Date,
            _B_TTM: pl.Date,
            _WINDOW_DAYS: pl.Int64,
        },
        orient="row",
    )


def _customer_features(snapshot: Snapshot, dates: pl.LazyFrame) -> pl.LazyFrame:
    """One row per customer and date (acquired by then) with the inputs of the rules."""
    ledger = _ledger(snapshot)
    leads = (
        leads_lazy(snapshot)
        .filter(pl.col(C.converted_customer_id).is_not_null())
        .select(
            pl.col(C.converted_customer_id).alias(C.customer_id),
            pl.col(C.prospect_id).alias("_lead"),
            pl.col(C.first_contact).alias("_lead_contact"),
        )
    )
    first = (
        ledger.filter(pl.col(_CUM_DAYS) == 1)
        .group_by(C.customer_id)
        .agg(pl.col(_LEDGER_DATE).min().alias("_first"))
    )
    pairs = (
        snapshot.customers.select(
            C.customer_id,
            pl.col(C.acquisition_channel).alias(CHANNEL),
            C.acquired_on,
            C.churned_on,
        )
        .join(dates, how="cross")
        .filter(pl.col(C.acquired_on) <= pl.col(AS_OF))
        .with_columns(  # a contract ending later is still running on the date
            pl.when(pl.col(C.churned_on) <= pl.col(AS_OF))
            .then(pl.col(C.churned_on))
            .otherwise(None)
            .alias(C.churned_on)
        )
    )
    pairs = _at(pairs, ledger, AS_OF, "")
    pairs = _at(pairs, ledger, _B_RECENT, "_r")
    pairs = _at(pairs, ledger, _B_PREVIOUS, "_p")
    pairs = _at(pairs, ledger, _B_TTM, "_t")
    revenue = {s: pl.col(_CUM_REVENUE + s).fill_null(0.0) for s in ("", "_r", "_p", "_t")}
    n_days = pl.col(_CUM_DAYS).fill_null(0)
    first_purchase = pl.when(n_days > 0).then(pl.col("_first")).otherwise(None)
    return (
        pairs.join(first, on=C.customer_id, how="left")
        .join(leads, on=C.customer_id, how="left")
        .with_columns(
            # the lead as known on the date (first contacted by then)
            pl.when(pl.col("_lead_contact") <= pl.col(AS_OF))
            .then(pl.col("_lead"))
            .otherwise(None)
            .alias(C.prospect_id),
            n_days.alias(PURCHASE_DAYS),
            first_purchase.alias(FIRST_PURCHASE),
            pl.col(_LAST).alias(LAST_PURCHASE),
            (revenue[""] - revenue["_r"]).alias(RECENT_REVENUE),
            (revenue["_r"] - revenue["_p"]).alias(PREVIOUS_REVENUE),
            (revenue[""] - revenue["_t"]).alias(REVENUE_TTM),
        )
        .with_columns(
            pl.coalesce(FIRST_PURCHASE, C.acquired_on).alias("_start"),
            pl.max_horizontal(LAST_PURCHASE, C.acquired_on).alias("_last_activity"),
            pl.when(pl.col(PURCHASE_DAYS) >= 2)
            .then(
                (pl.col(LAST_PURCHASE) - pl.col(FIRST_PURCHASE)).dt.total_days()
                / (pl.col(PURCHASE_DAYS) - 1)
            )
            .otherwise(None)
            .cast(pl.Float64)
            .alias(MEAN_GAP_DAYS),
        )
        .with_columns(
            (pl.col(AS_OF) - pl.col("_start")).dt.total_days().alias(TENURE_DAYS),
            (pl.col(AS_OF) - pl.col("_last_activity")).dt.total_days().alias(DAYS_SINCE_ACTIVITY),
        )
    )


def _prospect_rows(snapshot: Snapshot, dates: pl.LazyFrame, rules: StageRules) -> pl.LazyFrame:
    """One row per lead and date at which it is an open prospect."""
    open_lead = (pl.col(C.first_contact) <= pl.col(AS_OF)) & (
        pl.col(C.acquired_on).is_null() | (pl.col(C.acquired_on) > pl.col(AS_OF))
    )
    if rules.prospect_days is not None:
        open_lead &= (pl.col(AS_OF) - pl.col(C.first_contact)).dt.total_days() < (
            rules.prospect_days
        )
    return (
        leads_lazy(snapshot, one_per_customer=False)
        .join(dates.select(AS_OF), how="cross")
        .filter(open_lead)
        .select(
            pl.lit(None, dtype=pl.String).alias(C.customer_id),
            C.prospect_id,
            C.channel,
            AS_OF,
            pl.lit(PROSPECT).alias(STAGE),
        )
    )


def _with_stages(features: pl.LazyFrame, rules: StageRules, *, contractual: bool) -> pl.LazyFrame:
    """Add thresholds, the signals and the stage (the first rule that holds) to customer rows."""
    gap = pl.col(MEAN_GAP_DAYS)
    decline_after = pl.max_horizontal(
        pl.lit(float(rules.decline_after_days)), rules.decline_gap_multiple * gap
    )
    if contractual:
        churn_after = pl.lit(None, dtype=pl.Float64)
    else:
        churn_after = pl.max_horizontal(
            pl.lit(float(rules.churn_after_days)), rules.churn_gap_multiple * gap
        )
        if rules.churn_max_days is not None:
            churn_after = pl.min_horizontal(churn_after, pl.lit(float(rules.churn_max_days)))
    since = pl.col(DAYS_SINCE_ACTIVITY)
    recent, previous = pl.col(RECENT_REVENUE), pl.col(PREVIOUS_REVENUE)
    windows_ok = (
        (pl.col("_start") <= pl.col(_B_PREVIOUS)) & gap.is_not_null() & (gap < pl.col(_WINDOW_DAYS))
    )
    if rules.decline_p_alive is not None and not contractual:
        low = (pl.col(P_ALIVE) < rules.decline_p_alive).fill_null(False)
    else:
        low = pl.lit(False)
    if contractual:
        churned = pl.col(C.churned_on).is_not_null() & (pl.col(C.churned_on) <= pl.col(AS_OF))
    else:
        churned = since > pl.col(CHURN_AFTER_DAYS)
    stage = (
        pl.when(pl.col("_churned"))
        .then(pl.lit(CHURNED))
        .when(pl.col(TENURE_DAYS) < rules.new_days)
        .then(pl.lit(NEW))
        .when(pl.col(OVERDUE) | pl.col(SPEND_DROP) | pl.col(LOW_P_ALIVE))
        .then(pl.lit(DECLINING))
        .when(pl.col(SPEND_RISING) | (pl.col(TENURE_DAYS) < rules.mature_days))
        .then(pl.lit(GROWING))
        .otherwise(pl.lit(MATURE))
    )
    return (
        features.with_columns(
            decline_after.alias(DECLINE_AFTER_DAYS), churn_after.alias(CHURN_AFTER_DAYS)
        )
        .with_columns(
            (since > pl.col(DECLINE_AFTER_DAYS)).alias(OVERDUE),
            (windows_ok & (previous > 0) & (recent < (1 - rules.decline_drop) * previous)).alias(
                SPEND_DROP
            ),
            low.alias(LOW_P_ALIVE),
            (
                windows_ok
                & (recent > 0)
                & (recent > (1 + rules.growth_rise) * pl.max_horizontal(previous, pl.lit(0.0)))
            ).alias(SPEND_RISING),
            churned.alias("_churned"),
        )
        .with_columns(stage.alias(STAGE))
    )


_CUSTOMER_COLUMNS = (
    AS_OF,
    C.customer_id,
    C.prospect_id,
    CHANNEL,
    STAGE,
    C.acquired_on,
    C.churned_on,
    FIRST_PURCHASE,
    LAST_PURCHASE,
    PURCHASE_DAYS,
    MEAN_GAP_DAYS,
    TENURE_DAYS,
    DAYS_SINCE_ACTIVITY,
    RECENT_REVENUE,
    PREVIOUS_REVENUE,
    REVENUE_TTM,
    P_ALIVE,
    DECLINE_AFTER_DAYS,
    CHURN_AFTER_DAYS,
    OVERDUE,
    SPEND_DROP,
    LOW_P_ALIVE,
    SPEND_RISING,
)


def _add_p_alive(features: pl.LazyFrame, model: Any | None) -> pl.LazyFrame:
    """Add BG/NBD P(alive) at each row's date (null without a model or a purchase)."""
    if model is None:
        return features.with_columns(pl.lit(None, dtype=pl.Float64).alias(P_ALIVE))
    frame = features.collect()
    unit = DAYS_PER_UNIT[model.time_unit]
    bought = frame.filter(pl.col(PURCHASE_DAYS) > 0)
    x = (bought[PURCHASE_DAYS] - 1).to_numpy().astype(np.float64)
    tx = (bought[LAST_PURCHASE] - bought[FIRST_PURCHASE]).dt.total_days().to_numpy() / unit
    t = (bought[AS_OF] - bought[FIRST_PURCHASE]).dt.total_days().to_numpy() / unit
    alive = np.asarray(model.p_alive(x, tx.astype(np.float64), t.astype(np.float64)))
    values = (
        bought.select(C.customer_id, AS_OF)
        .with_columns(pl.Series(P_ALIVE, alive, dtype=pl.Float64))
        .lazy()
    )
    return frame.lazy().join(values, on=[C.customer_id, AS_OF], how="left")


def _check_dates(snapshot: Snapshot, dates: Sequence[date]) -> list[date]:
    if not dates:
        raise ValueError("give at least one date")
    out = []
    for d in dates:
        if not isinstance(d, date):
            raise ValueError(f"dates must be datetime.date values, got {d!r}")
        if d > snapshot.as_of:
            raise ValueError(f"the date {d} lies after the snapshot's as-of date {snapshot.as_of}")
        out.append(d)
    return out


def stage_history(
    snapshot: Snapshot,
    dates: Sequence[date],
    rules: StageRules | None = None,
    *,
    p_alive_model: Any | None = None,
) -> pl.DataFrame:
    """The stage of every customer and open lead at each of ``dates``.

    Parameters
    ----------
    snapshot
        The company's data (every date must be on or before its as-of date).
    dates
        Dates to assign stages at; each uses only the data recorded up to it.
    rules
        Stage thresholds (default :class:`StageRules`).
    p_alive_model
        A fitted BG/NBD model (``crm_core.clv.BGNBDModel``) used when
        ``rules.decline_p_alive`` is set (non-contractual snapshots only).

    Returns
    -------
    pl.DataFrame
        One row per customer acquired by the date and per open lead, per date:
        ``as_of, customer_id`` (null for leads), ``prospect_id`` (the customer's lead, or
        the lead), ``channel`` (acquisition channel, or the lead's), ``stage``, then the
        rule inputs of customers: ``acquired_on, churned_on, first_purchase,
        last_purchase, purchase_days, mean_gap_days, tenure_days, days_since_activity``
        (days), ``recent_revenue, previous_revenue, revenue_ttm`` (currency: the two trend
        windows and the trailing twelve months), ``p_alive, decline_after_days,
        churn_after_days`` (the customer's thresholds in days) and the signals
        ``overdue, spend_drop, low_p_alive, spend_rising``. Sorted by date, stage
        (lifecycle order), customer and lead id.
    """
    rules = rules or StageRules()
    days = _check_dates(snapshot, dates)
    contractual = snapshot.manifest.contractual
    frame = _dates_frame(days, rules)
    features = _customer_features(snapshot, frame)
    model = p_alive_model if (rules.decline_p_alive is not None and not contractual) else None
    customers = _with_stages(_add_p_alive(features, model), rules, contractual=contractual)
    prospects = _prospect_rows(snapshot, frame, rules)
    order = pl.col(STAGE).replace_strict({s: i for i, s in enumerate(STAGES)}, return_dtype=pl.Int8)
    return (
        pl.concat([customers.select(_CUSTOMER_COLUMNS), prospects], how="diagonal_relaxed")
        .sort(AS_OF, order, C.customer_id, C.prospect_id, nulls_last=True)
        .collect()
    )


def assign_stages(
    snapshot: Snapshot,
    as_of: date | None = None,
    rules: StageRules | None = None,
    *,
    p_alive_model: Any | None = None,
) -> pl.DataFrame:
    """The stage of every customer and open lead on ``as_of`` (default: the snapshot's date).

    Same columns as :func:`stage_history` (with one date). The result for an earlier date
    equals the result for ``snapshot.cut(as_of)`` (without P(alive)).
    """
    return stage_history(snapshot, [as_of or snapshot.as_of], rules, p_alive_model=p_alive_model)


# ----------------------------------------------------------------------------- time in stage

_KEY = "_entity"


def _entity_key() -> pl.Expr:
    """Customers by customer id; open leads by lead id (a converted lead is the customer)."""
    return (
        pl.when(pl.col(C.customer_id).is_null())
        .then(pl.concat_str(pl.lit("lead:"), pl.col(C.prospect_id)))
        .otherwise(pl.concat_str(pl.lit("customer:"), pl.col(C.customer_id)))
        .alias(_KEY)
    )


def _month_grid(day: date, months: int) -> list[date]:
    return [add_months(day, -k) for k in range(months + 1)]


def _time_in_stage(history: pl.DataFrame, day: date, months: int) -> pl.DataFrame:
    """Months each entity on ``day`` has been in its current stage, from the monthly grid.

    An entity in the same stage at ``day``, one month earlier, ..., ``r - 1`` months
    earlier but not ``r`` months earlier (or not yet known then) entered the stage between
    ``r`` and ``r - 1`` months ago: ``months_in_stage = r - 0.5``. In the same stage at
    every point of the ``months``-month grid: ``months_in_stage = months`` and
    ``in_stage_whole_history`` is true (a lower bound).
    """
    grid = pl.DataFrame(
        {AS_OF: _month_grid(day, months), "_k": list(range(months + 1))},
        schema={AS_OF: pl.Date, "_k": pl.Int64},
    )
    h = history.join(grid, on=AS_OF).select(_entity_key(), "_k", STAGE)
    ref = h.filter(pl.col("_k") == 0).select(_KEY, pl.col(STAGE).alias("_ref"))
    runs = (
        h.join(ref, on=_KEY)
        .group_by(_KEY)
        .agg(
            pl.col("_k").filter(pl.col(STAGE) != pl.col("_ref")).min().alias("_break"),
            (pl.col("_k").max() + 1).alias("_unseen"),
        )
        .with_columns(pl.min_horizontal("_break", "_unseen").alias("_run"))
    )
    return runs.select(
        _KEY,
        pl.when(pl.col("_run") > months)
        .then(pl.lit(float(months)))
        .otherwise(pl.col("_run") - 0.5)
        .alias(MONTHS_IN_STAGE),
        (pl.col("_run") > months).alias(CENSORED),
    )


# ----------------------------------------------------------------------------- transitions


@dataclass(frozen=True)
class MovedValue:
    """Customers who moved into a stage between two dates, valued at the earlier date.

    Attributes
    ----------
    customers
        How many moved in (from any other stage).
    revenue_ttm
        Their trailing-twelve-month revenue at the earlier date (currency).
    clv
        Their CLV at the earlier date (currency), ``None`` when no CLV was computed.
    """

    customers: int
    revenue_ttm: float
    clv: float | None


@dataclass(frozen=True)
class Transitions:
    """Stage transitions between ``start`` and ``end``.

    Attributes
    ----------
    start, end
        The earlier and the later date.
    flows
        ``from_stage, to_stage, customers, revenue_ttm, clv``: one row per pair of nodes
        with at least one customer or lead. ``from_stage`` is a stage at ``start`` or
        ``not_yet`` (unknown then: acquired, or first contacted, after ``start`` without an
        open lead at ``start``); ``to_stage`` is a stage at ``end`` or ``lead_dropped`` (a
        lead open at ``start`` that is neither still counted nor the lead its customer is
        linked to at ``end``: too old, or a second lead of the same customer).
        Every customer and lead at ``end`` comes from exactly one node, every one at
        ``start`` goes to exactly one. ``revenue_ttm`` and ``clv`` are the values at
        ``start`` (0 for leads and newcomers; ``clv`` null when not computed).
    into_declining, into_churned
        Customers whose stage at ``end`` is declining (churned) and at ``start`` was any
        other node, with their value at ``start``.
    """

    start: date
    end: date
    flows: pl.DataFrame
    into_declining: MovedValue
    into_churned: MovedValue

    def count(self, from_stage: str, to_stage: str) -> int:
        """Customers (or leads) that went from ``from_stage`` to ``to_stage``."""
        rows = self.flows.filter(
            (pl.col(FROM_STAGE) == from_stage) & (pl.col(TO_STAGE) == to_stage)
        )
        return int(rows[CUSTOMERS].sum()) if rows.height else 0

    def share(self, from_stage: str, to_stage: str) -> float | None:
        """Share of the ``from_stage`` entities at ``start`` that were ``to_stage`` at ``end``."""
        total = int(self.flows.filter(pl.col(FROM_STAGE) == from_stage)[CUSTOMERS].sum())
        return self.count(from_stage, to_stage) / total if total else None


def _node_order(column: str) -> pl.Expr:
    return pl.col(column).replace_strict(
        {s: i for i, s in enumerate(FLOW_NODES)}, return_dtype=pl.Int8
    )


def _flows(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """Transition counts and values between two stage tables (see :class:`Transitions`)."""
    value_cols = [REVENUE_TTM, CLV]
    b_customers = before.filter(pl.col(C.customer_id).is_not_null()).select(
        C.customer_id, pl.col(STAGE).alias(FROM_STAGE), *value_cols
    )
    b_leads = before.filter(pl.col(C.customer_id).is_null()).select(
        C.prospect_id, pl.lit(True).alias("_open")
    )
    a_customers = after.filter(pl.col(C.customer_id).is_not_null())
    a_leads = after.filter(pl.col(C.customer_id).is_null())
    customers = (
        a_customers.select(C.customer_id, C.prospect_id, pl.col(STAGE).alias(TO_STAGE))
        .join(b_customers, on=C.customer_id, how="left")
        .join(b_leads, on=C.prospect_id, how="left")
        .with_columns(
            pl.coalesce(
                FROM_STAGE,
                pl.when(pl.col("_open")).then(pl.lit(PROSPECT)),
                pl.lit(NOT_YET),
            ).alias(FROM_STAGE)
        )
    )
    leads = (
        a_leads.select(C.prospect_id, pl.col(STAGE).alias(TO_STAGE))
        .join(b_leads, on=C.prospect_id, how="left")
        .with_columns(
            pl.when(pl.col("_open"))
            .then(pl.lit(PROSPECT))
            .otherwise(pl.lit(NOT_YET))
            .alias(FROM_STAGE)
        )
    )
    still_there = pl.concat(
        [a_customers.select(C.prospect_id), a_leads.select(C.prospect_id)]
    ).drop_nulls()
    dropped = (
        b_leads.join(still_there, on=C.prospect_id, how="anti")
        .select(C.prospect_id)  # with_columns: literals alone would make a row
        .with_columns(pl.lit(PROSPECT).alias(FROM_STAGE), pl.lit(LEAD_DROPPED).alias(TO_STAGE))
    )
    return (
        pl.concat(
            [
                customers.select(FROM_STAGE, TO_STAGE, *value_cols),
                leads.select(FROM_STAGE, TO_STAGE),
                dropped.select(FROM_STAGE, TO_STAGE),
            ],
            how="diagonal_relaxed",
        )
        .group_by(FROM_STAGE, TO_STAGE)
        .agg(
            pl.len().cast(pl.Int64).alias(CUSTOMERS),
            pl.col(REVENUE_TTM).fill_null(0.0).sum().alias(REVENUE_TTM),
            pl.col(CLV).sum().alias(CLV),
        )
        .sort(_node_order(FROM_STAGE), _node_order(TO_STAGE))
    )


def _moved(flows: pl.DataFrame, stage: str, with_clv: bool) -> MovedValue:
    rows = flows.filter((pl.col(TO_STAGE) == stage) & (pl.col(FROM_STAGE) != stage))
    return MovedValue(
        customers=int(rows[CUSTOMERS].sum()),
        revenue_ttm=float(rows[REVENUE_TTM].sum()),
        clv=float(rows[CLV].sum()) if with_clv else None,
    )


def _transitions(before: pl.DataFrame, after: pl.DataFrame, start: date, end: date) -> Transitions:
    if CLV not in before.columns:
        before = before.with_columns(pl.lit(None, dtype=pl.Float64).alias(CLV))
    with_clv = bool(before[CLV].is_not_null().any())
    flows = _flows(before, after)
    if not with_clv:
        flows = flows.with_columns(pl.lit(None, dtype=pl.Float64).alias(CLV))
    return Transitions(
        start=start,
        end=end,
        flows=flows,
        into_declining=_moved(flows, DECLINING, with_clv),
        into_churned=_moved(flows, CHURNED, with_clv),
    )


def stage_transitions(
    snapshot: Snapshot,
    start: date,
    end: date | None = None,
    rules: StageRules | None = None,
) -> Transitions:
    """Stage transitions of customers and leads from ``start`` to ``end`` (default as-of).

    Values are trailing-twelve-month revenue at ``start``; :func:`lifecycle_report` adds
    CLV. Raises ``ValueError`` unless ``start < end <= snapshot.as_of``.
    """
    end = end or snapshot.as_of
    if not start < end:
        raise ValueError(f"the earlier date {start} must lie before the later date {end}")
    history = stage_history(snapshot, [start, end], rules)
    return _transitions(
        history.filter(pl.col(AS_OF) == start), history.filter(pl.col(AS_OF) == end), start, end
    )


# ----------------------------------------------------------------------------- the report

SHARE_OF_CUSTOMERS = "share_of_customers"
SHARE_OF_REVENUE = "share_of_revenue"
SHARE_OF_CLV = "share_of_clv"
CENSORED_SHARE = "whole_history_share"
LABEL = "label"


@dataclass(frozen=True)
class LifecycleReport:
    """Everything the Lifecycle page shows about stages.

    Attributes
    ----------
    as_of, compare_to
        The date described and the earlier date it is compared with.
    currency, business_model
        From the manifest.
    rules
        The stage thresholds used.
    stages, previous_stages
        :func:`stage_history` rows at ``as_of`` and at ``compare_to``, plus ``clv``
        (currency; null without CLV), ``months_in_stage`` and ``in_stage_whole_history``.
    summary, previous_summary
        One row per stage (lifecycle order): ``stage, label, customers`` (leads for the
        prospect stage), ``share_of_customers`` (of all customers, leads excluded),
        ``revenue_ttm, share_of_revenue, clv, share_of_clv`` (currency and fractions of the
        customers' totals), ``months_in_stage`` (mean, months) and ``whole_history_share``
        (share of the stage in it for the whole history: their months are lower bounds).
    kpis
        Cards with deltas against ``compare_to``: share of customers and of revenue per
        customer stage, and the mean months in stage for new, growing, mature, declining.
    transitions
        Stage transitions from ``compare_to`` to ``as_of``, valued at ``compare_to``.
    mix
        The stage mix month by month over the history: ``as_of, stage, customers,
        revenue_ttm``.
    decline_signals
        ``signal, customers``: how many declining customers show each early-warning signal
        at ``as_of`` (a customer can show several).
    history_months
        Months of stage history used for time in stage and the mix.
    clv_method
        How CLV was computed, or why it is missing.
    """

    as_of: date
    compare_to: date
    currency: str
    business_model: str
    rules: StageRules
    stages: pl.DataFrame
    previous_stages: pl.DataFrame
    summary: pl.DataFrame
    previous_summary: pl.DataFrame
    kpis: tuple[Kpi, ...]
    transitions: Transitions
    mix: pl.DataFrame
    decline_signals: pl.DataFrame
    history_months: int
    clv_method: str = field(default="")

    def kpi(self, key: str) -> Kpi:
        """The KPI with ``key`` (``KeyError`` if unknown)."""
        for k in self.kpis:
            if k.key == key:
                return k
        raise KeyError(key)

    def stage_value(self, stage: str, column: str, *, previous: bool = False) -> Any:
        """One cell of :attr:`summary` (or :attr:`previous_summary`)."""
        table = self.previous_summary if previous else self.summary
        return table.filter(pl.col(STAGE) == stage)[column][0]


def _summary(table: pl.DataFrame) -> pl.DataFrame:
    customers = table.filter(pl.col(C.customer_id).is_not_null())
    has_clv = bool(customers[CLV].is_not_null().any())
    totals = {
        CUSTOMERS: float(customers.height),
        REVENUE_TTM: float(customers[REVENUE_TTM].sum()),
        CLV: float(customers[CLV].sum()) if has_clv else 0.0,
    }
    per_stage = table.group_by(STAGE).agg(
        pl.len().cast(pl.Int64).alias(CUSTOMERS),
        pl.col(REVENUE_TTM).fill_null(0.0).sum().alias(REVENUE_TTM),
        pl.col(CLV).fill_null(0.0).sum().alias(CLV),
        pl.col(MONTHS_IN_STAGE).mean().alias(MONTHS_IN_STAGE),
        pl.col(CENSORED).cast(pl.Float64).mean().alias(CENSORED_SHARE),
    )
    base = pl.DataFrame(
        {STAGE: list(STAGES), LABEL: [STAGE_LABELS[s] for s in STAGES]},
        schema={STAGE: pl.String, LABEL: pl.String},
    )

    def share(column: str) -> pl.Expr:
        whole = totals[column]
        if whole <= 0:
            return pl.lit(None, dtype=pl.Float64).alias(_SHARES[column])
        return (
            pl.when(pl.col(STAGE) != PROSPECT)
            .then(pl.col(column) / whole)
            .otherwise(None)
            .alias(_SHARES[column])
        )

    return (
        base.join(per_stage, on=STAGE, how="left", maintain_order="left")
        .with_columns(pl.col(CUSTOMERS).fill_null(0), pl.col(REVENUE_TTM, CLV).fill_null(0.0))
        .with_columns(share(CUSTOMERS), share(REVENUE_TTM), share(CLV))
        .with_columns(
            pl.when(pl.lit(has_clv) & (pl.col(STAGE) != PROSPECT))
            .then(pl.col(CLV))
            .otherwise(None)
            .alias(CLV),
            pl.when(pl.lit(has_clv)).then(pl.col(SHARE_OF_CLV)).otherwise(None).alias(SHARE_OF_CLV),
        )
        .select(
            STAGE,
            LABEL,
            CUSTOMERS,
            SHARE_OF_CUSTOMERS,
            REVENUE_TTM,
            SHARE_OF_REVENUE,
            CLV,
            SHARE_OF_CLV,
            MONTHS_IN_STAGE,
            CENSORED_SHARE,
        )
    )


_SHARES = {CUSTOMERS: SHARE_OF_CUSTOMERS, REVENUE_TTM: SHARE_OF_REVENUE, CLV: SHARE_OF_CLV}
_BETTER_UP = {NEW: True, GROWING: True, MATURE: True, DECLINING: False, CHURNED: False}
# Months in stage: shorten exploration and formation, lengthen stability, avoid decline.
_LONGER_IS_BETTER = {NEW: False, GROWING: False, MATURE: True, DECLINING: False}


def _share_history(mix: pl.DataFrame, days: Sequence[date], column: str) -> pl.DataFrame:
    """Each customer stage's share of ``column`` (customers or revenue) on ``days``."""
    customers = mix.filter(pl.col(AS_OF).is_in(list(days)) & (pl.col(STAGE) != PROSPECT))
    return customers.with_columns(
        (pl.col(column) / pl.col(column).sum().over(AS_OF)).alias("_share")
    ).select(AS_OF, STAGE, "_share")


def _kpis(
    report_now: pl.DataFrame,
    report_before: pl.DataFrame,
    rules: StageRules,
    contractual: bool,
    mix: pl.DataFrame,
    as_of: date,
    history_months: int,
) -> tuple[Kpi, ...]:
    definitions = rules.definitions(contractual=contractual)
    quarter_ends = [add_months(as_of, -3 * k) for k in range(history_months // 3, -1, -1)]

    def history(column: str, stage: str) -> tuple[float | None, ...]:
        shares = dict(
            _share_history(mix, quarter_ends, column)
            .filter(pl.col(STAGE) == stage)
            .select(AS_OF, "_share")
            .iter_rows()
        )
        known = [d for d in quarter_ends if d >= mix[AS_OF].min()] if mix.height else []
        return tuple(
            None if v is None or not math.isfinite(v) else float(v)
            for v in (shares.get(d, 0.0) for d in known)
        )

    def cell(table: pl.DataFrame, stage: str, column: str) -> float | None:
        value = table.filter(pl.col(STAGE) == stage)[column][0]
        return None if value is None else float(value)

    kpis: list[Kpi] = []
    for stage in CUSTOMER_STAGES:
        kpis.append(
            Kpi(
                key=f"customers_{stage}",
                label=f"{STAGE_LABELS[stage]}: share of customers",
                value=cell(report_now, stage, SHARE_OF_CUSTOMERS),
                previous=cell(report_before, stage, SHARE_OF_CUSTOMERS),
                kind="pct",
                help=f"{definitions[stage]} Share of all customers acquired so far.",
                higher_is_better=_BETTER_UP[stage],
                history=history(CUSTOMERS, stage),
            )
        )
    for stage in CUSTOMER_STAGES:
        kpis.append(
            Kpi(
                key=f"revenue_{stage}",
                label=f"{STAGE_LABELS[stage]}: share of revenue",
                value=cell(report_now, stage, SHARE_OF_REVENUE),
                previous=cell(report_before, stage, SHARE_OF_REVENUE),
                kind="pct",
                help="Share of the trailing-12-month revenue (net of refunds) that comes "
                f"from {STAGE_LABELS[stage].lower()} customers.",
                higher_is_better=_BETTER_UP[stage],
                history=history(REVENUE_TTM, stage),
            )
        )
    for stage, longer in _LONGER_IS_BETTER.items():
        kpis.append(
            Kpi(
                key=f"months_{stage}",
                label=f"{STAGE_LABELS[stage]}: months in stage",
                value=cell(report_now, stage, MONTHS_IN_STAGE),
                previous=cell(report_before, stage, MONTHS_IN_STAGE),
                kind="months",
                help=f"Average time today's {STAGE_LABELS[stage].lower()} customers have been "
                "in the stage, read from their stage at each month end (to the nearest "
                "month). The aim: shorten exploration, speed up formation, lengthen "
                "stability, avoid decline.",
                higher_is_better=longer,
            )
        )
    return tuple(kpis)


def _clv_tables(
    snapshot: Snapshot, dates: Sequence[date]
) -> tuple[dict[date, pl.DataFrame], Any | None, str]:
    """CLV per customer at each date (and the BG/NBD model at the first), or why not."""
    from crm_core.clv.customer import customer_clv

    tables: dict[date, pl.DataFrame] = {}
    model = None
    method = ""
    for i, d in enumerate(dates):
        try:
            result = customer_clv(snapshot.cut(d))
        except ValueError as exc:  # ModelFitError and SnapshotError are ValueErrors
            if i == 0:
                return {}, None, f"CLV not available: {exc}"
            continue
        if i == 0:
            model, method = result.bgnbd, result.method
        tables[d] = result.table.select(C.customer_id, CLV)
    return tables, model, method


def _decline_signals(stages: pl.DataFrame) -> pl.DataFrame:
    declining = stages.filter(pl.col(STAGE) == DECLINING)
    rows = [
        ("Overdue: no purchase for longer than usual", int(declining[OVERDUE].sum())),
        ("Spend fell in the recent window", int(declining[SPEND_DROP].sum())),
        ("Low probability of being alive (BG/NBD)", int(declining[LOW_P_ALIVE].sum())),
    ]
    return pl.DataFrame(
        rows, schema={"signal": pl.String, CUSTOMERS: pl.Int64}, orient="row"
    ).filter(pl.col(CUSTOMERS) > 0)


def lifecycle_report(
    snapshot: Snapshot,
    rules: StageRules | None = None,
    compare_to: date | None = None,
    *,
    history_months: int = 24,
    with_clv: bool = True,
) -> LifecycleReport:
    """Stages, time in stage, value by stage and transitions of ``snapshot``.

    Parameters
    ----------
    snapshot
        The company's data; stages are assigned on its as-of date.
    rules
        Stage thresholds (default :class:`StageRules`).
    compare_to
        The earlier date for deltas and transitions (default three calendar months
        before as-of: last quarter against this quarter).
    history_months
        Months of monthly stage history read for time in stage and the mix (default 24).
    with_clv
        Value customers by CLV too (:func:`crm_core.clv.customer.customer_clv` at both
        dates); CLV is left out, with the reason in ``clv_method``, when the model cannot
        be fitted. Required for ``rules.decline_p_alive`` on non-contractual data.

    Raises
    ------
    ValueError
        If ``compare_to`` is not before as-of, or ``history_months`` < 1.
    """
    rules = rules or StageRules()
    as_of = snapshot.as_of
    compare_to = compare_to or add_months(as_of, -3)
    if not compare_to < as_of:
        raise ValueError(f"compare_to ({compare_to}) must lie before the as-of date {as_of}")
    if (
        isinstance(history_months, bool)
        or not isinstance(history_months, int)
        or (history_months < 1)
    ):
        raise ValueError(f"history_months must be a whole number >= 1, got {history_months!r}")
    contractual = snapshot.manifest.contractual
    needs_model = rules.decline_p_alive is not None and not contractual
    clv_tables: dict[date, pl.DataFrame] = {}
    model, method = None, "CLV not computed"
    if with_clv or needs_model:
        clv_tables, model, method = _clv_tables(snapshot, [as_of, compare_to])
        if not with_clv:
            clv_tables, method = {}, "CLV not computed"
    if needs_model and model is None:
        raise ValueError(
            "P(alive) was asked for as a decline signal, but the BG/NBD model could not be "
            f"fitted ({method})"
        )
    dates = sorted({*_month_grid(as_of, history_months), *_month_grid(compare_to, history_months)})
    history = stage_history(snapshot, dates, rules, p_alive_model=model)

    def at(day: date) -> pl.DataFrame:
        table = history.filter(pl.col(AS_OF) == day).with_columns(_entity_key())
        clv = clv_tables.get(day)
        if clv is not None:
            table = table.join(clv, on=C.customer_id, how="left").with_columns(
                pl.when(pl.col(C.customer_id).is_not_null())
                .then(pl.col(CLV).fill_null(0.0))
                .otherwise(None)
                .alias(CLV)
            )
        else:
            table = table.with_columns(pl.lit(None, dtype=pl.Float64).alias(CLV))
        return table.join(_time_in_stage(history, day, history_months), on=_KEY, how="left").drop(
            _KEY
        )

    now, before = at(as_of), at(compare_to)
    summary, previous_summary = _summary(now), _summary(before)
    mix = (
        history.filter(pl.col(AS_OF).is_in(_month_grid(as_of, history_months)))
        .group_by(AS_OF, STAGE)
        .agg(
            pl.len().cast(pl.Int64).alias(CUSTOMERS),
            pl.col(REVENUE_TTM).fill_null(0.0).sum().alias(REVENUE_TTM),
        )
        .sort(AS_OF, pl.col(STAGE).replace_strict({s: i for i, s in enumerate(STAGES)}))
    )
    return LifecycleReport(
        as_of=as_of,
        compare_to=compare_to,
        currency=snapshot.currency,
        business_model=snapshot.manifest.business_model,
        rules=rules,
        stages=now,
        previous_stages=before,
        summary=summary,
        previous_summary=previous_summary,
        kpis=_kpis(summary, previous_summary, rules, contractual, mix, as_of, history_months),
        transitions=_transitions(before, now, compare_to, as_of),
        mix=mix,
        decline_signals=_decline_signals(now),
        history_months=history_months,
        clv_method=method,
    )
