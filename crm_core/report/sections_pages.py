"""The review's sections made of the pages' own results and figures: segment
profitability, the lifecycle, customer value and cohort retention, and the what-if
scenario (the value at risk is :mod:`~crm_core.report.sections_risk`).

Each builder reads :class:`~crm_core.report.inputs.ReviewInputs` (the pages' reports with
their default controls) and draws the pages' figures (:mod:`crm_core.charts`), so a slide
shows what the page shows. A slide with one figure takes the figure's title (the finding)
as its own; the writers then leave the title out of the picture.
"""

from __future__ import annotations

from crm_core.charts import clv as clv_charts
from crm_core.charts import growth as growth_charts
from crm_core.charts import lifecycle as life_charts
from crm_core.charts import lifecycle_progress as progress
from crm_core.charts import segments as seg_charts
from crm_core.charts.whatif import equity_waterfall_figure, projection_figure
from crm_core.copy import customer_value as cv_words
from crm_core.copy import growth as growth_words
from crm_core.copy import lifecycle as life_words
from crm_core.copy import lifecycle_progress as progress_words
from crm_core.copy import review as words
from crm_core.copy import segments as seg_words
from crm_core.copy import segments_tables as seg_tables
from crm_core.copy.overview import headline as overview_headline
from crm_core.copy.whatif import scenario_cards
from crm_core.formatting import fmt_count, fmt_kind, fmt_money
from crm_core.growth.movements import NOW_LABEL
from crm_core.lifecycle.report import CARD_KEYS
from crm_core.metrics.registry import kpis, metric_value
from crm_core.report.figures import figure_heading
from crm_core.report.inputs import ReviewInputs
from crm_core.report.slides import Slide, Table
from crm_core.report.tables import text_table
from crm_core.whatif.engine import scenario_kpis

__all__ = ["customer_value", "growth", "lifecycle", "segments", "what_if"]


def _figure_slide(section: str, figure, **kw) -> Slide:
    """A slide titled with its one figure's finding."""
    title, subtitle = figure_heading(figure)
    return Slide(section, title, subtitle=kw.pop("subtitle", subtitle), figures=(figure,), **kw)


def _growth_table(inputs: ReviewInputs) -> Table:
    cur = inputs.currency
    keys = growth_words.card_keys(inputs.contractual)
    rows = tuple(
        (
            k.label,
            fmt_kind(k.value, k.kind, cur),
            fmt_kind(k.previous, k.kind, cur),
            fmt_kind(k.year_ago, k.kind, cur),
        )
        for k in kpis(inputs.metrics, keys, history=2)
    )
    return Table(("Metric", "Now", "Last quarter", "A year ago"), rows, (False, True, True, True))


def growth(inputs: ReviewInputs) -> tuple[Slide, ...]:
    view = inputs.growth
    if view is None or not view.keys:
        return ()
    cur = inputs.currency
    key = view.keys[0]
    nrr = metric_value(inputs.metrics, "nrr")
    return (
        Slide(
            "growth",
            growth_words.page_headline(view.row(key), view.recurring, cur, nrr),
            subtitle=words.growth_subtitle(
                view.recurring, str(view.row(key)[NOW_LABEL]), str(view.row(key)["compared_label"])
            ),
            figures=(growth_charts.movement_waterfall(view, key, cur),),
            table=_growth_table(inputs),
            notes=words.definition_notes(list(growth_words.card_keys(inputs.contractual))),
        ),
        _figure_slide(
            "growth",
            growth_charts.movement_trend(view, cur, 8),
            notes=words.definition_notes(list(growth_words.card_keys(inputs.contractual))),
        ),
    )


def segments(inputs: ReviewInputs) -> tuple[Slide, ...]:
    report = inputs.segments
    if report.is_empty:
        return ()
    notes = words.definition_notes(["top_profit_share"]) + "\n" + seg_words.CAPTIONS["tiers"]
    tiers = Slide(
        "segments",
        overview_headline(inputs.overview),
        subtitle=words.segments_subtitle(report),
        figures=(seg_charts.abc_shares(report),),
        table=text_table(seg_tables.tier_summary(report)),
        notes=notes,
    )
    whale = _figure_slide(
        "segments",
        seg_charts.whale_curve(report),
        bullets=tuple(b for b in (words.plain(seg_words.whale_finding(report)),) if b),
        notes=seg_words.CAPTIONS["whale"],
    )
    return (tiers, whale)


def _stage_table(inputs: ReviewInputs) -> Table:
    report = inputs.lifecycle
    cur = inputs.currency
    rows = []
    for key in CARD_KEYS:
        kpi = report.card(key)
        rows.append(
            (
                kpi.label,
                fmt_kind(kpi.value, kpi.kind, cur),
                fmt_kind(kpi.previous, kpi.kind, cur),
                words.change_text(kpi, kpi.previous, cur),
            )
        )
    header = ("Stage", "Now", f"{report.compare_to:%d %b %Y}", "Change")
    return Table(header, tuple(rows), (False, True, True, True))


def lifecycle(inputs: ReviewInputs) -> tuple[Slide, ...]:
    report = inputs.lifecycle
    stages = Slide(
        "lifecycle",
        life_words.headline(report),
        subtitle=words.lifecycle_subtitle(report),
        figures=(life_charts.stage_value_mix(report),),
        table=_stage_table(inputs),
        notes=words.definition_notes(list(CARD_KEYS)),
    )
    funnel = _figure_slide(
        "lifecycle",
        progress.funnel_chart(inputs.funnel),
        bullets=(progress_words.funnel_facts(inputs.funnel),),
        notes=progress_words.COHORT_HELP,
    )
    moves = _figure_slide(
        "lifecycle",
        life_charts.transition_matrix(report.transitions),
        notes=words.TRANSITIONS_NOTES,
    )
    return (stages, funnel, moves)


def _value_table(inputs: ReviewInputs) -> Table:
    result, bands, cur = inputs.clv, inputs.bands, inputs.currency
    assert result is not None
    o = inputs.overview
    rows = [
        (
            cv_words.equity_label(result.horizon_years),
            fmt_money(result.customer_equity, cur),
            cv_words.band(bands.equity_p10, bands.equity_p90, cur) if bands else "",
        ),
        (
            o.kpi("average_clv").label,
            fmt_kind(o.kpi("average_clv").value, "money", cur),
            words.per_active_note(o.kpi("active_customers").value),
        ),
        (
            cv_words.AVERAGE_LABEL,
            fmt_money(result.average_clv, cur),
            cv_words.average_band(bands, cur) if bands else "",
        ),
        (cv_words.VALUED_LABEL, fmt_count(result.customers), cv_words.valued_note(result)),
    ]
    return Table(("Measure", "Value", "Range or note"), tuple(rows), (False, True, False))


def customer_value(inputs: ReviewInputs) -> tuple[Slide, ...]:
    slides = []
    result = inputs.clv
    if result is not None and inputs.bands is not None:
        figure = clv_charts.clv_bands_figure(
            inputs.bands, currency=inputs.currency, label=cv_words.GROUPINGS["channel"]
        )
        slides.append(
            Slide(
                "value",
                cv_words.headline(result),
                subtitle=words.plain(cv_words.method_caption(result)),
                figures=(figure,),
                table=_value_table(inputs),
                notes=words.definition_notes(["customer_equity", "average_clv"]),
            )
        )
    measure = progress_words.DEFAULT_MEASURE
    slides.append(
        _figure_slide(
            "value",
            progress.cohort_curves(inputs.cohorts, measure),
            bullets=(
                words.plain(
                    progress_words.cohort_relation(
                        inputs.overview.kpi("retention").value, contractual=inputs.contractual
                    )
                ),
            ),
            notes=progress_words.COHORT_HELP,
        )
    )
    return tuple(slides)


def _whatif_table(inputs: ReviewInputs) -> Table:
    w = inputs.whatif
    assert w is not None
    cur = inputs.currency
    cards = scenario_cards(scenario_kpis(w.reference, w.result), w.horizon)[:4]
    rows = tuple(
        (
            k.label,
            fmt_kind(k.previous, k.kind, cur),
            fmt_kind(k.value, k.kind, cur),
            words.change_text(k, k.previous, cur),
        )
        for k in cards
    )
    return Table(
        ("Projection", "Baseline", w.scenario.name, "Change"), rows, (False, True, True, True)
    )


def what_if(inputs: ReviewInputs) -> tuple[Slide, ...]:
    w = inputs.whatif
    if w is None:
        return ()
    cur = inputs.currency
    projection = projection_figure(w.reference, w.result, metric="profit", currency=cur)
    waterfall = equity_waterfall_figure(w.reference, w.result, currency=cur)
    return (
        Slide(
            "whatif",
            words.whatif_title(
                w.scenario.name,
                w.reference.customer_equity,
                w.result.customer_equity,
                w.horizon,
                cur,
            ),
            subtitle=words.whatif_subtitle(w.scenario, w.report.baseline, w.rate),
            figures=(projection,),
            table=_whatif_table(inputs),
            notes=words.WHATIF_NOTES,
        ),
        _figure_slide("whatif", waterfall, notes=words.WHATIF_NOTES),
    )
