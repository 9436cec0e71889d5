"""The review's own sections: the title slide, the executive summary, the key metrics
and the appendix of definitions (the pages' sections: :mod:`crm_core.report.sections_pages`).
"""

from __future__ import annotations

from crm_core.churn.report import ChurnReport
from crm_core.copy import review as words
from crm_core.copy import review_risk as risk_words
from crm_core.metrics.registry import METRICS
from crm_core.report.figures import finding_figure
from crm_core.report.inputs import ReviewInputs
from crm_core.report.slides import Slide, Table
from crm_core.report.summary import findings
from crm_core.report.tables import kpi_table

__all__ = ["appendix", "cover", "key_metrics", "summary"]


def cover(inputs: ReviewInputs) -> tuple[Slide, ...]:
    o = inputs.overview
    lines = words.cover_lines(o.company, o.as_of, o.business_model, o.currency)
    if inputs.whatif is not None and inputs.whatif.saved:
        lines = (*lines, f"What-if scenario: {inputs.whatif.scenario.name}")
    return (Slide("cover", o.company, bullets=lines, cover=True),)


def summary(inputs: ReviewInputs) -> tuple[Slide, ...]:
    cur, as_of = inputs.currency, inputs.overview.as_of
    found = findings(inputs.metrics, cur, inputs.overview.kpis)
    better = sum(f.good for f in found)
    keys = [f.kpi.key for f in found]
    slides = [
        Slide(
            "summary",
            words.summary_title(len(found), better),
            subtitle=words.summary_subtitle(as_of),
            bullets=tuple(f"{f.sentence} ({'better' if f.good else 'worse'})" for f in found),
            notes=words.summary_notes() + "\n" + words.definition_notes(keys),
        )
    ]
    for f in found:
        figure = finding_figure(f.kpi, as_of, cur, title=f.sentence, good=f.good)
        slides.append(
            Slide(
                "summary",
                f.sentence,
                subtitle=words.finding_subtitle(f.against, f.good),
                figures=(figure,),
                notes=words.definition_notes([f.kpi.key]),
            )
        )
    return tuple(slides)


def key_metrics(inputs: ReviewInputs) -> tuple[Slide, ...]:
    cards = inputs.overview.kpis
    compared = [k for k in cards if k.value is not None and k.year_ago is not None]
    improved = sum(words.judgement(k, k.year_ago) == "better" for k in compared)  # type: ignore[arg-type]
    return (
        Slide(
            "kpis",
            words.kpi_title(improved, len(compared)),
            subtitle=words.kpi_subtitle(inputs.overview),
            table=kpi_table(inputs),
            notes=words.definition_notes([k.key for k in cards]),
        ),
    )


APPENDIX_ROWS = 10


def _methods(inputs: ReviewInputs) -> tuple[str, ...]:
    ledger = inputs.metrics.ledger
    w = inputs.whatif
    man = ledger.snapshot.manifest
    scenario = (
        inputs.whatif_note or "not available"
        if w is None
        else f"{w.scenario.name}, {w.horizon}-year projection of the {w.report.baseline.by} "
        f"baseline, {w.draws:,} simulated outcomes for the bands."
    )
    churn = inputs.churn
    if isinstance(churn, ChurnReport):
        risk = risk_words.churn_method(churn.ranked_by, churn.plan.ends[churn.plan.test], None)
    else:
        risk = risk_words.churn_method(None, None, str(churn) if churn is not None else "not asked")
    return words.method_lines(
        clv_method=inputs.overview.clv_method,
        activity=ledger.activity.definition(contractual=ledger.contractual),
        window=words.segments_subtitle(inputs.segments).split(" · ")[1]
        if not inputs.segments.is_empty
        else "no customer in the window",
        scenario=scenario,
        snapshot=f"{man.company}, as of {inputs.overview.as_of:%d %b %Y}",
        churn=risk,
    )


def appendix(inputs: ReviewInputs) -> tuple[Slide, ...]:
    metrics = list(METRICS.values())
    pages = -(-len(metrics) // APPENDIX_ROWS)
    rows = -(-len(metrics) // pages)  # balanced: no page with one metric left over
    chunks = [metrics[i : i + rows] for i in range(0, len(metrics), rows)]
    slides = []
    for n, chunk in enumerate(chunks, start=1):
        table = Table(
            ("Metric", "Definition"),
            tuple((m.label, m.definition) for m in chunk),
            (False, False),
        )
        slides.append(
            Slide(
                "appendix",
                words.appendix_title(n, len(chunks)),
                subtitle=words.APPENDIX_SUBTITLE,
                table=table,
                notes=words.APPENDIX_NOTES,
            )
        )
    slides.append(
        Slide(
            "appendix",
            words.METHODS_TITLE,
            bullets=_methods(inputs),
            notes=words.APPENDIX_NOTES,
        )
    )
    return tuple(slides)
