"""Executive overview: KPI cards with their change on the previous quarter or a year
earlier (a control chooses), money and customers by quarter, and the profit-concentration
headline."""

from __future__ import annotations

import streamlit as st

from crm_app import state, ui
from crm_app.loaders.overview import overview
from crm_app.ui import kpi_cards, page_header
from crm_core.charts.overview import customers_won_lost, revenue_profit_by_quarter
from crm_core.copy.overview import COMPARE, COMPARE_HELP, compare_text, headline, headline_help

sel = state.require_selection()
page_header("Executive overview", sel)
versus = st.segmented_control(
    "Compare with", list(COMPARE), default="quarter", format_func=COMPARE.get, required=True,
    key="ov_compare", bind="query-params", help=COMPARE_HELP,
) or "quarter"  # fmt: skip
with state.guard("the overview"):
    report = overview(*sel.key, versus)

st.subheader(headline(report), help=headline_help(report))
kpi_cards(
    report.kpis, report.currency, per_row=3, compare=compare_text(report, versus), versus=versus
)
st.caption(f"CLV per active customer and customer equity: {ui.esc(report.clv_method)}.")

left, right = st.columns(2)
with left:
    ui.plotly_chart(revenue_profit_by_quarter(report.trend, report.currency), key="chart_money")
with right:
    ui.plotly_chart(
        customers_won_lost(report.trend, contractual=sel.contractual), key="chart_customers"
    )
