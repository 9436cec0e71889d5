"""Copy of the Executive overview."""

from __future__ import annotations

from crm_core.formatting import fmt_pct
from crm_core.metrics.registry import METRICS
from crm_core.overview.report import OverviewReport

COMPARE = {"quarter": "Last quarter", "year": "A year ago"}
"""What the KPI cards' changes are measured against."""
COMPARE_HELP = (
    "The cards' change: since the previous quarter end, or since the same date a year "
    "earlier (four quarter ends back)."
)


def compare_text(report: OverviewReport, versus: str) -> str:
    """The cards' comparison in words: ``"vs 30 Jun 2026"``."""
    when = report.year_ago_as_of if versus == "year" else report.previous_as_of
    return f"vs {when.day} {when:%b %Y}"


def headline(report: OverviewReport) -> str:
    """The page's finding: who earns the profit."""
    if report.top_profit_share is None:
        return "Customers made no overall profit in the last 12 months"
    return (
        f"The top {fmt_pct(report.top_fraction)} of customers earn "
        f"{fmt_pct(report.top_profit_share)} of profit"
    )


def headline_help(report: OverviewReport) -> str:
    """Tooltip of the headline."""
    if report.top_profit_share is None:
        return (
            "Total profit (revenue minus direct, service and acquisition costs) is zero or "
            "negative, so profit shares are not meaningful."
        )
    return METRICS["top_profit_share"].definition + " See the Segments page for the whole curve."
