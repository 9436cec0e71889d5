"""Lifecycle: where customers are in their relationship and how they move.

Stage counts (the registry's), value and time by stage, the stage mix over time, the
early warning (the first rows of the Churn risk page's call list, and a link to it),
transitions since an earlier quarter end, the funnel, acquisition
cohorts and profit by tenure year. Widgets -> one cached loader call
(:mod:`crm_app.loaders.lifecycle`) -> render; only the open tab is drawn.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from crm_app import state, ui
from crm_app.loaders.lifecycle import early_warning, lifecycle_page
from crm_app.ui import kpi_cards, page_header
from crm_core.charts import lifecycle as charts
from crm_core.charts import lifecycle_progress as progress
from crm_core.copy import churn as churn_words
from crm_core.copy import lifecycle as copy
from crm_core.copy import lifecycle_progress as words
from crm_core.data.ledger import DECLINING
from crm_core.data.rules import DEFAULT_ACTIVITY, StageRules
from crm_core.data.rules import DEFAULT_STAGES as DEFAULT
from crm_core.errors import DataError
from crm_core.formatting import CURRENCY_SYMBOLS

FORMATS = {
    "one": "%.1f",
    "count": "%,d",
    "signed": "%+,d",
    "money": "%,.0f",
    "cents": "%,.2f",
    "pct": "%.1f%%",
}


def table(
    frame: pl.DataFrame, columns: dict[str, tuple[str, str]], *, key: str, helps=None, **kw
) -> None:
    """``frame`` with words for headers, numbers formatted by kind (see ``copy``)."""
    helps = helps or {}
    unit = CURRENCY_SYMBOLS.get(sel.currency, sel.currency)
    config: dict[str, object] = {}
    for name, (label, kind) in columns.items():
        if name not in frame.columns:
            continue
        if kind in ("text", "right"):
            align = "right" if kind == "right" else None
            config[name] = st.column_config.TextColumn(label, alignment=align)
        elif kind == "date":
            config[name] = st.column_config.DateColumn(label, format="D MMM YYYY")
        else:
            money = f"{label} ({unit})" if kind in ("money", "cents") else label
            config[name] = st.column_config.NumberColumn(
                money, format=FORMATS[kind], help=helps.get(name)
            )
    st.dataframe(frame.select(list(config)), column_config=config, hide_index=True, key=key, **kw)


def rule_controls() -> StageRules:
    """The stage thresholds, from the sliders in the "Stage rules" expander."""
    with st.expander(copy.RULES_EXPANDER, icon=":material/rule:"):
        st.caption(copy.RULES_CAPTION)
        a, b, c = st.columns(3)
        values = {}
        for column, (name, spec) in zip((a, a, c), copy.RULE_SLIDERS.items(), strict=True):
            label, low, high, step, help_text = spec
            values[name] = column.slider(
                label, low, high, getattr(DEFAULT, name), step, key=f"lc_{name}", help=help_text
            )
        step = 1 if sel.contractual else 3
        trend = b.select_slider(
            copy.TREND_LABEL,
            options=list(range(step, 13, step)),
            value=DEFAULT.trend_months,
            format_func=copy.months_text,
            key="lc_trend_months",
            help=copy.TREND_HELP,
        )
        drop = b.slider(
            copy.DROP_LABEL, 10, 90, int(DEFAULT.decline_drop * 100), 5, format="%d%%",
            key="lc_drop",
        )  # fmt: skip
        p_alive = None
        if not sel.contractual and c.toggle(
            copy.P_ALIVE_TOGGLE, key="lc_use_p_alive", help=copy.P_ALIVE_HELP
        ):
            p_alive = c.slider(copy.P_ALIVE_SLIDER, 10, 90, 50, 5, format="%d%%", key="lc_p_alive")
        rules = StageRules(
            new_days=values["new_days"],
            mature_days=max(values["mature_days"], values["new_days"]),
            trend_months=trend,
            decline_drop=drop / 100,
            decline_after_days=values["decline_after_days"],
            decline_p_alive=None if p_alive is None else p_alive / 100,
        )
        definitions = copy.stage_definitions(rules, DEFAULT_ACTIVITY, contractual=sel.contractual)
        st.markdown("\n".join(f"- {text}" for text in definitions.values()))
    return rules


# ----------------------------------------------------------------------------- controls

sel = state.require_selection()
cur = sel.currency
page_header(copy.TITLE, sel, copy.SUBTITLE)
with st.container(border=True):
    left, middle, _ = st.columns([1.2, 1, 1.6])
    back = left.selectbox(
        copy.COMPARE_LABEL, tuple(copy.COMPARE_QUARTERS), format_func=copy.COMPARE_QUARTERS.get,
        key="lc_compare", bind="query-params", help=copy.COMPARE_HELP,
    )  # fmt: skip
    years = middle.selectbox(
        copy.YEARS_LABEL, (1, 2, 3), index=1, format_func=copy.years_text, key="lc_years",
        bind="query-params", help=copy.YEARS_HELP,
    )  # fmt: skip
    rules = rule_controls()

complete = bool(st.session_state.get("lc_complete_years", False))
with state.guard("the lifecycle stages"):
    page = lifecycle_page(*sel.key, rules, back, years, complete)
report = page.report

st.subheader(copy.headline(report), help=copy.headline_help(report))
st.caption(copy.moves_caption(report))
st.caption(copy.cards_caption(report))
kpi_cards(copy.cards(report), cur, per_row=3)
views = st.tabs(list(copy.TABS), key="lc_view", bind="query-params")
stages_tab, warning_tab, moves_tab, funnel_tab, cohorts_tab, tenure_tab = views

if stages_tab.open:
    with stages_tab:
        ui.plotly_chart(charts.stage_value_mix(report), key="lc_mix_chart")
        table(
            copy.stage_table(report), copy.stage_columns(report), key="lc_stage_table",
            helps={"periods_in_stage": copy.time_in_stage_help(report)},
        )  # fmt: skip
        st.caption(copy.clv_caption(report))
        ui.plotly_chart(charts.stage_history_chart(report), key="lc_history_chart")

if warning_tab.open:
    with warning_tab:
        churn = early_warning(*sel.key)
        if isinstance(churn, DataError):
            st.info(state.escape_markdown(churn_words.lifecycle_unavailable(churn)))
        else:
            st.markdown(f"**{churn_words.LIFECYCLE_TITLE}**")
            declining = report.stage_value(DECLINING, "customers")
            st.caption(state.escape_markdown(churn_words.lifecycle_summary(churn, declining)))
            rows = churn_words.call_rows(churn, churn.call_list.head(churn_words.LIFECYCLE_ROWS))
            table(rows, churn_words.LIFECYCLE_COLUMNS, key="lc_watch_table")
        links = {k: st.query_params[k] for k in ("snapshot", "as_of") if k in st.query_params}
        st.page_link("pages/churn.py", label="Open the Churn risk page", query_params=links,
                     icon=":material/crisis_alert:")  # fmt: skip

if moves_tab.open:
    with moves_tab:
        for column, (label, value, help_text) in zip(
            st.columns(4), copy.move_cards(report), strict=True
        ):
            column.metric(label, value, help=help_text, border=True)
        st.caption(copy.moved_value_caption(report))
        ui.plotly_chart(charts.transitions_sankey(report.transitions, cur), key="lc_sankey")
        ui.plotly_chart(charts.transition_matrix(report.transitions), key="lc_matrix_chart")

if funnel_tab.open:
    with funnel_tab:
        funnel = page.funnel
        ui.plotly_chart(progress.funnel_chart(funnel), key="lc_funnel_chart")
        st.caption(words.funnel_facts(funnel))
        ui.plotly_chart(
            progress.funnel_conversion_heatmap(funnel, "channel"), key="lc_funnel_channel_chart"
        )
        ui.plotly_chart(
            progress.funnel_conversion_heatmap(funnel, "cohort"), key="lc_funnel_cohort_chart"
        )
        table(words.funnel_table(funnel), words.FUNNEL_TABLE, key="lc_funnel_table")

if cohorts_tab.open:
    with cohorts_tab:
        measure = st.segmented_control(
            words.COHORT_SHOW, tuple(words.COHORT_MEASURES), default=words.DEFAULT_MEASURE,
            required=True, format_func=words.COHORT_MEASURES.get, key="lc_cohort_metric",
            help=words.COHORT_HELP,
        )  # fmt: skip
        st.caption(words.cohort_relation(page.retention, contractual=sel.contractual))
        ui.plotly_chart(progress.cohort_heatmap(page.cohorts, measure), key="lc_cohort_heatmap")
        ui.plotly_chart(progress.cohort_curves(page.cohorts, measure), key="lc_cohort_curves")

if tenure_tab.open:
    with tenure_tab:
        st.toggle(words.COMPLETE_LABEL, key="lc_complete_years", help=words.COMPLETE_HELP)
        ui.plotly_chart(progress.tenure_profit_chart(page.tenure), key="lc_tenure_chart")
        table(words.tenure_table(page.tenure), words.TENURE_TABLE, key="lc_tenure_table")
        st.caption(words.tenure_caption(page.tenure))
