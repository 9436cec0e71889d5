"""Words of the quarterly review's value-at-risk slides (the churn model's call list) and
of the Quarterly review page while churn risk is still being scored. Plain text, as
:mod:`crm_core.copy.review`."""

from __future__ import annotations

from datetime import date

from crm_core.formatting import fmt_count, fmt_money, fmt_pct

RISK_ROWS = 10
"""Customers of the call list shown on the deck (the Churn risk page lists 500)."""
RISK_TOP_SHARE = 0.10
"""Share of the customers with a value at risk, most at risk first, whose share of it the
title states."""
RISK_HORIZON = {1: "next quarter", 2: "next half-year", 4: "next year"}
RISK_NOTES = (
    "Value at risk = P(churn) x CLV: the probability that an active customer churns within "
    "the horizon (the activity rule no longer counts them active), from the churn model "
    "validated out of time, times the customer's CLV from the shared valuation. Expected "
    "churners = the sum of P(churn). The call list is ranked by value at risk; the Churn "
    "risk page has all of it, with the savings of contacting its top customers."
)
RISK_PENDING_TITLE = "Churn risk is still being scored"
RISK_PENDING_SUBTITLE = (
    "The churn model trains on earlier quarter ends and scores every active customer; at "
    "this size that takes minutes. This section fills in by itself when it is done."
)
RISK_PENDING_NOTE = (
    "Churn risk is still being scored (minutes at this size): the value-at-risk section "
    "and the files wait for it; the rest of the review is ready."
)
RISK_MISSING_TITLE = "Churn risk could not be scored for this snapshot"
RISK_MISSING_HINT = (
    "The Churn risk page trains its model on earlier quarter ends and tests it on the last "
    "one: a snapshot with a longer history, or a later as-of date, lets it score churn risk."
)


def churn_method(ranked_by: str | None, test_end: date | None, problem: str | None) -> str:
    """The methods slide's line on the churn model."""
    if problem is not None:
        return f"not available ({problem})"
    who = (
        "a calibrated gradient-boosting model"
        if ranked_by == "model"
        else "days since the last purchase (it beat the model out of time)"
    )
    return (
        f"P(churn) from {who}, trained on earlier quarter ends and tested on "
        f"{test_end:%d %b %Y}, times the CLV above (the Churn risk page's call list)."
    )


def risk_horizon(quarters: int) -> str:
    """``"next quarter"``, ``"next half-year"``, ``"next year"``."""
    return RISK_HORIZON.get(quarters, f"next {quarters} quarters")


def risk_title(total: float, top: float, horizon: str, cur: str) -> str:
    """The value-at-risk slide's finding: the value at risk and the share of it the
    :data:`RISK_TOP_SHARE` of customers most at risk hold."""
    text = f"{fmt_money(total, cur)} of CLV is at risk in the {horizon}"
    if total > 0:
        text += (
            f"; the {fmt_pct(RISK_TOP_SHARE)} of customers most at risk hold {fmt_pct(top / total)}"
        )
    return text


def risk_no_value_title(churners: float, scored: int, horizon: str) -> str:
    """The finding when no CLV is available (so no value at risk)."""
    return (
        f"{fmt_count(round(churners))} of {fmt_count(scored)} active customers are expected "
        "to churn "
        f"in the {horizon}"
    )


def risk_subtitle(
    ranked_by: str, auc: float, baseline_auc: float, churners: float, scored: int
) -> str:
    """How P(churn) was scored, and the expected churners."""
    who = "the churn model" if ranked_by == "model" else "days since the last purchase"
    return (
        f"P(churn) from {who} (out-of-time ROC AUC {auc:.2f}; recency alone {baseline_auc:.2f}) "
        f"· {fmt_count(round(churners))} of {fmt_count(scored)} active customers expected to "
        "churn"
    )


def risk_list_title(shown: int, value: float, cur: str) -> str:
    """The call-list slide's title."""
    return f"Call these {fmt_count(shown)} customers first: {fmt_money(value, cur)} of CLV at risk"


RISK_LIST_SUBTITLE = (
    "The Churn risk page's call list: highest value at risk first, with each customer's "
    "strongest reasons"
)
