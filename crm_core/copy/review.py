"""Words of the quarterly review (the deck and the Quarterly review page).

Sentences are made from numbers the review has already computed (the registry's KPIs,
the pages' reports); metric names and definitions come from the registry. Everything is
plain text: the HTML writer escapes it and PowerPoint shows it as typed.
"""

from __future__ import annotations

from datetime import date

from crm_core.data.expressions import add_months, quarter_end
from crm_core.formatting import fmt_count, fmt_kind, fmt_money, fmt_pct
from crm_core.lifecycle.report import LifecycleReport
from crm_core.metrics.registry import METRICS, Kpi
from crm_core.overview.report import OverviewReport
from crm_core.segments.report import SegmentReport
from crm_core.whatif.baseline import Baseline
from crm_core.whatif.labels import SEGMENTATIONS
from crm_core.whatif.levers import Scenario

__all__ = [
    "COMPARED",
    "FORMATS",
    "KPI_HEADER",
    "PAGE_TITLE",
    "SECTION_TITLES",
    "change_text",
    "cover_lines",
    "finding_sentence",
    "kpi_title",
    "quarter_name",
    "summary_title",
]

PAGE_TITLE = "Quarterly review"
FORMATS = {"pptx": "PowerPoint (.pptx)", "pdf": "PDF (.pdf)", "html": "Web page (.html)"}
"""Export formats, in the order of the download buttons."""
SECTION_TITLES = {
    "cover": "Title",
    "summary": "Executive summary",
    "kpis": "Key metrics",
    "growth": "Revenue growth",
    "segments": "Segment profitability",
    "lifecycle": "Lifecycle",
    "value": "Customer value and retention",
    "whatif": "What-if scenario",
    "risk": "Value at risk",
    "appendix": "Appendix: definitions",
}
"""Section key -> title (navigation of the page and of presentation mode)."""
COMPARED = {"quarter": "on last quarter", "year": "on a year ago"}
KPI_HEADER = (
    "Metric",
    "Now",
    "Last quarter",
    "Change on the quarter",
    "A year ago",
    "Change on the year",
)


def quarter_name(as_of: date) -> str:
    """``"Q3 2026"``; ``"Q3 2026 to date"`` when ``as_of`` is not the quarter's last day."""
    q = (as_of.month - 1) // 3 + 1
    name = f"Q{q} {as_of.year}"
    if as_of != quarter_end(as_of):
        name += " to date"
    return name


def cover_lines(company: str, as_of: date, business_model: str, currency: str) -> tuple[str, ...]:
    """The title slide's lines under the company name."""
    model = "subscriptions (contractual)" if business_model == "contractual" else "retail"
    return (
        f"Quarterly review · {quarter_name(as_of)}",
        f"Data as of {as_of:%d %b %Y} · {model} · amounts in {currency}",
    )


def _relative(kind: str) -> bool:
    """Whether changes of this kind read as a percentage of the old value."""
    return kind in ("money", "count")


def change_text(kpi: Kpi, then: float | None, currency: str) -> str:
    """The change from ``then`` to the KPI's value in words: ``+12%``, ``-4.0 pts``,
    ``+0.3x``, ``+1.5 months``; ``"n/a"`` when unknown."""
    now = kpi.value
    if now is None or then is None:
        return "n/a"
    delta = now - then
    if _relative(kpi.kind):
        if then == 0:
            return "n/a"
        return fmt_pct(now / then - 1, digits=1, signed=True)
    if kpi.kind == "pct":
        body = f"{abs(delta) * 100:.1f} pts"
    else:
        body = fmt_kind(abs(delta), kpi.kind, currency)
    if not any(c in "123456789" for c in body):
        return body  # rounds to nothing: no sign
    return ("+" if delta >= 0 else "-") + body


def _moved(kpi: Kpi, then: float, currency: str) -> str:
    """``"up 12%"``, ``"down 4.0 points"``, ``"unchanged"``."""
    assert kpi.value is not None
    delta = kpi.value - then
    if delta == 0:
        return "unchanged"
    verb = "up" if delta > 0 else "down"
    if _relative(kpi.kind) and then != 0:
        return f"{verb} {fmt_pct(abs(kpi.value / then - 1), digits=1)}"
    if kpi.kind == "pct":
        return f"{verb} {abs(delta) * 100:.1f} points"
    return f"{verb} {fmt_kind(abs(delta), kpi.kind, currency)}"


def name(kpi: Kpi) -> str:
    """The metric's label as the subject of a sentence (a stage count names its
    customers: "Declining customers")."""
    return f"{kpi.label} customers" if kpi.key.startswith("stage_") else kpi.label


def finding_sentence(kpi: Kpi, against: str, currency: str) -> str:
    """A finding: ``"Revenue (12 months) up 12.0% on a year ago, to $1.2M"``, with the
    other comparison after it when known.

    Parameters
    ----------
    kpi
        The registry KPI (value, previous quarter, a year ago).
    against
        ``"quarter"`` or ``"year"``: the comparison that moved most.
    currency
        ISO code of money values.
    """
    first = kpi.previous if against == "quarter" else kpi.year_ago
    other_key = "year" if against == "quarter" else "quarter"
    other = kpi.year_ago if against == "quarter" else kpi.previous
    assert first is not None
    now = fmt_kind(kpi.value, kpi.kind, currency)
    text = f"{name(kpi)} {_moved(kpi, first, currency)} {COMPARED[against]}, to {now}"
    if other is not None:
        text += f" ({_moved(kpi, other, currency)} {COMPARED[other_key]})"
    return text


def judgement(kpi: Kpi, then: float) -> str:
    """``"better"``, ``"worse"`` or ``"unchanged"``: the change read with the metric's
    direction (a fall in churn is better)."""
    assert kpi.value is not None
    if kpi.value == then:
        return "unchanged"
    return "better" if (kpi.value > then) == kpi.higher_is_better else "worse"


def summary_title(findings: int, better: int) -> str:
    """Title of the executive summary: how many of the biggest moves are good news."""
    if findings == 0:
        return "No metric can be compared with an earlier quarter yet"
    if better == findings:
        return f"All {findings} of the biggest moves this quarter are improvements"
    if better == 0:
        return f"All {findings} of the biggest moves this quarter need attention"
    return f"{better} of the {findings} biggest moves this quarter are improvements"


def kpi_title(improved: int, compared: int) -> str:
    """Title of the KPI slide: how many metrics improved on a year ago."""
    if compared == 0:
        return "Key metrics at the date (no earlier quarter to compare with)"
    return f"{improved} of {compared} key metrics improved on a year ago"


def definition_notes(keys: tuple[str, ...] | list[str]) -> str:
    """Speaker notes: ``label: definition`` for each registry metric."""
    return "\n".join(f"{METRICS[k].label}: {METRICS[k].definition}" for k in keys)


def customers_text(value: float | None) -> str:
    """``"1,234 customers"``."""
    return f"{fmt_count(value)} customers"


# ----------------------------------------------------------------------------- slides


def plain(text: str | None) -> str:
    """``text`` without the Markdown emphasis and escapes some page captions carry."""
    if not text:
        return ""
    return text.replace("**", "").replace("\\", "").replace("`", "").strip()


def summary_subtitle(as_of: date) -> str:
    """The executive summary's subtitle."""
    return (
        f"The metrics that moved most by {as_of:%d %b %Y}, against the last quarter end and "
        "a year earlier"
    )


def summary_notes() -> str:
    """How the findings were chosen (speaker notes)."""
    return (
        "How these were chosen: every registry metric is compared with the last quarter end "
        "and a year earlier; the largest relative moves are reported (3 to 5, one of "
        "retention and churn). Each finding has its own slide with the metric quarter by "
        "quarter."
    )


def finding_subtitle(against: str, good: bool) -> str:
    """A finding slide's subtitle."""
    news = "good news" if good else "needs attention"
    return f"Largest move {COMPARED[against]} · {news} · outlined: last quarter and a year ago"


def kpi_subtitle(report: OverviewReport) -> str:
    """The KPI slide's subtitle: the dates compared and the CLV method."""
    year = add_months(report.as_of, -12)
    return (
        f"As of {report.as_of:%d %b %Y}, against {report.previous_as_of:%d %b %Y} and "
        f"{year:%d %b %Y} · CLV: {report.clv_method}"
    )


def growth_subtitle(recurring: bool, now: str, then: str) -> str:
    """The growth slide's subtitle: the periods compared and the split."""
    amount = "Recurring revenue (MRR)" if recurring else "Revenue"
    return (
        f"{amount} of {now} against {then}, split into new, expansion, reactivation, "
        "contraction and churned customers' revenue (the Growth page)"
    )


def segments_subtitle(report: SegmentReport) -> str:
    """The tier slide's subtitle: the window and the tier shares."""
    a, b, c = (fmt_pct(x) for x in report.cutoffs)
    w = report.window
    return (
        f"Net profit of the customers dealt with from {w.start:%d %b %Y} to {w.end:%d %b %Y} "
        f"· tiers A/B/C = top {a} / next {b} / other {c} of customers"
    )


def lifecycle_subtitle(report: LifecycleReport) -> str:
    """The stage slide's subtitle."""
    return (
        f"Stages at {report.as_of:%d %b %Y} against {report.compare_to:%d %b %Y} · CLV: "
        f"{report.clv_method}"
    )


def per_active_note(active: float | None) -> str:
    """How CLV per active customer relates to the average per customer valued."""
    return f"Customer equity over the {fmt_count(active)} active customers"


TRANSITIONS_NOTES = (
    "Each row is a stage at the last quarter end, each cell the share of its customers in "
    "each stage today. Churned is the activity rule of every page."
)
WHATIF_NOTES = (
    "Projected equity with new customers: discounted profit of today's customers and of "
    "those won over the horizon, net of acquisition and retention spend (retention model). "
    "It differs from customer equity, which values today's customers only, with the fitted "
    "CLV model over 3 years. Bands: P10-P90 of the simulated outcomes."
)


def whatif_title(name: str, before: float, after: float, horizon: int, currency: str) -> str:
    """The what-if slide's finding."""
    change = after - before
    sign = "+" if change >= 0 else "-"
    share = f" ({fmt_pct(change / before, signed=True)})" if before > 0 else ""
    return (
        f"{name}: projected equity {sign}{fmt_money(abs(change), currency)}{share} over "
        f"{horizon} years"
    )


def whatif_subtitle(scenario: Scenario, baseline: Baseline, rate: float) -> str:
    """What the scenario is and how it is valued."""
    what = scenario.description or "a saved what-if scenario"
    name = SEGMENTATIONS[baseline.by]
    by = name[:1].lower() + name[1:]  # "profit tier (ABC)", "acquisition channel"
    digits = 0 if round(rate * 100, 6).is_integer() else 1
    return f"{what} · segments by {by} · discount rate {fmt_pct(rate, digits=digits)} a year"


APPENDIX_SUBTITLE = "Every metric of the dashboard, as the metric registry defines it"
APPENDIX_NOTES = (
    "One definition per number: the pages, the command line and this deck read the same "
    "metric registry, so a label means the same everywhere."
)
METHODS_TITLE = "How the numbers were made"


def appendix_title(n: int, total: int) -> str:
    """Title of the n-th definitions slide."""
    return "Definitions" if total == 1 else f"Definitions ({n} of {total})"


def method_lines(
    *, clv_method: str, activity: str, window: str, scenario: str, snapshot: str, churn: str
) -> tuple[str, ...]:
    """The methods slide: where the numbers come from."""
    return (
        f"Data: {snapshot}.",
        activity + " Retention, churn and the lifecycle stages use this one rule.",
        f"Customer lifetime value: {clv_method}; no model was refitted for the deck.",
        f"Profit tiers: {window}",
        f"What-if: {scenario}",
        f"Value at risk: {churn}",
        "Every number on these slides comes from the same functions as the dashboard's pages "
        "for the same snapshot and date.",
    )


# ----------------------------------------------------------------------------- the page

PAGE_SUBTITLE = "the deck of this snapshot and date, with the pages' numbers"
ALL_SECTIONS = "All sections"
SCENARIO_LABEL = "What-if scenario"
DEFAULT_OPTION = "Retention +5 points (default)"
SCENARIO_HELP = (
    "The what-if slides project this scenario against the baseline: a scenario saved on the "
    "What-if page, or 5 more points of annual retention in every segment."
)
SECTION_LABEL = "Section"
DOWNLOAD_TITLE = "Download the deck"
DOWNLOAD_HELP = (
    "PowerPoint and PDF draw the charts with Chromium on the server (a few seconds; other "
    "users are not held up). The web page is one file with interactive charts that opens "
    "offline."
)
PRESENT_HINT = (
    "Presentation mode: add ?present=1 to the address (or use the button) to hide the "
    "sidebar and controls, enlarge the text and step through the sections."
)
PREPARE = {"pptx": "Prepare PowerPoint", "pdf": "Prepare PDF", "html": "Prepare web page"}
DOWNLOAD = {"pptx": "Download PowerPoint", "pdf": "Download PDF", "html": "Download web page"}


def preview_caption(slides: int, charts: int) -> str:
    """Under the section picker: what the deck holds."""
    return f"{slides} slides, {charts} charts. Speaker notes carry the definitions."


def step_caption(index: int, total: int, title: str) -> str:
    """Presentation mode's position: ``"3 / 9 · Key metrics"``."""
    return f"{index + 1} / {total} · {title}"
