"""Lifecycle: where customers are in their relationship and how they move.

Stages (prospect, new, growing, mature, declining, churned) with their share of customers,
revenue and CLV and the time spent in them; transitions since an earlier date with the
value that moved into decline and churn; the funnel from prospect to a customer still
active after N years; cohort retention (customers and revenue); profit per customer by
tenure year. Thresholds of the stage rules can be changed on the page.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl
import streamlit as st

from crm_app import state
from crm_app.ui import kpi_cards, page_header
from crm_core.charts import lifecycle as charts
from crm_core.charts.segments import share_text
from crm_core.data.expressions import add_months
from crm_core.formatting import CURRENCY_SYMBOLS, fmt_count, fmt_money
from crm_core.lifecycle.cohorts import RETENTION, REVENUE_RETENTION, CohortReport, cohort_retention
from crm_core.lifecycle.funnel import FunnelReport, lifecycle_funnel
from crm_core.lifecycle.report import (
    DECLINING,
    PROSPECT,
    STAGE_LABELS,
    LifecycleReport,
    StageRules,
    lifecycle_report,
)
from crm_core.lifecycle.tenure import TenureProfit, tenure_profit

COMPARE_MONTHS = (3, 6, 12)
COMPARE_LABELS = {3: "Last quarter (3 months)", 6: "6 months earlier", 12: "A year earlier"}
TABS = ("Stages", "Transitions", "Funnel", "Cohorts", "Profit by tenure")
DEFAULT = StageRules()

# ----------------------------------------------------------------------------- cached core calls


@st.cache_data(show_spinner="Placing every customer in a lifecycle stage…", max_entries=32)
def _lifecycle(
    path: str, stamp: str, as_of: date, rules: StageRules, compare_to: date
) -> LifecycleReport:
    return lifecycle_report(state.snapshot(path, stamp, as_of), rules, compare_to)


@st.cache_data(show_spinner="Counting the funnel…", max_entries=32)
def _funnel(path: str, stamp: str, as_of: date, years: int, rules: StageRules) -> FunnelReport:
    return lifecycle_funnel(state.snapshot(path, stamp, as_of), years=years, rules=rules)


@st.cache_data(show_spinner="Following the acquisition cohorts…", max_entries=16)
def _cohorts(path: str, stamp: str, as_of: date) -> CohortReport:
    return cohort_retention(state.snapshot(path, stamp, as_of))


@st.cache_data(show_spinner="Adding up profit by tenure year…", max_entries=16)
def _tenure(path: str, stamp: str, as_of: date, min_year_fraction: float) -> TenureProfit:
    return tenure_profit(state.snapshot(path, stamp, as_of), min_year_fraction=min_year_fraction)


# ----------------------------------------------------------------------------- helpers


def _day(d: date) -> str:
    return f"{d:%d %b %Y}"


def _money_column(label: str) -> st.column_config.NumberColumn:
    unit = CURRENCY_SYMBOLS.get(sel.currency, sel.currency)
    return st.column_config.NumberColumn(f"{label} ({unit})", format="%,.0f")


def _pct_column(label: str) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(label, format="%.1f%%")


def _percent(*columns: str) -> list[pl.Expr]:
    """Fractions shown as percentages (st.dataframe formats numbers, not fractions)."""
    return [(pl.col(c) * 100).round(1).alias(c) for c in columns]


def _cards(prefix: str, per_row: int) -> None:
    """The report's KPI cards whose key starts with ``prefix``, labelled by stage."""
    kpis = [
        replace(k, label=STAGE_LABELS[k.key.removeprefix(prefix)])
        for k in report.kpis
        if k.key.startswith(prefix)
    ]
    kpi_cards(kpis, cur, per_row=per_row, compare=f"vs {_day(compare_to)}")


def _rules_controls(contractual: bool) -> StageRules:
    """The stage thresholds, from the sliders in the "Stage rules" expander."""
    with st.expander("Stage rules: how customers are placed in a stage", icon=":material/rule:"):
        st.caption(
            "The rules are tried in the order churned, new, declining, growing, mature; the "
            "first that holds gives the stage, so every customer has exactly one. A "
            "customer's usual gap is the mean time between their purchase days."
        )
        a, b, c = st.columns(3)
        new_days = a.slider(
            "New for (days after the first purchase)",
            30,
            180,
            DEFAULT.new_days,
            15,
            key="lc_new_days",
        )
        mature_days = a.slider(
            "Mature after (days since the first purchase)",
            180,
            730,
            DEFAULT.mature_days,
            30,
            key="lc_mature_days",
        )
        trend_months = b.slider(
            "Trend windows (months)",
            2,
            12,
            DEFAULT.trend_months,
            1,
            key="lc_trend_months",
            help="Spend in the last N months is compared with the N months before.",
        )
        drop = b.slider(
            "Declining when spend falls by more than",
            10,
            90,
            int(DEFAULT.decline_drop * 100),
            5,
            format="%d%%",
            key="lc_drop",
        )
        decline_after = c.slider(
            "Overdue (declining) after at least (days without a purchase)",
            30,
            365,
            DEFAULT.decline_after_days,
            15,
            key="lc_decline_after",
            help=f"…and more than {DEFAULT.decline_gap_multiple:g}x the customer's usual gap.",
        )
        churn_after = DEFAULT.churn_after_days
        if not contractual:
            churn_after = c.slider(
                "Churned after at least (days without a purchase)",
                90,
                730,
                DEFAULT.churn_after_days,
                15,
                key="lc_churn_after",
                help=f"…and more than {DEFAULT.churn_gap_multiple:g}x the customer's usual gap "
                f"(never more than {DEFAULT.churn_max_days} days).",
            )
        p_alive = None
        if not contractual and st.toggle(
            "Also flag customers the BG/NBD model thinks have probably left",
            key="lc_use_p_alive",
            help="Declining when the probability of still being active, P(alive), from the "
            "BG/NBD model fitted on this snapshot is below the threshold.",
        ):
            p_alive = (
                st.slider("P(alive) below", 10, 90, 50, 5, format="%d%%", key="lc_p_alive") / 100
            )
        rules = StageRules(
            new_days=new_days,
            mature_days=max(mature_days, new_days),
            trend_months=trend_months,
            decline_drop=drop / 100,
            decline_after_days=decline_after,
            churn_after_days=churn_after,
            churn_max_days=max(DEFAULT.churn_max_days or churn_after, churn_after),
            decline_p_alive=p_alive,
        )
        st.markdown(
            "\n".join(f"- {text}" for text in rules.definitions(contractual=contractual).values())
        )
    return rules


# ----------------------------------------------------------------------------- controls

sel = state.require_selection()
cur = sel.currency
page_header(
    "Lifecycle: stages, funnel and retention",
    sel,
    "shorten exploration, speed up formation, lengthen stability, avoid decline",
)

with st.container(border=True):
    c_compare, c_years, _ = st.columns([1.2, 1, 1.6])
    with c_compare:
        back = st.selectbox(
            "Compare with",
            COMPARE_MONTHS,
            format_func=lambda m: COMPARE_LABELS[m],
            key="lc_compare",
            bind="query-params",
            help="Deltas on the cards and the transitions compare the as-of date with this "
            "earlier date (last quarter: this quarter against the previous quarter end).",
        )
    with c_years:
        years = st.selectbox(
            "Funnel: still active after",
            (1, 2, 3),
            index=1,
            format_func=lambda y: f"{y} year{'s' if y > 1 else ''}",
            key="lc_years",
            bind="query-params",
            help="The funnel's last step: stable customers still buying this many years after "
            "their first purchase (only customers that old count in its rate).",
        )
    rules = _rules_controls(sel.contractual)

compare_to = add_months(sel.as_of, -back)
with state.guard("the lifecycle stages"):
    report = _lifecycle(*sel.key, rules, compare_to)

summary = {r["stage"]: r for r in report.summary.iter_rows(named=True)}
declining = summary[DECLINING]
moved = report.transitions.into_declining
churned = report.transitions.into_churned
st.subheader(
    f"{fmt_count(declining['customers'])} customers are declining, carrying "
    f"{fmt_money(declining['revenue_ttm'], cur)} of the last 12 months' revenue",
    help="Declining is the early warning: overdue against the customer's own rhythm, or "
    "spending clearly less than before. Open the Stage rules above for the exact rules.",
)
st.caption(
    f"Since {_day(compare_to)}: {fmt_count(moved.customers)} customers "
    f"({fmt_money(moved.revenue_ttm, cur)} of 12-month revenue) started declining and "
    f"{fmt_count(churned.customers)} ({fmt_money(churned.revenue_ttm, cur)}) churned. "
    f"{fmt_count(summary[PROSPECT]['customers'])} open prospects are not counted as customers."
)
st.markdown(
    "**Share of customers in each stage**",
    help="All customers acquired so far, leads excluded: the five shares add up to 100%. "
    "Hover over a card for the stage's rule.",
)
_cards("customers_", per_row=5)

views = st.tabs(list(TABS), key="lc_view", bind="query-params")

# ----------------------------------------------------------------------------- stages

with views[0]:
    st.plotly_chart(charts.stage_value_mix(report), key="lc_mix_chart")
    st.markdown(
        "**Share of the last 12 months' revenue**",
        help="Revenue net of refunds over the trailing twelve months, by the customer's "
        "stage today.",
    )
    _cards("revenue_", per_row=5)
    st.markdown(
        "**Average time in the stage so far**",
        help="The aim: shorten exploration (new), speed up formation (growing), lengthen "
        "stability (mature), avoid decline.",
    )
    _cards("months_", per_row=4)
    if report.stage_value("mature", "whole_history_share"):
        st.caption(
            f"Time in stage is read from each customer's stage at every month end over the "
            f"last {report.history_months} months; customers in the same stage for the whole "
            "period count with that many months (a lower bound)."
        )
    st.plotly_chart(charts.stage_history_chart(report), key="lc_history_chart")

    before = {r["stage"]: r for r in report.previous_summary.iter_rows(named=True)}
    table = (
        report.summary.filter(pl.col("stage") != PROSPECT)
        .with_columns(
            pl.col("stage")
            .replace_strict({s: before[s]["customers"] for s in before})
            .alias("previous"),
        )
        .with_columns(
            (pl.col("customers") - pl.col("previous")).alias("change"),
            *_percent("share_of_customers", "share_of_revenue", "share_of_clv"),
        )
    )
    columns = {
        "label": st.column_config.TextColumn("Stage"),
        "customers": st.column_config.NumberColumn("Customers", format="%,d"),
        "change": st.column_config.NumberColumn(
            "Change", format="%+,d", help=f"Customers in the stage now minus on {_day(compare_to)}"
        ),
        "share_of_customers": _pct_column("% of customers"),
        "revenue_ttm": _money_column("Revenue 12m"),
        "share_of_revenue": _pct_column("% of revenue"),
        "clv": _money_column("CLV"),
        "share_of_clv": _pct_column("% of CLV"),
        "months_in_stage": st.column_config.NumberColumn(
            "Months in stage", format="%.1f", help="Average time in the stage so far"
        ),
    }
    if report.summary["clv"].is_null().all():
        columns.pop("clv")
        columns.pop("share_of_clv")
    st.dataframe(
        table.select(list(columns)),
        column_config=columns,
        hide_index=True,
        key="lc_stage_table",
    )
    st.caption(f"Customer lifetime value: {report.clv_method}.")

    st.markdown("**Early warning: the declining customers worth most**")
    signals = report.decline_signals
    if signals.height:
        st.caption(
            " · ".join(f"{s}: {fmt_count(n)}" for s, n in signals.iter_rows())
            + " (a customer can show several signals)"
        )
    watch = (
        report.stages.filter(pl.col("stage") == DECLINING)
        .with_columns(
            pl.concat_str(
                [
                    pl.when(pl.col("overdue")).then(pl.lit("overdue")),
                    pl.when(pl.col("spend_drop")).then(pl.lit("spend fell")),
                    pl.when(pl.col("low_p_alive")).then(pl.lit("low P(alive)")),
                ],
                separator=", ",
                ignore_nulls=True,
            ).alias("signal")
        )
        .sort("revenue_ttm", descending=True)
    )
    watch_columns = {
        "customer_id": st.column_config.TextColumn("Customer"),
        "channel": st.column_config.TextColumn("Acquisition channel"),
        "signal": st.column_config.TextColumn("Signal"),
        "last_purchase": st.column_config.DateColumn("Last purchase", format="D MMM YYYY"),
        "days_since_activity": st.column_config.NumberColumn("Days since", format="%,d"),
        "mean_gap_days": st.column_config.NumberColumn("Usual gap (days)", format="%,.0f"),
        "revenue_ttm": _money_column("Revenue, 12 months"),
        "clv": _money_column("CLV"),
    }
    if "clv" not in columns:
        watch_columns.pop("clv")
    st.dataframe(
        watch.select(list(watch_columns)).head(200),
        column_config=watch_columns,
        hide_index=True,
        height=min(300, 38 + 35 * min(watch.height, 200)),
        key="lc_watch_table",
    )
    st.download_button(
        f"Download all {fmt_count(watch.height)} declining customers (CSV)",
        watch.select(list(watch_columns))
        .rename({c: cfg["label"] for c, cfg in watch_columns.items()})
        .write_csv()
        .encode("utf-8"),
        file_name=f"declining-customers-{sel.as_of}.csv",
        mime="text/csv",
        key="lc_watch_download",
        icon=":material/download:",
    )

# ----------------------------------------------------------------------------- transitions

with views[1]:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "Started declining",
        fmt_count(moved.customers),
        help=f"Customers declining on {_day(sel.as_of)} who were in another stage (or not yet "
        f"customers) on {_day(compare_to)}.",
        border=True,
    )
    m2.metric(
        "Revenue at risk",
        fmt_money(moved.revenue_ttm, cur),
        help=f"Trailing-12-month revenue of those customers on {_day(compare_to)}: the "
        "revenue at risk.",
        border=True,
    )
    m3.metric(
        "Churned",
        fmt_count(churned.customers),
        help=f"Customers churned on {_day(sel.as_of)} who were not on {_day(compare_to)}.",
        border=True,
    )
    m4.metric(
        "Revenue lost",
        fmt_money(churned.revenue_ttm, cur),
        help=f"Trailing-12-month revenue of the churned customers on {_day(compare_to)}."
        + (f" Their CLV then: {fmt_money(churned.clv, cur)}." if churned.clv is not None else ""),
        border=True,
    )
    st.plotly_chart(charts.transitions_sankey(report.transitions, cur), key="lc_sankey_chart")
    st.plotly_chart(charts.transition_matrix(report.transitions), key="lc_matrix_chart")

# ----------------------------------------------------------------------------- funnel

with views[2]:
    with state.guard("the funnel"):
        funnel = _funnel(*sel.key, years, rules)
    st.plotly_chart(charts.funnel_chart(funnel), key="lc_funnel_chart")
    facts = [
        f"{fmt_count(funnel.walk_in_customers)} customers came without a recorded lead; they "
        "enter the funnel as prospects who bought at once."
    ]
    if funnel.median_days_to_first_purchase is not None:
        facts.append(
            f"Median time from first contact to first purchase: "
            f"{funnel.median_days_to_first_purchase:,.0f} days."
        )
    if funnel.median_days_to_repeat is not None:
        facts.append(
            f"Median time from first to second purchase: {funnel.median_days_to_repeat:,.0f} "
            "days (formation speed)."
        )
    st.caption(" ".join(facts))
    st.plotly_chart(
        charts.funnel_conversion_heatmap(funnel, "channel"), key="lc_funnel_channel_chart"
    )
    st.plotly_chart(
        charts.funnel_conversion_heatmap(funnel, "cohort"), key="lc_funnel_cohort_chart"
    )
    st.dataframe(
        pl.DataFrame(
            {
                "Step": funnel.steps["label"],
                "Reached": [fmt_count(v) for v in funnel.steps["reached"]],
                "Eligible": [fmt_count(v) for v in funnel.steps["eligible"]],
                "Conversion of the eligible": [
                    "" if v is None else share_text(v) for v in funnel.steps["conversion"]
                ],
                "Share of all prospects": [share_text(v) for v in funnel.steps["share_of_top"]],
            }
        ),
        column_config={
            c: st.column_config.TextColumn(c, alignment="right")
            for c in ("Reached", "Eligible", "Conversion of the eligible", "Share of all prospects")
        },
        hide_index=True,
        key="lc_funnel_table",
    )


# ----------------------------------------------------------------------------- cohorts

with views[3]:
    with state.guard("the cohort table"):
        cohorts = _cohorts(*sel.key)
    metric = st.segmented_control(
        "Retention of",
        (RETENTION, REVENUE_RETENTION),
        default=RETENTION,
        required=True,
        format_func=lambda m: "Customers" if m == RETENTION else "Revenue (NRR)",
        key="lc_cohort_metric",
        help="Customers: share of the cohort active in each quarter since acquisition. "
        "Revenue: the cohort's net revenue in that quarter over its first quarter's (net "
        "revenue retention, including customers who buy more).",
    )
    st.plotly_chart(charts.cohort_heatmap(cohorts, metric), key="lc_cohort_heatmap")
    st.plotly_chart(charts.cohort_curves(cohorts, metric), key="lc_cohort_curves")

# ----------------------------------------------------------------------------- tenure

with views[4]:
    complete = st.toggle(
        "Complete years only",
        key="lc_complete_years",
        help="Off: a tenure year still in progress counts once half of it is observed, its "
        "amounts annualised. On: only years that have ended.",
    )
    with state.guard("profit by tenure year"):
        tenure = _tenure(*sel.key, 1.0 if complete else 0.5)
    st.plotly_chart(charts.tenure_profit_chart(tenure), key="lc_tenure_chart")
    tenure_columns = {
        "year": st.column_config.TextColumn("Tenure year"),
        "customers": st.column_config.NumberColumn("Customers", format="%,d"),
        "profit": _money_column("Profit"),
        "acquisition": _money_column("Acquisition"),
        "base_profit": _money_column("Base profit"),
        "extra_purchases": _money_column("Extra purchases"),
        "lower_cost_to_serve": _money_column("Lower cost to serve"),
        "revenue": _money_column("Revenue"),
        "service_cost": _money_column("Cost to serve"),
    }
    st.dataframe(
        tenure.table.with_columns(pl.format("Year {}", pl.col("tenure_year")).alias("year")).select(
            list(tenure_columns)
        ),
        column_config=tenure_columns,
        hide_index=True,
        key="lc_tenure_table",
    )
    st.caption(
        "Per customer-year of the customers active in each year (year 0: everyone acquired "
        "at least a year ago). Base profit is the same customers' own first-year profit "
        "before acquisition cost; extra purchases and lower cost to serve are the changes "
        f"against it. {share_text(tenure.table['in_progress_share'][-1])} of the last year's "
        "customer-years are from years still in progress."
        if tenure.table.height
        else "No customer has completed a first year yet."
    )
