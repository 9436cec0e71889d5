"""Column names of the Segments results and the small expressions every table shares.

The per-customer columns come from :func:`crm_core.metrics.profit.customer_profit` (one row
per customer dealt with in the profit window, keyed on the ledger's ``cid``); the names
derived here are declared once, in this module. Words for them live in
:mod:`crm_core.copy.segments`.
"""

from __future__ import annotations

import polars as pl

from crm_core.clv.valuation import CLV
from crm_core.data.ledger import L
from crm_core.data.schema import C
from crm_core.metrics.profit import (
    ACQUISITION_COST,
    CONTACTS,
    DIRECT_COST,
    PROFIT,
    PURCHASES,
    REVENUE,
    SERVICE_COST,
    TOTAL_COST,
)
from crm_core.metrics.tiers import PROFIT_RANK, TIER  # declared with the tier rule

__all__ = [
    "ACQUISITION_COST",
    "ACTION",
    "AVG_CLV",
    "CID",
    "CLV",
    "CONTACTS",
    "CONTACTS_PER_CUSTOMER",
    "COST",
    "COST_PER_CONTACT",
    "COST_PER_CUSTOMER",
    "COST_SHARE",
    "CUMULATIVE_PROFIT",
    "CUSTOMERS",
    "CUSTOMER_SHARE",
    "DIRECT_COST",
    "FREQUENT",
    "GROSS_PROFIT",
    "HIGH_SPEND",
    "MAX_PROFIT",
    "MIN_PROFIT",
    "PROFIT",
    "PROFIT_PER_CUSTOMER",
    "PROFIT_RANK",
    "PROFIT_SHARE",
    "PURCHASES",
    "PURCHASES_PER_YEAR",
    "QUADRANT",
    "REVENUE",
    "REVENUE_PER_CUSTOMER",
    "REVENUE_SHARE",
    "SERVICE_COST",
    "SERVICE_COST_PER_CUSTOMER",
    "SHARE_OF_TIER_COST",
    "SHARE_OF_TIER_PURCHASES",
    "SHARE_OF_TOUCHPOINT_COST",
    "TIER",
    "TOTAL_COST",
    "YEARLY_AMOUNT",
    "per_customer",
    "share_of_total",
]

CID = L.cid
COST = C.cost

CUSTOMERS = "customers"
CUSTOMER_SHARE = "customer_share"
REVENUE_SHARE = "revenue_share"
COST_SHARE = "cost_share"
PROFIT_SHARE = "profit_share"
PROFIT_PER_CUSTOMER = "profit_per_customer"
REVENUE_PER_CUSTOMER = "revenue_per_customer"
COST_PER_CUSTOMER = "cost_per_customer"
SERVICE_COST_PER_CUSTOMER = "service_cost_per_customer"
MIN_PROFIT = "min_profit"
MAX_PROFIT = "max_profit"
AVG_CLV = "avg_clv"
CUMULATIVE_PROFIT = "cumulative_profit"
PURCHASES_PER_YEAR = "purchases_per_year"
YEARLY_AMOUNT = "yearly_amount"
QUADRANT = "quadrant"
FREQUENT = "frequent"
HIGH_SPEND = "high_spend"
ACTION = "action"
CONTACTS_PER_CUSTOMER = "contacts_per_customer"
COST_PER_CONTACT = "cost_per_contact"
SHARE_OF_TIER_COST = "share_of_tier_cost"
SHARE_OF_TOUCHPOINT_COST = "share_of_touchpoint_cost"
SHARE_OF_TIER_PURCHASES = "share_of_tier_purchases"
GROSS_PROFIT = "gross_profit"


def share_of_total(column: str, *, positive_total: bool) -> pl.Expr:
    """``column`` over its column total; null when the total is not positive (or is 0)."""
    total = pl.col(column).sum()
    ok = total > 0 if positive_total else total != 0
    return pl.when(ok).then(pl.col(column) / total).otherwise(None)


def per_customer(column: str) -> pl.Expr:
    """``column`` divided by the ``customers`` column; null for groups without customers."""
    return pl.when(pl.col(CUSTOMERS) > 0).then(pl.col(column) / pl.col(CUSTOMERS))
