"""Copy of the Executive overview."""

from __future__ import annotations

from crm_core.formatting import fmt_pct
from crm_core.metrics.registry import METRICS
from crm_core.overview.report import OverviewReport


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
