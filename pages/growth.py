"""Growth: where revenue comes from and where it leaks, what customers are worth against
what they cost, and whether the CLV model's forecasts came true.

The registry's growth metrics as cards (net and gross revenue retention, quick ratio, the
revenue movements; MRR and ARR for subscriptions), then three tabs: *Revenue movements*
(the waterfall of a period, the trend, NRR / GRR by quarter, the customers behind each
movement), *Unit economics* (by acquisition channel or cohort) and *Forecast vs actual*
(every earlier fit against what happened). Widgets -> cached loaders
(:mod:`crm_app.loaders.growth`) -> render; only the open tab is computed.
"""

from __future__ import annotations

from functools import partial

import polars as pl
import streamlit as st

from crm_app import state, ui
from crm_app.loaders import growth as load
from crm_app.ui import kpi_cards, page_header
from crm_core.copy import growth as copy
from crm_core.data.expressions import add_months
from crm_core.formatting import CURRENCY_SYMBOLS
from crm_core.growth.movements import QUARTERS
from crm_core.metrics import movements as mv

FORMATS = {"money": "%,.0f", "cents": "%,.2f", "count": "%,d", "pct": "%.1f%%",
           "signed_pct": "%+.1f%%", "ratio": "%.1fx", "one": "%.1f", "number": "%,.0f"}  # fmt: skip


def table(frame: pl.DataFrame, columns: dict[str, tuple[str, str]], *, key: str,
          helps: dict[str, str] | None = None, money: bool = True) -> None:  # fmt: skip
    """``frame``'s ``columns`` with words for headers, numbers formatted by kind
    (percentages are fractions in the frame)."""
    unit = CURRENCY_SYMBOLS.get(sel.currency, sel.currency)
    config: dict[str, object] = {}
    for name, (label, kind) in columns.items():
        helper = (helps or {}).get(name)
        if kind == "text":
            config[name] = st.column_config.TextColumn(label, help=helper)
        elif kind == "date":
            config[name] = st.column_config.DateColumn(label, format="D MMM YYYY", help=helper)
        else:
            words = f"{label} ({unit})" if money and kind in ("money", "cents") else label
            config[name] = st.column_config.NumberColumn(words, format=FORMATS[kind], help=helper)
    shown = frame.select(list(columns)).with_columns(
        (pl.col(n) * 100).round(1) for n, (_, kind) in columns.items() if kind.endswith("pct")
    )
    st.dataframe(shown, column_config=config, hide_index=True, key=key,
                 height=38 + 35 * min(max(shown.height, 1), 15))  # fmt: skip


def movements_tab() -> None:
    """The waterfall of a period, the trend, NRR / GRR, and the movers."""
    grain = QUARTERS
    if sel.contractual:
        c_grain, c_period, _ = st.columns([1, 1.4, 1.6])
        grain = c_grain.segmented_control(
            "Periods", list(copy.GRANULARITY), default=QUARTERS, format_func=copy.GRANULARITY.get,
            required=True, key="gr_grain", bind="query-params", help=copy.GRANULARITY_HELP,
        ) or QUARTERS  # fmt: skip
    else:
        c_period, _ = st.columns([1.4, 2.6])
    with state.guard("the revenue movements"):
        first = load.movements(*sel.key, grain, 0)
        keys = first.view.keys
        key = c_period.selectbox(
            "Period", keys, format_func=partial(copy.period_option, first.view),
            key=f"gr_period_{grain}", bind="query-params", help=copy.PERIOD_HELP,
        )  # fmt: skip
        shown = load.movements(*sel.key, grain, key)
        ui.plotly_chart(shown.waterfall, key="gr_waterfall")
        st.caption(copy.churn_relation(sel.contractual))
        left, right = st.columns(2)
        ui.plotly_chart(shown.trend, key="gr_trend", where=left)
        ui.plotly_chart(shown.retention, key="gr_retention", where=right)
        c_move, c_csv = st.columns([1, 1.5], vertical_alignment="bottom")
        movement = c_move.selectbox(
            "Customers behind", list(mv.MOVEMENTS), index=mv.MOVEMENTS.index(mv.CHURNED),
            format_func=copy.MOVEMENT_WORDS.get, key="gr_mover", bind="query-params",
            help=copy.MOVER_HELP,
        )  # fmt: skip
        rows, count = load.mover_rows(*sel.key, grain, key, movement)
        c_csv.download_button(
            "Download every customer's movements (CSV)", key="gr_movers_csv",
            data=partial(load.movers_csv, *sel.key, grain, key), on_click="ignore",
            file_name=f"revenue-movements-{sel.as_of}.csv", mime="text/csv",
            icon=":material/download:",
        )  # fmt: skip
        st.markdown(f"**{copy.movers_title(movement, count)}**")
        columns = copy.mover_columns(shown.view.row(key), shown.view.recurring)
        table(rows, columns, key="gr_movers")


def economics_tab() -> None:
    """CAC against value by acquisition channel or cohort."""
    c_by, c_won, _ = st.columns([1.6, 1.2, 0.8])
    by = c_by.segmented_control(
        "Group by", list(copy.GROUPINGS), default="channel", format_func=copy.GROUPINGS.get,
        required=True, key="gr_by", bind="query-params",
    ) or "channel"  # fmt: skip
    won = c_won.selectbox("Customers", list(copy.WON), format_func=copy.WON.get, key="gr_won",
                          bind="query-params", help=copy.WON_HELP)  # fmt: skip
    with state.guard("the unit economics"):
        view = load.economics(*sel.key, by, won or None)
        if view.clv_note:
            st.warning(f"CLV is not available: {state.escape_markdown(view.clv_note)}", icon="⚠️")
        ui.plotly_chart(view.scatter, key="gr_scatter")
        both = pl.concat([view.result.table, view.result.total])
        table(both, copy.economics_columns(by), key="gr_economics", helps=copy.ECONOMICS_HELP,
              money=False)  # fmt: skip
        st.caption(copy.economics_caption(view.result, view.registry_ltv_cac))


def forecast_tab() -> None:
    """Every earlier fit's forecast against what happened."""
    with state.guard("the forecasts of earlier fits"):
        history = load.forecasts(*sel.key)
        if not history.fits:
            st.info(
                "No earlier quarter end to compare with yet: a forecast needs a fit at least "
                "one quarter and six months of history back.", icon=":material/info:",
            )  # fmt: skip
            return
        c_measure, c_fit, _ = st.columns([2.2, 1.2, 0.6])  # three options unclipped at 1280
        measure = c_measure.segmented_control(
            "Compare", list(history.measures), default=history.measures[0], required=True,
            format_func=lambda m: copy.MEASURES[m][0], key="gr_measure", bind="query-params",
            help=copy.MEASURE_HELP,
        ) or history.measures[0]  # fmt: skip
        fits = history.fits
        year_back = min(3, len(fits) - 1)  # the fit of a year ago, when there is one
        fit_end = c_fit.selectbox(
            "Fit", fits, index=year_back, format_func=copy.fit_option, key="gr_fit",
            bind="query-params", help=copy.FIT_HELP,
        )  # fmt: skip
        path, errors = load.forecast_figures(*sel.key, fit_end, measure)
        ui.plotly_chart(path, key="gr_forecast_path")
        ui.plotly_chart(errors, key="gr_forecast_errors")
        rows = history.summary.filter(pl.col("measure") == measure)
        columns = dict(copy.HISTORY_COLUMNS)
        kind = copy.MEASURES[measure][1]
        for name in ("forecast", "actual"):
            columns[name] = (f"{columns[name][0]}", "money" if kind == "money" else "number")
        table(rows, columns, key="gr_forecast_table")
        st.caption(copy.consistency_caption(sel.contractual, sel.as_of))
        for when, reason in history.skipped:
            st.caption(f"No fit on {copy.day(when)}: {state.escape_markdown(reason)}")


sel = state.require_selection()
page_header(copy.TITLE, sel, copy.SUBTITLE)
with state.guard("the growth metrics"):
    st.subheader(load.headline(*sel.key), help=copy.HEADLINE_HELP)  # house words
    kpi_cards(load.cards(*sel.key), sel.currency, per_row=3,
              compare=f"vs {copy.day(add_months(sel.as_of, -3))}")  # fmt: skip
tabs = st.tabs(list(copy.TABS), key="gr_view", bind="query-params")
for tab, render in zip(tabs, (movements_tab, economics_tab, forecast_tab), strict=True):
    if tab.open is not False:
        with tab:
            render()
