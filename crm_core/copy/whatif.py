"""Copy of the What-if page: control labels, card names, the lines that reconcile its
figures with the Overview's, the backtest line and the words of its tables.

The What-if page projects with a *retention model* (:mod:`crm_core.whatif.engine`), so its
figures are named for what they are and never "customer equity", which is the registry's
fitted-CLV figure (:data:`crm_core.metrics.registry.METRICS`); :func:`reconciliation`
says in one line how the two relate. Tables built here carry words as headers and
formatted numbers; the page renders them with ``st.dataframe`` (data-derived names are
never Markdown).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from crm_core.clv.valuation import ClvResult
from crm_core.formatting import fmt_count, fmt_money, fmt_pct
from crm_core.metrics.registry import METRICS, Kpi
from crm_core.whatif.backtest import Backtest
from crm_core.whatif.baseline import Baseline
from crm_core.whatif.baseline_table import COMPANY, MODEL
from crm_core.whatif.breakeven import BreakEven
from crm_core.whatif.controls import Adjustment
from crm_core.whatif.engine import CardValue, RetentionUplift, SimulationResult

__all__ = [
    "GROUPINGS",
    "LEVER_WORDS",
    "backtest_help",
    "backtest_sentence",
    "break_even_sentence",
    "cards_per_row",
    "equity_today_label",
    "equity_with_new_label",
    "load_message",
    "reconciliation",
    "retention_slider",
    "retention_uplift_sentence",
    "scenario_cards",
]

GROUPINGS = {"Profit tiers": "tier", "Channels": "channel", "Regions": "region"}
"""Segmentation choices in words (the URL carries the words) -> baseline key."""
GROUPING_HELP = (
    "How customers are grouped: profit tiers (top 10%, next 20%, other 70% by profit over "
    "the last twelve months, as on the Segments page), acquisition channels or regions."
)
CURVE_LABEL = "Retention rises with tenure"
CURVE_HELP = (
    "Later years follow the contract-survival model (shifted-beta-geometric) by tenure "
    "instead of one flat rate per segment: long-standing customers churn less."
)
SUBTITLE = "move the sliders: every number follows"
PROJECTION_METRICS = {
    "profit": "Profit",
    "customers": "Customers",
    "discounted_profit": "Discounted profit",
}
"""What the projection chart shows: metric -> words on its switch."""
VALUE_PER_CUSTOMER = "Projected value per customer (retention model)"
"""Heading of the per-segment cards (the Segments page shows "Average CLV (3-year, fitted
model)" per tier)."""

LEVER_WORDS: dict[str, tuple[str, str]] = {
    "margin_pct": (
        "Margin per customer, change",
        "Extra (or lost) revenue at the same costs, in percent of today's margin per customer.",
    ),
    "cost_to_serve_pct": (
        "Cost to serve, change",
        "Service costs per customer in percent of today's; the margin moves by the difference.",
    ),
    "acquisition_volume_pct": (
        "New customers per year, change",
        "Customers won each year in percent of the baseline's (the last twelve months' "
        "number carried forward by its trend).",
    ),
    "acquisition_cost_pct": (
        "Acquisition cost, change",
        "Cost per new customer in percent of the last twelve months' average.",
    ),
}
SPEND_HELP = (
    "Spent on every active customer each year (loyalty offers, service). It raises retention "
    "along a response curve with diminishing returns: at most half of the churn can be "
    "removed, and a tenth of a segment's yearly margin per customer buys half of that."
)
HORIZON_HELP = "Years of profit counted in the projection; new customers join in each of them."
RATE_HELP = "Yearly rate at which future profit is discounted (the snapshot's is the start)."


def spend_label(currency: str) -> str:
    return f"Extra retention spend per customer a year ({currency})"


def bands_help(draws: int) -> str:
    return (
        f"Simulate {fmt_count(draws)} outcomes from the uncertainty of the observed retention "
        "and margins and shade the range of the middle 80%."
    )


def equity_with_new_label(horizon: int) -> str:
    return f"Projected equity with new customers ({horizon}-year)"


def equity_today_label(horizon: int) -> str:
    return f"Projected value of today's customers (retention model, {horizon}-year)"


def retention_slider(baseline: Baseline, name: str) -> tuple[str, str]:
    """Label and help of a segment's retention slider."""
    seg, row = baseline.segment(name), baseline.row(name)
    used = fmt_pct(seg.retention, digits=1)
    observed = (
        f"{fmt_count(row['observed_retained'])} of the {fmt_count(row['observed_at_risk'])} "
        f"customers in {name} a year ago are still active"
    )
    if row["retention_source"] == MODEL:
        label = f"{name} (baseline {used})"
        help_ = (
            f"Observed: {observed} ({fmt_pct(row['observed_retention'], digits=1)}). The "
            f"baseline uses {used}: that rate moved by the contract-survival model for today's "
            "longer tenure (cancellations fall with tenure)."
        )
    elif row["retention_source"] == COMPANY:
        label = f"{name} (company {used})"
        help_ = f"Nobody was in {name} a year ago, so the company's retention ({used}) is used."
    else:
        label = f"{name} (observed {used})"
        help_ = f"Observed: {observed} ({used}). Move the slider to set another rate."
    return label, help_


def scenario_cards(values: Sequence[CardValue], horizon: int) -> tuple[Kpi, ...]:
    """The page's cards (:func:`crm_core.whatif.engine.scenario_kpis`) with words."""
    words = {
        "equity": (
            equity_with_new_label(horizon),
            f"Discounted profit of today's customers and of those won over the next {horizon} "
            "years, net of acquisition and retention spend (retention model). Sparkline: "
            "cumulative discounted profit by year.",
        ),
        "equity_today": (
            equity_today_label(horizon),
            f"The part from today's active customers (and lapsed ones expected back) over "
            f"{horizon} years at each segment's retention. Not the Overview's customer "
            "equity, which values them with the fitted CLV model over 3 years.",
        ),
        "profit": (
            f"Profit over {horizon} years",
            "Margin of active customers minus acquisition and retention spend, summed over "
            "the horizon without discounting. Sparkline: profit by year.",
        ),
        "customers_end": (
            f"Customers in year {horizon}",
            "Active customers at the end of the horizon, today's and new ones. Sparkline: "
            "active customers at each year end.",
        ),
    }
    cards = []
    for v in values:
        if v.segment is not None:
            label = f"Projected · {v.segment}"  # not a bare segment name: other pages use those
            help_ = (
                f"{VALUE_PER_CUSTOMER}: discounted profit of one of today's customers in "
                f"{v.segment} over {horizon} years, net of retention spend. The Segments page "
                "shows Average CLV (3-year, fitted model) per tier."
            )
        else:
            label, help_ = words[v.key]
        cards.append(
            Kpi(v.key, label, v.value, v.previous, v.kind, help_, history=v.history)  # type: ignore[arg-type]
        )
    return tuple(cards)


def cards_per_row(cards: Sequence[Kpi], *, most: int = 3, width: int = 22) -> int:
    """Cards a row so that their labels fit: ``most`` when every label has at most
    ``width`` characters (a third of the results column at 1280 px), else two."""
    if not cards:
        return 1
    fits = max(len(c.label) for c in cards) <= width
    return min(len(cards), most if fits else 2)


def reconciliation(
    equity: float | None, clv: ClvResult | None, baseline: Baseline, result: SimulationResult
) -> str:
    """One line: how the Overview's customer equity and the two projections relate (who is
    counted, which model, which horizon)."""
    currency = baseline.currency
    horizon = result.horizon_years
    new = float(result.totals["new_customers"][0])
    cost = float(result.totals["acquisition_spend"][0]) / new if new else 0.0
    label = METRICS["customer_equity"].label
    if equity is None or clv is None:
        head = f"{label} (the Overview's) could not be computed for this date."
    else:
        who = (
            f"the {fmt_count(clv.customers)} running contracts"
            if baseline.contractual
            else f"all {fmt_count(clv.customers)} customers, lapsed ones weighted by their "
            "chance of still buying,"
        )
        head = (
            f"{label} ({fmt_money(equity, currency)}, the Overview's) values {who} with the "
            f"fitted model {clv.method}."
        )
    return (
        f"How they relate: {head} The projected value of today's customers "
        f"({fmt_money(result.equity_today, currency)}) follows only the "
        f"{fmt_count(baseline.customers)} active today, at each segment's retention, for "
        f"{horizon} years. Projected equity with new customers "
        f"({fmt_money(result.customer_equity, currency)}) adds the {fmt_count(round(new))} "
        f"customers won each year, net of {fmt_money(cost, currency)} each to win them."
    )


def _money_digits(*values: float) -> int:
    """Decimals after the k/M suffix so that amounts in millions still differ visibly."""
    return 2 if max(abs(v) for v in values) >= 1e6 else 1


def backtest_sentence(check: Backtest, currency: str) -> str:
    """The backtest in one line."""
    digits = _money_digits(check.predicted_profit, check.actual_profit)
    return (
        f"Last year, this baseline would have predicted "
        f"{fmt_count(round(check.predicted_customers))} active customers and "
        f"{fmt_money(check.predicted_profit, currency, digits=digits)} profit; it was "
        f"{fmt_count(round(check.actual_customers))} and "
        f"{fmt_money(check.actual_profit, currency, digits=digits)}."
    )


def backtest_help(check: Backtest, currency: str) -> str:
    """How the backtest was made, with all three comparisons."""
    err = check.errors()
    digits = _money_digits(check.predicted_revenue, check.actual_revenue)
    pct = {k: fmt_pct(v, digits=1, signed=True) for k, v in err.items()}
    predicted = fmt_money(check.predicted_revenue, currency, digits=digits)
    actual = fmt_money(check.actual_revenue, currency, digits=digits)
    return (
        f"The baseline built on {check.start:%d %b %Y} from what was observed then "
        "(retention, new customers' first-year survival, margins, new customers and their "
        f"trend), projected one year, against the ledger on {check.end:%d %b %Y}: active "
        f"customers {pct['customers']}; revenue {predicted} against {actual} "
        f"({pct['revenue']}); profit, "
        "i.e. contribution (revenue minus direct costs and cost to serve, before "
        f"acquisition spend), {pct['profit']}."
    )


def retention_uplift_sentence(uplift: RetentionUplift, *, currency: str = "USD") -> str:
    """The "+5 points of retention" answer in words."""
    points = f"{abs(uplift.points):g}"
    verb_lead = "Keeping" if uplift.points >= 0 else "Losing"
    lead = f"{verb_lead} {points} more customers in every 100 each year"
    change = uplift.change
    verb = "raises" if change >= 0 else "lowers"
    amount = fmt_money(abs(change), currency)
    share = uplift.change_share
    if share is None:
        return f"{lead} {verb} projected equity by {amount}"
    return f"{lead} {verb} projected equity by {fmt_pct(abs(share))} ({amount})"


def uplift_help(horizon: int) -> str:
    return (
        "Every segment keeps 5 more customers in every 100 each year (new customers in their "
        f"first year too), over {horizon} years. Reichheld & Sasser (HBR 1990) found that 5 "
        "points more retention raised profits by 25% to 85% across industries."
    )


def _points(value: float) -> str:
    size = abs(value)
    return f"{round(size, 1):g}" if size >= 0.1 else f"{size:.1g}"


def break_even_sentence(result: BreakEven, *, currency: str = "USD") -> str:
    """Break-even of a retention spend, and the acquisition alternative, in words."""
    head = f"Spending {fmt_money(result.spend, currency)} a year on retention in {result.segment}"
    if result.required_points is None:
        text = f"{head} cannot pay off, even if nobody left"
    else:
        text = (
            f"{head} pays off if it keeps {_points(result.required_points)} more customers "
            f"in every 100 each year; the response curve expects "
            f"{_points(result.bought_points)} more"
        )
    if result.customers_bought_per_year is not None and result.acquisition_equity_gain is not None:
        gain = result.acquisition_equity_gain
        text += (
            f". The same money buys {fmt_count(round(result.customers_bought_per_year))} new "
            f"customers a year, {'adding' if gain >= 0 else 'losing'} "
            f"{fmt_money(abs(gain), currency)} of projected equity"
        )
    return text + "."


def load_message(name: str, adjustments: Sequence[Adjustment], currency: str) -> str:
    """What loading a saved scenario did (plain text: quotes the scenario's own name)."""
    parts = []
    for a in adjustments:
        if a.kind == "lever":
            words = LEVER_WORDS[a.name][0].split(",")[0].lower()
            parts.append(f"{words} {a.wanted:+g}% set to {a.shown:+g}%")
        elif a.kind == "spend":
            parts.append(f"retention spend capped at {fmt_money(a.shown, currency)}")
        else:
            parts.append(f"levers that apply to {a.name} only are not on the sliders")
    message = f"Loaded {name!r} onto the sliders."
    if parts:
        message += " The sliders cannot show it exactly: " + "; ".join(parts) + "."
    return message


def scenarios_help(folder: str) -> str:
    return (
        f"Saved as JSON files in {folder} (the folder of the snapshots). A scenario stores the "
        "changes from the baseline (retention in points per segment, the other levers in "
        "percent), so it can be applied to a later snapshot; the horizon and discount rate "
        "are stored when they differ from the snapshot's. Names: letters, digits, spaces, "
        "dashes and underscores, up to 60 characters."
    )


TORNADO_TITLE = "Which lever matters most"
TORNADO_HELP = (
    "Projected equity when one lever moves down or up and the rest stay where the sliders "
    "are: retention by 1 point, the others by 10%, the horizon by a year or more."
)
BUDGET_TITLE = "Where the next retention dollar goes"
BUDGET_HELP = (
    "A yearly retention budget split across segments to add the most projected equity, net of "
    "the spend, on the response curve of the spend slider. The budget is the first year's "
    "spend; later years spend the same per customer."
)
MOVE_A_SLIDER = "Move a slider: the change in projected equity appears here, segment by segment."


def provenance(saved_by: str | None, saved_at: str | None) -> str:
    """Who saved a scenario and when (plain text: quotes a user's name)."""
    when = ""
    if saved_at:
        try:
            when = f" on {datetime.fromisoformat(saved_at):%d %b %Y, %H:%M} UTC"
        except ValueError:
            when = ""
    if saved_by:
        return f"Saved by {saved_by}{when}."
    return f"Saved{when} (sign-in was off: nobody recorded)." if when else "Saved with sign-in off."
