"""Copy of the Customer value page's Calculator tab: the inputs of the closed forms and of
the planning LTV table, the closed forms themselves, and the words around the LTV table of
an actual cohort of the ledger."""

from __future__ import annotations

from typing import NamedTuple

from crm_core.clv.ltv import CUSTOMERS, RETENTION, Cohort
from crm_core.copy.customer_value import horizon_option
from crm_core.formatting import fmt_count, fmt_money, fmt_pct


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
CLOSED_FORM_KEYS = (["cv_d", "cv_n", "cv_R", "cv_C", "cv_A"], ["cv_P", "cv_g", "cv_m", "cv_r"])
PLAN_KEYS = ["cv_ltv_customers", "cv_ltv_retention", "cv_ltv_spend", "cv_ltv_growth",
             "cv_ltv_cost_ratio", "cv_ltv_acq"]  # fmt: skip

CLOSED_FORMS = (  # (card title, formula in LaTeX, metric label, help)
    ("Model 1 · revenue", r"R\,\frac{1-(1+d)^{-n}}{d}", "Revenue-based CLV",
     "Discounted revenue over n years; ignores every cost."),
    ("Model 2 · profit", r"(R-C)\,\frac{1-(1+d)^{-n}}{d}", "Profit-based CLV",
     "Discounted revenue minus direct cost over n years."),
    ("Model 3 · contribution", r"-A+\sum_{t=1}^{n}\frac{P+(t-1)g-C}{(1+d)^{t}}",
     "Contribution CLV", "Net of the acquisition cost: what winning this customer adds."),
)  # fmt: skip
RETENTION_FORM = ("Retention · no horizon", r"\frac{m\,r}{1+d-r}", "Retention-based CLV",
                  "Margin earned at each year's end while the customer stays, with no "
                  "horizon; below it, minus the acquisition cost A.")  # fmt: skip
CALCULATOR_TITLE = "The textbook models, with your numbers"


def calculator_caption(currency: str) -> str:
    return (
        f"CLV of one loyal customer by the closed forms taught to executives. Money in "
        f"{currency}, rates a year, one period = one year; each year's money arrives at the "
        "year's end and is discounted by $(1+d)^{-t}$. Defaults: the seeds' worked example "
        "(d = 9%, n = 5)."
    )


def unlimited(retention: float, rate: float) -> str:
    return (
        f"Unlimited: with r = {fmt_pct(retention, digits=1)} and d = {fmt_pct(rate, digits=1)} "
        "the customer never stops paying. The formula needs 1 + d − r above 0: lower r or "
        "raise d."
    )


def models_compared(value1: float, value2: float, value3: float, currency: str) -> str | None:
    """Why the closed forms differ (only when Model 2 is below Model 1)."""
    if not (value1 > 0 and value2 < value1):
        return None
    m = lambda v: fmt_money(v, currency, compact=False)  # noqa: E731
    return (
        f"Counting revenue only (Model 1) values this customer at {m(value1)}; after the "
        f"direct cost (Model 2) they are worth {m(value2)}, and net of winning them, with "
        f"purchases growing each year (Model 3), {m(value3)}. Rank customers by profit, not "
        "revenue: costs to serve differ."
    )


LTV_TITLE = "A cohort year by year: when does acquisition pay back?"


def plan_caption(n: int, rate: float) -> str:
    return (
        "The LTV table of a cohort won in year 1, as in the seeds: customers remaining, their "
        "spend and costs, profit discounted to the acquisition year by $(1+d)^{-(t-1)}$, and "
        f"LTV = cumulative NPV per customer won. {horizon_option(n).capitalize()} at d = "
        f"{fmt_pct(rate, digits=1)}, from the inputs above."
    )


def plan_finding(ltv: float, n: int, currency: str) -> str:
    return (
        f"**Planning: LTV {fmt_money(ltv, currency, compact=False)} per customer won after "
        f"{horizon_option(n)}**"
    )


def cohort_option(cohort: Cohort) -> str:
    return (
        f"Customers {cohort.label} ({fmt_count(cohort.customers)}, "
        f"{horizon_option(cohort.years)} observed)"
    )


COHORT_HELP = (
    "Customers won in four consecutive quarters (twelve months for subscriptions), followed "
    "year by year from each one's acquisition quarter (month) in the customer ledger. Costs: "
    "direct, service and acquisition costs."
)
NO_COHORT = (
    "No cohort of this snapshot has been observed for a whole year yet, so there is no actual "
    "LTV table to compare with."
)


def cohort_labels(contractual: bool) -> dict[str, str]:
    """What the observed table's customers and retention rows count."""
    if contractual:
        return {CUSTOMERS: "Customers under contract", RETENTION: "Retention to next year"}
    return {CUSTOMERS: "Customers who bought", RETENTION: "Buyers next year / this year"}


def cohort_caption(rate: float, contractual: bool) -> str:
    who = (
        "customers under contract at the start of each year"
        if contractual
        else "customers who bought in the year (year 1: everyone won)"
    )
    first = "month and the eleven after it" if contractual else "quarter and the three after it"
    return (
        f"Observed in the customer ledger, discounted at the snapshot's {fmt_pct(rate)} a "
        f"year. Customers: {who}; a customer's year 1 is their acquisition {first}."
    )
