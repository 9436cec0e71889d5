"""Helpers shared by the Segments figures (:mod:`crm_core.charts.segments`)."""

from __future__ import annotations

import plotly.graph_objects as go

from crm_core.charts.style import empty_figure as style_empty
from crm_core.segments.columns import TIER
from crm_core.segments.report import SegmentReport

__all__ = ["empty_figure", "tier_rows"]


def tier_rows(report: SegmentReport) -> dict[str, dict]:
    """The tier table's rows by tier name (``"A"``, ``"B"``, ``"C"``)."""
    return {str(r[TIER]): r for r in report.tiers.iter_rows(named=True)}


def empty_figure(fig: go.Figure, title: str, subtitle: str, message: str) -> go.Figure:
    """``fig`` as an empty state: the message in the middle, no axes."""
    return style_empty(title, subtitle, message, fig=fig, height=420)
