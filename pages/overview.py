"""Executive overview: KPI cards with quarter-on-quarter deltas, money and customers by
quarter, and the profit-concentration headline."""

from __future__ import annotations

import streamlit as st

from crm_app import state
from crm_app.loaders.overview import overview
from crm_app.ui import kpi_cards, page_header
from crm_core.charts.overview import customers_won_lost, revenue_profit_by_quarter
from crm_core.copy.overview import headline, headline_help

sel = state.require_selection()
page_header("Executive overview", sel)
with state.guard("the overview"):
    report = overview(*sel.key)

st.subheader(headline(report), help=headline_help(report))
kpi_cards(report.kpis, report.currency, per_row=3, compare=f"vs {report.previous_as_of:%d %b %Y}")
st.caption(f"CLV per active customer and customer equity: {report.clv_method}.")

left, right = st.columns(2)
with left:
    st.plotly_chart(revenue_profit_by_quarter(report.trend, report.currency), key="chart_money")
with right:
    st.plotly_chart(
        customers_won_lost(report.trend, contractual=sel.contractual), key="chart_customers"
    )
