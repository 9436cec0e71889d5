"""Segments: who earns the profit and where the money goes.

ABC profit tiers (the seeds' 10/20/70 table), the whale curve, the value matrix, RFM
segments with their migration, and cost to serve by touchpoint and sales channel per tier,
for the customers of the chosen window, regions and acquisition channels. Widgets -> one
cached loader call (:mod:`crm_app.loaders.segments`) -> render; only the open tab's
content is computed and drawn.
"""

from __future__ import annotations

import polars as pl
import polars.selectors as cs
import streamlit as st

from crm_app import state, ui
from crm_app.loaders import base
from crm_app.loaders.segments import filter_choices, segments_view
from crm_app.ui import page_header
from crm_core.copy import segments as copy
from crm_core.copy import segments_tables as tables
from crm_core.formatting import CURRENCY_SYMBOLS
from crm_core.segments.drilldown import rounded
from crm_core.segments.tiers import TIERS, tier_name

FORMATS = {"money": "%,.0f", "cents": "%,.2f", "pct": "%.1f%%", "count": "%,d", "one": "%.1f"}


def table(frame: pl.DataFrame, kinds: dict[str, str], *, key: str, **kw) -> None:
    """``frame``'s columns ``kinds`` (column -> kind) with words for headers, formatted by
    kind: money (whole units), cents, pct (a fraction shown as 12.3%), count, one, date,
    text."""
    unit = CURRENCY_SYMBOLS.get(sel.currency, sel.currency)
    config: dict[str, object] = {}
    for name, kind in kinds.items():
        label = tables.COLUMN_LABELS[name]
        if kind == "text":
            config[name] = st.column_config.TextColumn(label)
        elif kind == "date":
            config[name] = st.column_config.DateColumn(label, format="D MMM YYYY")
        elif kind in ("money", "cents"):
            config[name] = st.column_config.NumberColumn(f"{label} ({unit})", format=FORMATS[kind])
        else:
            config[name] = st.column_config.NumberColumn(label, format=FORMATS[kind])
    shown = frame.select(list(kinds)).with_columns(
        (cs.enum() | cs.categorical()).cast(pl.String),
        *(rounded(n, 1, scale=100.0) for n, k in kinds.items() if k == "pct"),
    )
    st.dataframe(shown, column_config=config, hide_index=True, key=key, **kw)


def clicked_tier() -> str | None:
    """The tier last clicked in the A/B/C chart (a new click only)."""
    event = st.session_state.get("seg_abc_chart") or {}
    points = (event.get("selection") or {}).get("points") or []
    click = tuple(p.get("curve_number") for p in points)
    fresh = click and st.session_state.get("_seg_last_click") != click
    st.session_state["_seg_last_click"] = click
    index = click[0] if fresh else None
    return TIERS[index] if index is not None and 0 <= index < len(TIERS) else None


# ----------------------------------------------------------------------------- controls

sel = state.require_selection()
page_header(copy.TITLE, sel, copy.SUBTITLE)
with state.guard("the filter options"):
    choices = filter_choices(*sel.key)

with st.container(border=True):
    c_window, c_acq, c_tiers = st.columns([1, 1.2, 2])
    months = c_window.selectbox(
        "Profit window", copy.WINDOWS, index=copy.WINDOWS.index(12),
        format_func=lambda m: f"Last {m} months", key="seg_months", bind="query-params",
        help=copy.HELP["window"],
    )  # fmt: skip
    acq_key = c_acq.selectbox(
        "Acquisition cost", list(copy.AMORTISE), format_func=lambda k: copy.AMORTISE[k][0],
        key="seg_acq", bind="query-params", help=copy.HELP["acquisition"],
    )  # fmt: skip
    a_end, b_end = c_tiers.slider(
        "Tier boundaries (% of customers, most profitable first)", min_value=1, max_value=99,
        value=(10, 30), step=1, format="%d%%", key="seg_tiers", bind="query-params",
        help=copy.HELP["tiers"],
    )  # fmt: skip
    c_tiers.caption(
        f"A: top {a_end}% · B: next {b_end - a_end}% · C: other {100 - b_end}% of customers"
    )
    c_region, c_channel = st.columns(2)
    regions = c_region.multiselect(
        "Regions", choices.options.regions, key="seg_region", bind="query-params",
        placeholder="All regions", help=copy.HELP["filters"],
    )  # fmt: skip
    channels = c_channel.multiselect(
        "Acquisition channels", choices.options.channels, key="seg_channel",
        bind="query-params", placeholder="All acquisition channels", help=copy.HELP["filters"],
    )  # fmt: skip

cutoffs = (a_end / 100, (b_end - a_end) / 100, (100 - b_end) / 100)
custom = st.session_state.get("seg_vm_custom") and "seg_vm_freq" in st.session_state
thresholds = (
    (float(st.session_state["seg_vm_freq"]), float(st.session_state["seg_vm_amount"]))
    if custom and "seg_vm_amount" in st.session_state
    else None
)
compare_options = {c.months: copy.migration_choice(c.months) for c in choices.comparisons}

top = st.container()
body = st.empty()  # the tabs, cleared when nobody is in the window
tabs = body.container().tabs(list(copy.VIEWS), key="seg_view", bind="query-params")
view = next((name for name, tab in zip(copy.VIEWS, tabs, strict=True) if tab.open), copy.VIEWS[0])
compare = None
with tabs[3]:
    # laid out now, before the loader call, so its (URL-bound) value is known in this run;
    # the RFM segments fill the container above it, the migration the one below
    rfm_area = st.container()
    if tabs[3].open and compare_options:
        st.subheader("How customers moved between segments", anchor=False)
        compare = st.columns([1, 2])[0].selectbox(
            "Compare with", list(compare_options), format_func=compare_options.get,
            key="seg_rfm_from", bind="query-params", help=copy.HELP["migration"],
        )  # fmt: skip
    migration_area = st.container()
clicked = clicked_tier()
if clicked:
    st.session_state["seg_tier"] = clicked
tier = st.session_state.get("seg_tier") or "A"

with state.guard("the segment analysis"):
    page = segments_view(
        *sel.key, months, cutoffs, copy.AMORTISE[acq_key][1], tuple(sorted(regions)),
        tuple(sorted(channels)), thresholds, view, tier, compare,
    )  # fmt: skip
report = page.report

# ----------------------------------------------------------------------------- headline

with top:
    if report.is_empty:
        body.empty()
        st.info(copy.empty_message(report), icon="ℹ️")
        st.stop()
    if not report.whale_stats.meaningful:
        st.warning(copy.loss_message(report), icon="⚠️")
    for row in (page.cards[:3], page.cards[3:]):  # three a row: every label fits at 1280 px
        for column, card in zip(st.columns(3), row, strict=False):
            column.metric(card.label, card.value, help=card.help, border=True)  # house words
    st.caption(state.escape_markdown(page.customers_note))

# ----------------------------------------------------------------------------- tabs

figures = page.figures
with tabs[0]:
    if tabs[0].open:
        ui.plotly_chart(
            figures["abc"], key="seg_abc_chart", on_select="rerun", selection_mode="points"
        )
        st.table(tables.tier_summary(report), hide_index=True)
        st.caption(f"{copy.CAPTIONS['tiers']} {state.escape_markdown(page.clv_note)}")
        st.subheader("Customers in a tier", anchor=False)
        st.segmented_control(
            "Tier", TIERS, default="A", format_func=lambda t: tier_name(t, cutoffs),
            key="seg_tier", required=True, help=copy.HELP["tier_pick"],
        )  # fmt: skip
        members = page.members
        left, right = st.columns([3, 1])
        left.markdown(copy.tier_lead(report, members.tier, members.customers, members.profit))
        right.download_button(
            f"Download tier {members.tier} as CSV", data=members.csv,  # house words
            file_name=members.file_name, mime="text/csv", key="seg_download",
            icon=":material/download:", on_click="ignore",
        )  # fmt: skip
        table(members.shown, members.columns, key="seg_members", height=360)
        st.caption(copy.shown_rows(members.shown.height, members.customers))

with tabs[1]:
    if tabs[1].open:
        ui.plotly_chart(figures["whale"], key="seg_whale_chart")
        finding = copy.whale_finding(report)
        if finding:
            st.markdown(finding)
        st.caption(copy.CAPTIONS["whale"])

with tabs[2]:
    if tabs[2].open:
        vm = report.value_matrix
        with st.container(border=True):
            if st.toggle(
                "Choose the thresholds (otherwise split at the medians)", key="seg_vm_custom",
                help=copy.HELP["thresholds"],
            ):  # fmt: skip
                t1, t2 = st.columns(2)
                t1.number_input(
                    "Frequent above (purchases a year)", min_value=0.0, step=1.0,
                    value=round(vm.frequency_threshold or 0.0, 1), key="seg_vm_freq",
                )  # fmt: skip
                t2.number_input(
                    f"High spend above ({sel.currency} a year)", min_value=0.0, step=50.0,
                    value=float(round(vm.amount_threshold or 0.0)), key="seg_vm_amount",
                )  # fmt: skip
        ui.plotly_chart(figures["matrix"], key="seg_matrix_chart")
        table(vm.table, tables.QUADRANT_COLUMNS, key="seg_quadrants")
        st.table(tables.quadrant_text(), hide_index=True)
        st.caption(copy.CAPTIONS["matrix"])

if tabs[3].open and page.rfm is not None:
    with rfm_area:
        if page.rfm.is_empty:
            st.info("No customer has a purchase to score yet.", icon="ℹ️")
        else:
            ui.plotly_chart(figures["rfm"], key="seg_rfm_chart")
            table(page.rfm.segments, tables.RFM_COLUMNS, key="seg_rfm_table")
            st.table(tables.rfm_text(), hide_index=True)
            st.caption(copy.rfm_caption(report))
    with migration_area:
        if not compare_options:
            st.info("The history is too short to compare with an earlier date.", icon="ℹ️")
        elif "migration" in figures:
            ui.plotly_chart(figures["migration"], key="seg_mig_chart")

with tabs[4]:
    if tabs[4].open:
        ui.plotly_chart(figures["cost"], key="seg_cts_chart")
        ui.plotly_chart(figures["burden"], key="seg_burden_chart")
        ui.plotly_chart(figures["channels"], key="seg_channel_chart")
        touchpoints = tables.touchpoint_rows(report)
        if touchpoints.height:
            table(touchpoints, tables.TOUCHPOINT_COLUMNS, key="seg_cts_table")
        st.caption(copy.CAPTIONS["costs"])
        if note := base.sampled_rows_note(*sel.key):
            st.caption(note)  # house words
