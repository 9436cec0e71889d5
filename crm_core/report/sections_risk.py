"""The review's value-at-risk section, read off the Churn risk page's report.

:attr:`ReviewInputs.churn <crm_core.report.inputs.ReviewInputs.churn>` is the
:class:`~crm_core.churn.report.ChurnReport` the Churn risk page shows (its default
horizon): every active customer scored with P(churn), value at risk = P(churn) x CLV, the
call list ranked by it with each customer's reasons. The section makes two slides from it:
value at risk by profit tier, and the first :data:`~crm_core.copy.review_risk.RISK_ROWS`
customers to call. When the report could not be built (a history too short to train and
test on), one slide says why; while the app is still scoring it, one slide says so.
"""

from __future__ import annotations

import math

from crm_core.charts.review import risk_by_tier
from crm_core.churn.columns import R
from crm_core.churn.phrases import humanise, reason_text
from crm_core.churn.report import ChurnReport
from crm_core.churn.value import CUSTOMERS, EXPECTED_CHURNERS, SHARE
from crm_core.copy import review as words
from crm_core.copy import review_risk as risk_words
from crm_core.copy.lifecycle import STAGE_LABELS
from crm_core.errors import DataError
from crm_core.formatting import fmt_count, fmt_money, fmt_pct
from crm_core.metrics.tiers import DEFAULT_CUTOFFS, tier_name
from crm_core.report.inputs import Pending, ReviewInputs
from crm_core.report.slides import Slide, Table

__all__ = ["call_table", "tier_table", "value_at_risk"]

CALL_HEADER = ("Rank", "Customer", "Channel", "Tier", "Stage", "P(churn)", "CLV",
               "Value at risk", "Why")  # fmt: skip
CALL_NUMERIC = (True, False, False, False, False, True, True, True, False)


def tier_table(report: ChurnReport) -> Table:
    """Active customers, expected churners, value at risk and its share per profit tier."""
    cur = report.currency
    rows = tuple(
        (
            tier_name(row[R.tier], DEFAULT_CUTOFFS),
            fmt_count(row[CUSTOMERS] or 0, compact=False),
            fmt_count(round(row[EXPECTED_CHURNERS] or 0.0), compact=False),
            fmt_money(round(row[R.value_at_risk] or 0.0), cur),
            fmt_pct(row[SHARE]),
        )
        for row in report.by_tier.iter_rows(named=True)
    )
    header = ("Profit tier", "Active", "Expected churners", f"Value at risk ({cur})", "Share")
    return Table(header, rows, (False, True, True, True, True))


def call_table(report: ChurnReport, rows: int = risk_words.RISK_ROWS) -> Table:
    """The first ``rows`` of the call list, with each customer's reasons in words."""
    cur = report.currency
    top = report.call_list.head(rows)
    cells = []
    for row in top.iter_rows(named=True):
        clv = row[R.clv]
        cells.append(
            (
                str(row[R.rank]),
                str(row[R.customer_id]),
                humanise(str(row[R.acquisition_channel] or "")),
                str(row[R.tier]),
                STAGE_LABELS.get(str(row[R.stage]), str(row[R.stage])),
                fmt_pct(row[R.p_churn]),
                fmt_money(clv, cur) if clv is not None else "n/a",
                fmt_money(row[R.value_at_risk], cur),
                reason_text(row, report) or "no single reason stands out",
            )
        )
    return Table(CALL_HEADER, tuple(cells), CALL_NUMERIC)


def _missing(problem: DataError) -> tuple[Slide, ...]:
    return (
        Slide(
            "risk",
            risk_words.RISK_MISSING_TITLE,
            subtitle=words.plain(str(problem)),
            bullets=(risk_words.RISK_MISSING_HINT,),
            notes=risk_words.RISK_NOTES,
        ),
    )


def value_at_risk(inputs: ReviewInputs) -> tuple[Slide, ...]:
    """Value at risk by tier and the first customers to call (module docstring)."""
    report = inputs.churn
    if report is None:
        return ()
    if isinstance(report, DataError):
        return _missing(report)
    if isinstance(report, Pending):
        return (
            Slide(
                "risk",
                risk_words.RISK_PENDING_TITLE,
                subtitle=risk_words.RISK_PENDING_SUBTITLE,
                notes=risk_words.RISK_NOTES,
            ),
        )
    horizon = risk_words.risk_horizon(report.plan.horizon_quarters)
    v = report.validation
    ranked = v.model if report.ranked_by == "model" else v.baseline
    subtitle = risk_words.risk_subtitle(
        report.ranked_by,
        ranked.roc_auc,
        v.baseline.roc_auc,
        report.expected_churners,
        report.customers_scored,
    )
    notes = risk_words.RISK_NOTES
    if report.listed == 0:
        why = report.valuation_note or "no scored customer has a CLV"
        return (
            Slide(
                "risk",
                risk_words.risk_no_value_title(
                    report.expected_churners, report.customers_scored, horizon
                ),
                subtitle=subtitle,
                bullets=(words.plain(f"No value at risk: {why}."),),
                table=tier_table(report),
                notes=notes,
            ),
        )
    shown = min(risk_words.RISK_ROWS, report.listed)
    top = float(report.call_list.head(shown)[R.value_at_risk].sum())
    total = report.value_at_risk
    riskiest = math.ceil(risk_words.RISK_TOP_SHARE * report.listed)
    head = float(report.scored.head(riskiest)[R.value_at_risk].sum())  # highest first
    bullets = tuple(words.plain(n) for n in (report.model_note,) if n)
    overview = Slide(
        "risk",
        risk_words.risk_title(total, head, horizon, report.currency),
        subtitle=subtitle,
        figures=(risk_by_tier(report),),
        table=tier_table(report),
        bullets=bullets,
        notes=notes,
    )
    calls = Slide(
        "risk",
        risk_words.risk_list_title(shown, top, report.currency),
        subtitle=risk_words.RISK_LIST_SUBTITLE,
        table=call_table(report, shown),
        notes=notes,
    )
    return (overview, calls)
