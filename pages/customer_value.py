"""Customer value: what customers are worth, by the textbook formulas and by fitted models.

Three tabs. *Your customers*: the probabilistic CLV of the current snapshot (BG/NBD +
Gamma-Gamma for retail, sBG for subscriptions) with P10-P90 bands, the CLV distribution,
P(alive) or the projected retention curve, value ranges per profit tier or acquisition
channel, and the most valuable customers (downloadable). *Calculator*: the seeds' closed
forms (Models 1-3 and the retention formula) and the year-by-year LTV table with its
payback chart, next to the LTV table of an actual cohort. *Model check*: a holdout test by
date and the fitted parameters with standard errors.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import numpy as np
import polars as pl
import streamlit as st

from crm_app import state
from crm_app.ui import page_header
from crm_core.charts import clv as charts
from crm_core.clv.customer import customer_clv, parameter_table
from crm_core.clv.fitted import NEXT_RENEWAL_YEARS, PERIODS_PAID, REVENUE_PER_PERIOD
from crm_core.clv.formulas import clv_contribution, clv_profit, clv_retention, clv_revenue
from crm_core.clv.holdout import HoldoutCheck, calibration_choices, holdout_check
from crm_core.clv.ltv import (
    LTV,
    Cohort,
    cohort_choices,
    ltv_table,
    ltv_table_from_cohort,
    ltv_table_text,
    payback_finding,
)
from crm_core.clv.summary import FREQUENCY, RECENCY, T_AGE
from crm_core.clv.uncertainty import ALL_CUSTOMERS, GROUPINGS, ClvBands, clv_bands_by, group_labels
from crm_core.clv.valuation import CLV, EXPECTED_PURCHASES, EXPECTED_SPEND, P_ALIVE, ClvResult
from crm_core.data.schema import C
from crm_core.formatting import CURRENCY_SYMBOLS, fmt_count, fmt_money, fmt_pct

HORIZONS = (1, 2, 3, 5, 10)  # years
TOP_SIZES = (10, 25, 50, 100)
BAND_DRAWS = 100  # parameter draws for the P10-P90 bands (seeded)
VIEWS = ("Your customers", "Calculator", "Model check")


# ----------------------------------------------------------------------------- cached core calls


@st.cache_data(show_spinner="Fitting the CLV model…", max_entries=32)
def _valuation(path: str, stamp: str, as_of: date, horizon: int) -> tuple[ClvResult, pl.DataFrame]:
    """CLV of every customer, and the customers' acquisition channel and region."""
    snap = state.snapshot(path, stamp, as_of)
    result = customer_clv(snap, horizon_years=horizon)
    info = snap.customers.select(C.customer_id, C.acquisition_channel, C.region).collect()
    return result, info


@st.cache_data(show_spinner="Re-estimating the model to measure its uncertainty…", max_entries=32)
def _bands(path: str, stamp: str, as_of: date, horizon: int) -> dict[str, ClvBands]:
    """P10-P90 bands of equity and CLV per grouping (the slow part: shown after the rest)."""
    result, _ = _valuation(path, stamp, as_of, horizon)
    snap = state.snapshot(path, stamp, as_of)
    groupings = {by: group_labels(snap, by) for by in GROUPINGS}
    return clv_bands_by(result, groupings, draws=BAND_DRAWS, seed=0)


@st.cache_data(show_spinner=False, max_entries=32)
def _calibration_ends(path: str, stamp: str, as_of: date) -> list[date]:
    return calibration_choices(state.snapshot(path, stamp, as_of))


@st.cache_data(show_spinner="Checking the model on a holdout period…", max_entries=32)
def _holdout(path: str, stamp: str, as_of: date, calibration_end: date) -> HoldoutCheck:
    return holdout_check(state.snapshot(path, stamp, as_of), calibration_end)


@st.cache_data(show_spinner=False, max_entries=32)
def _cohorts(path: str, stamp: str, as_of: date) -> list[Cohort]:
    return cohort_choices(state.snapshot(path, stamp, as_of))


@st.cache_data(show_spinner="Following the cohort year by year…", max_entries=32)
def _cohort_table(path: str, stamp: str, as_of: date, cohort: Cohort) -> pl.DataFrame:
    snap = state.snapshot(path, stamp, as_of)
    return ltv_table_from_cohort(snap, cohort.start, cohort.end, cohort.years)


# ----------------------------------------------------------------------------- helpers


def _money(value: float) -> str:
    """Exact amount for the calculator's results (``$1,556``)."""
    return fmt_money(value, cur, compact=False)


def _years(n: float) -> str:
    return "year" if n == 1 else f"{n:g} years"


def _show_table(frame: pl.DataFrame, columns: dict[str, tuple[str, str]], *, key: str) -> None:
    """``frame``'s listed columns with words for headers, formatted by kind: ``money``
    (whole units, currency in the header), ``cents``, ``pct`` (a fraction), ``count``,
    ``one`` (one decimal), ``factor`` (three decimals), ``text``."""
    unit = CURRENCY_SYMBOLS.get(cur, cur)
    formats = {
        "money": "%,.0f",
        "cents": "%,.2f",
        "pct": "%.1f%%",
        "count": "%,.0f",
        "one": "%,.1f",
        "factor": "%.3f",
    }
    config: dict[str, object] = {}
    for name, (label, kind) in columns.items():
        if kind == "text":
            config[name] = st.column_config.TextColumn(label)
        elif kind in ("money", "cents"):
            config[name] = st.column_config.NumberColumn(f"{label} ({unit})", format=formats[kind])
        else:
            config[name] = st.column_config.NumberColumn(label, format=formats[kind])
    shown = frame.select(list(columns)).with_columns(
        (pl.col(n) * 100).round(1) for n, (_, kind) in columns.items() if kind == "pct"
    )
    # tall enough to show up to 25 rows without scrolling inside the table
    height = 38 + 35 * min(shown.height, 25)
    st.dataframe(shown, column_config=config, hide_index=True, key=key, height=height)


def _customer_columns(result: ClvResult, *, csv: bool) -> dict[str, tuple[str, str]]:
    """Columns of the top-customers table (short headers, explained in its caption) or of
    its CSV download (``csv=True``: full headers, and the region)."""
    horizon = _years(result.horizon_years)
    spec: list[tuple[str, str, str, str]] = [  # column, table header, CSV header, kind
        (C.customer_id, "Customer", "Customer", "text"),
        (CLV, "CLV", f"CLV over the next {horizon}", "money"),
    ]
    if result.sbg is not None:
        period = result.sbg.period
        spec += [
            (PERIODS_PAID, f"{period.capitalize()}s paid", f"{period.capitalize()}s paid so far",
             "count"),
            (REVENUE_PER_PERIOD, f"Revenue per {period}", f"Revenue per {period} so far",
             "cents"),
            (EXPECTED_PURCHASES, "Renewals expected", f"Renewals expected over the next "
             f"{horizon}", "one"),
            ("days_to_next_renewal", "Next renewal in (days)", "Days to the next renewal",
             "count"),
        ]  # fmt: skip
    else:
        spec += [
            (P_ALIVE, "Still active", "Chance still active", "pct"),
            (EXPECTED_PURCHASES, "Purchases expected", f"Purchases expected over the next "
             f"{horizon}", "one"),
            (EXPECTED_SPEND, "Spend per purchase", "Expected spend per purchase", "cents"),
            (FREQUENCY, "Repeat purchases", "Repeat purchases so far", "count"),
            ("weeks_since_last", "Weeks since last", "Weeks since the last purchase", "count"),
        ]  # fmt: skip
    spec.append((C.acquisition_channel, "Channel", "Acquisition channel", "text"))
    if csv:
        spec.append((C.region, "Region", "Region", "text"))
    return {c: (long if csv else short, kind) for c, short, long, kind in spec}


def _customer_frame(result: ClvResult, info: pl.DataFrame) -> pl.DataFrame:
    extra = (
        (pl.col(NEXT_RENEWAL_YEARS) * 365.25).round(0).alias("days_to_next_renewal")
        if result.sbg is not None
        else (pl.col(T_AGE) - pl.col(RECENCY)).round(0).alias("weeks_since_last")
    )
    return result.table.with_columns(extra).join(
        info, on=C.customer_id, how="left", maintain_order="left"
    )


def _customers_csv(frame: pl.DataFrame, columns: dict[str, tuple[str, str]]) -> bytes:
    """Every valued customer, headers in words, money to the cent (opens in a spreadsheet)."""
    unit = CURRENCY_SYMBOLS.get(cur, cur)
    names = {
        c: f"{label} ({unit})" if kind in ("money", "cents") else label
        for c, (label, kind) in columns.items()
    }
    return (
        frame.select(list(columns))
        .with_columns(pl.col(pl.Float64).round(4))
        .rename(names)
        .write_csv()
        .encode("utf-8")
    )


# ----------------------------------------------------------------------------- tabs


def _value_cards(result: ClvResult, bands: ClvBands | None) -> None:
    """Equity, average CLV (with their P10-P90 ranges once measured), customers, margin."""
    k1, k2, k3, k4 = st.columns(4)
    if bands is None:
        band = average_band = "P10–P90: measuring…"
        draws = BAND_DRAWS
    else:
        overall = bands.table.filter(pl.col("segment") == ALL_CUSTOMERS).row(0, named=True)
        band = f"P10–P90 {fmt_money(bands.equity_p10, cur)} – {fmt_money(bands.equity_p90, cur)}"
        average_band = (
            f"P10–P90 {fmt_money(overall['average_p10'], cur)} – "
            f"{fmt_money(overall['average_p90'], cur)}"
        )
        draws = bands.draws
    k1.metric(
        "Customer equity",
        fmt_money(result.customer_equity, cur),
        delta=band,
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=f"Sum of CLV over the customers valued. The range holds 80% of {draws} "
        "re-estimates of the model's parameters: how sure the model is, not a forecast range "
        "of what customers will do.",
    )
    k2.metric(
        "Average CLV per customer valued",
        fmt_money(result.average_clv, cur),
        delta=average_band,
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Customer equity divided by the customers valued (lapsed ones included, at "
        "their small chance of buying again). The Executive overview divides the same "
        "equity by its active customers instead: customers with a purchase in the last "
        "12 months (subscriptions: under contract).",
    )
    if result.sbg is not None:
        valued_note = "with a running contract"
        valued_help = "Customers whose contract is running at the as-of date."
    else:
        valued_note = f"≈{fmt_count(round(result.expected_active))} still active"
        valued_help = (
            "Customers with at least one purchase before the as-of date. Their CLV is "
            "weighted by the chance they are still active; the expected number still active "
            "is the sum of those chances."
        )
    k3.metric(
        "Customers valued",
        fmt_count(result.customers),
        delta=valued_note,
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=valued_help,
    )
    source = result.margin_source
    k4.metric(
        "Margin used",
        fmt_pct(result.margin),
        delta="after direct and service costs" if source else "as given",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=(
            f"Revenue {fmt_money(source.revenue, cur)} minus direct costs "
            f"{fmt_money(source.direct_cost, cur)} and service costs "
            f"{fmt_money(source.service_cost, cur)}, {source.window_label} "
            f"({source.start:%d %b %Y} – {source.end:%d %b %Y}). The same contribution "
            "margin as the Segments and What-if pages."
            if source
            else "Margin given by the caller."
        ),
    )


def your_customers() -> None:
    """The fitted view of the snapshot: value, its ranges, who holds it."""
    left, right, _ = st.columns([1, 2, 1.5])
    horizon = left.selectbox(
        "Horizon",
        HORIZONS,
        index=HORIZONS.index(3),
        format_func=_years,
        key="cv_horizon",
        help="Years ahead that count, from the as-of date (a year is 365.25 days). The "
        "Executive overview uses 3 years.",
    )
    by = right.segmented_control(
        "Value ranges by",
        list(GROUPINGS),
        default="tier",
        format_func=GROUPINGS.get,
        key="cv_group",
        required=True,
        help="Groups for the P10-P90 ranges below: the Segments page's profit tiers over the "
        "last 12 months, or the channel that won the customer.",
    )
    try:
        result, info = _valuation(*sel.key, horizon)
    except ValueError as exc:  # ModelFitError, SnapshotError: the data cannot support it
        st.error(f"**Could not value the customers with a fitted model.** {exc}", icon="⚠️")
        st.caption("The Calculator tab works without a fitted model.")
        return

    st.subheader(
        f"Customers are worth {fmt_money(result.customer_equity, cur)} over the next "
        f"{_years(horizon)}",
        anchor=False,
        help="Customer equity: the sum of every current customer's CLV. Past profit, "
        "acquisition costs and customers not yet won are not included.",
    )
    cards = st.empty()
    with cards.container():
        _value_cards(result, None)
    if result.sbg is not None:
        period = result.sbg.period
        unit_note = (
            f"a period is one {period}: customers renew every {period}, and each renewal "
            f"within the horizon is valued at the customer's average revenue per {period} "
            "so far"
        )
    else:
        unit_note = (
            "the model counts time in weeks and purchases as days with a purchase; expected "
            "purchases are valued at each customer's expected spend per purchase"
        )
    st.caption(
        f"**Model:** {result.method}. **Horizon:** the {_years(horizon)} after "
        f"{result.as_of.day} {result.as_of:%b %Y} (years of 365.25 days); {unit_note}. "
        f"**Discounting:** {fmt_pct(result.discount_rate)} a year (the snapshot's rate), from "
        "the month the margin is earned."
    )

    st.plotly_chart(charts.clv_distribution_figure(result), key="cv_chart_distribution")
    if result.sbg is not None:
        periods = max(24, round(horizon * 12 / (result.period_months or 1)))
        fig = charts.sbg_retention_figure(result.sbg, periods=periods)
        st.plotly_chart(fig, key="cv_chart_retention")
    elif result.bgnbd is not None:
        age = float(np.median(result.table[T_AGE].to_numpy()))
        top = int(np.clip(np.quantile(result.table[FREQUENCY].to_numpy(), 0.95), 5, 30))
        fig = charts.p_alive_heatmap_figure(result.bgnbd, T=round(age), max_frequency=top)
        st.plotly_chart(fig, key="cv_chart_p_alive")

    bands = _bands(*sel.key, horizon)[by or "tier"]
    with cards.container():
        _value_cards(result, bands)
    st.plotly_chart(
        charts.clv_bands_figure(bands, currency=cur, label=GROUPINGS[by or "tier"]),
        key="cv_chart_bands",
    )

    frame = _customer_frame(result, info)
    headline = st.container()
    c_top, c_csv, _ = st.columns([1, 2, 2], vertical_alignment="bottom")
    n_top = c_top.selectbox(
        "Show", TOP_SIZES, index=TOP_SIZES.index(25), key="cv_top", format_func=lambda n: f"Top {n}"
    )
    share = result.top_share(min(n_top, frame.height) / frame.height) if frame.height else None
    headline.subheader(
        f"Your {fmt_count(min(n_top, frame.height))} most valuable customers hold "
        f"{fmt_pct(share)} of future value",
        anchor=False,
    )
    c_csv.download_button(
        f"Download all {fmt_count(frame.height, compact=False)} customers (CSV)",
        data=_customers_csv(frame, _customer_columns(result, csv=True)),
        file_name=f"customer_value_{result.as_of.isoformat()}.csv",
        mime="text/csv",
        key="cv_download",
        icon=":material/download:",
    )
    _show_table(frame.head(n_top), _customer_columns(result, csv=False), key="cv_top_table")
    if result.sbg is not None:
        period = result.sbg.period
        st.caption(
            f"CLV and renewals expected over the next {_years(result.horizon_years)}; revenue "
            f"per {period} is the customer's average so far; channel: how the customer was won."
        )
    else:
        st.caption(
            f"CLV and purchases expected over the next {_years(result.horizon_years)}. Still "
            "active: the model's probability the customer has not lapsed. Spend per purchase: "
            "the expected amount of a future purchase, shrunk towards the average for "
            "customers with few purchases. Channel: how the customer was won."
        )


class Field(NamedTuple):
    """A calculator input: ``kind`` is ``money`` (currency units), ``pct`` (entered in
    percent, used as a fraction), ``years`` or ``count``."""

    label: str
    kind: str
    default: float
    help: str
    low: float | None = 0.0
    high: float | None = None
    step: float = 50.0


FIELDS = {
    # shared by the closed forms (seeds' worked example: d = 9%, n = 5)
    "cv_d": Field("Discount rate d (% a year)", "pct", 9.0, "Yearly rate at which future "
                  "money is discounted (cost of capital or a risk-adjusted rate).", high=100.0),
    "cv_n": Field("Years of loyalty n", "years", 5, "How many years the customer stays "
                  "(Models 1-3 and the LTV table).", low=1, high=50, step=1),
    "cv_R": Field("Yearly revenue R", "money", 1000.0, "Revenue a loyal customer brings "
                  "each year (Models 1 and 2)."),
    "cv_C": Field("Yearly direct cost C", "money", 400.0, "Direct cost of serving the "
                  "customer each year (Models 2 and 3)."),
    "cv_A": Field("Acquisition cost A", "money", 500.0, "One-off cost of winning the "
                  "customer, paid up front, not discounted (Model 3; the retention formula "
                  "at acquisition)."),
    "cv_P": Field("First-year purchase P", "money", 800.0, "What the customer buys in year "
                  "1 (Model 3)."),
    "cv_g": Field("Yearly increase g", "money", 100.0, "How much more the customer buys "
                  "each later year: up-selling and cross-selling (Model 3).", low=None,
                  step=25.0),
    "cv_m": Field("Yearly margin m", "money", 600.0, "Margin an active customer brings each "
                  "year, e.g. R - C (retention formula).", low=None),
    "cv_r": Field("Retention r (% a year)", "pct", 80.0, "Share of customers still "
                  "customers a year later (retention formula).", high=100.0),
    # the LTV table of a planned cohort (defaults: pays back in year 3, like the seeds')
    "cv_ltv_customers": Field("Customers won", "count", 1000, "Size of the cohort acquired "
                              "in year 1.", low=1, step=100),
    "cv_ltv_retention": Field("Retention (% a year)", "pct", 65.0, "Share of a year's "
                              "customers still customers the next year.", high=100.0),
    "cv_ltv_spend": Field("Year-1 spend per customer", "money", 150.0, "Revenue per "
                          "remaining customer in year 1.", step=10.0),
    "cv_ltv_growth": Field("Spend growth (% a year)", "pct", 10.0, "Loyal customers buy "
                           "more: spend per customer grows by this much each year.",
                           low=-50.0, high=100.0),
    "cv_ltv_cost_ratio": Field("Costs (% of revenue)", "pct", 50.0, "Direct cost of the "
                               "sales and cost of serving the customers, as a share of "
                               "revenue.", high=500.0),
    "cv_ltv_acq": Field("Acquisition cost per customer", "money", 150.0, "Charged in year 1 "
                        "for every customer won.", step=10.0),
}  # fmt: skip


def _inputs(keys: list[str]) -> dict[str, float]:
    """Number inputs for ``keys`` side by side; values as the formulas take them."""
    unit = CURRENCY_SYMBOLS.get(cur, cur)
    out: dict[str, float] = {}
    for column, key in zip(st.columns(5 if len(keys) <= 5 else len(keys)), keys, strict=False):
        f = FIELDS[key]
        whole = f.kind in ("years", "count")
        value = column.number_input(
            f"{f.label} ({unit})" if f.kind == "money" else f.label,
            min_value=None if f.low is None else (int(f.low) if whole else float(f.low)),
            max_value=None if f.high is None else (int(f.high) if whole else float(f.high)),
            value=int(f.default) if whole else float(f.default),
            step=int(f.step) if whole else (1.0 if f.kind == "pct" else float(f.step)),
            format="%.1f" if f.kind == "pct" else ("%d" if whole else "%.0f"),
            key=key,
            help=f.help,
        )
        out[key] = value / 100 if f.kind == "pct" else value
    return out


def calculator() -> None:
    """The seeds' closed forms with editable inputs, and the LTV table of a cohort."""
    st.subheader("The textbook models, with your numbers", anchor=False)
    st.caption(
        f"CLV of one loyal customer by the closed forms taught to executives. Money in {cur}, "
        "rates a year, one period = one year; each year's money arrives at the year's end "
        "and is discounted by $(1+d)^{-t}$. Defaults: the seeds' worked example "
        "(d = 9%, n = 5)."
    )
    v = _inputs(["cv_d", "cv_n", "cv_R", "cv_C", "cv_A"])
    v |= _inputs(["cv_P", "cv_g", "cv_m", "cv_r"])
    d, n, revenue, cost, acq = v["cv_d"], int(v["cv_n"]), v["cv_R"], v["cv_C"], v["cv_A"]
    first, growth, margin, retention = v["cv_P"], v["cv_g"], v["cv_m"], v["cv_r"]

    value1 = clv_revenue(revenue, d, n)
    value2 = clv_profit(revenue, cost, d, n)
    value3 = clv_contribution(acq, first, growth, cost, d, n)
    cards = st.columns(4, border=True)
    models = (
        (
            "Model 1 · revenue",
            r"R\,\frac{1-(1+d)^{-n}}{d}",
            "Revenue-based CLV",
            value1,
            "Discounted revenue over n years; ignores every cost.",
        ),
        (
            "Model 2 · profit",
            r"(R-C)\,\frac{1-(1+d)^{-n}}{d}",
            "Profit-based CLV",
            value2,
            "Discounted revenue minus direct cost over n years.",
        ),
        (
            "Model 3 · contribution",
            r"-A+\sum_{t=1}^{n}\frac{P+(t-1)g-C}{(1+d)^{t}}",
            "Contribution CLV",
            value3,
            "Net of the acquisition cost: what winning this customer adds.",
        ),
    )
    for card, (title, formula, label, value, help_text) in zip(cards, models, strict=False):
        with card:
            st.markdown(f"**{title}**")
            st.latex(formula)
            st.metric(label, _money(value), help=help_text)
    with cards[3]:
        st.markdown("**Retention · no horizon**")
        st.latex(r"\frac{m\,r}{1+d-r}")
        try:
            value4 = clv_retention(margin, retention, d)
        except ValueError:
            st.warning(
                f"Unlimited: with r = {fmt_pct(retention, digits=1)} and d = "
                f"{fmt_pct(d, digits=1)} the customer never stops paying. The formula needs "
                "1 + d − r above 0: lower r or raise d.",
                icon="⚠️",
            )
        else:
            st.metric(
                "Retention-based CLV",
                _money(value4),
                delta=f"{_money(value4 - acq)} at acquisition (− A)",
                delta_color="off",
                delta_arrow="off",
                help="Margin earned at each year's end while the "
                "customer stays, with no horizon; below it, minus the acquisition "
                "cost A.",
            )
    if value1 > 0 and value2 < value1:
        st.markdown(
            f"Counting revenue only (Model 1) values this customer at {_money(value1)}; after "
            f"the direct cost (Model 2) they are worth {_money(value2)}, and net of winning "
            f"them, with purchases growing each year (Model 3), {_money(value3)}. Rank "
            "customers by profit, not revenue: costs to serve differ."
        )

    st.divider()
    st.subheader("A cohort year by year: when does acquisition pay back?", anchor=False)
    st.caption(
        "The LTV table of a cohort won in year 1, as in the seeds: customers remaining, their "
        "spend and costs, profit discounted to the acquisition year by $(1+d)^{-(t-1)}$, and "
        f"LTV = cumulative NPV per customer won. {_years(n).capitalize()} at "
        f"d = {fmt_pct(d, digits=1)}, from the inputs above."
    )
    p = _inputs(["cv_ltv_customers", "cv_ltv_retention", "cv_ltv_spend", "cv_ltv_growth",
                 "cv_ltv_cost_ratio", "cv_ltv_acq"])  # fmt: skip
    size, keep, spend = p["cv_ltv_customers"], p["cv_ltv_retention"], p["cv_ltv_spend"]
    rise, ratio, per_head = p["cv_ltv_growth"], p["cv_ltv_cost_ratio"], p["cv_ltv_acq"]
    plan = ltv_table(
        size,
        keep,
        [spend * (1 + rise) ** t for t in range(n)],
        ratio,
        acquisition_cost=per_head,
        discount_rate=d,
    )
    st.plotly_chart(charts.ltv_payback_figure(plan, currency=cur), key="cv_chart_ltv")
    st.markdown(f"**Planning: LTV {_money(plan[LTV][-1])} per customer won after {_years(n)}**")
    st.caption(f"From your inputs, discounted at d = {fmt_pct(d, digits=1)}.")
    _ltv_view(plan, key="cv_ltv_table")
    st.divider()
    _actual_cohort()


def _ltv_view(table: pl.DataFrame, *, key: str) -> None:
    """An LTV table as in the seeds: measures as rows, years as columns."""
    text = ltv_table_text(table, cur)
    st.dataframe(text, hide_index=True, key=key, height=38 + 35 * text.height)


def _actual_cohort() -> None:
    """The observed LTV table of a cohort of the snapshot, titled with its finding."""
    cohorts = _cohorts(*sel.key)
    if not cohorts:
        st.info(
            "No cohort of this snapshot has been observed for a whole year yet, so there is "
            "no actual LTV table to compare with.",
            icon="ℹ️",
        )
        return
    title = st.container()
    pick_column, _ = st.columns([2, 1])
    pick = pick_column.selectbox(
        "Cohort",
        range(len(cohorts)),
        format_func=lambda i: (
            f"Customers {cohorts[i].label} "
            f"({fmt_count(cohorts[i].customers)}, {_years(cohorts[i].years)} observed)"
        ),
        key="cv_cohort",
        help="Customers won in one twelve-month span, followed year by year from each one's "
        "acquisition date. Costs: direct, service and acquisition costs.",
    )
    cohort = cohorts[pick or 0]
    table = _cohort_table(*sel.key, cohort)
    title.markdown(f"**Actual: your customers {cohort.label} {payback_finding(table, cur)}**")
    st.caption(
        f"Observed in the snapshot, discounted at its {fmt_pct(sel.discount_rate)} a year. "
        "Customers remaining: those who bought in the year (retail) or whose contract was "
        "running at its start (subscriptions)."
    )
    _ltv_view(table, key="cv_cohort_table")


def model_check() -> None:
    """Holdout check by date and the fitted parameters."""
    ends = _calibration_ends(*sel.key)
    if not ends:
        st.info(
            "The snapshot covers too little history for a holdout check: the model needs at "
            "least six months of data before a quarter end to fit on.",
            icon="ℹ️",
        )
    else:
        year_back = next((e for e in ends if (sel.as_of - e).days >= 360), ends[-1])
        pick, _ = st.columns([1, 3])
        cal = pick.selectbox(
            "Fit the model on data up to",
            ends,
            index=ends.index(year_back),
            format_func=lambda e: f"{e.day} {e:%b %Y}",
            key="cv_calibration",
            help="The model is fitted on the data up to this quarter end (calibration) and "
            "its forecast compared with what happened from then to the as-of date (holdout).",
        )
        try:
            check = _holdout(*sel.key, cal)
        except ValueError as exc:
            st.error(f"**Could not run the holdout check.** {exc}", icon="⚠️")
        else:
            st.subheader(check.headline, anchor=False)
            st.markdown(check.summary)
            if np.isfinite(check.error) and abs(check.error) > 0.15:
                st.caption(
                    "An error above 15% is a warning: behaviour in the holdout differed from "
                    "the calibration period (seasonality, a campaign, a price change). Try "
                    "another calibration date. The P10-P90 ranges on the first tab do not "
                    "include this kind of error."
                )
            st.plotly_chart(charts.holdout_tracking_figure(check), key="cv_chart_tracking")
            st.plotly_chart(charts.holdout_buckets_figure(check), key="cv_chart_buckets")

    st.subheader("Fitted parameters", anchor=False)
    try:  # the parameters do not depend on the horizon: the cached fit of the first tab
        result, _ = _valuation(*sel.key, st.session_state.get("cv_horizon", 3))
    except ValueError as exc:
        st.error(f"**No model could be fitted to this snapshot.** {exc}", icon="⚠️")
        return
    st.caption(
        f"Estimated on all data to {result.as_of.day} {result.as_of:%b %Y}. Standard errors "
        "come from the curvature of the likelihood: the smaller they are relative to the "
        "estimate, the more firmly the data pin the parameter down. They drive the P10-P90 "
        "ranges on the first tab."
    )
    params = parameter_table(result)
    st.table(
        pl.DataFrame(
            {
                "Model": params["model"],
                "Parameter": params["parameter"],
                "What it describes": params["meaning"],
                "Estimate": [f"{v:.3f}" for v in params["estimate"]],
                "Standard error": [f"{v:.3f}" for v in params["standard_error"]],
                "Error / estimate": [
                    fmt_pct(se / est, digits=1)
                    for se, est in zip(params["standard_error"], params["estimate"], strict=True)
                ],
            }
        ),
        hide_index=True,
    )


# ----------------------------------------------------------------------------- page

sel = state.require_selection()
cur = sel.currency
page_header(
    "Customer value",
    sel,
    "CLV = the discounted margin a customer will bring, after direct and service costs",
)
tabs = st.tabs(list(VIEWS), key="cv_view", bind="query-params")

# Only the open tab runs; each one shows its own errors, so a snapshot the models cannot be
# fitted to still has a working calculator.
for tab, render in zip(tabs, (your_customers, calculator, model_check), strict=True):
    if tab.open is not False:
        with tab:
            render()
