"""Copy of the Lifecycle page's progress views: funnel, acquisition cohorts, tenure profit."""

from __future__ import annotations

import polars as pl

from crm_core.copy.lifecycle import share_text
from crm_core.formatting import fmt_count, fmt_pct
from crm_core.lifecycle.cohorts import ACTIVE_SHARE, BUYING_SHARE, REVENUE_INDEX
from crm_core.lifecycle.funnel import FunnelReport
from crm_core.lifecycle.tenure import TenureProfit
from crm_core.metrics.registry import METRICS

# ----------------------------------------------------------------------------- cohorts

COHORT_MEASURES = {
    BUYING_SHARE: "Buying in the quarter",
    ACTIVE_SHARE: "Active (the product's rule)",
    REVENUE_INDEX: "Revenue vs quarter 0",
}
DEFAULT_MEASURE = BUYING_SHARE
COHORT_HELP = (
    "Buying: share of the cohort with a purchase in each quarter since the quarter of "
    "acquisition. Active: share still active at each quarter end by the activity rule of every "
    "page. Revenue: the cohort's net revenue in the quarter over its first quarter's (net "
    "revenue kept, including customers who buy more)."
)


def cohort_relation(retention: float | None, *, contractual: bool) -> str:
    """One line on how the cohort curves relate to the registry's annual retention."""
    label = METRICS["retention"].label
    held = (
        "under contract"
        if contractual
        else "100% for a cohort's first year, as one purchase keeps a customer active for at "
        "least 12 months"
    )
    return (
        f"None of these curves is the Overview's {label} ({fmt_pct(retention, digits=1)}: of "
        "everyone active a year ago, the share active today). The active curve uses the same "
        f"rule ({held}) but follows one cohort from its acquisition quarter; the buying curve "
        "counts only the customers who bought within that quarter."
    )


# ----------------------------------------------------------------------------- funnel

FUNNEL_TABLE = {
    "label": ("Step", "text"),
    "reached": ("Reached", "right"),
    "eligible": ("Eligible", "right"),
    "conversion": ("Conversion of the eligible", "right"),
    "share_of_top": ("Share of all prospects", "right"),
}


def funnel_table(funnel: FunnelReport) -> pl.DataFrame:
    """The funnel's steps as formatted text (no conversion for the first step)."""
    steps = funnel.steps
    return pl.DataFrame(
        {
            "label": steps["label"],
            "reached": [fmt_count(v) for v in steps["reached"]],
            "eligible": [fmt_count(v) for v in steps["eligible"]],
            "conversion": ["" if v is None else share_text(v) for v in steps["conversion"]],
            "share_of_top": [share_text(v) for v in steps["share_of_top"]],
        }
    )


def funnel_facts(funnel: FunnelReport) -> str:
    """Walk-ins and the two speeds of the funnel."""
    facts = [
        f"{fmt_count(funnel.walk_in_customers)} customers came without a recorded lead; they "
        "enter the funnel as prospects who bought at once."
    ]
    if funnel.median_days_to_first_purchase is not None:
        facts.append(
            "Median time from first contact to first purchase: "
            f"{funnel.median_days_to_first_purchase:,.0f} days."
        )
    if funnel.median_usual_gap_days is not None:
        facts.append(
            "Median usual gap between purchases of repeat customers: "
            f"{funnel.median_usual_gap_days:,.0f} days (how quickly they come back)."
        )
    return " ".join(facts)


# ----------------------------------------------------------------------------- tenure

COMPLETE_LABEL = "Complete years only"
COHORT_SHOW = "Show"
COMPLETE_HELP = (
    "Off: a tenure year still in progress counts once half of it is observed, its amounts "
    "annualised. On: only years that have ended."
)
TENURE_TABLE = {
    "year": ("Tenure year", "text"),
    "customers": ("Customers", "count"),
    "profit": ("Profit", "money"),
    "acquisition": ("Acquisition", "money"),
    "base_profit": ("Base profit", "money"),
    "extra_purchases": ("Extra purchases", "money"),
    "lower_cost_to_serve": ("Lower cost to serve", "money"),
    "revenue": ("Revenue", "money"),
}


def tenure_table(tenure: TenureProfit) -> pl.DataFrame:
    """Profit by tenure year with the year in words."""
    return tenure.table.with_columns(pl.format("Year {}", pl.col("tenure_year")).alias("year"))


def tenure_caption(tenure: TenureProfit) -> str:
    """Who is counted and how the parts are defined."""
    if not tenure.table.height:
        return "No customer has completed a first year yet."
    return (
        "Per customer-year of the customers active in each year (year 0: the quarter of "
        "acquisition and the three after, for everyone acquired that long ago). Base profit is "
        "the same customers' own first-year profit before acquisition cost; extra purchases and "
        "lower cost to serve are the changes against it. "
        f"{share_text(tenure.table['in_progress_share'][-1])} of the last year's customer-years "
        "are from years still in progress."
    )
