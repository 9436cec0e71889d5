"""Where things go on a 16:9 slide, in inches: one layout for PowerPoint, PDF and HTML.

A slide is 13.333 x 7.5 inches (PowerPoint's widescreen). :func:`boxes` places a slide's
title, subtitle, words, table and figures; the writers convert inches to their units
(EMU, CSS pixels at 96 an inch), and figures are drawn at :data:`FIGURE_DPI` CSS pixels an
inch so their 13-pixel fonts read at about 12 points on the slide.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.report.figures import figure_heading
from crm_core.report.slides import Slide

__all__ = [
    "FIGURE_DPI",
    "HEIGHT",
    "WIDTH",
    "Box",
    "Boxes",
    "FigureSlot",
    "boxes",
    "figure_pixels",
    "figure_slots",
]

WIDTH, HEIGHT = 13.333, 7.5
MARGIN = 0.5
GAP = 0.25
FIGURE_DPI = 80
"""CSS pixels per inch at which figures are laid out (then drawn at twice that)."""
_TITLE_TOP, _TITLE_H = 0.3, 1.0
_SUB_TOP, _SUB_H = 1.36, 0.45
_BODY_TOP, _BODY_BOTTOM = 1.9, 7.0
_HEADING_H = 0.72  # at least
_HEADING_CHAR_IN = (0.099, 0.076)  # average character width of the heading's title, subtitle
_HEADING_LINE_IN = (0.22, 0.175)  # their line heights (13 pt bold, 10 pt)
FOOTER_TOP = 7.08


@dataclass(frozen=True)
class Box:
    """A rectangle: left, top, width, height in inches."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class Boxes:
    """The rectangles of one slide (``None`` where the slide has no such part)."""

    title: Box
    subtitle: Box | None
    bullets: Box | None
    table: Box | None
    figures: tuple[Box, ...]
    footer: Box


def figure_pixels(box: Box) -> tuple[int, int]:
    """Layout size in CSS pixels of a figure drawn in ``box``."""
    return round(box.width * FIGURE_DPI), round(box.height * FIGURE_DPI)


def _table_width(slide: Slide) -> float:
    """Share of the body a table takes beside a figure (wider for more columns)."""
    assert slide.table is not None
    columns = len(slide.table.header)
    return min(0.55, 0.28 + 0.055 * columns)


def boxes(slide: Slide) -> Boxes:
    """The layout of ``slide`` (module docstring)."""
    inner = WIDTH - 2 * MARGIN
    footer = Box(MARGIN, FOOTER_TOP, inner, 0.3)
    if slide.cover:
        return Boxes(
            title=Box(MARGIN + 0.3, 2.3, inner - 0.6, 1.4),
            subtitle=None,
            bullets=Box(MARGIN + 0.3, 3.9, inner - 0.6, 2.0),
            table=None,
            figures=(),
            footer=footer,
        )
    title = Box(MARGIN, _TITLE_TOP, inner, _TITLE_H)
    subtitle = Box(MARGIN, _SUB_TOP, inner, _SUB_H) if slide.subtitle else None
    top = _BODY_TOP if slide.subtitle else _SUB_TOP + 0.1
    height = _BODY_BOTTOM - top
    figures: list[Box] = []
    table = bullets = None
    n = len(slide.figures)
    if slide.bullets and (n or slide.table):
        lines = 0.5 + 0.35 * sum(1 + len(b) // 150 for b in slide.bullets)
        if slide.table and not n:  # words above the table
            bullets = Box(MARGIN, top, inner, lines)
            top, height = top + lines + 0.1, height - lines - 0.1
        else:  # words under the figures
            bullets = Box(MARGIN, top + height - lines, inner, lines)
            height -= lines + 0.1
    elif slide.bullets:
        bullets = Box(MARGIN, top, inner, height)
    if slide.table is not None and n:
        share = _table_width(slide)
        table_w = inner * share
        table = Box(MARGIN + inner - table_w, top, table_w, height)
        figures.append(Box(MARGIN, top, inner - table_w - GAP, height))
    elif slide.table is not None:
        table = Box(MARGIN, top, inner, height)
    elif n == 1:
        figures.append(Box(MARGIN, top, inner, height))
    elif n == 2:
        half = (inner - GAP) / 2
        figures += [Box(MARGIN, top, half, height), Box(MARGIN + half + GAP, top, half, height)]
    return Boxes(title, subtitle, bullets, table, tuple(figures), footer)


def _heading_height(title: str, subtitle: str, width: float) -> float:
    """Inches a figure's heading needs: its title and subtitle wrapped to ``width``."""
    need = 0.08
    for text, char, line in zip((title, subtitle), _HEADING_CHAR_IN, _HEADING_LINE_IN,
                                strict=True):  # fmt: skip
        if text:
            per_line = max(1, int(width / char))
            need += line * -(-len(text) // per_line)
    return max(_HEADING_H, need)


@dataclass(frozen=True)
class FigureSlot:
    """Where one figure goes: its own heading (the figure's title and subtitle, when the
    slide's title is another finding) above the picture, which is drawn without a title."""

    heading: Box | None
    title: str
    subtitle: str
    box: Box


def figure_slots(slide: Slide) -> tuple[FigureSlot, ...]:
    """The figures of ``slide`` with their headings (text that wraps, unlike a chart
    title) and the boxes of the pictures."""
    slots = []
    for box, figure in zip(boxes(slide).figures, slide.figures, strict=True):
        title, subtitle = figure_heading(figure)
        if not title or title == slide.title:
            slots.append(FigureSlot(None, title, subtitle, box))
            continue
        tall = _heading_height(title, subtitle, box.width)
        heading = Box(box.left, box.top, box.width, tall)
        rest = Box(box.left, box.top + tall, box.width, box.height - tall)
        slots.append(FigureSlot(heading, title, subtitle, rest))
    return tuple(slots)
