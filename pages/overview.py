"""Executive overview: KPI cards with quarter-on-quarter deltas, money and customers by
quarter, and the profit-concentration headline."""

from __future__ import annotations

from datetime import date

import streamlit as st

from crm_app import state
from crm_app.ui import kpi_cards, page_header
from crm_core.charts.overview import customers_won_lost, revenue_profit_by_quarter
from crm_core.formatting import fmt_pct
from crm_core.overview.report import OverviewReport, overview_report


@st.cache_data(show_spinner="Computing the overview…", max_entries=32)
def _report(path: str, stamp: str, as_of: date) -> OverviewReport:
    return overview_report(state.snapshot(path, stamp, as_of))


sel = state.require_selection()
page_header("Executive overview", sel)
with state.guard("the overview"):
    report = _report(*sel.key)

if report.top_profit_share is not None:
    st.subheader(
        f"The top {fmt_pct(report.top_fraction)} of customers earn "
        f"{fmt_pct(report.top_profit_share)} of profit",
        help="Customers active in the last 12 months ranked by profit: revenue minus direct "
        "cost, service cost and acquisition cost of customers won in the period. "
        "See the Segments page for the whole curve.",
    )
else:
    st.subheader(
        "Customers made no overall profit in the last 12 months",
        help="Total profit (revenue minus direct, service and acquisition costs) is zero "
        "or negative, so profit shares are not meaningful.",
    )

kpi_cards(report.kpis, report.currency, compare=f"vs {report.previous_as_of:%d %b %Y}")
st.caption(f"Average CLV and customer equity: {report.clv_method}.")

left, right = st.columns(2)
with left:
    st.plotly_chart(revenue_profit_by_quarter(report.trend, report.currency), key="chart_money")
with right:
    st.plotly_chart(
        customers_won_lost(report.trend, contractual=sel.contractual), key="chart_customers"
    )
