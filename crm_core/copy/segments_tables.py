"""Copy of the Segments page's tables: column words and kinds, the A/B/C table in words,
and what each value quadrant and RFM segment means."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import polars as pl

from crm_core.clv.valuation import DEFAULT_HORIZON_YEARS
from crm_core.copy.segments import CLV_LABEL, humanise, share_text
from crm_core.data.schema import C
from crm_core.formatting import fmt_count, fmt_money
from crm_core.segments import columns as S
from crm_core.segments import rfm as R
from crm_core.segments.report import SegmentReport
from crm_core.segments.tiers import TIERS, tier_name

__all__ = [
    "COLUMN_LABELS",
    "MEMBER_COLUMNS",
    "QUADRANT_COLUMNS",
    "QUADRANT_TEXT",
    "RFM_COLUMNS",
    "RFM_TEXT",
    "TOUCHPOINT_COLUMNS",
    "quadrant_text",
    "rfm_text",
    "tier_summary",
    "touchpoint_rows",
]

# Words for every column a user may see (tables and CSV downloads).
COLUMN_LABELS: dict[str, str] = {
    C.customer_id: "Customer",
    C.region: "Region",
    C.acquisition_channel: "Acquisition channel",
    C.acquired_on: "Acquired on",
    C.touchpoint: "Touchpoint",
    C.channel: "Sales channel",
    S.TIER: "Tier",
    S.PROFIT_RANK: "Profit rank",
    S.PURCHASES: "Purchases",
    S.CONTACTS: "Service contacts",
    S.REVENUE: "Revenue",
    S.DIRECT_COST: "Direct cost",
    S.SERVICE_COST: "Cost to serve",
    S.ACQUISITION_COST: "Acquisition cost",
    S.TOTAL_COST: "Total costs",
    S.PROFIT: "Net profit",
    S.CLV: f"CLV ({DEFAULT_HORIZON_YEARS:g}-year)",
    S.PURCHASES_PER_YEAR: "Purchases a year",
    S.YEARLY_AMOUNT: "Spend a year",
    S.QUADRANT: "Value quadrant",
    S.CUSTOMERS: "Customers",
    S.CUSTOMER_SHARE: "% of customers",
    S.PROFIT_SHARE: "% of profit",
    S.PROFIT_PER_CUSTOMER: "Net profit per customer",
    S.COST: "Cost",
    S.COST_PER_CUSTOMER: "Cost per customer",
    S.COST_PER_CONTACT: "Cost per contact",
    S.SHARE_OF_TOUCHPOINT_COST: "Share of the touchpoint's cost",
    R.SEGMENT: "Segment",
    R.MEDIAN_RECENCY_DAYS: "Median days since last purchase",
    R.AVG_FREQUENCY: "Average purchase days",
    R.AVG_MONETARY: "Average revenue",
}

# Kinds of the table columns: how the page formats them (see pages/segments.py).
MEMBER_COLUMNS: dict[str, str] = {
    C.customer_id: "text",
    S.PROFIT_RANK: "count",
    S.PROFIT: "cents",
    S.REVENUE: "cents",
    S.DIRECT_COST: "cents",
    S.SERVICE_COST: "cents",
    S.ACQUISITION_COST: "cents",
    S.PURCHASES: "count",
    S.CONTACTS: "count",
    S.QUADRANT: "text",
    C.region: "text",
    C.acquisition_channel: "text",
    C.acquired_on: "date",
}
QUADRANT_COLUMNS: dict[str, str] = {
    S.QUADRANT: "text",
    S.CUSTOMERS: "count",
    S.CUSTOMER_SHARE: "pct",
    S.REVENUE: "money",
    S.PROFIT: "money",
    S.PROFIT_SHARE: "pct",
    S.PROFIT_PER_CUSTOMER: "cents",
}
RFM_COLUMNS: dict[str, str] = {
    R.SEGMENT: "text",
    S.CUSTOMERS: "count",
    S.CUSTOMER_SHARE: "pct",
    S.PROFIT: "money",
    S.PROFIT_SHARE: "pct",
    R.MEDIAN_RECENCY_DAYS: "count",
    R.AVG_FREQUENCY: "one",
    R.AVG_MONETARY: "money",
}
TOUCHPOINT_COLUMNS: dict[str, str] = {
    S.TIER: "text",
    C.touchpoint: "text",
    S.CONTACTS: "count",
    S.COST: "money",
    S.COST_PER_CUSTOMER: "cents",
    S.COST_PER_CONTACT: "cents",
    S.SHARE_OF_TOUCHPOINT_COST: "pct",
}

QUADRANT_TEXT: dict[str, tuple[str, str]] = {
    "Frequent, high spend": (
        "Best customers: the buying habit and the capacity to spend.",
        "Reward and protect: loyalty benefits, dedicated service, early access.",
    ),
    "Occasional, high spend": (
        "Capacity without a habit: a few large purchases.",
        "Build the habit: usage incentives and reminders; watch refund and credit risk.",
    ),
    "Frequent, low spend": (
        "A habit with little capacity: many small purchases.",
        "Grow the basket: cross-sell, bundles and trade-up offers; serve through cheap channels.",
    ),
    "Occasional, low spend": (
        "Little activity and little spend.",
        "Serve at low cost: self-service and automated campaigns; limit costly contacts.",
    ),
}
"""Quadrant -> (what it means, recommended action)."""

RFM_TEXT: dict[str, tuple[str, str]] = {
    "Champions": (
        "Bought recently, buy often and spend the most.",
        "Reward them; early access to new products; ask for referrals and reviews.",
    ),
    "Loyal": (
        "Buy often and spend well; not always the most recent.",
        "Up-sell higher-value products; enrol in the loyalty programme.",
    ),
    "Potential loyalists": (
        "Recent customers with average frequency and spend.",
        "Offer membership or a loyalty programme; recommend related products.",
    ),
    "New customers": (
        "Bought very recently, only once or twice so far.",
        "Onboard well: welcome series, first-month support, a reason to come back.",
    ),
    "Promising": (
        "Recent buyers who have not spent much yet.",
        "Build the relationship: targeted offers and product education.",
    ),
    "Need attention": (
        "Average recency, frequency and spend: drifting.",
        "Limited-time offers based on past purchases; reactivate before they sleep.",
    ),
    "About to sleep": (
        "Below-average recency, frequency and spend.",
        "Share popular products and renewals at a discount; reconnect cheaply.",
    ),
    "At risk": (
        "Bought often and spent well, but long ago.",
        "Personal win-back contact; find out why they left; tailored offers.",
    ),
    "Can't lose them": (
        "Once among the best customers; no purchase for a long time.",
        "Win them back now: talk to them, personal offers, service recovery.",
    ),
    "Hibernating": (
        "Last purchase long ago, few purchases, low spend.",
        "Serve at low cost: automated reactivation offers; do not chase expensively.",
    ),
}
"""RFM segment -> (who they are, recommended action)."""


_SUMMED = (S.REVENUE, S.TOTAL_COST, S.DIRECT_COST, S.SERVICE_COST, S.ACQUISITION_COST, S.PROFIT)


def tier_summary(report: SegmentReport) -> pl.DataFrame:
    """The seeds' A/B/C table in words: measures as rows, tiers and all customers as columns
    (every cell formatted text)."""
    t = report.tiers
    rows = {str(r[S.TIER]): r for r in t.iter_rows(named=True)}
    n = int(t[S.CUSTOMERS].sum())
    total: dict[str, Any] = {S.CUSTOMERS: n, **{c: float(t[c].sum()) for c in _SUMMED}}
    clv = report.customers[S.CLV].fill_null(0.0).mean() if report.has_clv else None
    total |= {
        S.CUSTOMER_SHARE: 1.0,
        S.REVENUE_SHARE: 1.0,
        S.COST_SHARE: 1.0,
        S.PROFIT_SHARE: 1.0 if report.whale_stats.meaningful else None,
        S.PROFIT_PER_CUSTOMER: total[S.PROFIT] / n if n else None,
        S.SERVICE_COST_PER_CUSTOMER: total[S.SERVICE_COST] / n if n else None,
        S.AVG_CLV: clv,
    }
    money = partial(fmt_money, currency=report.currency)
    exact = partial(fmt_money, currency=report.currency, compact=False)
    measures: list[tuple[str, str, Callable[[Any], str]]] = [
        ("Customers", S.CUSTOMERS, fmt_count),
        ("Share of customers", S.CUSTOMER_SHARE, share_text),
        ("Revenue", S.REVENUE, money),
        ("Share of revenue", S.REVENUE_SHARE, share_text),
        ("Total costs", S.TOTAL_COST, money),
        ("· direct cost of sales", S.DIRECT_COST, money),
        ("· cost to serve", S.SERVICE_COST, money),
        ("· acquisition cost", S.ACQUISITION_COST, money),
        ("Share of total costs", S.COST_SHARE, share_text),
        ("Net profit", S.PROFIT, money),
        ("Share of net profit", S.PROFIT_SHARE, share_text),
        ("Net profit per customer", S.PROFIT_PER_CUSTOMER, exact),
        ("Cost to serve per customer", S.SERVICE_COST_PER_CUSTOMER, exact),
    ]
    if not report.whale_stats.meaningful:
        measures = [m for m in measures if m[1] != S.PROFIT_SHARE]
    if report.has_clv:
        measures.append((CLV_LABEL, S.AVG_CLV, exact))
    table: dict[str, list[str]] = {"": [m[0] for m in measures]}
    for tier in TIERS:
        table[tier_name(tier, report.cutoffs)] = [f(rows[tier][c]) for _, c, f in measures]
    table["All customers"] = [f(total[c]) for _, c, f in measures]
    return pl.DataFrame(table)


def quadrant_text() -> pl.DataFrame:
    """What each quadrant means and what to do, as a table."""
    return pl.DataFrame(
        {
            "Quadrant": list(QUADRANT_TEXT),
            "What it means": [v[0] for v in QUADRANT_TEXT.values()],
            "Recommended action": [v[1] for v in QUADRANT_TEXT.values()],
        }
    )


def rfm_text() -> pl.DataFrame:
    """Who each RFM segment is and what to do, as a table."""
    return pl.DataFrame(
        {
            "Segment": list(RFM_TEXT),
            "Who they are": [v[0] for v in RFM_TEXT.values()],
            "Recommended action": [v[1] for v in RFM_TEXT.values()],
        }
    )


def touchpoint_rows(report: SegmentReport) -> pl.DataFrame:
    """The cost-to-serve table with tiers and touchpoints in words (empty without costs)."""
    cts = report.cost_to_serve
    if cts is None:
        return pl.DataFrame()
    names = {t: tier_name(t, report.cutoffs) for t in TIERS}
    return cts.with_columns(
        pl.col(S.TIER).cast(pl.String).replace_strict(names),
        pl.col(C.touchpoint).map_elements(humanise, return_dtype=pl.String),
    )
