"""Copy of the Growth page: revenue movements, unit economics, forecast against actual.

Metric names and definitions come from the registry (:mod:`crm_core.metrics.registry`);
this module holds the page's own words: headlines that state the finding, captions
saying how a number relates to the registry's, table headers and the CSV of movers.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from crm_core.data.schema import C
from crm_core.formatting import fmt_count, fmt_kind, fmt_money, fmt_pct, fmt_ratio, formula_safe
from crm_core.growth import economics as ue
from crm_core.growth import forecast as fc
from crm_core.growth import forecast_paths as fp
from crm_core.growth.movements import CHANGE, MONTHS, NOW_LABEL, QUARTERS, MovementView
from crm_core.metrics import movements as mv
from crm_core.metrics.registry import METRICS

TITLE = "Growth"
SUBTITLE = "where revenue comes from and where it leaks"
TABS = ("Revenue movements", "Unit economics", "Forecast vs actual")

RETAIL_CARDS = ("nrr", "grr", "quick_ratio", "new_revenue", "expansion_revenue", "churned_revenue")
SUBSCRIPTION_CARDS = ("mrr", "arr", "nrr", "grr", "quick_ratio", "churned_revenue")

MOVEMENT_WORDS = {
    mv.NEW: "New customers",
    mv.EXPANSION: "Expansion",
    mv.REACTIVATION: "Reactivation",
    mv.CONTRACTION: "Contraction",
    mv.CHURNED: "Churned",
}
GRANULARITY = {QUARTERS: "By quarter", MONTHS: "By month"}
GRANULARITY_HELP = (
    "Months: MRR against the previous month. Quarters: the three months' movements summed, "
    "from the MRR of the month before the quarter (the registry's quarterly figures)."
)
PERIOD_HELP = "The waterfall and the customers behind it."
MOVER_HELP = "Customers whose largest movement in the period is this one."
TOP_MOVERS = 20


def day(d: date) -> str:
    """``30 Sep 2026``."""
    return f"{d.day} {d:%b %Y}"


def amount_name(recurring: bool) -> str:
    """What the movements track: ``"MRR"`` or ``"Revenue"``."""
    return "MRR" if recurring else "Revenue"


def card_keys(contractual: bool) -> tuple[str, ...]:
    """The registry metrics shown as cards."""
    return SUBSCRIPTION_CARDS if contractual else RETAIL_CARDS


def period_option(view: MovementView, key: int) -> str:
    """A period in the selector: ``"2026 Q3 vs 2025 Q3"``, ``"2026 Q3 (Jun to Sep 2026)"``."""
    row = view.row(key)
    if row[NOW_LABEL] != row["label"]:
        return f"{row['label']} ({row['compared_label']} to {row[NOW_LABEL]})"
    return f"{row['label']} vs {row['compared_label']}"


def _change_words(row: dict, recurring: bool, currency: str) -> str:
    then, now = row[mv.AMOUNT_THEN], row[mv.AMOUNT_NOW]
    name = amount_name(recurring)
    if then > 0:
        growth = now / then - 1
        verb = "up" if growth >= 0 else "down"
        since = "since" if recurring else "on"
        return f"{name} {verb} {fmt_pct(abs(growth))} {since} {row['compared_label']}"
    return f"{name} of {fmt_money(now, currency)} in {row['label']}"


def headline(row: dict, recurring: bool, currency: str) -> str:
    """The period's finding: ``"Revenue up 42% on 2025 Q3: new customers added $141k,
    churned revenue took $79k"``."""
    new = row[mv.MOVEMENT_COLUMNS[mv.NEW]]
    lost = -row[mv.MOVEMENT_COLUMNS[mv.CHURNED]]
    name = "churned MRR" if recurring else "churned revenue"
    return (
        f"{_change_words(row, recurring, currency)}: new customers added "
        f"{fmt_money(new, currency)}, {name} took {fmt_money(lost, currency)}"
    )


def waterfall_subtitle(row: dict, recurring: bool) -> str:
    """What the waterfall compares."""
    if recurring:
        return (
            f"MRR of {row['compared_label']} to {row[NOW_LABEL]}: net revenue of the month "
            "from customers under contract at its end"
        )
    return (
        f"Revenue of {row['label']} against {row['compared_label']}, customer by customer "
        "(net of refunds)"
    )


def page_headline(row: dict, recurring: bool, currency: str, nrr: float | None) -> str:
    """The page's finding: the change on the comparison period and what last year's
    customers kept (``"Revenue up 42% on 2025 Q3; last year's customers kept 56% of their
    revenue"``)."""
    text = _change_words(row, recurring, currency)
    if nrr is None:
        return text
    what = "MRR" if recurring else "revenue"
    return f"{text}; last year's customers kept {fmt_pct(nrr)} of their {what}"


def churn_relation(contractual: bool) -> str:
    """How churned revenue relates to the activity rule's churned customers."""
    if contractual:
        return (
            "Churned MRR is the previous month's MRR of customers with none this month: "
            "nearly all are contracts that ended (the activity rule's churned customers); "
            "the rest paid nothing that month. Add-on purchases count as MRR (the data does "
            "not tell them from plan fees), so they move expansion and contraction."
        )
    return (
        "Churned revenue is the revenue a year earlier of customers who bought nothing this "
        "quarter. It is not the Overview's churn: most of them are still active by the "
        "activity rule (they bought within the last 12 months); everyone the rule lost in "
        "the year and who bought in that quarter is part of it."
    )


def trend_title(frame: pl.DataFrame, granularity: str, currency: str) -> str:
    """The trend chart's finding: what was gained and lost over the periods shown."""
    if frame.is_empty():
        return "No period has a comparison period yet"
    gained = sum(
        frame[mv.MOVEMENT_COLUMNS[m]].sum() for m in (mv.NEW, mv.EXPANSION, mv.REACTIVATION)
    )
    lost = -sum(frame[mv.MOVEMENT_COLUMNS[m]].sum() for m in (mv.CONTRACTION, mv.CHURNED))
    unit = "months" if granularity == MONTHS else "quarters"
    return (
        f"Gained {fmt_money(gained, currency)}, lost {fmt_money(lost, currency)} in "
        f"{frame.height} {unit}"
    )


def retention_title(nrr: float | None, grr: float | None, label: str) -> str:
    """The NRR / GRR trend's finding."""
    if nrr is None:
        return "Net revenue retention needs a year of history"
    return f"Net revenue retention {fmt_pct(nrr)} in {label}, gross {fmt_pct(grr)}"


# ----------------------------------------------------------------------------- movers

MOVER_COLUMNS: dict[str, tuple[str, str]] = {
    C.customer_id: ("Customer", "text"),
    C.acquisition_channel: ("Acquisition channel", "text"),
    C.region: ("Region", "text"),
    mv.AMOUNT_THEN: ("Then", "money"),
    mv.AMOUNT_NOW: ("Now", "money"),
    CHANGE: ("Change", "money"),
    mv.MOVEMENT: ("Movement", "text"),
    **{c: (MOVEMENT_WORDS[m], "money") for m, c in mv.MOVEMENT_COLUMNS.items()},
}
SHOWN_MOVERS = (C.customer_id, C.acquisition_channel, mv.AMOUNT_THEN, mv.AMOUNT_NOW, CHANGE)


def movers_title(movement: str, count: int) -> str:
    """Above the movers table."""
    words = MOVEMENT_WORDS[movement].lower()
    return f"The {fmt_count(count)} customers behind the {words} movement, largest change first"


def mover_columns(row: dict, recurring: bool) -> dict[str, tuple[str, str]]:
    """The movers table's columns, the amounts headed by their periods."""
    name = amount_name(recurring)
    labels = {
        mv.AMOUNT_THEN: f"{name} {row['compared_label']}",
        mv.AMOUNT_NOW: f"{name} {row['label']}",
    }
    return {
        c: (labels.get(c, MOVER_COLUMNS[c][0]), MOVER_COLUMNS[c][1])
        for c in (*SHOWN_MOVERS, mv.MOVEMENT)
    }


def with_words(frame: pl.DataFrame) -> pl.DataFrame:
    """The movement column in words."""
    return frame.with_columns(pl.col(mv.MOVEMENT).cast(pl.String).replace_strict(MOVEMENT_WORDS))


def movers_csv(frame: pl.DataFrame, currency: str) -> bytes:
    """Every mover as CSV: words for headers, amounts in cents, formula-safe text."""
    shown = with_words(frame)
    out = []
    for column, (header, kind) in MOVER_COLUMNS.items():
        if kind == "money":
            out.append(pl.col(column).round(2).alias(f"{header} ({currency})"))
        else:
            out.append(formula_safe(column).alias(header))
    return shown.select(out).write_csv(float_precision=2, float_scientific=False).encode("utf-8")


# ----------------------------------------------------------------------------- unit economics

GROUPINGS = {ue.BY_CHANNEL: "Acquisition channel", ue.BY_COHORT: "Cohort (quarter won)"}
WON = {0: "Every customer", 24: "Won in the last 24 months", 12: "Won in the last 12 months"}
WON_HELP = "Which customers the groups hold, by acquisition date."
ECONOMICS_COLUMNS: dict[str, tuple[str, str]] = {
    ue.GROUP: ("Group", "text"),
    ue.CUSTOMERS: ("Won", "count"),
    ue.SPEND: ("Spend", "money"),
    ue.CAC: ("CAC", "money"),
    ue.CLV_PER: ("CLV", "money"),
    ue.VALUE: ("Value", "money"),
    ue.RATIO: ("Value : CAC", "ratio"),
    ue.PAYBACK: ("Payback (months)", "one"),
    ue.RETENTION: ("12-month retention", "pct"),
    ue.PROFIT_SHARE: ("Profit share", "pct"),
}
"""Columns of the unit economics table (money per customer won, except the spend)."""


def economics_columns(by: str) -> dict[str, tuple[str, str]]:
    """The table's columns, the first headed by the grouping."""
    return {**ECONOMICS_COLUMNS, ue.GROUP: (GROUPINGS[by].split(" (")[0], "text")}


ECONOMICS_HELP = {
    ue.CUSTOMERS: "Customers won (acquired) in the group.",
    ue.SPEND: "Acquisition cost of the customers won, in total.",
    ue.CAC: "Acquisition cost per customer won.",
    ue.CLV_PER: "The shared 3-year CLV per customer won (the valuation behind customer "
    "equity); 0 for customers it does not value.",
    ue.VALUE: "Margin earned so far (revenue minus direct cost and cost to serve since "
    "acquisition) plus the 3-year CLV, per customer won.",
    ue.RATIO: "Value per customer over CAC.",
    ue.PAYBACK: "CAC over the group's average monthly margin since acquisition.",
    ue.RETENTION: "Active (the activity rule) at the end of the 4th quarter after the quarter "
    "won; customers won at least a year ago.",
    ue.PROFIT_SHARE: "Share of the last 12 months' profit (the Overview's top-10% basis).",
}


def economics_title(result: ue.UnitEconomics) -> str:
    """The scatter's finding: ``"Referral customers are worth 3.1x their cost; Paid
    social 0.8x"``."""
    pair = result.best_and_worst()
    if pair is None:
        return "Too few customers per group to compare value with cost"
    best, worst = pair
    if result.by == ue.BY_COHORT:
        return (
            f"Customers won in {best[ue.GROUP]} are worth {fmt_ratio(best[ue.RATIO])} their "
            f"cost; in {worst[ue.GROUP]} {fmt_ratio(worst[ue.RATIO])}"
        )
    return (
        f"{best[ue.GROUP]} customers are worth {fmt_ratio(best[ue.RATIO])} their cost; "
        f"{worst[ue.GROUP]} {fmt_ratio(worst[ue.RATIO])}"
    )


def economics_caption(result: ue.UnitEconomics, registry_ltv_cac: float | None) -> str:
    """How value : CAC relates to the registry's LTV : CAC."""
    who = (
        "every customer"
        if result.won_since is None
        else f"customers won since {day(result.won_since)}"
    )
    return (
        f"Groups of {who}; amounts in {result.currency} per customer won, spend in total. "
        "Value : CAC charges each group its own acquisition cost and adds the margin "
        f"already earned to the shared 3-year CLV; the Overview's {METRICS['ltv_cac'].label} "
        f"({fmt_ratio(registry_ltv_cac)}) divides CLV per active customer by the last 12 "
        "months' average acquisition cost."
    )


# ----------------------------------------------------------------------------- forecast

MEASURES = {
    fp.PURCHASES: ("Repeat purchases", "count"),
    fp.REVENUE: ("Revenue", "money"),
    fp.ACTIVE: ("Active customers", "count"),
}
MEASURE_HELP = (
    "Repeat purchases and revenue per quarter; active customers at each quarter end (the "
    "activity rule), of the customers the fit knew."
)


FIT_HELP = (
    "The CLV models fitted on the data up to an earlier quarter end (as for the Customer "
    "value page's holdout check)."
)
HEADLINE_HELP = (
    "The latest quarter against the same quarter a year earlier (subscriptions: MRR of the "
    "quarter's last month against the month before the quarter), and net revenue "
    "retention: revenue now of the customers of a year earlier over their revenue then."
)


def fit_option(d: date) -> str:
    """A fit in the selector."""
    return f"Fitted on {day(d)}"


def _amount(value: float | None, measure: str, currency: str) -> str:
    kind = MEASURES[measure][1]
    return fmt_kind(
        round(value) if kind == "count" and value is not None else value, kind, currency
    )


def fit_verdict(row: dict, measure: str) -> str:
    """A fit's error in words: ``"The 30 Sep 2025 fit forecast repeat purchases to within
    5%"`` or ``"... over-forecast revenue by 31%"``."""
    name = MEASURES[measure][0].lower()
    error = row[fc.ERROR]
    start = f"The fit of {day(row[fc.FIT_END])}"
    if error is None:
        return f"{start}: nothing happened to compare its {name} forecast with"
    if abs(error) <= 0.10:
        return f"{start} forecast {name} to within {fmt_pct(abs(error))}"
    return f"{start} {'over' if error > 0 else 'under'}-forecast {name} by {fmt_pct(abs(error))}"


def fit_summary(row: dict, measure: str, currency: str, as_of: date) -> str:
    """The numbers behind :func:`fit_verdict`, one sentence."""
    name = MEASURES[measure][0].lower()
    error = "" if row[fc.ERROR] is None else f" ({fmt_pct(row[fc.ERROR], signed=True)})"
    if measure == fp.ACTIVE:
        expected = _amount(row[fp.FORECAST], measure, currency)
        actual = _amount(row[fp.ACTUAL], measure, currency)
        return (
            f"Of the customers it knew, it expected {expected} to be active {row[fp.STEP]} "
            f"quarters on; {actual} were{error}."
        )
    what = f"{_amount(row[fp.FORECAST], measure, currency)} " + (
        f"of {name}" if MEASURES[measure][1] == "money" else name
    )
    return (
        f"It forecast {what} from the customers it knew up to {day(as_of)}; "
        f"{_amount(row[fp.ACTUAL], measure, currency)} happened{error}."
    )


def history_title(history: fc.ForecastHistory, measure: str) -> str:
    """The error chart's finding: the mean absolute error over the fits."""
    mean = history.mean_abs_error(measure)
    if mean is None:
        return "No earlier fit to compare with what happened"
    n = history.summary.filter(pl.col(fp.MEASURE) == measure).height
    name = MEASURES[measure][0].lower()
    return f"Across {n} fits, the forecasts of {name} were off by {fmt_pct(mean)} on average"


def consistency_caption(contractual: bool, as_of: date) -> str:
    """How the errors relate to the Customer value page's holdout check."""
    measure = "active customers (running contracts)" if contractual else "repeat purchases"
    return (
        f"Up to {day(as_of)}, each fit's error in {measure} is the Customer value page's "
        "holdout check for the same calibration date. Actuals count only the customers each "
        "fit knew; customers won later are not forecast."
    )


HISTORY_COLUMNS: dict[str, tuple[str, str]] = {
    fc.FIT_END: ("Fitted on", "date"),
    fp.STEP: ("Quarters compared", "count"),
    fp.FORECAST: ("Forecast", "number"),
    fp.ACTUAL: ("Actual", "number"),
    fc.ERROR: ("Error", "signed_pct"),
}
