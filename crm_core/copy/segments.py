"""Copy of the Segments page: labels, help texts, captions, column headers and the cards.

Data-derived names (regions, channels, customer ids) are never put into Markdown here: the
page shows them in table cells or escapes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crm_core.clv.valuation import DEFAULT_HORIZON_YEARS
from crm_core.formatting import fmt_count, fmt_kind, fmt_money, fmt_pct
from crm_core.metrics.registry import METRICS
from crm_core.segments import columns as S
from crm_core.segments.report import SegmentReport
from crm_core.segments.tiers import tier_name

__all__ = [
    "AMORTISE",
    "CLV_LABEL",
    "CUSTOMERS_LABEL",
    "VIEWS",
    "WINDOWS",
    "Card",
    "cards",
    "clv_note",
    "customers_note",
    "humanise",
    "share_text",
]

TITLE = "Segments: who earns the profit"
SUBTITLE = (
    "customers ranked by net profit: revenue − direct cost − cost to serve − acquisition cost"
)

WINDOWS = (3, 6, 12, 24)
"""Profit windows offered, in months."""
AMORTISE: dict[str, tuple[str, float | None]] = {
    "none": ("In full when acquired", None),
    "2": ("Spread over 2 years", 2.0),
    "3": ("Spread over 3 years", 3.0),
    "5": ("Spread over 5 years", 5.0),
}
"""Acquisition-cost options: URL value -> (label, years)."""
VIEWS = ("Profit tiers", "Whale curve", "Value matrix", "RFM segments", "Cost to serve")
MIGRATION_MONTHS = (3, 6, 12, 24)
"""How far back the RFM migration can compare, in months."""

HELP = {
    "window": "Profit is counted over the months ending on the as-of date. Customers with a "
    "purchase, a service contact or an acquisition in the window are ranked.",
    "acquisition": "Charged in full in the window a customer was won, or spread evenly over a "
    "number of years from the acquisition date.",
    "tiers": "Tier A is the most profitable customers up to the first handle, tier B up to the "
    "second, tier C the rest. The seeds use 10% / 20% / 70%.",
    "filters": "Tiers, medians and shares are computed within the selected customers.",
    "tier_pick": "Click a tier in the chart above or choose it here.",
    "thresholds": "Frequent: more purchases a year than the threshold. High spend: more "
    "revenue a year than the threshold.",
    "migration": "Where the customers of each segment on that date are now. Scores at each "
    "date use only the data recorded up to it.",
}

CUSTOMERS_LABEL = "Customers dealt with (window)"
CLV_LABEL = f"Average CLV ({DEFAULT_HORIZON_YEARS:g}-year, fitted model)"
WHATIF_VALUE_LABEL = "Projected value per customer (retention model)"

# Words for the codes found in ``service_costs.touchpoint`` and ``transactions.channel``.
VALUE_LABELS: dict[str, str] = {
    "call_center": "Call centre",
    "call_centre": "Call centre",
    "field": "Field visits",
    "outlet": "Outlet",
    "web": "Web",
    "mail": "Mail",
    "app": "App",
    "store": "Store",
    "phone": "Phone",
    "email": "Email",
    "chat": "Chat",
}


def _exact(count: float) -> str:
    return fmt_count(count, compact=False)


def humanise(value: str) -> str:
    """A code as words: ``"call_center" -> "Call centre"``, ``"self_service" -> "Self service"``."""
    if value in VALUE_LABELS:
        return VALUE_LABELS[value]
    text = value.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Card:
    """One headline card: its label, formatted value and tooltip."""

    label: str
    value: str
    help: str


def cards(report: SegmentReport, registry_top_share: float | None) -> tuple[Card, ...]:
    """The five headline cards.

    ``registry_top_share`` is the registry's ``top_profit_share`` at the as-of date: with
    the default controls (:attr:`SegmentReport.is_overview_default`) the third card *is*
    that metric, under its registry label; otherwise it is tier A's share of this
    selection, under a label of its own.
    """
    cur = report.currency
    stats = report.whale_stats
    if report.is_overview_default:
        metric = METRICS["top_profit_share"]
        top = Card(metric.label, fmt_kind(registry_top_share, metric.kind, cur), metric.definition)
    else:
        top = Card(
            f"Top {fmt_pct(report.cutoffs[0])} earn (this selection)",
            fmt_kind(report.top_profit_share, "pct", cur),
            "Share of net profit earned by tier A, the most profitable customers of this "
            "window and selection. With the default controls (12 months, top 10%, acquisition "
            "charged in full, no filter) it is the Executive overview's headline.",
        )
    return (
        Card(
            CUSTOMERS_LABEL,
            fmt_count(stats.customers),
            "Customers with a purchase, a service contact or an acquisition in the profit "
            "window (after the filters): the customers ranked here.",
        ),
        Card(
            "Net profit",
            fmt_money(stats.total_profit, cur),
            "Revenue net of refunds minus direct cost, cost to serve and acquisition cost, "
            "over the window.",
        ),
        top,
        Card(
            "Profitable customers",
            fmt_pct(stats.peak_customer_share),
            "Share of the customers dealt with whose profit in the window is above zero.",
        ),
        Card(
            "Lost by loss-makers",
            fmt_money(-stats.loss_tail_profit, cur),
            "Total loss of the customers with negative profit: what they give back of the "
            "profit the others earn.",
        ),
    )


def customers_note(report: SegmentReport, active_total: float | None) -> str:
    """One line relating the customers dealt with to the registry's active customers."""
    active = METRICS["active_customers"].label
    line = (
        f"{CUSTOMERS_LABEL}: {_exact(report.customers.height)} customers bought, "
        f"contacted service or were acquired in {report.window.label}"
    )
    if report.active_dealt_with is not None:
        line += f"; {_exact(report.active_dealt_with)} of them are active today"
    if active_total is not None and not report.regions and not report.channels:
        line += (
            f". The Overview's {active} ({_exact(active_total)}) counts customers within "
            "their usual buying rhythm at the date, whether or not they bought in the window"
        )
    return line + "."


def clv_note(report: SegmentReport, reason: str | None) -> str:
    """How the tier table's average CLV was computed and how it relates to the What-if."""
    if not report.has_clv:
        return f"{CLV_LABEL} is not shown: {reason or 'no fitted model'}."
    return (
        f"{CLV_LABEL}: expected discounted margin over the next {DEFAULT_HORIZON_YEARS:g} "
        f"years per customer of the tier, from the model set behind the Overview's customer "
        f"equity ({report.clv_method}); customers the model does not value count as 0. The "
        f"What-if page's {WHATIF_VALUE_LABEL.lower()} projects whole segments with a "
        "retention rate and margin instead, so the two differ by design."
    )


def migration_choice(months: int) -> str:
    """A migration date option, ``"3 months earlier"`` (also its URL value, so a shared link
    means the same comparison at any as-of date; the chart names the dates)."""
    return f"{months} months earlier"


def share_text(value: float | None) -> str:
    """A share in titles and labels: whole percent, one decimal below 9.5%, never "-0%"."""
    if value is None:
        return fmt_pct(value)
    if abs(value) < 0.0005:
        return fmt_pct(0.0)
    return fmt_pct(value, digits=1 if abs(value) < 0.095 else 0)


def empty_message(report: SegmentReport) -> str:
    """Markdown: nobody in the window; what to do (no data-derived text)."""
    filtered = " with these filters" if report.regions or report.channels else ""
    return (
        f"**No customer bought, contacted us or was acquired in {report.window.label}"
        f"{filtered}.** Choose a longer profit window, another *As of* date in the sidebar, "
        "or clear the region and channel filters."
    )


def loss_message(report: SegmentReport) -> str:
    """Markdown: customers lost money in total, so shares of profit are not meaningful."""
    stats = report.whale_stats
    cur = report.currency
    still = (
        f"{fmt_count(stats.profitable_customers)} customers were still profitable"
        if stats.profitable_customers
        else "No customer was profitable"
    )
    return (
        f"**Customers lost {fmt_money(-stats.total_profit, cur)} in total over "
        f"{report.window.label}.** Shares of profit are not meaningful when the total is a "
        f"loss, so the charts show amounts in {cur} instead. {still}; compare the cost to "
        "serve and the direct costs with the revenue below."
    )


def tier_lead(report: SegmentReport, tier: str, customers: int, profit: float) -> str:
    """Markdown: how many customers the tier has and what they earn."""
    share = report.tiers.filter(pl.col(S.TIER) == tier)[S.PROFIT_SHARE][0]
    text = (
        f"**{_exact(customers)} customers in tier {tier_name(tier, report.cutoffs)}** earn "
        f"{fmt_money(profit, report.currency)} net profit"
    )
    if report.whale_stats.meaningful:
        text += f" ({share_text(share)} of the total)"
    return text + "."


def shown_rows(shown: int, total: int) -> str:
    """Caption under a tier's list."""
    if shown >= total:
        return f"All {_exact(total)} customers of the tier, best first."
    return (
        f"The {_exact(shown)} most profitable of {_exact(total)} customers; the CSV has them all."
    )


def whale_finding(report: SegmentReport) -> str | None:
    """Markdown under the whale curve (``None`` when there is no loss tail to discuss)."""
    stats = report.whale_stats
    if not (stats.meaningful and stats.unprofitable_customers):
        return None
    cur = report.currency
    return (
        f"Ranked from most to least profitable, customers earn **{fmt_pct(stats.peak_share)}"
        f"** of the total by the time the last profitable one is counted "
        f"({fmt_pct(stats.peak_customer_share)} of customers). The remaining "
        f"{fmt_count(stats.unprofitable_customers)} customers lose "
        f"**{fmt_money(-stats.loss_tail_profit, cur)}**, giving back "
        f"{fmt_pct(stats.given_back_share, digits=1)} of profit. Making them break even "
        "(cheaper service channels, fewer costly contacts, or a minimum order) is worth as "
        "much as that."
    )


CAPTIONS = {
    "tiers": "The seeds' benchmark (a leisure company): tier A, 10% of customers, earns 75% "
    "of net profit; tier C, 70%, earns 5% and causes 50% of costs. Customers are ranked by "
    "net profit, highest first; equal profits are ordered by customer id.",
    "whale": "Whale curve: Kaplan & Narayanan, *Measuring and managing customer "
    "profitability* (2001). When total profit is negative the curve is drawn in currency; "
    "about a thousand of its points are drawn.",
    "matrix": "The activity matrix of the seeds (credit cards): frequency shows the habit, "
    "yearly amount the capacity to spend. Both are the window's purchases and revenue per "
    "year.",
    "rfm": "Scores 1-5 are quintiles of days since the last purchase (recency), purchase days "
    "(frequency) and revenue net of refunds (monetary) over the whole history up to the date, "
    "read off the customer ledger; segments follow the usual map of recency against "
    "frequency-and-spend.",
    "costs": "Cost to serve and sales channels are drill-downs on the snapshot's own "
    "service-cost and transaction rows dated in the window, summed per customer and tier "
    "(they add up to the ledger's cost to serve and revenue).",
}


def rfm_caption(report: SegmentReport) -> str:
    """Caption of the RFM tab, with the profit window."""
    return f"{CAPTIONS['rfm']} Net profit over {report.window.label}."
