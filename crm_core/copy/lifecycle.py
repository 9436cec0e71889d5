"""Copy of the Lifecycle page: stage names, rules in words, headlines, captions, headers.

Stage names are the registry's labels of the stage counts (``METRICS["stage_new"].label``),
so a stage is called the same on every page. Data-derived strings (customer ids, channel
names) are never put in Markdown here; the page shows them in table cells.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from crm_core.data.ledger import CHURNED, CUSTOMER_STAGES, DECLINING, GROWING, MATURE, NEW
from crm_core.data.rules import ActivityRule, StageRules
from crm_core.formatting import fmt_count, fmt_money, fmt_pct
from crm_core.lifecycle.report import LifecycleReport, stage_key
from crm_core.lifecycle.stages import PROSPECT
from crm_core.lifecycle.transitions import LEAD_DROPPED, NOT_YET
from crm_core.lifecycle.values import CLV, REVENUE_TTM
from crm_core.metrics.registry import METRICS, Kpi

STAGE_LABELS: dict[str, str] = {
    PROSPECT: "Prospect",
    **{s: METRICS[stage_key(s)].label for s in CUSTOMER_STAGES},
}
"""Stage names: the registry's labels of the stage counts, and "Prospect" for leads."""
FLOW_LABELS: dict[str, str] = {
    NOT_YET: "Not yet known",
    **STAGE_LABELS,
    LEAD_DROPPED: "Lead dropped",
}
BRIEF_NAMES = {
    PROSPECT: "potential",
    NEW: "exploration",
    GROWING: "formation",
    MATURE: "stability",
    DECLINING: "decline",
    CHURNED: "termination",
}
"""The domain brief's name of each stage."""

CUSTOM_SUFFIX = " (your thresholds)"


def share_text(value: float | None) -> str:
    """A share in titles and labels: whole percent, one decimal below 9.5%, never "-0%"."""
    if value is None:
        return fmt_pct(value)
    if abs(value) < 0.0005:
        return fmt_pct(0.0)
    return fmt_pct(value, digits=1 if abs(value) < 0.095 else 0)


def period_word(period_months: int, *, plural: bool = False) -> str:
    """The ledger's period in words: ``"quarter"`` or ``"month"``."""
    word = "quarter" if period_months == 3 else "month"
    return word + ("s" if plural else "")


def day(d: object) -> str:
    """A date as on every page: ``30 Sep 2026``."""
    return f"{d:%d %b %Y}"


# ----------------------------------------------------------------------------- rules


def stage_definitions(
    rules: StageRules, activity: ActivityRule, *, contractual: bool
) -> dict[str, str]:
    """One sentence per stage stating its rule with these thresholds."""
    months = f"{rules.trend_months} month{'s' if rules.trend_months != 1 else ''}"
    window = (
        f"spend in the last {months} compared with the {months} before (for customers who "
        "normally buy in every such window)"
    )
    leads = (
        "every lead not converted"
        if rules.prospect_days is None
        else f"leads first contacted in the last {rules.prospect_days} days, not converted yet"
    )
    decline = (
        f"no purchase for more than {rules.decline_gap_multiple:g}x the usual gap (and more "
        f"than {rules.decline_after_days} days), or {window} fell by more than "
        f"{rules.decline_drop:.0%}"
    )
    if rules.decline_p_alive is not None and not contractual:
        decline += f", or BG/NBD P(alive) below {rules.decline_p_alive:.0%}"
    return {
        PROSPECT: f"Prospect: {leads} (leads are not customers).",
        NEW: f"New (exploration): active, acquired less than {rules.new_days} days ago.",
        GROWING: f"Growing (formation): active, {window} rose by more than "
        f"{rules.growth_rise:.0%}, or acquired less than {rules.mature_days} days ago.",
        MATURE: f"Mature (stability): active, acquired at least {rules.mature_days} days ago, "
        "steady spend.",
        DECLINING: f"Declining (decline, the early warning): active, but {decline}.",
        CHURNED: "Churned: not active by the product's activity rule (the same on every "
        f"page). {activity.definition(contractual=contractual)}",
    }


TITLE = "Lifecycle: stages, funnel and cohorts"
SUBTITLE = "shorten exploration, speed up formation, lengthen stability, avoid decline"
COMPARE_LABEL = "Compare with"
YEARS_LABEL = "Funnel: still active after"
RULES_EXPANDER = "Stage rules: how customers are placed in a stage"
P_ALIVE_SLIDER = "P(alive) below"


def months_text(months: int) -> str:
    """``"6 months"``."""
    return f"{months} month{'s' if months != 1 else ''}"


def years_text(years: int) -> str:
    """``"2 years"``."""
    return f"{years} year{'s' if years != 1 else ''}"


COMPARE_QUARTERS = {1: "Last quarter end", 2: "Two quarters earlier", 4: "A year earlier"}
COMPARE_HELP = (
    "Card changes and the transitions compare the as-of date with this earlier quarter end. "
    "CLV at that date comes from the model fitted then (one more fit for 2 or 4 quarters)."
)
YEARS_HELP = (
    "The funnel's last step: stable customers still buying this many years after their first "
    "purchase (only customers that old count in its rate)."
)
RULE_SLIDERS = {
    # key: (label, low, high, step, help)
    "new_days": ("New for (days after acquisition)", 30, 180, 15, None),
    "mature_days": ("Mature after (days since acquisition)", 180, 730, 30, None),
    "decline_after_days": (
        "Overdue after at least (days without a purchase)",
        30,
        365,
        15,
        "…and more than twice the customer's usual gap between purchases.",
    ),
}
TREND_LABEL = "Trend windows"
TREND_HELP = "Spend in the last window is compared with the window before (whole ledger periods)."
DROP_LABEL = "Declining when spend falls by more than"
P_ALIVE_TOGGLE = "Also use BG/NBD P(alive)"
P_ALIVE_HELP = (
    "Declining when the probability of still being active, P(alive), from the BG/NBD model "
    "fitted at the as-of date (the one every page uses) is below the threshold."
)
TABS = ("Stages", "Early warning", "Transitions", "Funnel", "Cohorts", "Profit by tenure")


RULES_CAPTION = (
    "The rules are tried in the order churned, new, declining, growing, mature; the first that "
    "holds gives the stage, so every customer has exactly one. A customer's usual gap is the "
    "mean time between their purchase days. Churned is not a threshold here: it is the "
    "activity rule every page uses."
)


# ----------------------------------------------------------------------------- cards, headline


def cards(report: LifecycleReport) -> tuple[Kpi, ...]:
    """The stage cards: the registry's labels; stage counts under other thresholds than the
    product's are labelled as such (they differ from the Overview's by design)."""
    if report.default_rules:
        return report.cards
    fixed = ("active_customers", stage_key(CHURNED))
    return tuple(
        k
        if k.key in fixed
        else replace(
            k,
            label=k.label + CUSTOM_SUFFIX,
            help=f"{k.help} Counted with the thresholds chosen above; with the product's "
            "defaults (as on the Overview) the count differs.",
        )
        for k in report.cards
    )


def cards_caption(report: LifecycleReport) -> str:
    """What the cards' changes compare with."""
    text = f"Customers by stage; changes since {day(report.compare_to)}."
    if not report.default_rules:
        text += (
            " Stage counts use your thresholds; the Overview and the other pages use the "
            "product's defaults. Active and churned customers do not depend on them."
        )
    return text


def headline(report: LifecycleReport) -> str:
    """The page's finding: how much of the base is declining and what it carries."""
    declining = report.stage_value(DECLINING, "customers")
    active = report.card("active_customers").value
    text = f"{fmt_count(declining)} of {fmt_count(active)} active customers are declining"
    clv = report.stage_value(DECLINING, CLV)
    revenue = report.stage_value(DECLINING, REVENUE_TTM)
    text += f", carrying {fmt_money(revenue, report.currency)} of the last 12 months' revenue"
    if clv is not None:
        text += f" and {fmt_money(clv, report.currency)} of CLV"
    return text


def headline_help(report: LifecycleReport) -> str:
    """Tooltip of the headline."""
    return (
        "Declining is the early warning: active, but overdue against the customer's own "
        "rhythm or spending clearly less than before. Active customers are the Overview's "
        "(the product's one activity rule). CLV: " + report.clv_method + "."
    )


def moves_caption(report: LifecycleReport) -> str:
    """What moved since the comparison date, and the prospects."""
    t = report.transitions
    cur = report.currency
    into, lost = t.into_declining, t.into_churned
    prospects = report.stage_value(PROSPECT, "customers")
    return (
        f"Since {day(t.start)}: {fmt_count(into.customers)} customers "
        f"({fmt_money(into.revenue_ttm, cur)} of 12-month revenue) started declining and "
        f"{fmt_count(lost.customers)} ({fmt_money(lost.revenue_ttm, cur)}) churned. "
        f"{fmt_count(prospects)} open prospects (leads) are not counted as customers."
    )


# ----------------------------------------------------------------------------- stage table

STAGE_TABLE = {
    "label": ("Stage", "text"),
    "customers": ("Customers", "count"),
    "change": ("Change", "signed"),
    "share_of_customers": ("% customers", "pct"),
    REVENUE_TTM: ("Revenue 12m", "money"),
    "share_of_revenue": ("% revenue", "pct"),
    CLV: ("CLV", "money"),
    "share_of_clv": ("% CLV", "pct"),
    "periods_in_stage": ("Time in stage", "one"),
}
"""Stage table columns: header and kind (text, count, signed, money, cents, pct in percent,
one decimal, date)."""


def stage_columns(report: LifecycleReport) -> dict[str, tuple[str, str]]:
    """:data:`STAGE_TABLE` with the unit of time in stage (quarters or months)."""
    unit = period_word(report.period_months, plural=True)
    return {**STAGE_TABLE, "periods_in_stage": (f"Time in stage ({unit})", "one")}


def stage_table(report: LifecycleReport) -> pl.DataFrame:
    """The customer stages with their counts, change, shares, values and time in stage
    (shares in percent, time in stage in the ledger's periods)."""
    before = dict(report.previous_summary.select("stage", "customers").iter_rows())
    table = (
        report.summary.filter(pl.col("stage") != PROSPECT)
        .with_columns(
            pl.col("stage").replace_strict(STAGE_LABELS).alias("label"),
            (pl.col("customers") - pl.col("stage").replace_strict(before)).alias("change"),
            *((pl.col(c) * 100).round(1) for c in ("share_of_customers", "share_of_revenue")),
            (pl.col("share_of_clv") * 100).round(1),
        )
        .select(list(STAGE_TABLE))
    )
    if report.summary[CLV].is_null().all():
        table = table.drop(CLV, "share_of_clv")
    return table


def time_in_stage_help(report: LifecycleReport) -> str:
    """Help of the time-in-stage column."""
    unit = period_word(report.period_months, plural=True)
    return (
        f"Average {unit} today's customers have been in their stage, read from their stage "
        f"at every {period_word(report.period_months)} end since acquisition (entered half a "
        f"{period_word(report.period_months)} before the first end seen in it). The aim: "
        "shorten exploration, speed up formation, lengthen stability, avoid decline."
    )


# ----------------------------------------------------------------------------- CLV


def clv_caption(report: LifecycleReport) -> str:
    """How CLV was computed."""
    return f"Customer lifetime value: {report.clv_method}."


# ----------------------------------------------------------------------------- transitions


def move_cards(report: LifecycleReport) -> list[tuple[str, str, str]]:
    """``(label, value, help)`` of the four transition cards."""
    t = report.transitions
    into, lost = t.into_declining, t.into_churned
    since, cur = day(t.start), report.currency
    return [
        (
            "Started declining",
            fmt_count(into.customers),
            f"Customers declining today who were in another stage (or not yet customers) on "
            f"{since}.",
        ),
        (
            "Revenue at risk",
            fmt_money(into.revenue_ttm, cur),
            f"Their net revenue over the 12 months to {since}: the revenue at risk.",
        ),
        (
            "Churned since",
            fmt_count(lost.customers),
            "Customers churned today (no longer active by the activity rule) who were not on "
            f"{since}.",
        ),
        (
            "Revenue lost",
            fmt_money(lost.revenue_ttm, cur),
            f"Their net revenue over the 12 months to {since}.",
        ),
    ]


def moved_value_caption(report: LifecycleReport) -> str:
    """The CLV (at the earlier date) of the customers who moved into decline and churn."""
    t = report.transitions
    if t.into_declining.clv is None:
        return f"CLV on {day(t.start)} is not available, so moves are valued by revenue only."
    cur = report.currency
    return (
        f"CLV on {day(t.start)} (the model fitted then): {fmt_money(t.into_declining.clv, cur)} "
        f"for the customers who started declining, {fmt_money(t.into_churned.clv, cur)} for "
        "those who churned since."
    )
