"""Segments: who earns the profit and where the money goes.

ABC profit tiers (the seeds' 10/20/70 table), the whale curve, the activity value matrix,
RFM segments with their migration, and cost to serve by touchpoint and sales channel per
tier, for the customers of the chosen window, regions and acquisition channels. Clicking a
tier lists its customers, downloadable as CSV.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

import polars as pl
import polars.selectors as cs
import streamlit as st

from crm_app import state
from crm_app.ui import page_header
from crm_core.charts import segments as charts
from crm_core.clv.customer import customer_clv
from crm_core.data.expressions import months_before
from crm_core.formatting import CURRENCY_SYMBOLS, fmt_count, fmt_money, fmt_pct
from crm_core.segments.profit import ProfitWindow
from crm_core.segments.report import (
    COLUMN_LABELS,
    QUADRANTS,
    TIERS,
    FilterOptions,
    SegmentReport,
    humanise,
    segment_filter_options,
    segment_report,
    tier_name,
)
from crm_core.segments.rfm import RFMMigration, RFMReport, rfm_migration, rfm_report

WINDOWS = (3, 6, 12, 24)  # months
AMORTISE = {
    "none": ("Charged in full when acquired", None),
    "2": ("Spread over 2 years", 2.0),
    "3": ("Spread over 3 years", 3.0),
    "5": ("Spread over 5 years", 5.0),
}
VIEWS = ("Profit tiers", "Whale curve", "Value matrix", "RFM segments", "Cost to serve")
MIGRATION_STEPS = (3, 6, 12, 24)  # months before the as-of date

# ----------------------------------------------------------------------------- cached core calls


@st.cache_data(show_spinner=False, max_entries=16)
def _options(path: str, stamp: str, as_of: date) -> FilterOptions:
    return segment_filter_options(state.snapshot(path, stamp, as_of))


@st.cache_data(show_spinner="Ranking customers by profit…", max_entries=64)
def _segments(
    path: str,
    stamp: str,
    as_of: date,
    months: int,
    cutoffs: tuple[float, float, float],
    amortise_years: float | None,
    regions: tuple[str, ...],
    channels: tuple[str, ...],
    thresholds: tuple[float, float] | None,
) -> SegmentReport:
    clv, _ = _clv(path, stamp, as_of)
    return segment_report(
        state.snapshot(path, stamp, as_of),
        ProfitWindow.trailing(as_of, months),
        cutoffs,
        amortise_years,
        regions,
        channels,
        clv=clv,
        value_thresholds=thresholds,
    )


@st.cache_data(show_spinner="Valuing customers (CLV)…", max_entries=16)
def _clv(path: str, stamp: str, as_of: date) -> tuple[pl.DataFrame | None, str]:
    """Per-customer CLV (``customer_id, clv``) and the method, or ``None`` and the reason."""
    try:
        result = customer_clv(state.snapshot(path, stamp, as_of))
    except ValueError as exc:  # ModelFitError and SnapshotError: the data cannot support it
        return None, str(exc)
    return result.table.select("customer_id", "clv"), result.method


@st.cache_data(show_spinner="Scoring recency, frequency and spend…", max_entries=32)
def _rfm(
    path: str,
    stamp: str,
    as_of: date,
    months: int,
    amortise_years: float | None,
    regions: tuple[str, ...],
    channels: tuple[str, ...],
) -> RFMReport:
    return rfm_report(
        state.snapshot(path, stamp, as_of),
        window=ProfitWindow.trailing(as_of, months),
        amortise_years=amortise_years,
        regions=regions,
        channels=channels,
    )


@st.cache_data(show_spinner="Following customers between segments…", max_entries=32)
def _migration(
    path: str,
    stamp: str,
    as_of: date,
    regions: tuple[str, ...],
    channels: tuple[str, ...],
    compare_with: date,
) -> RFMMigration:
    return rfm_migration(
        state.snapshot(path, stamp, as_of), compare_with, regions=regions, channels=channels
    )


# ----------------------------------------------------------------------------- table helpers


def _table(frame: pl.DataFrame, columns: dict[str, tuple[str, str]], *, key: str, **kw) -> None:
    """Show ``frame`` with words for headers and formats by kind.

    ``columns`` maps a column to ``(label, kind)``; kinds: ``money`` (whole units, the
    currency in the header), ``cents`` (two decimals), ``pct`` (a fraction shown as 12.3%),
    ``count``, ``one`` (one decimal), ``date``, ``text``. Only the listed columns are shown,
    in that order.
    """
    unit = CURRENCY_SYMBOLS.get(cur, cur)
    formats = {"money": "%,.0f", "cents": "%,.2f", "pct": "%.1f%%", "count": "%,d", "one": "%.1f"}
    config: dict[str, object] = {}
    for name, (label, kind) in columns.items():
        if kind == "text":
            config[name] = st.column_config.TextColumn(label)
        elif kind == "date":
            config[name] = st.column_config.DateColumn(label, format="D MMM YYYY")
        elif kind in ("money", "cents"):
            config[name] = st.column_config.NumberColumn(f"{label} ({unit})", format=formats[kind])
        else:
            config[name] = st.column_config.NumberColumn(label, format=formats[kind])
    shown = frame.select(list(columns)).with_columns(
        (cs.enum() | cs.categorical()).cast(pl.String),
        # shares in percent; "+ 0.0" turns a rounded -0.0 into 0.0
        *((pl.col(n) * 100).round(1) + 0.0 for n, (_, kind) in columns.items() if kind == "pct"),
    )
    st.dataframe(shown, column_config=config, hide_index=True, key=key, **kw)


def _tier_summary(report: SegmentReport) -> pl.DataFrame:
    """The seeds' A/B/C table, measures as rows and tiers (plus all customers) as columns."""
    rows = {str(r["tier"]): r for r in report.tiers.iter_rows(named=True)}
    t = report.tiers
    total = {
        "customers": int(t["customers"].sum()),
        **{
            c: float(t[c].sum())
            for c in (
                "revenue",
                "total_cost",
                "direct_cost",
                "service_cost",
                "acquisition_cost_charged",
                "profit",
            )
        },
    }
    n = total["customers"]
    total |= {
        "customer_share": 1.0,
        "revenue_share": 1.0,
        "cost_share": 1.0,
        "profit_share": 1.0 if report.whale_stats.meaningful else None,
        "profit_per_customer": total["profit"] / n if n else None,
        "service_cost_per_customer": total["service_cost"] / n if n else None,
        "avg_clv": report.customers["clv"].mean() if report.has_clv else None,
    }
    money = partial(fmt_money, currency=report.currency)
    exact = partial(fmt_money, currency=report.currency, compact=False)
    measures: list[tuple[str, str, Callable[[Any], str]]] = [
        ("Customers", "customers", fmt_count),
        ("Share of customers", "customer_share", charts.share_text),
        ("Revenue", "revenue", money),
        ("Share of revenue", "revenue_share", charts.share_text),
        ("Total costs", "total_cost", money),
        ("· direct cost of sales", "direct_cost", money),
        ("· cost to serve", "service_cost", money),
        ("· acquisition cost", "acquisition_cost_charged", money),
        ("Share of total costs", "cost_share", charts.share_text),
        ("Net profit", "profit", money),
        ("Share of net profit", "profit_share", charts.share_text),
        ("Net profit per customer", "profit_per_customer", exact),
        ("Cost to serve per customer", "service_cost_per_customer", exact),
    ]
    if not report.whale_stats.meaningful:
        measures = [m for m in measures if m[1] != "profit_share"]
    if report.has_clv:
        measures.append(("Average CLV (future margin)", "avg_clv", exact))
    columns: dict[str, list[str]] = {"": [m[0] for m in measures]}
    for tier in TIERS:
        columns[tier_name(tier, report.cutoffs)] = [f(rows[tier][c]) for _, c, f in measures]
    columns["All customers"] = [f(total[c]) for _, c, f in measures]
    return pl.DataFrame(columns)


def _customers_csv(frame: pl.DataFrame) -> bytes:
    """Drill-down list with the column words of the page (opens cleanly in a spreadsheet)."""
    return (
        frame.with_columns((cs.enum() | cs.categorical()).cast(pl.String), cs.float().round(2))
        .rename({c: COLUMN_LABELS[c] for c in frame.columns})
        .write_csv()
        .encode("utf-8")
    )


# ----------------------------------------------------------------------------- controls


sel = state.require_selection()
cur = sel.currency
page_header(
    "Segments: who earns the profit",
    sel,
    "customers ranked by net profit: revenue − direct cost − cost to serve − acquisition cost",
)

with state.guard("the filter options"):
    options = _options(*sel.key)

with st.container(border=True):
    c_window, c_acq, c_tiers = st.columns([1, 1.2, 2])
    with c_window:
        months = st.selectbox(
            "Profit window",
            WINDOWS,
            index=WINDOWS.index(12),
            format_func=lambda m: f"Last {m} months",
            key="seg_months",
            bind="query-params",
            help="Profit is counted over the months ending on the as-of date. Customers with "
            "a purchase, a service contact or an acquisition in the window are ranked.",
        )
    with c_acq:
        acq_key = st.selectbox(
            "Acquisition cost",
            list(AMORTISE),
            format_func=lambda k: AMORTISE[k][0],
            key="seg_acq",
            bind="query-params",
            help="Charged in full in the window a customer was won, or spread evenly over "
            "a number of years from the acquisition date.",
        )
    with c_tiers:
        a_end, b_end = st.slider(
            "Tier boundaries (% of customers, most profitable first)",
            min_value=1,
            max_value=99,
            value=(10, 30),
            step=1,
            format="%d%%",
            key="seg_tiers",
            bind="query-params",
            help="Tier A is the most profitable customers up to the first handle, tier B up to "
            "the second, tier C the rest. The seeds use 10% / 20% / 70%.",
        )
        st.caption(
            f"A: top {a_end}% · B: next {b_end - a_end}% · C: other {100 - b_end}% of customers"
        )
    c_region, c_channel = st.columns(2)
    with c_region:
        regions = st.multiselect(
            "Regions",
            options.regions,
            key="seg_region",
            bind="query-params",
            placeholder="All regions",
            help="Tiers, medians and shares are computed within the selected customers.",
        )
    with c_channel:
        channels = st.multiselect(
            "Acquisition channels",
            options.channels,
            key="seg_channel",
            bind="query-params",
            placeholder="All acquisition channels",
            help="Tiers, medians and shares are computed within the selected customers.",
        )

cutoffs = (a_end / 100, (b_end - a_end) / 100, (100 - b_end) / 100)
amortise = AMORTISE[acq_key][1]
window = ProfitWindow.trailing(sel.as_of, months)
thresholds_key = (
    (float(st.session_state["seg_vm_freq"]), float(st.session_state["seg_vm_amount"]))
    if st.session_state.get("seg_vm_custom")
    and "seg_vm_freq" in st.session_state
    and "seg_vm_amount" in st.session_state
    else None
)

with state.guard("the segment analysis"):
    report = _segments(
        *sel.key,
        months,
        cutoffs,
        amortise,
        tuple(sorted(regions)),
        tuple(sorted(channels)),
        thresholds_key,
    )

filters = []
if regions:
    filters.append(", ".join(regions))
if channels:
    filters.append("acquired via " + ", ".join(channels))
scope = f"{window.label}" + (f" · {'; '.join(filters)}" if filters else "")

if report.is_empty:
    st.info(
        f"**No customer bought, contacted us or was acquired in {scope}.** Choose a longer "
        "profit window, another *As of* date in the sidebar, or clear the region and channel "
        "filters.",
        icon="ℹ️",
    )
    st.stop()

stats = report.whale_stats
if not stats.meaningful:
    still = (
        f"{fmt_count(stats.profitable_customers)} customers were still profitable"
        if stats.profitable_customers
        else "No customer was profitable"
    )
    st.warning(
        f"**Customers lost {fmt_money(-stats.total_profit, cur)} in total over {scope}.** "
        "Shares of profit are not meaningful when the total is a loss, so the charts show "
        f"amounts in {cur} instead. {still}; compare the cost to serve and the direct costs "
        "with the revenue below.",
        icon="⚠️",
    )

# ----------------------------------------------------------------------------- headline cards

k1, k2, k3, k4, k5 = st.columns(5)
k1.metric(
    "Customers",
    fmt_count(stats.customers),
    help="Customers with a purchase, a service contact or an acquisition in the window "
    "(after the filters).",
    border=True,
)
k2.metric(
    "Net profit",
    fmt_money(stats.total_profit, cur),
    help="Revenue net of refunds minus direct cost, cost to serve and acquisition cost.",
    border=True,
)
k3.metric(
    f"Top {fmt_pct(cutoffs[0])} earn",
    fmt_pct(report.top_profit_share) if report.top_profit_share is not None else "n/a",
    help="Share of net profit earned by tier A, the most profitable customers (the same "
    "number as the Executive overview's headline for the same window).",
    border=True,
)
k4.metric(
    "Profitable customers",
    fmt_pct(stats.peak_customer_share),
    help="Share of customers whose profit in the window is above zero.",
    border=True,
)
k5.metric(
    "Lost by loss-makers",
    fmt_money(-stats.loss_tail_profit, cur),
    help="Total loss of the customers with negative profit: what they give back of the "
    "profit the others earn.",
    border=True,
)

views = st.tabs(list(VIEWS), key="seg_view", bind="query-params")

# ----------------------------------------------------------------------------- tiers + drill-down

with views[0]:
    event = st.plotly_chart(
        charts.abc_shares(report),
        key="seg_abc_chart",
        on_select="rerun",
        selection_mode="points",
    )
    clicked = [p.get("curve_number") for p in (event.selection.points if event else [])]
    click_key = tuple(clicked)
    if clicked and st.session_state.get("_seg_last_click") != click_key:
        tier_index = clicked[0]
        if tier_index is not None and 0 <= tier_index < len(TIERS):
            st.session_state["seg_tier"] = TIERS[tier_index]
    st.session_state["_seg_last_click"] = click_key

    st.table(_tier_summary(report), hide_index=True)
    _, clv_note = _clv(*sel.key)
    clv_text = (
        f"Average CLV: expected future margin per customer, {clv_note}."
        if report.has_clv
        else f"Average CLV is not shown: {clv_note}"
    )
    st.caption(
        "The seeds' benchmark (a leisure company): tier A, 10% of customers, earns 75% of net "
        "profit; tier C, 70%, earns 5% and causes 50% of costs. Customers are ranked by net "
        f"profit, highest first; equal profits are ordered by customer id. {clv_text}"
    )

    st.subheader("Customers in a tier", anchor=False)
    pick = st.segmented_control(
        "Tier",
        TIERS,
        default="A",
        format_func=lambda t: tier_name(t, cutoffs),
        key="seg_tier",
        required=True,
        help="Click a tier in the chart above or choose it here.",
    )
    tier = pick or "A"
    members = report.tier_customers(tier)
    member_cols = {
        "customer_id": ("Customer", "text"),
        "profit_rank": ("Profit rank", "count"),
        "profit": ("Net profit", "cents"),
        "revenue": ("Revenue", "cents"),
        "direct_cost": ("Direct cost", "cents"),
        "service_cost": ("Cost to serve", "cents"),
        "acquisition_cost_charged": ("Acquisition cost", "cents"),
        "transactions": ("Purchases", "count"),
        "quadrant": ("Value quadrant", "text"),
        "region": ("Region", "text"),
        "acquisition_channel": ("Acquisition channel", "text"),
        "acquired_on": ("Acquired on", "date"),
    }
    if report.has_clv:
        member_cols["clv"] = ("CLV", "cents")
    left, right = st.columns([3, 1])
    tier_share = report.tiers.filter(pl.col("tier") == tier)["profit_share"][0]
    left.markdown(
        f"**{fmt_count(members.height)} customers in tier {tier_name(tier, cutoffs)}** earn "
        f"{fmt_money(members['profit'].sum(), cur)} net profit"
        + (f" ({charts.share_text(tier_share)} of the total)." if stats.meaningful else ".")
    )
    right.download_button(
        f"Download tier {tier} as CSV",
        data=_customers_csv(members.drop("clv") if not report.has_clv else members),
        file_name=f"segments-tier-{tier}-{sel.as_of.isoformat()}.csv",
        mime="text/csv",
        key="seg_download",
        icon=":material/download:",
        on_click="ignore",
    )
    _table(members, member_cols, key="seg_members", height=360)

# ----------------------------------------------------------------------------- whale curve

with views[1]:
    st.plotly_chart(charts.whale_curve(report), key="seg_whale_chart")
    if stats.meaningful and stats.unprofitable_customers:
        st.markdown(
            f"Ranked from most to least profitable, customers earn **{fmt_pct(stats.peak_share)}"
            f"** of the total by the time the last profitable one is counted "
            f"({fmt_pct(stats.peak_customer_share)} of customers). The remaining "
            f"{fmt_count(stats.unprofitable_customers)} customers lose "
            f"**{fmt_money(-stats.loss_tail_profit, cur)}**, giving back "
            f"{fmt_pct(stats.given_back_share, digits=1)} of profit. Making them break even "
            "— cheaper service channels, fewer costly contacts, or a minimum order — is worth "
            "as much as that."
        )
    st.caption(
        "Whale curve: Kaplan & Narayanan, *Measuring and managing customer profitability* "
        "(2001). When total profit is negative the curve is drawn in currency."
    )

# ----------------------------------------------------------------------------- value matrix

with views[2]:
    vm = report.value_matrix
    with st.container(border=True):
        custom = st.toggle(
            "Choose the thresholds (otherwise split at the medians)",
            key="seg_vm_custom",
            help="Frequent: more purchases a year than the threshold. High spend: more "
            "revenue a year than the threshold.",
        )
        if custom:
            t1, t2 = st.columns(2)
            t1.number_input(
                "Frequent above (purchases a year)",
                min_value=0.0,
                value=round(vm.frequency_threshold or 0.0, 1),
                step=1.0,
                key="seg_vm_freq",
            )
            t2.number_input(
                f"High spend above ({cur} a year)",
                min_value=0.0,
                value=float(round(vm.amount_threshold or 0.0)),
                step=50.0,
                key="seg_vm_amount",
            )
    st.plotly_chart(charts.value_matrix(report), key="seg_matrix_chart")
    _table(
        vm.table,
        {
            "quadrant": ("Quadrant", "text"),
            "customers": ("Customers", "count"),
            "customer_share": ("% of customers", "pct"),
            "revenue": ("Revenue", "money"),
            "profit": ("Net profit", "money"),
            "profit_share": ("% of profit", "pct"),
            "profit_per_customer": ("Avg. profit", "cents"),
        },
        key="seg_quadrants",
    )
    st.table(
        pl.DataFrame(
            {
                "Quadrant": [q.name for q in QUADRANTS],
                "What it means": [q.meaning for q in QUADRANTS],
                "Recommended action": [q.action for q in QUADRANTS],
            }
        ),
        hide_index=True,
    )
    st.caption(
        "The activity matrix of the seeds (credit cards): frequency shows the habit, yearly "
        "amount the capacity to spend."
    )

# ----------------------------------------------------------------------------- RFM

with views[3]:
    with state.guard("the RFM segments"):
        rfm_now = _rfm(*sel.key, months, amortise, tuple(sorted(regions)), tuple(sorted(channels)))
    if rfm_now.is_empty:
        st.info("No customer has a purchase to score yet.", icon="ℹ️")
    else:
        st.plotly_chart(charts.rfm_segment_shares(rfm_now), key="seg_rfm_chart")
        _table(
            rfm_now.segments,
            {
                "segment": ("Segment", "text"),
                "customers": ("Customers", "count"),
                "customer_share": ("% of customers", "pct"),
                "profit": ("Net profit", "money"),
                "profit_share": ("% of profit", "pct"),
                "median_recency_days": ("Median days since last purchase", "count"),
                "avg_frequency": ("Avg. purchase days", "one"),
                "avg_monetary": ("Avg. revenue", "money"),
            },
            key="seg_rfm_table",
        )
        st.table(
            rfm_now.segments.select(
                pl.col("segment").cast(pl.String).alias("Segment"),
                pl.col("description").alias("Who they are"),
                pl.col("action").alias("Recommended action"),
            ),
            hide_index=True,
        )
        st.caption(
            "Scores 1-5 are quintiles of days since the last purchase (recency), purchase "
            "days (frequency) and revenue (monetary) over the whole history; segments follow "
            "the usual map of recency against frequency-and-spend. Net profit over "
            f"{window.label}."
        )

        st.subheader("How customers moved between segments", anchor=False)
        first = options.first_purchase
        earlier = {
            months_before(sel.as_of, m): (
                f"{months_before(sel.as_of, m):%d %b %Y} ({m} months earlier)"
            )
            for m in MIGRATION_STEPS
            if first is not None and months_before(sel.as_of, m) > first
        }
        if not earlier:
            st.info("The history is too short to compare with an earlier date.", icon="ℹ️")
        else:
            compare = st.columns([1, 2])[0].selectbox(
                "Compare with",
                list(earlier),
                format_func=earlier.__getitem__,
                key="seg_rfm_from",
                help="Where the customers of each segment on that date are now. Scores are "
                "recomputed at each date from the data recorded up to it.",
            )
            with state.guard("the segment migration"):
                migration = _migration(
                    *sel.key, tuple(sorted(regions)), tuple(sorted(channels)), compare
                )
            st.plotly_chart(charts.rfm_migration_heatmap(migration), key="seg_mig_chart")

# ----------------------------------------------------------------------------- cost to serve

with views[4]:
    st.plotly_chart(charts.cost_to_serve(report), key="seg_cts_chart")
    st.plotly_chart(charts.touchpoint_burden(report), key="seg_burden_chart")
    st.plotly_chart(charts.channel_mix(report), key="seg_channel_chart")
    _table(
        report.cost_to_serve.with_columns(
            pl.col("tier").cast(pl.String).replace({t: tier_name(t, cutoffs) for t in TIERS}),
            pl.col("touchpoint").map_elements(humanise, return_dtype=pl.String),
        ),
        {
            "tier": ("Tier", "text"),
            "touchpoint": ("Touchpoint", "text"),
            "contacts": ("Contacts", "count"),
            "cost": ("Cost", "money"),
            "cost_per_customer": ("Cost per customer", "cents"),
            "cost_per_contact": ("Cost per contact", "cents"),
            "share_of_touchpoint_cost": ("Share of the touchpoint's cost", "pct"),
        },
        key="seg_cts_table",
    )
