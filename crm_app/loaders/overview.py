"""Loader of the Executive overview page."""

from __future__ import annotations

from datetime import date

import streamlit as st

from crm_app.loaders import base
from crm_core.overview.report import OverviewReport, overview_report


@st.cache_resource(show_spinner="Computing the overview…", max_entries=32)
def overview(path: str, stamp: str, as_of: date) -> OverviewReport:
    """Everything the Executive overview shows."""
    return overview_report(base.metrics(path, stamp, as_of))
