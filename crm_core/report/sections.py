"""The review as a list of sections; each makes its slides from :class:`ReviewInputs`.

A :class:`Section` is a key, a title and a builder. :data:`SECTIONS` is the deck's order;
a new analysis adds its section to that tuple (a builder returning no slide when its data
is missing, e.g. a model not fitted), and the page, presentation mode and every writer
pick it up. Builders: :mod:`~crm_core.report.sections_core` (title, summary, key metrics,
appendix), :mod:`~crm_core.report.sections_pages` (one per page of the app) and
:mod:`~crm_core.report.sections_risk` (the Churn risk page's value at risk).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crm_core.copy import review as words
from crm_core.report import sections_core as core
from crm_core.report import sections_pages as pages
from crm_core.report import sections_risk as risk
from crm_core.report.inputs import ReviewInputs
from crm_core.report.slides import Deck, Slide

__all__ = ["SECTIONS", "Section", "build_deck"]

Builder = Callable[[ReviewInputs], tuple[Slide, ...]]


@dataclass(frozen=True)
class Section:
    """One part of the review: ``build(inputs)`` makes its slides (none when its data is
    missing)."""

    key: str
    title: str
    build: Builder


def _sections() -> tuple[Section, ...]:
    t = words.SECTION_TITLES
    return (
        Section("cover", t["cover"], core.cover),
        Section("summary", t["summary"], core.summary),
        Section("kpis", t["kpis"], core.key_metrics),
        Section("growth", t["growth"], pages.growth),
        Section("segments", t["segments"], pages.segments),
        Section("lifecycle", t["lifecycle"], pages.lifecycle),
        Section("value", t["value"], pages.customer_value),
        Section("whatif", t["whatif"], pages.what_if),
        Section("risk", t["risk"], risk.value_at_risk),
        Section("appendix", t["appendix"], core.appendix),
    )


SECTIONS: tuple[Section, ...] = _sections()
"""The deck's sections, in order."""


def build_deck(
    inputs: ReviewInputs,
    sections: Sequence[Section] = SECTIONS,
    progress: Callable[[str], None] | None = None,
) -> Deck:
    """The review of ``inputs``: every section's slides, in order."""
    slides: list[Slide] = []
    made: list[tuple[str, str]] = []
    for section in sections:
        if progress is not None:
            progress(section.title)
        own = section.build(inputs)
        if own:
            slides.extend(own)
            made.append((section.key, section.title))
    o = inputs.overview
    whatif = inputs.whatif
    return Deck(
        company=o.company,
        currency=o.currency,
        business_model=o.business_model,
        as_of=o.as_of,
        quarter=words.quarter_name(o.as_of),
        scenario=whatif.scenario.name if whatif is not None and whatif.saved else None,
        slides=tuple(slides),
        sections=tuple(made),
    )
