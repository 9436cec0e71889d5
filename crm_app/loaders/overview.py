"""Loader of the Executive overview page."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import streamlit as st

from crm_app.loaders import base
from crm_core.clv.valuation import ClvResult
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
    if versus == "year" and YEAR_BACK not in inputs.clv:
        year_ago = base.valuation(path, stamp, as_of, quarters_back=YEAR_BACK)
        if isinstance(year_ago, ClvResult):
            inputs = replace(inputs, clv={**inputs.clv, YEAR_BACK: year_ago})
    return overview_report(inputs)
