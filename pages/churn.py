"""Churn risk: who is about to leave, what they are worth, and who to call first.

The model card (out-of-time test against recency alone), the call list ranked by value at
risk with each customer's reasons, how much contacting its top K is expected to save, a
link to the What-if page with that retention change, and value at risk by tier and stage.
Widgets -> one cached loader (:mod:`crm_app.loaders.churn`) -> render; only the open tab is
drawn.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from crm_app import state, ui
from crm_app.loaders import base
from crm_app.loaders import churn as load
from crm_app.ui import page_header
from crm_core.charts import churn as charts
from crm_core.churn.columns import R
from crm_core.copy import churn as copy
from crm_core.errors import DataError
from crm_core.formatting import CURRENCY_SYMBOLS, fmt_kind
from crm_core.metrics.registry import METRICS

esc = state.escape_markdown  # the page's sentences hold amounts ($) and data: plain text
FORMATS = {"count": "%d", "cents": "%,.2f", "pct": "%.1f%%"}


def table(frame: pl.DataFrame, columns: dict[str, tuple[str, str]], *, key: str) -> None:
    """``frame`` with words for headers, numbers formatted by kind."""
    unit = CURRENCY_SYMBOLS.get(sel.currency, sel.currency)
    config: dict[str, object] = {}
    for name, (label, kind) in columns.items():
        width = copy.WIDTHS.get(name)
        if kind == "text":
            config[name] = st.column_config.TextColumn(label, width=width)
        elif kind == "date":
            config[name] = st.column_config.DateColumn(label, format="D MMM YYYY", width=width)
        else:
            text = f"{label} ({unit})" if kind == "cents" else label
            config[name] = st.column_config.NumberColumn(text, format=FORMATS[kind], width=width)
    shown = frame.select(list(columns))
    st.dataframe(shown, column_config=config, hide_index=True, key=key, height=420)


def model_cards(report, active: float | None) -> None:
    items = copy.cards(report)
    metric = METRICS["active_customers"]
    items.append((metric.label, fmt_kind(active, metric.kind), metric.definition + " "
                  "Every one of them is scored."))  # fmt: skip
    for start in (0, 3):
        row = zip(st.columns(3), items[start : start + 3], strict=False)
        for column, (label, value, help_text) in row:
            column.metric(label, value, help=help_text, border=True)


def call_list_tab(report) -> None:
    cur, most = report.currency, min(report.listed, len(report.call_list))
    if most == 0:
        st.info(esc(copy.list_caption(report, 0)), icon=":material/info:")
        return
    left, middle, right = st.columns(3)
    step = max(1, most // 200)
    contacts = left.slider(copy.CONTACTS_LABEL, 0, most, min(most, 500), step, key="ch_contacts",
                           bind="query-params")  # fmt: skip
    success = middle.slider(copy.SUCCESS_LABEL, 5, 100, 20, 5, format="%d%%", key="ch_success",
                            bind="query-params", help=copy.SUCCESS_HELP)  # fmt: skip
    cost = right.number_input(f"{copy.COST_LABEL} ({cur})", 0.0, 10_000.0, 5.0, 1.0,
                              key="ch_cost", bind="query-params")  # fmt: skip
    plan, best, curve = load.contact_plan(report, contacts, success / 100, cost)
    row = zip(st.columns(4), copy.savings_cards(plan, cur), strict=True)
    for column, (label, value, help_text) in row:
        column.metric(label, value, help=help_text, border=True)
    st.caption(esc(copy.savings_sentence(plan, best, cur)))
    baseline = load.whatif_baseline(*sel.key)
    if isinstance(baseline, DataError):
        st.caption(esc(f"No What-if link: {baseline}"))
    else:
        params = {k: st.query_params[k] for k in ("snapshot", "as_of") if k in st.query_params}
        kept = load.saved(report, contacts, success / 100)
        query, targets = copy.whatif_query(baseline, kept, params)
        st.page_link("pages/whatif.py", label="Try this retention change on the What-if page",
                     icon=":material/tune:", query_params=query)  # fmt: skip
        st.caption(esc(copy.whatif_caption(baseline, targets)))
    ui.plotly_chart(charts.savings_chart(curve, contacts, best, cur), key="ch_savings_chart")
    rows = report.call_list.head(min(max(contacts, 1), copy.LIST_LIMIT))
    table(copy.call_rows(report, rows), copy.PAGE_COLUMNS, key="ch_call_table")
    st.caption(esc(copy.list_caption(report, contacts)))
    st.download_button(
        f"Download the {contacts:,} customers to contact (CSV)",
        data=lambda: load.call_csv(report, contacts),
        file_name=f"churn-call-list-{sel.as_of}.csv",
        mime="text/csv",
        key="ch_download",
        icon=":material/download:",
        disabled=contacts == 0,
    )


def value_tab(report) -> None:
    left, right = st.columns(2)
    tiers = charts.value_at_risk_chart(report, R.tier, copy.TIER_NAMES)
    stages = charts.value_at_risk_chart(report, R.stage, copy.STAGE_NAMES)
    ui.plotly_chart(tiers, key="ch_tier_chart", where=left)
    ui.plotly_chart(stages, key="ch_stage_chart", where=right)
    if report.valuation_note:
        st.caption(esc(f"No CLV: {report.valuation_note}"))


def quality_tab(report) -> None:
    st.dataframe(copy.quality_table(report), hide_index=True, key="ch_quality_table")
    ui.plotly_chart(charts.lift_chart(report), key="ch_lift_chart")
    ui.plotly_chart(charts.calibration_chart(report), key="ch_calibration_chart")
    st.caption(esc(copy.label_rule(report)))
    st.caption(esc(copy.training_caption(report)))


# ----------------------------------------------------------------------------- the page

sel = state.require_selection()
page_header(copy.TITLE, sel, copy.SUBTITLE)
horizon = st.columns([1, 3])[0].selectbox(copy.HORIZON_LABEL, tuple(copy.HORIZONS),
                                          format_func=copy.HORIZONS.get, key="ch_horizon",
                                          bind="query-params", help=copy.HORIZON_HELP)  # fmt: skip
with state.guard("the churn model"):
    report = load.churn_page(*sel.key, horizon)
st.subheader(copy.headline(report), help=esc(copy.label_rule(report)))
st.caption(esc(copy.quality_sentence(report)))
if (deadline := copy.deadline_sentence(report)) is not None:
    st.caption(esc(deadline))
if note := base.sampled_rows_note(*sel.key):  # a Spark build: features from sampled rows
    st.caption(note)  # house words
model_cards(report, load.active_customers(*sel.key))
call_tab, value_view, quality_view = st.tabs(list(copy.TABS), key="ch_view", bind="query-params")
if call_tab.open:
    with call_tab:
        call_list_tab(report)
if value_view.open:
    with value_view:
        value_tab(report)
if quality_view.open:
    with quality_view:
        quality_tab(report)
