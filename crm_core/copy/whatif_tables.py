"""Tables and notes of the What-if page in words: the baseline per segment, how it was
measured, the budget split, the break-even table and the scenario comparison.

Headers are words, numbers formatted (:mod:`crm_core.formatting`); the page renders the
frames with ``st.dataframe`` (data-derived names are cells, never Markdown).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crm_core.copy.whatif import equity_today_label, equity_with_new_label
from crm_core.formatting import fmt_count, fmt_money, fmt_pct
from crm_core.metrics.registry import METRICS
from crm_core.whatif.acquisition import AcquisitionAllocation
from crm_core.whatif.baseline import Baseline
from crm_core.whatif.baseline_table import COMPANY, GROWTH_LIMITS
from crm_core.whatif.breakeven import BreakEven
from crm_core.whatif.optimize import BudgetAllocation

__all__ = [
    "acquisition_table",
    "allocation_table",
    "baseline_notes",
    "baseline_table",
    "break_even_caption",
    "break_even_table",
    "comparison_table",
]


def _pct_or(value: float | None, source: str | None = None) -> str:
    text = fmt_pct(value, digits=1)
    return f"{text} (company)" if source == COMPANY else text


def baseline_table(baseline: Baseline) -> pl.DataFrame:
    """What was observed per segment, in words and formatted numbers."""
    c = baseline.currency
    rows = baseline.table.to_dicts()

    def money(key: str) -> list[str]:
        return [fmt_money(r[key], c) for r in rows]

    columns = {
        "Segment": [r["segment"] for r in rows],
        METRICS["active_customers"].label: [fmt_count(r["customers"]) for r in rows],
        "Active a year ago": [fmt_count(r["observed_at_risk"]) for r in rows],
        "Still active": [fmt_count(r["observed_retained"]) for r in rows],
        METRICS["retention"].label: [_pct_or(r["observed_retention"]) for r in rows],
        "Retention projected": [_pct_or(r["retention"], r["retention_source"]) for r in rows],
        METRICS["margin_per_customer"].label: money("margin"),
        METRICS["new_customers"].label: [fmt_count(r["new_customers"]) for r in rows],
        "Active at year end": [fmt_pct(r["new_survival"], digits=1) for r in rows],
        "New customers a year, projected": [
            fmt_count(round(r["acquisition_per_year"])) for r in rows
        ],
        METRICS["acquisition_cost"].label: money("acquisition_cost"),
        "Reactivated (12 months)": [fmt_count(r["reactivated"]) for r in rows],
        "Margin, continuing customer": money("continuing_margin"),
        "Margin, first-year customer": money("new_margin"),
    }
    return pl.DataFrame(columns)


def baseline_notes(baseline: Baseline) -> tuple[str, ...]:
    """How the baseline was measured, in words (one note a line)."""
    low, high = GROWTH_LIMITS
    t = baseline.totals
    survival = t.new_active / t.new_customers if t.new_customers else None
    notes = [
        "Active customers, annual retention, margin per active customer, new customers and "
        "acquisition cost are the Overview's definitions; the segments add up to its figures.",
        f"The projection repeats last year: of the {fmt_count(t.new_customers)} customers won "
        f"in the last twelve months, {fmt_pct(survival, digits=1)} "
        f"were still active at its end (first-year survival); {fmt_count(t.reactivated)} lapsed "
        "customers came back; today's customers leave at the retention projected.",
        "Margins are split the same way: continuing customers earn last year's contribution "
        "per continuing customer still active, new ones the first-year contribution per new "
        "customer still active; together they make the twelve months' contribution.",
    ]
    if baseline.growth_observed:
        notes.append(
            f"New customers a year: the last twelve months' {fmt_count(t.new_customers)}, "
            f"{fmt_pct(baseline.acquisition_growth, digits=1, signed=True)} as on the year "
            f"before (bounded to {fmt_pct(low, signed=True)}..{fmt_pct(high, signed=True)}), "
            "then held: the pace the business now acquires at."
        )
    else:
        notes.append(
            "New customers a year: the last twelve months' number (two years of history are "
            "needed to see its trend)."
        )
    if baseline.retention_model == "sBG":
        notes.append(
            "Contracts: each segment's observed retention is moved by the change in tenure. "
            "Its churn is scaled by the contract-survival model's (shifted-beta-geometric, "
            "Fader & Hardie 2007) churn of today's customers over that of last year's younger "
            "ones: cancellations fall with tenure, so today's base keeps more."
        )
    if baseline.by == "tier":
        notes.append(
            "Tiers rank customers by their profit over the last twelve months (the Segments "
            "page's rule). Retention and the continuing margin are measured on last year's "
            "tiers (what a tier's customers did over a year); customers, new and returning ones "
            "count in today's tier. Customers do not move between tiers in the projection."
        )
    for name, at_risk in baseline.dropped:
        notes.append(
            f"Not projected: {name} (nobody active, won or back in it today); "
            f"{fmt_count(at_risk)} of last year's active customers were in it."
        )
    return tuple(notes)


def allocation_table(allocation: BudgetAllocation, currency: str) -> pl.DataFrame:
    """The budget split per segment, in words."""
    t = allocation.allocation
    return pl.DataFrame(
        {
            "Segment": t["segment"].to_list(),
            "Budget a year": [fmt_money(v, currency) for v in t["budget"]],
            "Per customer a year": [fmt_money(v, currency) for v in t["spend_per_customer"]],
            "Retention now": [fmt_pct(v, digits=1) for v in t["retention_before"]],
            "Retention with the spend": [fmt_pct(v, digits=1) for v in t["retention_after"]],
            "Projected equity added": [fmt_money(v, currency) for v in t["equity_gain"]],
        }
    )


def acquisition_table(allocation: AcquisitionAllocation, currency: str) -> pl.DataFrame:
    """The acquisition budget's split per channel, in words."""
    t = allocation.allocation

    def per_dollar(values) -> list[str]:
        return ["n/a" if v is None else fmt_money(v, currency, compact=False) for v in values]

    return pl.DataFrame(
        {
            "Channel": t["segment"].to_list(),
            "Budget a year": [fmt_money(v, currency) for v in t["budget"]],
            "CAC now": [fmt_money(v, currency) for v in t["cac"]],
            "CAC with the budget": [fmt_money(v, currency) for v in t["cac_after"]],
            "New customers a year": [
                f"{fmt_count(round(a))} -> {fmt_count(round(b))}"
                for a, b in zip(t["new_customers_before"], t["new_customers_after"], strict=True)
            ],
            "Value of a new customer": [fmt_money(v, currency) for v in t["new_customer_value"]],
            "Equity from the next dollar": per_dollar(t["first_dollar_equity"]),
            "Projected equity added": [fmt_money(v, currency) for v in t["equity_gain"]],
        }
    )


def break_even_table(rows: Sequence[BreakEven], currency: str, *, by_value: bool) -> pl.DataFrame:
    """Break-even per segment, in words; the acquisition comparison for fixed segments."""
    columns: dict[str, list[str]] = {
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
    return pl.DataFrame(columns)


def break_even_caption(by_value: bool) -> str:
    return (
        "Rise needed: retention points (customers kept in every 100 a year) the spend must buy "
        "to pay for itself. Expected rise: what the response curve of the spend slider "
        "predicts for the first year. "
        + (
            "Customers cannot be bought into a segment defined by value, so the comparison "
            "with spending the money on acquisition is shown for channels and regions."
            if by_value
            else "Or: the same money spent each year on new customers of that segment at its "
            "acquisition cost, and the projected equity they would add."
        )
    )


def comparison_table(table: pl.DataFrame, horizon: int, currency: str) -> pl.DataFrame:
    """Saved scenarios side by side (:func:`crm_core.whatif.engine.scenario_table`)."""
    return pl.DataFrame(
        {
            "Scenario": table["scenario"].to_list(),
            equity_with_new_label(horizon): [
                fmt_money(v, currency) for v in table["customer_equity"]
            ],
            "Change vs baseline": [
                ("+" if v >= 0 else "") + fmt_money(v, currency) for v in table["equity_change"]
            ],
            equity_today_label(horizon): [fmt_money(v, currency) for v in table["equity_today"]],
            f"Profit over {horizon} years": [fmt_money(v, currency) for v in table["profit"]],
            f"Customers in year {horizon}": [fmt_count(round(v)) for v in table["customers_end"]],
        }
    )
