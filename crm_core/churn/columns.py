"""Column names of the churn model's frames (declared once, here).

Features are named by :class:`F`; the channel-mix and touchpoint features are one column
per channel or touchpoint found in the snapshot, named by :func:`channel_share`,
:func:`touchpoint_contacts` and :func:`touchpoint_cost`. Result columns (scores, value at
risk, the call list) are named by :class:`R`.
"""

from __future__ import annotations

__all__ = [
    "CHANNEL_PREFIX",
    "TOUCHPOINT_CONTACTS_PREFIX",
    "TOUCHPOINT_COST_PREFIX",
    "F",
    "R",
    "channel_share",
    "touchpoint_contacts",
    "touchpoint_cost",
]


class F:
    """Feature and label columns (one row per customer and cut)."""

    cut = "cut"  # the ledger period whose end is the cut date
    cid = "cid"
    churned = "churned"  # the label
    # recency and rhythm, from the ledger at the cut
    days_since = "days_since"
    usual_gap = "usual_gap"
    lapse_days = "lapse_days"
    days_to_lapse = "days_to_lapse"
    gap_ratio = "gap_ratio"
    tenure_days = "tenure_days"
    purchase_days_total = "purchase_days_total"
    # windows: the last quarter, half-year and year to the cut, and the half-year before
    revenue_q = "revenue_q"
    revenue_h = "revenue_h"
    revenue_y = "revenue_y"
    revenue_prev_h = "revenue_prev_h"
    spend_change = "spend_change"
    purchase_days_q = "purchase_days_q"
    purchase_days_h = "purchase_days_h"
    purchase_days_y = "purchase_days_y"
    purchase_days_prev_h = "purchase_days_prev_h"
    frequency_change = "frequency_change"
    contacts_h = "contacts_h"
    contacts_y = "contacts_y"
    service_cost_y = "service_cost_y"
    refunds_y = "refunds_y"
    refund_amount_y = "refund_amount_y"
    transactions_y = "transactions_y"
    # the fitted CLV models at the cut
    p_alive = "p_alive"
    expected_purchases = "expected_purchases"
    renewal_probability = "renewal_probability"
    periods_paid = "periods_paid"
    days_to_renewal = "days_to_renewal"
    revenue_per_period = "revenue_per_period"
    # the customer
    acquisition_channel = "acquisition_channel_code"
    # not features: shown beside the scores
    next_purchase_days = "next_purchase_days"


class R:
    """Result columns: scores, value at risk, segments and the call list."""

    customer_id = "customer_id"
    p_churn = "p_churn"
    p_model = "p_model"
    p_baseline = "p_baseline"
    clv = "clv"
    value_at_risk = "value_at_risk"
    rank = "rank"
    tier = "tier"
    stage = "stage"
    next_purchase = "next_purchase"
    last_purchase = "last_purchase"
    acquisition_channel = "acquisition_channel"
    reason = "reason_{}"  # reason_1, reason_2, ... (feature group keys)
    effect = "effect_{}"  # how much the reason raises P(churn), in probability points


CHANNEL_PREFIX = "channel_share:"
TOUCHPOINT_CONTACTS_PREFIX = "touchpoint_contacts:"
TOUCHPOINT_COST_PREFIX = "touchpoint_cost:"


def channel_share(channel: str) -> str:
    """Feature: share of the last year's transactions made in ``channel`` (fraction)."""
    return CHANNEL_PREFIX + channel


def touchpoint_contacts(touchpoint: str) -> str:
    """Feature: service contacts through ``touchpoint`` in the last year (count)."""
    return TOUCHPOINT_CONTACTS_PREFIX + touchpoint


def touchpoint_cost(touchpoint: str) -> str:
    """Feature: cost of the service contacts through ``touchpoint`` in the last year
    (currency)."""
    return TOUCHPOINT_COST_PREFIX + touchpoint
