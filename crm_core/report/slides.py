"""What a review deck is made of: slides with a title that states the finding, words, a
native table, figures and speaker notes.

The writers (:mod:`~crm_core.report.powerpoint`, :mod:`~crm_core.report.html`,
:mod:`~crm_core.report.pdf`) and the Quarterly review page all draw the same
:class:`Deck`; nothing in a slide is formatted for one medium only. Every string is plain
text (the HTML writer escapes it, PowerPoint shows it as typed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import plotly.graph_objects as go

__all__ = ["Deck", "Slide", "Table"]


@dataclass(frozen=True)
class Table:
    """A table of formatted cells (numbers already through :mod:`crm_core.formatting`).

    Attributes
    ----------
    header
        Column headings, in words.
    rows
        One tuple of cell texts per row, as long as ``header``.
    numeric
        Per column: whether it holds numbers (right-aligned).
    """

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        width = len(self.header)
        bad = [i for i, row in enumerate(self.rows) if len(row) != width]
        if bad:
            raise ValueError(f"table rows {bad} do not have {width} cells")
        if self.numeric and len(self.numeric) != width:
            raise ValueError("numeric must give one flag per column")

    def is_numeric(self, column: int) -> bool:
        """Whether column ``column`` is right-aligned."""
        return bool(self.numeric and self.numeric[column])

    def column(self, heading: str) -> tuple[str, ...]:
        """The cells under ``heading`` (``KeyError`` if there is no such column)."""
        if heading not in self.header:
            raise KeyError(heading)
        i = self.header.index(heading)
        return tuple(row[i] for row in self.rows)

    def lookup(self, first: str, heading: str) -> str:
        """The cell in column ``heading`` of the row whose first cell is ``first``."""
        for row in self.rows:
            if row[0] == first:
                return row[self.header.index(heading)]
        raise KeyError(first)


@dataclass(frozen=True, eq=False)
class Slide:
    """One slide of the review.

    Attributes
    ----------
    section
        Key of the :class:`~crm_core.report.sections.Section` that made it.
    title
        The finding, in words ("Revenue up 12% on a year ago").
    subtitle
        The period, the definition or the source, in one line.
    bullets
        Points in words (the executive summary's findings, a section's facts).
    figures
        Zero, one or two plotly figures (titled by :func:`crm_core.charts.style.apply_layout`).
    table
        A native table, or ``None``.
    notes
        Speaker notes: the definitions of the numbers on the slide.
    cover
        The title slide (company, quarter, date) rather than a content slide.
    """

    section: str
    title: str
    subtitle: str = ""
    bullets: tuple[str, ...] = ()
    figures: tuple[go.Figure, ...] = field(default=(), repr=False)
    table: Table | None = None
    notes: str = ""
    cover: bool = False

    def __post_init__(self) -> None:
        if len(self.figures) > 2:
            raise ValueError(f"a slide holds at most two figures, got {len(self.figures)}")


@dataclass(frozen=True, eq=False)
class Deck:
    """The quarterly review: slides in order and what they describe.

    Attributes
    ----------
    company, currency, business_model
        From the snapshot's manifest.
    as_of
        The date described.
    quarter
        The quarter in words ("Q3 2026").
    scenario
        Name of the what-if scenario shown, or ``None`` for the default one.
    slides
        Every slide, title slide first.
    sections
        ``(key, title)`` of the sections that made slides, in order.
    """

    company: str
    currency: str
    business_model: str
    as_of: date
    quarter: str
    scenario: str | None
    slides: tuple[Slide, ...]
    sections: tuple[tuple[str, str], ...]

    def section_slides(self, key: str) -> tuple[Slide, ...]:
        """The slides of section ``key`` (empty when it made none)."""
        return tuple(s for s in self.slides if s.section == key)

    @property
    def figure_count(self) -> int:
        """Figures in the deck."""
        return sum(len(s.figures) for s in self.slides)

    @property
    def file_stem(self) -> str:
        """A file name without extension: ``quarterly-review-2026-09-30``."""
        return f"quarterly-review-{self.as_of.isoformat()}"
