"""Column names and value sets of the customer ledger (declared once, here).

See :mod:`crm_core.data.ledger` for what each column means.
"""

from __future__ import annotations

import polars as pl

from crm_core.data.periods import PERIOD

__all__ = [
    "CHURNED",
    "CUSTOMER_STAGES",
    "DECLINING",
    "DORMANT",
    "GROWING",
    "MATURE",
    "MOVEMENTS",
    "MOVEMENT_DTYPE",
    "NEW",
    "PERIOD_MONTHS",
    "REACTIVATED",
    "RETAINED",
    "STAGE_DTYPE",
    "L",
]


class L:
    """Column names of the ledger's frames (declared once, here)."""

    cid = "cid"
    period = PERIOD
    revenue = "revenue"
    direct_cost = "direct_cost"
    service_cost = "service_cost"
    contacts = "contacts"
    purchases = "purchases"
    transactions = "transactions"
    purchase_days = "purchase_days"
    purchase_day_revenue = "purchase_day_revenue"
    cum_purchase_days = "cum_purchase_days"
    last_purchase = "last_purchase"
    acquired = "acquired"
    won = "won"
    tenure_days = "tenure_days"
    days_since_activity = "days_since_activity"
    usual_gap_days = "usual_gap_days"
    lapse_after_days = "lapse_after_days"
    active = "active"
    movement = "movement"
    recent_revenue = "recent_revenue"
    previous_revenue = "previous_revenue"
    overdue = "overdue"
    spend_drop = "spend_drop"
    spend_rising = "spend_rising"
    stage = "stage"
    # customers frame
    acquired_period = "acquired_period"
    first_purchase = "first_purchase"
    first_purchase_amount = "first_purchase_amount"


NEW, GROWING, MATURE, DECLINING, CHURNED = "new", "growing", "mature", "declining", "churned"
CUSTOMER_STAGES = (NEW, GROWING, MATURE, DECLINING, CHURNED)
"""Lifecycle stages of customers, in lifecycle order (prospects are leads, not customers)."""
STAGE_DTYPE = pl.Enum(CUSTOMER_STAGES)

RETAINED, REACTIVATED, DORMANT = "retained", "reactivated", "dormant"
MOVEMENTS = (NEW, RETAINED, REACTIVATED, CHURNED, DORMANT)
"""Movements of a customer in a period: won (and active at its end), active at both ends,
back after being inactive, lost (active at the start or won, inactive at the end), or
inactive throughout."""
MOVEMENT_DTYPE = pl.Enum(MOVEMENTS)

PERIOD_MONTHS = {False: 3, True: 1}
"""Ledger period length in months: quarters, or months for contractual businesses."""
