"""Copy of the Churn risk page and ``crm churn``: headline, model card in words, reasons,
the call list's columns and CSV, and the link to the What-if page.

Data-derived strings (customer ids, channel and touchpoint names) are never put in Markdown
here: they go into table cells, CSV cells and plain-text chart titles only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from crm_core.churn.columns import R
from crm_core.churn.evaluate import Scores
from crm_core.churn.phrases import reason_text
from crm_core.churn.report import ChurnReport
from crm_core.churn.value import Savings
from crm_core.copy.whatif import GROUPINGS
from crm_core.formatting import fmt_count, fmt_money, fmt_pct, fmt_ratio, to_csv
from crm_core.metrics.tiers import tier_names
from crm_core.whatif.baseline import Baseline
from crm_core.whatif.controls import retention_key, retention_value

TITLE = "Churn risk"
SUBTITLE = "who is about to leave, what they are worth, and who to call first"
HORIZONS = {1: "Next quarter", 2: "Next half-year", 4: "Next year"}
HORIZON_LABEL = "Churn within"
HORIZON_HELP = (
    "The horizon of the label: a customer active today churns when the activity rule no "
    "longer counts them active that long from now. Each horizon trains its own model."
)
TABS = ("Call list", "Value at risk", "Model quality")
CONTACTS_LABEL = "Customers the team can contact"
SUCCESS_LABEL = "Share of contacted churners kept"
SUCCESS_HELP = (
    "Of the contacted customers who would have churned, the share a call keeps. The "
    "expected saving is this share of their value at risk."
)
COST_LABEL = "Cost per contact"
WEAK_AUC = 0.7
"""Below this out-of-time ROC AUC the page calls the ranking weak."""
LIST_LIMIT = 500
"""Rows of the call list shown on the page (the download has every contacted customer)."""
TIER_NAMES = dict(zip(("A", "B", "C"), tier_names((0.10, 0.20, 0.70)), strict=True))
STAGE_NAMES = {
    "new": "New",
    "growing": "Growing",
    "mature": "Mature",
    "declining": "Declining",
    "churned": "Churned",
}
MODEL_NAMES = {
    "model": "Gradient boosting (calibrated)",
    "logistic": "Logistic regression",
    "baseline": "Days since last purchase only",
}


def horizon_words(quarters: int) -> str:
    """``"next quarter"``, ``"next half-year"``, ``"next year"``."""
    return HORIZONS.get(quarters, f"Next {quarters} quarters").lower()


def _ranked_scores(report: ChurnReport) -> Scores:
    v = report.validation
    return v.model if report.ranked_by == "model" else v.baseline


def headline(report: ChurnReport) -> str:
    """The finding: how many of the horizon's churners the top 10% by risk hold."""
    share = _ranked_scores(report).top_decile_capture
    return (
        f"The top 10% by risk hold {fmt_pct(share)} of "
        f"{horizon_words(report.plan.horizon_quarters)}'s churners"
    )


def label_rule(report: ChurnReport) -> str:
    """What "churned" means here, in one sentence."""
    span = horizon_words(report.plan.horizon_quarters).removeprefix("next ")
    if report.contractual:
        return (
            f"Churned: an active subscriber whose contract ends within the {span} after the "
            "date (the ledger's activity rule for contracts)."
        )
    return (
        f"Churned: a customer active today whom the ledger's activity rule no longer counts "
        f"active a {span} later: no purchase before their lapse threshold runs out "
        "(a year, or 4x their usual gap between purchases when longer, at most two years)."
    )


def quality_sentence(report: ChurnReport) -> str:
    """The out-of-time test in words, and which score the list uses."""
    v = report.validation
    test = report.plan.ends[report.plan.test]
    who = (
        f"a sample of {fmt_count(v.test_rows)} of the {fmt_count(v.test_customers)}"
        if v.test_rows < v.test_customers
        else f"the {fmt_count(v.test_rows)}"
    )
    words = (
        f"Tested out of time on {who} customers active on "
        f"{test:%d %b %Y}, with a model trained only on what was known by then: ROC AUC "
        f"{v.model.roc_auc:.4f} for the model, {v.baseline.roc_auc:.4f} for days since the "
        f"last purchase alone, {v.logistic.roc_auc:.4f} for a logistic regression."
    )
    if report.ranked_by == "model":
        words += " The model ranks better than recency alone, so the list uses it."
        if v.model.roc_auc < WEAK_AUC:
            words += (
                f" A ROC AUC under {WEAK_AUC} is a weak ranking: read the list as a rough "
                "order, and the money saved as an estimate with a wide margin."
            )
        return words
    return words + (
        " The model does not rank better than recency alone on this snapshot, so the "
        "list is ranked by recency and its probabilities."
    )


def deadline_sentence(report: ChurnReport) -> str | None:
    """Why recency is so strong here (non-contractual), or ``None``."""
    share = report.validation.deadline_share
    if share is None:
        return None
    return (
        f"{fmt_pct(share)} of the test's churners were already so long without a purchase "
        "that their lapse threshold was due to run out within the horizon: by the activity "
        "rule, churn this close is mostly decided already, which is why recency alone ranks "
        "so well. Contacting them is win-back rather than prevention."
    )


def cards(report: ChurnReport) -> list[tuple[str, str, str]]:
    """Model-card metrics: ``(label, value, help)``."""
    v, cur = report.validation, report.currency
    ranked = _ranked_scores(report)
    span = horizon_words(report.plan.horizon_quarters)
    return [
        ("ROC AUC, model", f"{v.model.roc_auc:.3f}", "Out-of-time test: the chance that a "
         "random churner scores above a random customer who stays (0.5 = chance)."),
        ("ROC AUC, recency alone", f"{v.baseline.roc_auc:.3f}", "The same test for days "
         "since the last purchase alone: the baseline the model must beat."),
        ("Top-10% lift", fmt_ratio(ranked.top_decile_lift), "Churn rate of the 10% "
         "ranked riskiest over the average churn rate, at the test date."),
        ("Value at risk", fmt_money(report.value_at_risk, cur), "Sum over today's "
         "customers of P(churn) x CLV (CLV from the shared valuation, 3-year horizon)."),
        ("Expected churners", fmt_count(report.expected_churners), "Sum of P(churn) over "
         f"today's active customers: churners expected in the {span}."),
    ]  # fmt: skip


def training_caption(report: ChurnReport) -> str:
    """What the models were trained and tested on."""
    v, plan = report.validation, report.plan
    dates = ", ".join(f"{plan.ends[k]:%d %b %Y}" for k in plan.train)
    refit = ", ".join(f"{plan.ends[k]:%d %b %Y}" for k in plan.refit)
    t = v.trained
    sample = (
        f"a uniform sample of {fmt_count(t.rows)} of their {fmt_count(t.rows_available)} "
        "customer-dates"
        if t.subsampled
        else f"their {fmt_count(t.rows)} customer-dates"
    )
    test = (
        f"a sample of {fmt_count(v.test_rows)} of the {fmt_count(v.test_customers)}"
        if v.test_rows < v.test_customers
        else f"all {fmt_count(v.test_rows)}"
    )
    text = (
        f"Validation: trained on the customers active at {dates} ({sample}, "
        f"{t.calibration} calibration), tested on {test} customers active at "
        f"{plan.ends[plan.test]:%d %b %Y}. Today's scores come from the same recipe "
        f"retrained on the latest labelled dates ({refit})."
    )
    if report.model_note:
        text += f" Without the CLV models' features: {report.model_note}."
    return text


def quality_table(report: ChurnReport) -> pl.DataFrame:
    """The three scores side by side, formatted."""
    v = report.validation
    rows = [(MODEL_NAMES[k], getattr(v, k)) for k in ("model", "logistic", "baseline")]
    return pl.DataFrame(
        {
            "Score": [n for n, _ in rows],
            "ROC AUC": [f"{s.roc_auc:.4f}" for _, s in rows],
            "PR AUC": [f"{s.pr_auc:.4f}" for _, s in rows],
            "Brier score": [f"{s.brier:.4f}" for _, s in rows],
            "Top-10% lift": [fmt_ratio(s.top_decile_lift, digits=2) for _, s in rows],
            "Top 10% hold": [fmt_pct(s.top_decile_capture) for _, s in rows],
        }
    )


# ----------------------------------------------------------------------------- the list

CALL_COLUMNS = {
    R.rank: ("Rank", "count"),
    R.customer_id: ("Customer", "text"),
    R.value_at_risk: ("Value at risk", "cents"),
    R.p_churn: ("P(churn)", "pct"),
    R.clv: ("CLV", "cents"),
    "reasons": ("Why", "text"),
    R.last_purchase: ("Last purchase", "date"),
    R.next_purchase: ("Next purchase", "date"),
    R.tier: ("Tier", "text"),
    R.stage: ("Stage", "text"),
    R.acquisition_channel: ("Channel", "text"),
}
"""Call-list columns: header and kind (as the Lifecycle page's tables); the CSV has all."""
_SHOWN = (R.rank, R.customer_id, R.value_at_risk, R.p_churn, "reasons", R.next_purchase, R.stage)
PAGE_COLUMNS = {c: CALL_COLUMNS[c] for c in _SHOWN}
"""The page's table: fewer columns, so the reasons fit at 1280 pixels (CLV, the last purchase,
the tier and the channel are in the download)."""
WIDTHS = {R.rank: 48, R.customer_id: 76, R.value_at_risk: 112, R.p_churn: 72, "reasons": 310,
          R.next_purchase: 108, R.stage: 84}  # fmt: skip
"""Column widths in pixels: together they fit the page at 1280 pixels."""


def call_rows(report: ChurnReport, rows: pl.DataFrame) -> pl.DataFrame:
    """Call-list rows with their reasons in words and readable tiers and stages."""
    words = [""] * rows.height
    first = R.reason.format(1)
    if first in rows.columns:  # only rows with a reason are read (the CLI writes a million)
        has = rows[first].is_not_null()
        explained = rows.filter(has).iter_rows(named=True)
        for i, row in zip(has.arg_true(), explained, strict=True):
            words[i] = reason_text(row, report)
    return rows.with_columns(
        pl.Series("reasons", words, dtype=pl.String),
        (pl.col(R.p_churn) * 100).round(1),
        pl.col(R.tier).replace_strict(TIER_NAMES, default=pl.col(R.tier)),
        pl.col(R.stage).replace_strict(STAGE_NAMES, default=pl.col(R.stage)),
    ).select(list(CALL_COLUMNS))


def call_csv(report: ChurnReport, rows: pl.DataFrame) -> bytes:
    """Call-list rows as a CSV: words for headers, cents, formula-safe text."""
    table = call_rows(report, rows)
    headers = {}
    for column, (header, kind) in CALL_COLUMNS.items():
        unit = f" ({report.currency})" if kind == "cents" else " (%)" if kind == "pct" else ""
        headers[column] = header + unit
    return to_csv(table.with_columns(pl.col(R.rank).cast(pl.Int64)), headers)


def list_caption(report: ChurnReport, contacts: int) -> str:
    """Who the list holds and how it is ranked."""
    basis = "the model's" if report.ranked_by == "model" else "recency's"
    shown = min(contacts, LIST_LIMIT)
    text = (
        f"{fmt_count(report.listed)} customers have a value at risk = P(churn) x CLV "
        f"({basis} P(churn)); the first {fmt_count(shown)} are shown, the download holds "
        f"the {fmt_count(contacts)} to contact. "
    )
    if report.valuation_note:
        return text + f"No CLV is available, so no value at risk: {report.valuation_note}."
    text += (
        "Next purchase: the model's median date if the customer is still active (subscribers: "
        "the next renewal). Why is blank when no single factor adds a point to P(churn). "
    )
    missing = report.customers_scored - report.listed
    if missing:
        text += f"{fmt_count(missing)} active customers have no CLV (first purchase today)."
    return text


def savings_sentence(s: Savings, best: int, currency: str) -> str:
    """What contacting the chosen number is expected to save, and the best number."""
    text = (
        f"Contacting the top {fmt_count(s.contacted)} at {fmt_money(s.cost_per_contact, currency)} "
        f"each is expected to keep {fmt_count(s.saved_customers)} customers and "
        f"{fmt_money(s.saved_value, currency)} of value for {fmt_money(s.cost, currency)}: "
        f"{fmt_money(s.net, currency)} net."
    )
    if best == 0:
        return text + " At this cost no contact pays for itself."
    return text + f" The net is largest at {fmt_count(best)} contacts."


def savings_cards(s: Savings, currency: str) -> list[tuple[str, str, str]]:
    """Cards of the contact plan: ``(label, value, help)``."""
    return [
        ("Value at risk contacted", fmt_money(s.value_at_risk, currency),
         "Sum of P(churn) x CLV over the customers contacted."),
        ("Expected value saved", fmt_money(s.saved_value, currency),
         "The success share of the contacted value at risk."),
        ("Contact cost", fmt_money(s.cost, currency), "Contacts x cost per contact."),
        ("Net saving", fmt_money(s.net, currency), "Expected value saved - contact cost."),
    ]  # fmt: skip


def whatif_query(
    baseline: Baseline, saved: Mapping[str, float], selection: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, float]]:
    """Query parameters opening the What-if page on profit tiers with each tier's annual
    retention raised by the customers the contacts keep (``saved``: tier -> customers;
    the gain is saved / the tier's active customers, on the slider's 0.5-point grid), and
    the new retention per tier (fractions). ``selection`` carries the sidebar's
    parameters (snapshot, as-of date)."""
    segment_word = next(k for k, v in GROUPINGS.items() if v == "tier")
    query = {**selection, "seg": segment_word}
    targets: dict[str, float] = {}
    for segment in baseline.segments:
        code = baseline.codes[segment.name]
        gain = saved.get(code, 0.0) / segment.customers if segment.customers else 0.0
        new = min(segment.retention + gain, 1.0)
        targets[code] = new
        query[retention_key(code)] = f"{retention_value(new):g}"
    return query, targets


def whatif_caption(baseline: Baseline, targets: Mapping[str, float]) -> str:
    """The retention change the What-if link carries."""
    moves = []
    for segment in baseline.segments:
        code = baseline.codes[segment.name]
        before, after = retention_value(segment.retention), retention_value(targets[code])
        if after != before:
            moves.append(f"tier {code} {before:g}% → {after:g}%")
    if not moves:
        return "The customers kept move no tier's annual retention by half a point or more."
    return "Opens the What-if page with annual retention " + ", ".join(moves) + "."


def as_of_text(day: date) -> str:
    return f"{day:%d %b %Y}"


# ----------------------------------------------------------------------------- lifecycle tab

LIFECYCLE_TITLE = "Early warning: the churn model's call list"
LIFECYCLE_ROWS = 10
LIFECYCLE_COLUMNS = {c: CALL_COLUMNS[c] for c in (R.rank, R.customer_id, R.value_at_risk,
                                                  R.p_churn, R.stage, "reasons")}  # fmt: skip
"""The Lifecycle page's short list: the first rows of the Churn risk page's call list (the
reasons last: the widest column, cut at the page's edge rather than hiding the stage)."""


def lifecycle_summary(report: ChurnReport, declining: float | None) -> str:
    """The Lifecycle page's early-warning tab in two sentences."""
    text = (
        f"{headline(report)} (out-of-time test). {fmt_count(report.listed)} customers carry a "
        f"value at risk of {fmt_money(report.value_at_risk, report.currency)} in all; the "
        f"{LIFECYCLE_ROWS} worth most are below, the whole list is on the Churn risk page."
    )
    if declining is not None:
        text += (
            f" The {fmt_count(declining)} customers in the Declining stage are a rule of "
            "thumb for the stage mix; who to call comes from the model."
        )
    return text


def lifecycle_unavailable(error: Exception) -> str:
    """Why the tab has no list."""
    return f"The churn model could not be trained on this snapshot: {error}"
