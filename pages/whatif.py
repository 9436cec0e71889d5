"""What-if: move retention and the other levers per segment and see what it does to
customer equity, profit and customers; compare named scenarios.

Thin page: the baseline comes from ``crm_core.whatif.baseline`` (cached per snapshot, date
and segmentation), every projection from ``crm_core.whatif.engine`` / ``.optimize``, every
figure from ``crm_core.charts.whatif``. Slider values live in the URL (``bind=
"query-params"``), so a link reproduces a scenario; the sliders and results are one
fragment, so moving a slider reruns only the engine and the drawing.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import streamlit as st

import crm_core.whatif.engine
from crm_app import state
from crm_app.ui import kpi_cards, page_header
from crm_core.charts.whatif import (
    MAX_COMPARED,
    allocation_figure,
    break_even_sentence,
    equity_waterfall_figure,
    projection_figure,
    retention_uplift_sentence,
    scenario_comparison_figure,
    tornado_figure,
)
from crm_core.formatting import CURRENCY_SYMBOLS, fmt_count, fmt_money, fmt_pct
from crm_core.whatif.baseline import BASELINE_LABELS, Baseline, baseline_segments
from crm_core.whatif.engine import (
    Levers,
    Scenario,
    SimulationResult,
    apply_scenario,
    retention_uplift,
    run_scenario,
    scenario_kpis,
    scenario_table,
    simulate,
)
from crm_core.whatif.optimize import break_even, optimize_retention_budget, sensitivity
from crm_core.whatif.scenarios import (
    delete_scenario,
    list_scenarios,
    load_scenario,
    save_scenario,
    unreadable_scenarios,
)

# Segmentation choices in words -> baseline_segments(by=...); no bare strings in a page:
# Streamlit's magic would print them.
GROUPINGS = {"Profit tiers": "tier", "RFM": "rfm", "Channels": "channel", "Regions": "region"}
DRAWS = 1_000
RETENTION_STEP = 0.5  # percentage points
SCENARIO_FOLDER = "scenarios"
_IDENTITY = "_whatif_baseline"
_FLASH = "_whatif_flash"
_CURRENT = "_whatif_scenario"  # the scenario on the sliders at the last run

# Levers applied to every segment: key (URL parameter), label, min, max, step, help.
PERCENT_LEVERS: tuple[tuple[str, str, str, int, int, int, str], ...] = (
    ("mg", "margin_pct", "Margin per customer, change", -50, 50, 1,
     "Extra (or lost) revenue at the same costs, in percent of today's margin per customer."),
    ("cts", "cost_to_serve_pct", "Cost to serve, change", -50, 100, 5,
     "Service costs per customer in percent of today's; the margin moves by the difference."),
    ("acqv", "acquisition_volume_pct", "New customers per year, change", -100, 200, 5,
     "Customers acquired each year in percent of the last twelve months' number."),
    ("acqc", "acquisition_cost_pct", "Acquisition cost, change", -50, 100, 5,
     "Cost per new customer in percent of the last twelve months' average."),
)  # fmt: skip


# ----------------------------------------------------------------------------- cached core calls


@st.cache_data(show_spinner="Measuring today's segments…", max_entries=32)
def _baseline(path: str, stamp: str, as_of: date, by: str, curve: bool) -> Baseline:
    return baseline_segments(state.snapshot(path, stamp, as_of), by=by, retention_curve=curve)


BaselineKey = tuple[str, str, date, str, bool]


@st.cache_data(show_spinner=False, max_entries=128)
def _run(
    key: BaselineKey, scenario: Scenario | None, horizon: int, rate: float, draws: int
) -> SimulationResult:
    """Projection of the baseline (``scenario=None``) or of a scenario (same seed: common
    random numbers, so the bands of two scenarios differ only by the levers)."""
    segments = _baseline(*key).segments
    if scenario is None:
        return simulate(segments, horizon_years=horizon, discount_rate=rate, draws=draws)
    return run_scenario(segments, scenario, horizon_years=horizon, discount_rate=rate, draws=draws)


@st.cache_data(show_spinner=False, max_entries=64)
def _uplift(key: BaselineKey, horizon: int, rate: float):
    return retention_uplift(_baseline(*key).segments, horizon_years=horizon, discount_rate=rate)


@st.cache_data(show_spinner=False, max_entries=64)
def _tornado(
    key: BaselineKey, scenario: Scenario, horizon: int, rate: float, per_segment: bool
) -> pl.DataFrame:
    segments = apply_scenario(_baseline(*key).segments, scenario)
    return sensitivity(segments, horizon_years=horizon, discount_rate=rate, per_segment=per_segment)


@st.cache_data(show_spinner="Finding the best split…", max_entries=64)
def _optimise(key: BaselineKey, scenario: Scenario, horizon: int, rate: float, budget: float):
    segments = apply_scenario(_baseline(*key).segments, scenario)
    return optimize_retention_budget(segments, budget, horizon_years=horizon, discount_rate=rate)


@st.cache_data(show_spinner=False, max_entries=64)
def _break_even(key: BaselineKey, scenario: Scenario, horizon: int, rate: float, spend: float):
    segments = apply_scenario(_baseline(*key).segments, scenario)
    return [
        break_even(s, spend, horizon_years=horizon, discount_rate=rate)
        for s in segments
        if s.customers + s.acquisition_per_year > 0
    ]


# ----------------------------------------------------------------------------- widget state


def _retention_default(retention: float) -> float:
    """Slider start for an observed retention (fraction): percent on the slider's grid."""
    return round(retention * 100 / RETENTION_STEP) * RETENTION_STEP


def _retention_key(code: str) -> str:
    return f"r_{code}"


def _spend_range(base: Baseline) -> tuple[float, float]:
    """Maximum and step of the extra-retention-spend slider (currency per customer)."""
    top = max(abs(base.company_margin), 1.0)
    magnitude = 10 ** max(len(str(int(top))) - 1, 0)
    top = max(round(top / magnitude) * magnitude, magnitude)
    return float(top), float(top / 100)


def _defaults(base: Baseline) -> dict[str, float | int | bool]:
    """Every slider's starting value: the observed baseline."""
    values: dict[str, float | int | bool] = {
        _retention_key(base.codes[s.name]): _retention_default(s.retention) for s in base.segments
    }
    values |= {key: 0 for key, *_ in PERCENT_LEVERS}
    values |= {
        "spend": 0.0,
        "h": base.horizon_years,
        "d": round(base.discount_rate * 100 / 0.5) * 0.5,
        "bands": True,
    }
    return values


def _reset(values: dict[str, float | int | bool]) -> None:
    """Callback: put the sliders back on the observed values."""
    for key, value in values.items():
        st.session_state[key] = value


def _follow_baseline(identity: tuple, base: Baseline) -> None:
    """When the user picks another snapshot, date or segmentation, start from its values.

    On a new session (a shared link) nothing is reset: the URL's values apply.
    """
    previous = st.session_state.get(_IDENTITY)
    st.session_state[_IDENTITY] = identity
    if previous is not None and previous != identity:
        defaults = _defaults(base)
        keep = {key for key, *_ in PERCENT_LEVERS} | {"bands"}
        _reset({k: v for k, v in defaults.items() if k not in keep})


def _load_into_sliders(base: Baseline, folder: Path) -> None:
    """Callback of the Load button: the saved scenario's values go onto the sliders."""
    name = st.session_state.get("sc_pick")
    if not name:
        return
    try:
        scenario = load_scenario(folder, name)
        targets = base.retention_targets(scenario)
    except ValueError as exc:
        st.session_state[_FLASH] = ("error", f"**Could not load {name!r}.** {exc}")
        return
    values = _defaults(base)
    adjusted: list[str] = []
    for segment, target in targets.items():
        key = _retention_key(base.codes[segment])
        values[key] = min(max(round(target * 100, 1), 0.0), 100.0)
    lv = scenario.levers
    for key, field_name, label, low, high, *_ in PERCENT_LEVERS:
        wanted = getattr(lv, field_name)
        values[key] = min(max(round(wanted), low), high)
        if values[key] != wanted:
            adjusted.append(f"{label.split(',')[0].lower()} {wanted:+g}% set to {values[key]:+d}%")
    top, _ = _spend_range(base)
    values["spend"] = min(lv.extra_retention_spend, top)
    if values["spend"] != lv.extra_retention_spend:
        adjusted.append(f"retention spend capped at {fmt_money(top, base.currency)}")
    if scenario.horizon_years is not None:
        values["h"] = min(scenario.horizon_years, 30)
    if scenario.discount_rate is not None:
        values["d"] = min(round(scenario.discount_rate * 100 / 0.5) * 0.5, 30.0)
    others = sorted(
        seg
        for seg, own in scenario.segment_levers
        if any(v for k, v in own.to_dict().items() if k != "retention_points")
    )
    if others:
        adjusted.append(f"levers that apply to {', '.join(others)} only are not on the sliders")
    _reset(values)
    st.session_state["sc_name"] = scenario.name
    message = f"Loaded {scenario.name!r} onto the sliders."
    if adjusted:
        message += " The sliders cannot show it exactly: " + "; ".join(adjusted) + "."
    st.session_state[_FLASH] = ("success", message)


def _save_current(folder: Path) -> None:
    """Callback of the Save button: the scenario on the sliders, under the typed name."""
    scenario = st.session_state.get(_CURRENT)
    name = st.session_state.get("sc_name", "")
    if scenario is None:
        return
    try:
        save_scenario(folder, replace(scenario, name=name))
    except ValueError as exc:
        st.session_state[_FLASH] = ("error", f"**Could not save the scenario.** {exc}")
    else:
        st.session_state[_FLASH] = ("success", f"Saved {name.strip()!r}.")


def _delete_picked(folder: Path) -> None:
    """Callback of the Delete button."""
    name = st.session_state.get("sc_pick")
    if not name:
        return
    delete_scenario(folder, name)
    st.session_state["sc_pick"] = None
    st.session_state["sc_cmp"] = [n for n in st.session_state.get("sc_cmp", []) if n != name]
    st.session_state[_FLASH] = ("success", f"Deleted {name!r}.")


# ----------------------------------------------------------------------------- sections


def _controls(base: Baseline) -> tuple[Scenario, int, float, int]:
    """The sliders; returns the scenario they describe, horizon, discount rate, draws."""
    currency = base.currency
    defaults = _defaults(base)
    st.markdown("**Annual retention by segment**")
    targets: dict[str, float] = {}
    for seg, row in zip(base.segments, base.table.iter_rows(named=True), strict=True):
        key = _retention_key(base.codes[seg.name])
        observed = fmt_pct(seg.retention, digits=1)
        if row["retention_source"] == "observed":
            help_ = (
                f"Observed: {fmt_count(row['observed_retained'])} of the "
                f"{fmt_count(row['observed_at_risk'])} customers in {seg.name} a year ago are "
                f"still active ({observed}). Move the slider to set another rate."
            )
        else:
            help_ = (
                f"Nobody was in {seg.name} a year ago, so the company's retention ({observed}) "
                "is used."
            )
        value = st.slider(
            f"{seg.name} (observed {observed})",
            min_value=0.0,
            max_value=100.0,
            value=defaults[key],
            step=RETENTION_STEP,
            format="%.1f%%",
            key=key,
            bind="query-params",
            help=help_,
        )
        if value != defaults[key]:
            targets[seg.name] = value / 100.0
    st.markdown("**Every segment**")
    changes = {}
    for key, field_name, label, low, high, step, help_ in PERCENT_LEVERS:
        changes[field_name] = st.slider(
            label,
            min_value=low,
            max_value=high,
            value=0,
            step=step,
            format="%+d%%",
            key=key,
            bind="query-params",
            help=help_,
        )
    top, step = _spend_range(base)
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    spend = st.slider(
        f"Extra retention spend per customer a year ({currency})",
        min_value=0.0,
        max_value=top,
        value=0.0,
        step=step,
        format=f"{symbol}%.0f",
        key="spend",
        bind="query-params",
        help="Spent on every active customer each year (loyalty offers, service). It raises "
        "retention along a response curve with diminishing returns: at most half of the "
        "churn can be removed, and a tenth of a segment's yearly margin per customer buys "
        "half of that.",
    )
    st.markdown("**Valuation** (baseline and scenario alike)")
    horizon = st.slider(
        "Horizon (years)",
        min_value=1,
        max_value=30,
        value=int(defaults["h"]),
        key="h",
        bind="query-params",
        help="Years of profit counted in customer equity; new customers join in each of them.",
    )
    rate = st.slider(
        "Discount rate (% a year)",
        min_value=0.0,
        max_value=30.0,
        value=float(defaults["d"]),
        step=0.5,
        format="%.1f%%",
        key="d",
        bind="query-params",
        help="Yearly rate at which future profit is discounted (the snapshot's is the start).",
    )
    bands = st.toggle(
        "Show the likely range",
        value=True,
        key="bands",
        bind="query-params",
        help=f"Simulate {fmt_count(DRAWS)} outcomes from the uncertainty of the observed "
        "retention and margins and shade the range of the middle 80%.",
    )
    st.button(
        "Back to the observed values",
        key="reset",
        on_click=_reset,
        args=(defaults,),
        icon=":material/restart_alt:",
    )
    scenario = base.scenario(
        targets,
        Levers(extra_retention_spend=spend, **changes),
        horizon_years=horizon if horizon != base.horizon_years else None,
        discount_rate=rate / 100 if rate != defaults["d"] else None,
    )
    return scenario, horizon, rate / 100, DRAWS if bands else 0


def _results(
    base: Baseline,
    baseline: SimulationResult,
    result: SimulationResult,
    changed: bool,
) -> None:
    """Cards and the projection chart (right of the sliders)."""
    currency = base.currency
    kpis = scenario_kpis(baseline, result)
    compare = "vs baseline"
    kpi_cards(kpis[:4], currency, per_row=2, compare=compare)
    st.markdown("**CLV per customer of today's segments**")
    kpi_cards(kpis[4:], currency, per_row=min(len(kpis) - 4, 3), compare=compare)
    metrics = {
        "profit": "Profit",
        "customers": "Customers",
        "discounted_profit": "Discounted profit",
    }
    left, right = st.columns([3, 2])
    metric = left.segmented_control(
        "Show",
        options=list(metrics),
        format_func=metrics.__getitem__,
        default="profit",
        key="metric",
    )
    segment = right.selectbox(
        "Segment",
        options=["", *base.names],
        format_func=lambda s: s or "All segments",
        key="proj_seg",
    )
    st.plotly_chart(
        projection_figure(
            baseline,
            result if changed else None,
            metric=metric or "profit",
            currency=currency,
            segment=segment or None,
        ),
        key="chart_projection",
    )


def _analysis(
    key: BaselineKey, base: Baseline, scenario: Scenario, horizon: int, rate: float
) -> None:
    """Tornado, budget optimiser and break-even, all from the current scenario."""
    currency = base.currency
    st.subheader(
        "Which lever matters most",
        help="Customer equity when one lever moves down or up and the rest stay where the "
        "sliders are: retention by 1 point, the others by 10%, the horizon by a year or more.",
    )
    per_segment = st.toggle("One bar per segment", value=False, key="trn_seg")
    st.plotly_chart(
        tornado_figure(
            _tornado(key, scenario, horizon, rate, per_segment),
            currency=currency,
            top=10,
            reference_name="the sliders' values",
        ),
        key="chart_tornado",
    )
    st.subheader(
        "Where the next retention dollar goes",
        help="A yearly retention budget split across segments to add the most customer "
        "equity, net of the spend, on the response curve of the spend slider. The budget "
        "is the first year's spend; later years spend the same per customer.",
    )
    default_budget = float(f"{max(0.05 * base.company_margin * base.customers, 100.0):.1g}")
    budget = st.number_input(
        f"Yearly retention budget ({currency})",
        min_value=0.0,
        value=default_budget,
        step=max(default_budget / 10, 1.0),
        format="%.0f",
        key="budget",
    )
    allocation = _optimise(key, scenario, horizon, rate, float(budget))
    st.plotly_chart(allocation_figure(allocation, currency=currency), key="chart_allocation")
    table = allocation.allocation
    st.dataframe(
        {
            "Segment": table["segment"].to_list(),
            "Budget a year": [fmt_money(v, currency) for v in table["budget"]],
            "Per customer a year": [fmt_money(v, currency) for v in table["spend_per_customer"]],
            "Retention now": [fmt_pct(v, digits=1) for v in table["retention_before"]],
            "Retention with the spend": [fmt_pct(v, digits=1) for v in table["retention_after"]],
            "Customer equity added": [fmt_money(v, currency) for v in table["equity_gain"]],
        },
        hide_index=True,
        key="table_allocation",
    )
    st.markdown(f"**If the whole {fmt_money(budget, currency)} went to one segment**")
    rows = _break_even(key, scenario, horizon, rate, float(budget))
    if not rows or budget <= 0:
        return
    by_value = base.by in ("tier", "rfm")
    if by_value:  # nobody can buy customers into a tier: compare with retention only
        rows = [
            replace(r, customers_bought_per_year=None, acquisition_equity_gain=None) for r in rows
        ]
    best = max(rows, key=lambda r: r.retention_equity_gain)
    st.markdown(break_even_sentence(best, currency=currency))
    columns = {
        "Segment": [r.segment for r in rows],
        "Rise needed": [
            "never" if r.required_points is None else f"{r.required_points:.1f} pts" for r in rows
        ],
        "Expected rise": [f"{r.bought_points:.1f} pts" for r in rows],
        "Pays off": ["yes" if r.pays_off else "no" for r in rows],
        "Equity added": [fmt_money(r.retention_equity_gain, currency) for r in rows],
    }
    if not by_value:
        columns |= {
            "Or: new customers a year": [
                "n/a"
                if r.customers_bought_per_year is None
                else fmt_count(round(r.customers_bought_per_year))
                for r in rows
            ],
            "Equity from those": [fmt_money(r.acquisition_equity_gain, currency) for r in rows],
            "Better use": [r.better_use for r in rows],
        }
    st.dataframe(columns, hide_index=True, key="table_break_even")
    st.caption(
        "Rise needed: retention points (customers kept in every 100 a year) the spend must buy "
        "to pay for itself. Expected rise: what the response curve of the spend slider "
        "predicts for the first year. "
        + (
            "Customers cannot be bought into a segment defined by value, so the comparison "
            "with spending the money on acquisition is shown for channels and regions."
            if by_value
            else "Or: the same money spent each year on new customers of that segment at its "
            "acquisition cost, and the customer equity they would add."
        )
    )


def _scenarios(
    key: BaselineKey,
    base: Baseline,
    scenario: Scenario,
    baseline: SimulationResult,
    horizon: int,
    rate: float,
    draws: int,
    folder: Path,
) -> None:
    """Save, load, delete and compare named scenarios."""
    currency = base.currency
    st.subheader(
        "Named scenarios",
        help=f"Saved as JSON files in {folder} (the folder of the snapshots). A scenario "
        "stores the changes from the baseline (retention in points per segment, the other "
        "levers in percent), so it can be applied to a later snapshot; the horizon and "
        "discount rate are stored when they differ from the snapshot's. Names: letters, "
        "digits, spaces, dashes and underscores, up to 60 characters.",
    )
    flash = st.session_state.pop(_FLASH, None)
    if flash is not None:
        kind, message = flash
        if kind == "error":
            st.error(message, icon="⚠️")
        else:
            st.success(message)
    for file, reason in unreadable_scenarios(folder):
        st.error(f"**Saved scenario {file} cannot be used.** {reason}", icon="⚠️")
    names = list_scenarios(folder)
    save, load = st.columns(2)
    with save:
        st.text_input(
            "Save the sliders as",
            key="sc_name",
            placeholder="e.g. Q3 loyalty plan",
            max_chars=60,
        )
        st.button(
            "Save scenario",
            key="sc_save",
            on_click=_save_current,
            args=(folder,),
            icon=":material/save:",
        )
    with load:
        st.selectbox(
            "Saved scenarios",
            options=names,
            index=None,
            placeholder="Choose a scenario" if names else "None saved yet",
            key="sc_pick",
        )
        buttons = st.columns(2)
        buttons[0].button(
            "Load onto the sliders",
            key="sc_load",
            on_click=_load_into_sliders,
            args=(base, folder),
            disabled=not names,
            icon=":material/upload:",
        )
        buttons[1].button(
            "Delete",
            key="sc_del",
            on_click=_delete_picked,
            args=(folder,),
            disabled=not names,
            icon=":material/delete:",
        )
    chosen = st.multiselect(
        f"Compare with the baseline (up to {MAX_COMPARED - 1})",
        options=names,
        max_selections=MAX_COMPARED - 1,
        key="sc_cmp",
        placeholder="Choose saved scenarios",
    )
    if not chosen:
        return
    results = {"Baseline": baseline}
    for chosen_name in chosen:
        try:
            saved = load_scenario(folder, chosen_name)
            results[saved.name] = _run(key, saved, horizon, rate, draws)
        except ValueError as exc:
            st.error(f"**Could not compare {chosen_name!r}.** {exc}", icon="⚠️")
    if len(results) < 2:
        return
    st.plotly_chart(scenario_comparison_figure(results, currency=currency), key="chart_comparison")
    table = scenario_table(results)
    st.dataframe(
        {
            "Scenario": table["scenario"].to_list(),
            "Customer equity": [fmt_money(v, currency) for v in table["customer_equity"]],
            "Change vs baseline": [
                ("+" if v >= 0 else "") + fmt_money(v, currency) for v in table["equity_change"]
            ],
            "Value of today's customers": [fmt_money(v, currency) for v in table["equity_current"]],
            f"Profit over {horizon} years": [fmt_money(v, currency) for v in table["profit"]],
            f"Customers in year {horizon}": [fmt_count(round(v)) for v in table["customers_end"]],
        },
        hide_index=True,
        key="table_comparison",
    )


def _baseline_table(base: Baseline) -> None:
    """The observed inputs per segment, in words, and how they were measured."""
    currency = base.currency
    rows = base.table.to_dicts()

    def marked(text: str, source: str) -> str:
        return text if source == "observed" else f"{text} (company)"

    columns = {
        "segment": [r["segment"] for r in rows],
        "customers": [fmt_count(r["customers"]) for r in rows],
        "observed_at_risk": [fmt_count(r["observed_at_risk"]) for r in rows],
        "observed_retained": [fmt_count(r["observed_retained"]) for r in rows],
        "retention": [
            marked(fmt_pct(r["retention"], digits=1), r["retention_source"]) for r in rows
        ],
        "margin": [marked(fmt_money(r["margin"], currency), r["margin_source"]) for r in rows],
        "cost_to_serve": [fmt_money(r["cost_to_serve"], currency) for r in rows],
        "acquisition_per_year": [fmt_count(round(r["acquisition_per_year"])) for r in rows],
        "acquisition_cost": [fmt_money(r["acquisition_cost"], currency) for r in rows],
    }
    st.dataframe(
        {BASELINE_LABELS[c]: values for c, values in columns.items()},
        hide_index=True,
        key="table_baseline",
    )
    st.caption("\n".join(f"- {note}" for note in base.notes))


# ----------------------------------------------------------------------------- the page


@st.fragment
def _workbench(key: BaselineKey, folder: str) -> None:
    """Sliders and everything that depends on them (reruns alone when a slider moves)."""
    if sys.modules.get(crm_core.whatif.engine.__name__) is not crm_core.whatif.engine:
        # The source changed and Streamlit unloaded the modules: objects read back from the
        # cache would be of the new classes while this fragment holds the old ones.
        st.rerun(scope="app")
    base = _baseline(*key)
    currency = base.currency
    left, right = st.columns([1, 2.6], gap="large")
    with left, st.container(border=True):
        scenario, horizon, rate, draws = _controls(base)
    st.session_state[_CURRENT] = scenario
    baseline = _run(key, None, horizon, rate, draws)
    changed = not all(v.is_zero for v in (scenario.levers, *dict(scenario.segment_levers).values()))
    result = _run(key, scenario, horizon, rate, draws) if changed else baseline
    with right:
        uplift = _uplift(key, horizon, rate)
        st.subheader(
            retention_uplift_sentence(uplift, currency=currency),
            help="Every segment keeps 5 more customers in every 100 each year, at the observed "
            f"rates, over {horizon} years. Reichheld & Sasser (HBR 1990) found that 5 points "
            "more retention raised profits by 25% to 85% across industries.",
        )
        _results(base, baseline, result, changed)
        if changed:
            st.plotly_chart(
                equity_waterfall_figure(baseline, result, currency=currency),
                key="chart_waterfall",
            )
        else:
            st.info(
                "Move a slider: the change in customer equity appears here, segment by segment.",
                icon=":material/tune:",
            )
    st.divider()
    _analysis(key, base, scenario, horizon, rate)
    st.divider()
    _scenarios(key, base, scenario, baseline, horizon, rate, draws, Path(folder))


sel = state.require_selection()
page_header("What-if", sel, "move the sliders: every number follows")
top = st.columns([1, 1, 2])
choice = top[0].selectbox(
    "Segments",
    options=list(GROUPINGS),  # the URL carries the option's text: short words
    key="seg",
    bind="query-params",
    help="How customers are grouped: profit tiers (top 10%, next 20%, other 70% by profit "
    "over the last twelve months), RFM segments, acquisition channels or regions.",
)
by = GROUPINGS[choice]
curve = False
if sel.contractual:
    curve = top[1].toggle(
        "Retention rises with tenure",
        value=False,
        key="curve",
        bind="query-params",
        help="Use a retention curve by tenure fitted to the contracts (shifted-beta-geometric "
        "model) instead of one flat rate per segment: new customers churn more in their "
        "first year, long-standing ones less.",
    )
baseline_key: BaselineKey = (*sel.key, by, curve)
with state.guard("the what-if baseline"):
    base_now = _baseline(*baseline_key)
_follow_baseline(baseline_key, base_now)
with st.expander(
    f"Today's segments: {fmt_count(base_now.customers)} active customers, "
    f"{fmt_pct(base_now.company_retention, digits=1)} annual retention, "
    f"{fmt_money(base_now.company_margin, sel.currency)} margin per customer a year"
):
    _baseline_table(base_now)
_workbench(baseline_key, str(Path(sel.path).parent / SCENARIO_FOLDER))
