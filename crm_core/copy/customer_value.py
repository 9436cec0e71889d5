"""Copy of the Customer value page: labels, help texts, captions, column headers, the
calculator's fields, and the downloadable customer list in words.

Numbers come in already computed (:mod:`crm_core.clv`, :mod:`crm_core.metrics`); this
module only says them. "Customer equity" at the default horizon is the registry's metric
(the Executive overview's); at another horizon the label names the horizon. "Average CLV
per customer valued" divides the same equity by every customer the model values, the
registry's "CLV per active customer" by the active ones: :func:`reconciliation` says so in
one line.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from crm_core.clv.customer import customer_columns, customer_table
from crm_core.clv.fitted import PERIODS_PAID, REVENUE_PER_PERIOD
from crm_core.clv.holdout import HoldoutCheck
from crm_core.clv.summary import FREQUENCY, TIME_UNIT_NAMES
from crm_core.clv.uncertainty import ALL_CUSTOMERS, ClvBands
from crm_core.clv.valuation import (
    CLV,
    DEFAULT_HORIZON_YEARS,
    EXPECTED_PURCHASES,
    EXPECTED_SPEND,
    P_ALIVE,
    ClvResult,
)
from crm_core.data.ledger import Ledger
from crm_core.data.schema import C
from crm_core.formatting import CURRENCY_SYMBOLS, fmt_count, fmt_money, fmt_pct, formula_safe
from crm_core.metrics.registry import METRICS

HORIZONS = (1, 2, 3, 5, 10)
"""Horizons offered, in years; the default is the registry's (3 years)."""
TOP_SIZES = (10, 25, 50, 100, 500)
VIEWS = ("Your customers", "Calculator", "Model check")
GROUPINGS = {"tier": "Profit tier (last 12 months)", "channel": "Acquisition channel"}
"""Ways the P10-P90 ranges split the customers, in words."""
NOT_ACTIVE = "No activity in the last 12 months"
SUBTITLE = "CLV = the discounted margin a customer will bring, after direct and service costs"
AVERAGE_LABEL = "Average CLV per customer valued"
VALUED_LABEL = "Customers valued"


def day(value: date) -> str:
    """``"1 Oct 2025"``."""
    return f"{value.day} {value:%b %Y}"


def years(n: float) -> str:
    """``"year"`` or ``"5 years"`` (after "the next ...")."""
    return "year" if n == 1 else f"{n:g} years"


def horizon_option(n: float) -> str:
    """A horizon in the picker: ``"1 year"``, ``"3 years"``."""
    return f"{n:g} year" if n == 1 else f"{n:g} years"


HORIZON_HELP = (
    "Years ahead that count, from the as-of date (a year is 365.25 days). The Executive "
    f"overview's customer equity uses {DEFAULT_HORIZON_YEARS:g} years."
)
GROUPING_HELP = (
    "Groups for the P10-P90 ranges below: the Segments page's profit tiers over the last 12 "
    "months, or the channel that won the customer."
)


# ----------------------------------------------------------------------------- cards


def equity_label(horizon: float) -> str:
    """The registry's "Customer equity" at its horizon; otherwise with the horizon named."""
    label = METRICS["customer_equity"].label
    return label if horizon == DEFAULT_HORIZON_YEARS else f"{label}, {horizon:g}-year horizon"


def band(p10: float, p90: float, currency: str) -> str:
    """``"P10–P90 $1.2M – $1.5M"``."""
    return f"P10–P90 {fmt_money(p10, currency)} – {fmt_money(p90, currency)}"


def equity_help(horizon: float, draws: int) -> str:
    """Tooltip of the equity card."""
    registry = METRICS["customer_equity"].definition
    if horizon != DEFAULT_HORIZON_YEARS:
        registry = registry.replace(f"{DEFAULT_HORIZON_YEARS:g}-year", f"{horizon:g}-year")
    return (
        f"{registry} The range holds 80% of {draws} re-estimates of the model's parameters: "
        "how sure the model is, not a forecast range of what customers will do."
    )


def average_band(bands: ClvBands, currency: str) -> str:
    """P10-P90 of the average CLV per customer valued."""
    row = bands.table.row(0, named=True)  # the "All customers" row comes first
    assert row["segment"] == ALL_CUSTOMERS
    return band(row["average_p10"], row["average_p90"], currency)


AVERAGE_HELP = (
    "Customer equity divided by every customer the model values (lapsed ones included, at "
    "their small chance of buying again). The Executive overview's CLV per active customer "
    "divides the same equity by the active customers only."
)


def reconciliation(result: ClvResult, active: float | None, overview_equity: float | None) -> str:
    """One line: how the average per customer valued relates to the Overview's CLV per
    active customer (same equity, different denominators, with both counts)."""
    cur = result.currency
    valued = fmt_count(result.customers, compact=False)
    overview = METRICS["average_clv"].label
    if active is None or not active or overview_equity is None:
        return (
            f"{AVERAGE_LABEL}: equity over all {valued} customers the model values; the "
            f"Executive overview's {overview} is not available for this date."
        )
    same = (
        "the same equity"
        if result.horizon_years == DEFAULT_HORIZON_YEARS
        else f"the {DEFAULT_HORIZON_YEARS:g}-year equity ({fmt_money(overview_equity, cur)})"
    )
    return (
        f"{AVERAGE_LABEL}: equity over all {valued} customers the model values "
        f"({fmt_money(result.average_clv, cur)} each); the Executive overview's {overview} "
        f"divides {same} by the {fmt_count(active, compact=False)} active customers "
        f"({fmt_money(overview_equity / active, cur)} each)."
    )


def valued_note(result: ClvResult) -> str:
    """Under the count of customers valued."""
    if result.sbg is not None:
        return "with a running contract"
    return f"≈{fmt_count(round(result.expected_active))} alive by the model"


def valued_help(result: ClvResult) -> str:
    """Tooltip of the customers-valued card."""
    if result.sbg is not None:
        return "Customers whose contract is running at the as-of date."
    return (
        "Customers with at least one purchase before the as-of date. Their CLV is weighted by "
        "the BG/NBD model's chance that they have not dropped out (P(alive)); the number "
        "alive by the model is the sum of those chances. It is an estimate of a different "
        "thing than the Overview's Active customers, which counts customers within their "
        "usual buying rhythm by the product's activity rule."
    )


def margin_sentence(result: ClvResult) -> str:
    """The margin every CLV is valued at, with the sums behind it."""
    source, cur = result.margin_source, result.currency
    if source is None:
        return f"{fmt_pct(result.margin)} of revenue, as given."
    return (
        f"{fmt_pct(result.margin)} of revenue: {fmt_money(source.revenue, cur)} minus direct "
        f"costs {fmt_money(source.direct_cost, cur)} and service costs "
        f"{fmt_money(source.service_cost, cur)}, {source.window_label} "
        f"({day(source.start)} – {day(source.end)}); the same contribution margin as "
        "the Segments and What-if pages."
    )


def headline(result: ClvResult) -> str:
    """The page's finding."""
    return (
        f"Customers are worth {fmt_money(result.customer_equity, result.currency)} over the "
        f"next {years(result.horizon_years)}"
    )


HEADLINE_HELP = (
    "Customer equity: the sum of every current customer's CLV. Past profit, acquisition costs "
    "and customers not yet won are not included."
)


def method_caption(result: ClvResult) -> str:
    """How the CLV is computed, in one caption (Markdown of fixed words and numbers)."""
    if result.sbg is not None:
        period = result.sbg.period
        unit = (
            f"a period is one {period}: customers renew every {period}, and each renewal within "
            f"the horizon is valued at the customer's average revenue per {period} so far"
        )
    else:
        unit = (
            "the model counts time in weeks and purchases as days with a purchase; expected "
            "purchases are valued at each customer's expected spend per purchase"
        )
    day = f"{result.as_of.day} {result.as_of:%b %Y}"
    return (
        f"**Model:** {result.method}. **Horizon:** the {years(result.horizon_years)} after "
        f"{day} (years of 365.25 days); {unit}. **Discounting:** "
        f"{fmt_pct(result.discount_rate)} a year (the snapshot's rate), from the month the "
        f"margin is earned. **Margin:** {margin_sentence(result)}"
    )


# ----------------------------------------------------------------------------- top customers


def customer_headers(result: ClvResult, *, csv: bool = False) -> dict[str, tuple[str, str]]:
    """Column -> (header, kind) of the customer table (short headers, explained in the
    caption) or of its download (``csv=True``: full headers). Kinds: ``text``, ``money``
    (whole units), ``cents``, ``pct`` (a fraction), ``count``, ``decimal``."""
    h = years(result.horizon_years)
    unit = TIME_UNIT_NAMES.get(result.time_unit or "W", "weeks")
    period = result.sbg.period if result.sbg is not None else ""
    spec = {  # column: (table header, CSV header, kind)
        C.customer_id: ("Customer", "Customer", "text"),
        CLV: ("CLV", f"CLV over the next {h}", "money"),
        P_ALIVE: ("P(alive)", "Chance still alive (model)", "pct"),
        EXPECTED_PURCHASES: (
            ("Renewals expected", f"Renewals expected over the next {h}", "decimal")
            if result.sbg is not None
            else ("Purchases expected", f"Purchases expected over the next {h}", "decimal")
        ),
        EXPECTED_SPEND: ("Spend per purchase", "Expected spend per purchase", "cents"),
        FREQUENCY: ("Repeat purchases", "Repeat purchases so far", "count"),
        "time_since_last": (f"{unit.capitalize()} since last", f"{unit.capitalize()} since "
                            "the last purchase", "count"),
        PERIODS_PAID: (f"{period.capitalize()}s paid", f"{period.capitalize()}s paid so far",
                       "count"),
        REVENUE_PER_PERIOD: (f"Revenue per {period}", f"Revenue per {period} so far", "cents"),
        "days_to_next_renewal": ("Next renewal in (days)", "Days to the next renewal", "count"),
        C.acquisition_channel: ("Channel", "Acquisition channel", "text"),
        C.region: ("Region", "Region", "text"),
    }  # fmt: skip
    columns = customer_columns(result)
    if not csv:
        columns = tuple(c for c in columns if c != C.region)
    return {c: (spec[c][1] if csv else spec[c][0], spec[c][2]) for c in columns}


def top_headline(shown: int, share: float | None) -> str:
    """``"Your 25 most valuable customers hold 12% of future value"``."""
    return f"Your {fmt_count(shown)} most valuable customers hold {fmt_pct(share)} of future value"


def top_option(n: int) -> str:
    return f"Top {n}"


def download_label(customers: int) -> str:
    return f"Download all {fmt_count(customers, compact=False)} customers (CSV)"


def top_caption(result: ClvResult) -> str:
    """What the top-customers columns mean."""
    h = years(result.horizon_years)
    if result.sbg is not None:
        period = result.sbg.period
        return (
            f"CLV and renewals expected over the next {h}; revenue per {period} is the "
            "customer's average so far; channel: how the customer was won."
        )
    return (
        f"CLV and purchases expected over the next {h}. Still active: the model's probability "
        "the customer has not lapsed. Spend per purchase: the expected amount of a future "
        "purchase, shrunk towards the average for customers with few purchases. Channel: how "
        "the customer was won."
    )


def customers_csv(result: ClvResult, ledger: Ledger) -> bytes:
    """Every valued customer, most valuable first, as CSV: headers in words, money to the
    cent, chances in percent, no raw floats, text cells that could run as spreadsheet
    formulas prefixed with an apostrophe. UTF-8."""
    headers = customer_headers(result, csv=True)
    unit = CURRENCY_SYMBOLS.get(result.currency, result.currency)
    names, exprs = {}, []
    for column, (label, kind) in headers.items():
        if kind == "text":
            exprs.append(formula_safe(column))
        elif kind == "pct":
            exprs.append((pl.col(column) * 100).round(2).alias(column))
        elif kind in ("money", "cents", "decimal"):
            exprs.append(pl.col(column).round(2))
        else:
            exprs.append(pl.col(column))
        suffix = f" ({unit})" if kind in ("money", "cents") else " (%)" if kind == "pct" else ""
        names[column] = label + suffix
    table = customer_table(result, ledger)
    return table.select(exprs).rename(names).write_csv(float_precision=2).encode("utf-8")


def download_name(result: ClvResult) -> str:
    return f"customer_value_{result.as_of.isoformat()}_{result.horizon_years:g}y.csv"


# ----------------------------------------------------------------------------- model check

NO_CALIBRATION = (
    "The snapshot covers too little history for a holdout check: the model needs at least six "
    "months of data before a quarter end to fit on."
)
CALIBRATION_LABEL = "Fit the model on data up to"
CALIBRATION_HELP = (
    "The model is fitted on the data up to this quarter end (calibration) and its forecast "
    "compared with what the customer ledger recorded from then to the as-of date (holdout)."
)
LARGE_ERROR = (
    "An error above 15% is a warning: behaviour in the holdout differed from the calibration "
    "period (seasonality, a campaign, a price change). Try another calibration date. The "
    "P10-P90 ranges on the first tab do not include this kind of error."
)
PARAMETERS_TITLE = "Fitted parameters"


def parameters_caption(as_of: date) -> str:
    return (
        f"Estimated on all data to {day(as_of)}. Standard errors come from the curvature of "
        "the likelihood: the smaller they are relative to the estimate, the more firmly the "
        "data pin the parameter down. They drive the P10-P90 ranges on the first tab."
    )


def large_error(check: HoldoutCheck) -> bool:
    return check.actual_total > 0 and abs(check.error) > 0.15


def parameter_rows(params: pl.DataFrame) -> pl.DataFrame:
    """:func:`crm_core.clv.customer.parameter_table` in words, numbers as text."""
    return pl.DataFrame(
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
    )
