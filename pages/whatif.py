"""What-if: move retention and the other levers per segment and see what it does to the
projected equity, profit and customers; compare named scenarios.

Thin page: widgets -> the cached loaders of ``crm_app.loaders.whatif`` -> render. Slider
values live in the URL (``bind="query-params"``), so a link reproduces a scenario; the
sliders and results are one fragment, so moving a slider reruns only the workbench.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import streamlit as st

import crm_core.whatif.engine
from crm_app import auth, state, ui
from crm_app import whatif_state as store
from crm_app.loaders import whatif as load
from crm_app.state import escape_markdown as esc
from crm_app.ui import kpi_cards, page_header
from crm_core.charts.whatif import MAX_COMPARED, scenario_comparison_figure
from crm_core.charts.whatif_spend import acquisition_figure
from crm_core.copy import whatif as copy
from crm_core.copy import whatif_tables as tables
from crm_core.formatting import CURRENCY_SYMBOLS, fmt_kind
from crm_core.metrics.registry import METRICS
from crm_core.whatif import controls as ctl
from crm_core.whatif import scenarios as saved
from crm_core.whatif.engine import scenario_kpis, scenario_table
from crm_core.whatif.workbench import by_value, default_budget


def _controls(base):
    """The sliders; returns the scenario, horizon, discount rate and draws they set."""
    defaults, values = ctl.slider_defaults(base), {}
    bind = {"bind": "query-params"}
    st.markdown("**Annual retention by segment**")
    for seg in base.segments:
        key = ctl.retention_key(base.codes[seg.name])
        label, help_ = copy.retention_slider(base, seg.name)
        values[key] = st.slider(esc(label), 0.0, 100.0, defaults[key], ctl.RETENTION_STEP,
                                format="%.1f%%", key=key, help=esc(help_), **bind)  # fmt: skip
    st.markdown("**Every segment**")
    for lever in ctl.PERCENT_LEVERS:
        label, help_ = copy.LEVER_WORDS[lever.field]
        values[lever.key] = st.slider(label, lever.low, lever.high, 0, lever.step, format="%+d%%",
                                      key=lever.key, help=help_, **bind)  # fmt: skip
    top, step = ctl.spend_range(base)
    symbol = CURRENCY_SYMBOLS.get(base.currency, f"{base.currency} ")
    values[ctl.SPEND] = st.slider(copy.spend_label(base.currency), 0.0, top, 0.0, step,
                                  format=f"{symbol}%.0f", key=ctl.SPEND, help=copy.SPEND_HELP,
                                  **bind)  # fmt: skip
    st.markdown("**Valuation** (baseline and scenario alike)")
    values[ctl.HORIZON] = st.slider("Horizon (years)", 1, ctl.HORIZON_MAX, defaults[ctl.HORIZON],
                                    key=ctl.HORIZON, help=copy.HORIZON_HELP, **bind)  # fmt: skip
    values[ctl.RATE] = st.slider("Discount rate (% a year)", 0.0, ctl.RATE_MAX, defaults[ctl.RATE],
                                 ctl.RATE_STEP, format="%.1f%%", key=ctl.RATE,
                                 help=copy.RATE_HELP, **bind)  # fmt: skip
    values[ctl.BANDS] = st.toggle("Show the likely range", True, key=ctl.BANDS,
                                  help=copy.bands_help(ctl.DRAWS), **bind)  # fmt: skip
    st.button("Back to the baseline", key="reset", on_click=store.reset, args=(defaults,),
              icon=":material/restart_alt:")  # fmt: skip
    return ctl.scenario_from_controls(base, values)


def _baseline_section(report) -> None:
    """The registry's figures, the backtest line and the baseline table."""
    base, currency = report.baseline, report.baseline.currency
    columns = st.columns(3) + st.columns(3)  # two rows: the registry's labels fit
    for column, (key, value) in zip(columns, report.metrics.items(), strict=False):
        column.metric(METRICS[key].label, fmt_kind(value, METRICS[key].kind, currency),
                      help=METRICS[key].definition, border=True)  # fmt: skip
    if report.backtest is not None:
        st.markdown(esc(copy.backtest_sentence(report.backtest, currency)),
                    help=esc(copy.backtest_help(report.backtest, currency)))  # fmt: skip
    else:
        st.caption(esc(f"No backtest: {report.backtest_note}."))
    with st.expander("How the baseline was measured, segment by segment"):
        st.dataframe(tables.baseline_table(base), hide_index=True, key="table_baseline")
        st.caption("\n".join(f"- {esc(note)}" for note in tables.baseline_notes(base)))


def _results(report, wb, horizon: int, position: tuple) -> None:
    """Headline, cards, the reconciliation line and the projection chart."""
    base, currency = report.baseline, report.baseline.currency
    st.subheader(esc(copy.retention_uplift_sentence(wb.uplift, currency=currency)),
                 help=copy.uplift_help(horizon))  # fmt: skip
    cards = copy.scenario_cards(scenario_kpis(wb.reference, wb.result), horizon)
    kpi_cards(cards[:2], currency, per_row=1, compare="vs baseline")  # long names: a row each
    kpi_cards(cards[2:4], currency, per_row=2, compare="vs baseline")
    st.caption(esc(copy.reconciliation(report.metrics["customer_equity"], report.clv, base,
                                       wb.result)))  # fmt: skip
    st.markdown(f"**{copy.VALUE_PER_CUSTOMER}**")
    segment_cards = tuple(replace(c, label=esc(c.label), help=esc(c.help)) for c in cards[4:])
    kpi_cards(segment_cards, currency, per_row=copy.cards_per_row(cards[4:]), compare="vs baseline")
    left, right = st.columns([3, 2])
    words = copy.PROJECTION_METRICS
    metric = left.segmented_control("Show", list(words), format_func=words.get, default="profit",
                                    key="metric")  # fmt: skip
    segment = right.selectbox("Segment", ["", *base.names], key="proj_seg",
                              format_func=lambda s: s or "All segments")  # fmt: skip
    projection, waterfall = load.result_figures(*position, metric or "profit", segment or None)
    ui.plotly_chart(projection, key="chart_projection")
    if waterfall is not None:
        ui.plotly_chart(waterfall, key="chart_waterfall")
    else:
        st.info(copy.MOVE_A_SLIDER, icon=":material/tune:")


def _analysis(base, wb, tornado_area, budget_area, budget: float, position: tuple) -> None:
    """Tornado, budget split and break-even, into their places on the page."""
    currency = base.currency
    tornado, allocation = load.analysis_figures(*position)
    ui.plotly_chart(tornado, key="chart_tornado", where=tornado_area)
    with budget_area:
        ui.plotly_chart(allocation, key="chart_alloc")
        st.dataframe(tables.allocation_table(wb.allocation, currency), hide_index=True)
        if wb.acquisition is not None:  # channel segments: the same budget on acquisition
            ui.plotly_chart(acquisition_figure(wb.acquisition, currency=currency),
                            key="chart_acquisition")  # fmt: skip
            st.dataframe(tables.acquisition_table(wb.acquisition, currency), hide_index=True)
        if not wb.break_even or budget <= 0:
            return
        st.markdown(esc(copy.break_even_sentence(wb.best_break_even, currency=currency)))
        value = by_value(base)
        st.dataframe(tables.break_even_table(wb.break_even, currency, by_value=value),
                     hide_index=True)  # fmt: skip
        st.caption(tables.break_even_caption(value))


def _save(folder: Path) -> None:
    """The save button: the scenario records who saved it when sign-in is on."""
    with saved.saving_as(auth.current_user()):
        store.save(folder)


def _scenarios(key, base, scenario_key: tuple, folder: Path) -> None:
    """Save, load, delete and compare named scenarios."""
    st.subheader("Named scenarios", help=esc(copy.scenarios_help(str(folder))))
    flash = st.session_state.pop(store.FLASH, None)
    if flash is not None:
        (st.error if flash[0] == "error" else st.success)(esc(flash[1]))
    for file, reason in saved.unreadable_scenarios(folder):
        st.error(esc(f"Saved scenario {file} cannot be used. {reason}"), icon="⚠️")
    names = saved.list_scenarios(folder)
    save, pick = st.columns(2)
    save.text_input("Save the sliders as", key="sc_name", placeholder="e.g. Q3 loyalty plan",
                    max_chars=60)  # fmt: skip
    save.button("Save scenario", key="sc_save", on_click=_save, args=(folder,),
                icon=":material/save:")  # fmt: skip
    hint = "Choose a scenario" if names else "None saved yet"
    picked = pick.selectbox("Saved scenarios", names, index=None, key="sc_pick", placeholder=hint)
    if picked:
        pick.caption(esc(copy.provenance(*saved.scenario_provenance(folder, picked))))
    buttons = pick.columns(2)
    buttons[0].button("Load onto the sliders", key="sc_load", on_click=store.load,
                      args=(base, folder), disabled=not names,
                      icon=":material/upload:")  # fmt: skip
    buttons[1].button("Delete", key="sc_del", on_click=store.delete, args=(folder,),
                      disabled=not names, icon=":material/delete:")  # fmt: skip
    chosen = st.multiselect(f"Compare with the baseline (up to {MAX_COMPARED - 1})", names,
                            max_selections=MAX_COMPARED - 1, key="sc_cmp",
                            placeholder="Choose saved scenarios")  # fmt: skip
    results = {"Baseline": load.projection(key, None, *scenario_key)} if chosen else {}
    for name in chosen:
        try:
            results[name] = load.projection(key, saved.load_scenario(folder, name), *scenario_key)
        except ValueError as exc:
            st.error(esc(f"Could not compare {name!r}. {exc}"), icon="⚠️")
    if len(results) >= 2:
        figure = scenario_comparison_figure(results, currency=base.currency)
        ui.plotly_chart(figure, key="chart_comparison")
        st.dataframe(tables.comparison_table(scenario_table(results), scenario_key[0],
                                             base.currency), hide_index=True)  # fmt: skip


@st.fragment
def _workbench(key: load.Key, folder: Path) -> None:
    """Sliders and everything that depends on them (reruns alone when a slider moves)."""
    if sys.modules.get(crm_core.whatif.engine.__name__) is not crm_core.whatif.engine:
        st.rerun(scope="app")  # the source changed and Streamlit reloaded the modules
    report = load.start(*key)
    base = report.baseline
    left, right = st.columns([1, 2.6], gap="large")
    with left, st.container(border=True):
        scenario, horizon, rate, draws = _controls(base)
    st.session_state[store.CURRENT] = scenario
    st.divider()
    st.subheader(copy.TORNADO_TITLE, help=copy.TORNADO_HELP)
    per_segment = st.toggle("One bar per segment", value=False, key="trn_seg")
    tornado_area = st.container()
    st.subheader(copy.BUDGET_TITLE, help=copy.BUDGET_HELP)
    budget = st.number_input(f"Yearly retention budget ({base.currency})", min_value=0.0,
                             value=default_budget(base), step=max(default_budget(base) / 10, 1.0),
                             format="%.0f", key="budget")  # fmt: skip
    budget_area = st.container()
    position = (key, scenario, horizon, rate, draws, float(budget), per_segment)
    wb = load.workbench(*position)
    with right:
        _results(report, wb, horizon, position)
    _analysis(base, wb, tornado_area, budget_area, float(budget), position)
    st.divider()
    _scenarios(key, base, (horizon, rate, draws), folder)


sel = state.require_selection()
page_header("What-if", sel, copy.SUBTITLE)
top = st.columns([1, 1, 2])
choice = top[0].selectbox("Segments", list(copy.GROUPINGS), key="seg", bind="query-params",
                          help=copy.GROUPING_HELP)  # fmt: skip
curve = sel.contractual and top[1].toggle(copy.CURVE_LABEL, value=False, key="curve",
                                          bind="query-params", help=copy.CURVE_HELP)  # fmt: skip
baseline_key: load.Key = (*sel.key, copy.GROUPINGS[choice], bool(curve))
with state.guard("the what-if baseline"):
    start = load.start(*baseline_key)
store.follow_baseline(baseline_key, start.baseline)
_baseline_section(start)
_workbench(baseline_key, Path(sel.path).parent / store.SCENARIO_FOLDER)
