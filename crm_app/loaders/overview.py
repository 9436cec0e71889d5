"""Loader of the Executive overview page."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import streamlit as st

from crm_app.loaders import base
from crm_core.clv.valuation import ClvResult
from crm_core.metrics.registry import MetricInputs
from crm_core.overview.report import OverviewReport, overview_report

YEAR_BACK = 4
"""Quarters back of the year-on-year comparison."""


@st.cache_resource(show_spinner="Computing the overview…", max_entries=32)
def overview(path: str, stamp: str, as_of: date, versus: str = "quarter") -> OverviewReport:
    """Everything the Executive overview shows. With ``versus="year"`` the CLV metrics
    also get their value a year earlier: the model set fitted four quarters back (the
    shared cache, the fit the Customer value page's holdout check and the Growth page's
    forecasts of that date use), valued at the default horizon."""
    inputs = base.metrics(path, stamp, as_of)
    if versus == "year":
        inputs = with_year_ago(inputs, path, stamp, as_of)
    return overview_report(inputs)


def with_year_ago(inputs: MetricInputs, path: str, stamp: str, as_of: date) -> MetricInputs:
    """``inputs`` with the valuation of the model set fitted a year before ``as_of`` (the
    shared cache), so the CLV metrics have a value a year ago (unchanged when it cannot
    be fitted). The Quarterly review's KPI slide uses it too."""
    if YEAR_BACK in inputs.clv:
        return inputs
    year_ago = base.valuation(path, stamp, as_of, quarters_back=YEAR_BACK)
    if not isinstance(year_ago, ClvResult):
        return inputs
    return replace(inputs, clv={**inputs.clv, YEAR_BACK: year_ago})
