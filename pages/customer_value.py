"""Customer value: what customers are worth, by the textbook formulas and by fitted models.

Three tabs. *Your customers*: the shared model set valued at the chosen horizon (BG/NBD +
Gamma-Gamma for retail, sBG for subscriptions) with P10-P90 bands, the CLV distribution,
P(alive) or the projected retention curve, value ranges per profit tier or acquisition
channel, and the most valuable customers (the full list downloadable). *Calculator*: the
seeds' closed forms and the year-by-year LTV table, next to the LTV table of an actual
cohort of the ledger. *Model check*: a holdout test by date and the fitted parameters.
"""

from __future__ import annotations

from functools import partial

import polars as pl
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from crm_app import state, ui
from crm_app.loaders import customer_value as load
from crm_app.ui import page_header
from crm_core.charts.clv import ltv_payback_figure
from crm_core.clv.formulas import clv_contribution, clv_profit, clv_retention, clv_revenue
from crm_core.clv.ltv import LTV, ltv_table, ltv_table_text, payback_finding
from crm_core.clv.valuation import DEFAULT_HORIZON_YEARS
from crm_core.copy import customer_value as copy
from crm_core.copy import customer_value_calculator as calc
from crm_core.errors import DataError
from crm_core.formatting import CURRENCY_SYMBOLS, fmt_count, fmt_money, fmt_pct

FORMATS = {"money": "%,.0f", "cents": "%,.2f", "pct": "%.1f%%", "count": "%,.0f",
           "decimal": "%,.1f"}  # fmt: skip


def _error(what: str, exc: DataError) -> None:
    st.error(f"**Could not {what}.** {state.escape_markdown(str(exc))}", icon="⚠️")


def _card(column: DeltaGenerator, label: str, value: str, note: str, help_text: str) -> None:
    column.metric(label, value, delta=note, delta_color="off", delta_arrow="off", border=True,
                  help=help_text)  # fmt: skip


def _table(frame: pl.DataFrame, columns: dict[str, tuple[str, str]], *, key: str) -> None:
    """``frame``'s columns with words for headers (money with the currency), formatted by
    kind; percentages are fractions in the frame."""
    unit = CURRENCY_SYMBOLS.get(cur, cur)
    config = {
        name: st.column_config.TextColumn(label)
        if kind == "text"
        else st.column_config.NumberColumn(
            f"{label} ({unit})" if kind in ("money", "cents") else label, format=FORMATS[kind]
        )
        for name, (label, kind) in columns.items()
    }
    shown = frame.select(list(columns)).with_columns(
        (pl.col(n) * 100).round(1) for n, (_, kind) in columns.items() if kind == "pct"
    )
    height = 38 + 35 * min(shown.height, 25)  # up to 25 rows without scrolling inside
    st.dataframe(shown, column_config=config, hide_index=True, key=key, height=height)


def your_customers() -> None:
    """The fitted view of the ledger: value, its ranges, who holds it."""
    left, right, _ = st.columns([1, 2, 1.5])
    horizon = left.selectbox("Horizon", copy.HORIZONS, key="cv_horizon",
                             index=copy.HORIZONS.index(int(DEFAULT_HORIZON_YEARS)),
                             format_func=copy.horizon_option, help=copy.HORIZON_HELP)  # fmt: skip
    by = right.segmented_control("Value ranges by", list(copy.GROUPINGS), default="tier",
                                 format_func=copy.GROUPINGS.get, key="cv_group", required=True,
                                 help=copy.GROUPING_HELP) or "tier"  # fmt: skip
    with state.guard("the customers' value with a fitted model"):
        view = load.customers(*sel.key, float(horizon))
    result, bands = view.result, view.bands[by]
    st.subheader(copy.headline(result), anchor=False, help=copy.HEADLINE_HELP)
    k1, k2, k3 = st.columns(3)  # three a row: labels and ranges fit at 1280 px
    _card(k1, copy.equity_label(result.horizon_years), fmt_money(result.customer_equity, cur),
          copy.band(bands.equity_p10, bands.equity_p90, cur),
          copy.equity_help(result.horizon_years, bands.draws))  # fmt: skip
    _card(k2, copy.AVERAGE_LABEL, fmt_money(result.average_clv, cur),
          copy.average_band(bands, cur), copy.AVERAGE_HELP)  # fmt: skip
    _card(k3, copy.VALUED_LABEL, fmt_count(result.customers), copy.valued_note(result),
          copy.valued_help(result))  # fmt: skip
    st.caption(copy.reconciliation(result, view.active, view.overview_equity))
    st.caption(copy.method_caption(result))
    ui.plotly_chart(view.figures["distribution"], key="cv_chart_distribution")
    chart_key = "cv_chart_retention" if result.sbg is not None else "cv_chart_p_alive"
    ui.plotly_chart(view.figures["model"], key=chart_key)
    ui.plotly_chart(view.figures[f"bands:{by}"], key="cv_chart_bands")

    headline = st.container()
    c_top, c_csv, _ = st.columns([1, 2, 2], vertical_alignment="bottom")
    n_top = c_top.selectbox("Show", copy.TOP_SIZES, index=copy.TOP_SIZES.index(25), key="cv_top",
                            format_func=copy.top_option)  # fmt: skip
    shown = min(n_top, result.customers)
    share = result.top_share(shown / result.customers) if result.customers else None
    headline.subheader(copy.top_headline(shown, share), anchor=False)
    c_csv.download_button(copy.download_label(result.customers), key="cv_download",
                          data=partial(load.customers_csv, *sel.key, float(horizon)),
                          file_name=copy.download_name(result), mime="text/csv",
                          on_click="ignore", icon=":material/download:")  # fmt: skip
    _table(view.top.head(n_top), copy.customer_headers(result), key="cv_top_table")
    st.caption(copy.top_caption(result))


def _inputs(keys: list[str]) -> dict[str, float]:
    """Number inputs for ``keys`` side by side; values as the formulas take them."""
    unit = CURRENCY_SYMBOLS.get(cur, cur)
    out: dict[str, float] = {}
    for column, key in zip(st.columns(max(5, len(keys))), keys, strict=False):
        f = calc.FIELDS[key]
        whole = f.kind in ("years", "count")
        number = int if whole else float
        value = column.number_input(
            f"{f.label} ({unit})" if f.kind == "money" else f.label,
            min_value=None if f.low is None else number(f.low),
            max_value=None if f.high is None else number(f.high),
            value=number(f.default),
            step=number(f.step) if f.kind != "pct" else 1.0,
            format="%.1f" if f.kind == "pct" else ("%d" if whole else "%.0f"),
            key=key,
            help=f.help,  # house words
        )
        out[key] = value / 100 if f.kind == "pct" else value
    return out


def calculator() -> None:
    """The seeds' closed forms with editable inputs, and the LTV tables of a cohort."""
    st.subheader(calc.CALCULATOR_TITLE, anchor=False)
    st.caption(calc.calculator_caption(cur))
    v = _inputs(calc.CLOSED_FORM_KEYS[0]) | _inputs(calc.CLOSED_FORM_KEYS[1])
    d, n, revenue, cost, acq = v["cv_d"], int(v["cv_n"]), v["cv_R"], v["cv_C"], v["cv_A"]
    values = (clv_revenue(revenue, d, n), clv_profit(revenue, cost, d, n),
              clv_contribution(acq, v["cv_P"], v["cv_g"], cost, d, n))  # fmt: skip
    cards = [c for row in range(2) for c in st.columns(2, border=True)]  # formulas fit 1280 px
    for card, (title, formula, label, help_text), value in zip(cards, calc.CLOSED_FORMS, values,
                                                               strict=False):  # fmt: skip
        card.markdown(f"**{title}**")
        card.latex(formula)
        card.metric(label, fmt_money(value, cur, compact=False), help=help_text)
    title, formula, label, help_text = calc.RETENTION_FORM
    cards[3].markdown(f"**{title}**")
    cards[3].latex(formula)
    try:
        value4 = clv_retention(v["cv_m"], v["cv_r"], d)
    except ValueError:
        cards[3].warning(calc.unlimited(v["cv_r"], d), icon="⚠️")
    else:
        cards[3].metric(label, fmt_money(value4, cur, compact=False), help=help_text,
                        delta=f"{fmt_money(value4 - acq, cur, compact=False)} at acquisition (− A)",
                        delta_color="off", delta_arrow="off")  # fmt: skip
    compared = calc.models_compared(*values, cur)
    if compared:
        st.markdown(compared)

    st.divider()
    st.subheader(calc.LTV_TITLE, anchor=False)
    st.caption(calc.plan_caption(n, d))
    p = _inputs(calc.PLAN_KEYS)
    spend = [p["cv_ltv_spend"] * (1 + p["cv_ltv_growth"]) ** t for t in range(n)]
    plan = ltv_table(p["cv_ltv_customers"], p["cv_ltv_retention"], spend,
                     p["cv_ltv_cost_ratio"], acquisition_cost=p["cv_ltv_acq"],
                     discount_rate=d)  # fmt: skip
    ui.plotly_chart(ltv_payback_figure(plan, currency=cur), key="cv_chart_ltv")
    st.markdown(calc.plan_finding(float(plan[LTV][-1]), n, cur))
    st.caption(f"From your inputs, discounted at d = {fmt_pct(d, digits=1)}.")
    _ltv_view(ltv_table_text(plan, cur), key="cv_ltv_table")
    st.divider()
    _actual_cohort()


def _ltv_view(text: pl.DataFrame, *, key: str) -> None:
    st.dataframe(text, hide_index=True, key=key, height=38 + 35 * text.height)


def _actual_cohort() -> None:
    """The observed LTV table of a cohort of the ledger, titled with its finding."""
    cohorts = load.cohorts(*sel.key)
    if not cohorts:
        st.info(calc.NO_COHORT, icon="ℹ️")
        return
    title = st.container()
    pick_column, _ = st.columns([2, 1])
    pick = pick_column.selectbox("Cohort", range(len(cohorts)), key="cv_cohort",
                                 format_func=lambda i: calc.cohort_option(cohorts[i]),
                                 help=calc.COHORT_HELP)  # fmt: skip
    cohort = cohorts[pick or 0]
    table = load.cohort_table(*sel.key, cohort)
    finding = payback_finding(table, cur)
    title.markdown(f"**Actual: your customers {ui.esc(cohort.label)} {finding}**")
    st.caption(calc.cohort_caption(sel.discount_rate, sel.contractual))
    labels = calc.cohort_labels(sel.contractual)
    _ltv_view(ltv_table_text(table, cur, labels), key="cv_cohort_table")


def model_check() -> None:
    """Holdout check by date and the fitted parameters."""
    ends = load.calibration_ends(*sel.key)
    if not ends:
        st.info(copy.NO_CALIBRATION, icon="ℹ️")
    else:
        year_back = next((e for e in ends if (sel.as_of - e).days >= 360), ends[-1])
        pick, _ = st.columns([1, 3])
        cal = pick.selectbox(copy.CALIBRATION_LABEL, ends, index=ends.index(year_back),
                             format_func=copy.day, key="cv_calibration",
                             help=copy.CALIBRATION_HELP)  # fmt: skip
        try:
            check, tracking, buckets = load.holdout(*sel.key, cal)
        except DataError as exc:
            _error("run the holdout check", exc)
        else:
            st.subheader(check.headline, anchor=False)  # house words
            st.markdown(check.summary)  # house words
            if copy.large_error(check):
                st.caption(copy.LARGE_ERROR)
            ui.plotly_chart(tracking, key="cv_chart_tracking")
            ui.plotly_chart(buckets, key="cv_chart_buckets")

    st.subheader(copy.PARAMETERS_TITLE, anchor=False)
    try:
        fitted_on, params = load.parameters(*sel.key)
    except DataError as exc:
        _error("fit a model to this snapshot", exc)
        return
    st.caption(copy.parameters_caption(fitted_on))
    st.table(params, hide_index=True)


sel = state.require_selection()
cur = sel.currency
page_header("Customer value", sel, copy.SUBTITLE)
tabs = st.tabs(list(copy.VIEWS), key="cv_view", bind="query-params")
# Only the open tab runs; each one shows its own errors, so a snapshot the models cannot be
# fitted to still has a working calculator.
for tab, render in zip(tabs, (your_customers, calculator, model_check), strict=True):
    if tab.open is not False:
        with tab:
            render()
