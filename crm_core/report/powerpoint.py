"""The deck as a PowerPoint file (python-pptx): 16:9, a title per slide, native tables,
charts as crisp PNGs, the definitions in the speaker notes.

Positions come from :mod:`crm_core.report.layout` (the PDF and HTML use the same). The
chart images are drawn by :mod:`crm_core.report.render` before this module is called.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from crm_core.report.html import footer_text
from crm_core.report.layout import HEIGHT, WIDTH, Box, boxes, figure_slots
from crm_core.report.slides import Deck, Slide, Table

__all__ = ["deck_pptx"]

_TITLE_ONLY = 5  # layout of the default template: a title placeholder only
BLUE, INK, GREY, LINE, STRIPE = "1F4E79", "1B2430", "5F6B7A", "D5DBE3", "F4F6F9"
FONT = "Calibri"


def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color)


def _place(shape, box: Box) -> None:
    shape.left, shape.top = Inches(box.left), Inches(box.top)
    shape.width, shape.height = Inches(box.width), Inches(box.height)


def _text(frame, lines: Sequence[str], size: float, color: str, *, bold: bool = False,
          bullets: bool = False) -> None:  # fmt: skip
    frame.word_wrap = True
    frame.clear()
    for i, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = ("•  " if bullets else "") + line
        paragraph.space_after = Pt(8 if bullets else 2)
        font = paragraph.font
        font.size, font.bold, font.name = Pt(size), bold, FONT
        font.color.rgb = _rgb(color)


def _textbox(slide, box: Box, lines: Sequence[str], size: float, color: str, **kw):
    shape = slide.shapes.add_textbox(Inches(box.left), Inches(box.top), Inches(box.width),
                                     Inches(box.height))  # fmt: skip
    _text(shape.text_frame, lines, size, color, **kw)
    return shape


def _widths(table: Table, total: float) -> list[float]:
    """Column widths (inches) by the longest cell of each column, within limits."""
    longest = [
        max([len(table.header[i]), *(len(row[i]) for row in table.rows)])
        for i in range(len(table.header))
    ]
    weights = [min(max(n, 6), 60) for n in longest]
    return [total * w / sum(weights) for w in weights]


def _table(slide, box: Box, table: Table) -> None:
    rows, cols = len(table.rows) + 1, len(table.header)
    size = 10 if len(table.rows) > 10 else 12
    height = min(box.height, 0.32 * rows if size == 10 else 0.4 * rows)
    shape = slide.shapes.add_table(rows, cols, Inches(box.left), Inches(box.top),
                                   Inches(box.width), Inches(height))  # fmt: skip
    grid = shape.table
    for i, width in enumerate(_widths(table, box.width)):
        grid.columns[i].width = Emu(int(Inches(width)))
    cells = [table.header, *table.rows]
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            cell = grid.cell(r, c)
            cell.margin_left = cell.margin_right = Inches(0.06)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            frame = cell.text_frame
            frame.word_wrap = True
            paragraph = frame.paragraphs[0]
            paragraph.text = value
            paragraph.alignment = PP_ALIGN.RIGHT if table.is_numeric(c) else PP_ALIGN.LEFT
            font = paragraph.font
            font.size, font.name, font.bold = Pt(size), FONT, r == 0
            font.color.rgb = _rgb("FFFFFF" if r == 0 else INK)
            cell.fill.solid()
            cell.fill.fore_color.rgb = _rgb(
                BLUE if r == 0 else (STRIPE if r % 2 == 0 else "FFFFFF")
            )


def _slide(prs, deck: Deck, number: int, slide: Slide, images: Sequence[bytes]) -> None:
    page = prs.slides.add_slide(prs.slide_layouts[_TITLE_ONLY])
    b = boxes(slide)
    title = page.shapes.title
    _place(title, b.title)
    _text(title.text_frame, [slide.title], 40 if slide.cover else 24, BLUE, bold=True)
    title.text_frame.vertical_anchor = MSO_ANCHOR.TOP if slide.cover else MSO_ANCHOR.BOTTOM
    if b.subtitle is not None:
        _textbox(page, b.subtitle, [slide.subtitle], 12.5, GREY)
    if b.bullets is not None:
        words_only = not (slide.figures or slide.table)
        size = 20 if slide.cover else (16 if words_only else 12.5)
        _textbox(page, b.bullets, slide.bullets, size, GREY if slide.cover else INK,
                 bullets=words_only and not slide.cover and len(slide.bullets) > 1)  # fmt: skip
    if b.table is not None and slide.table is not None:
        _table(page, b.table, slide.table)
    for slot, image in zip(figure_slots(slide), images, strict=True):
        if slot.heading is not None:
            shape = _textbox(page, slot.heading, [slot.title], 13, INK, bold=True)
            paragraph = shape.text_frame.add_paragraph()
            paragraph.text = slot.subtitle
            paragraph.font.size, paragraph.font.name = Pt(10), FONT
            paragraph.font.color.rgb = _rgb(GREY)
        box = slot.box
        page.shapes.add_picture(io.BytesIO(image), Inches(box.left), Inches(box.top),
                                Inches(box.width), Inches(box.height))  # fmt: skip
    if not slide.cover:
        _textbox(page, b.footer, [footer_text(deck, number)], 9, "8A94A6")
    if slide.notes:
        page.notes_slide.notes_text_frame.text = slide.notes


def deck_pptx(deck: Deck, images: Sequence[bytes]) -> bytes:
    """The PowerPoint file of ``deck``; ``images`` are the PNGs of its figures in deck order
    (drawn at the figures' boxes, so they fit without distortion)."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(WIDTH), Inches(HEIGHT)
    prs.core_properties.title = f"{deck.company} · Quarterly review {deck.quarter}"
    prs.core_properties.subject = f"As of {deck.as_of:%d %b %Y}"
    start = 0
    for number, slide in enumerate(deck.slides, start=1):
        count = len(slide.figures)
        _slide(prs, deck, number, slide, images[start : start + count])
        start += count
    if start != len(images):
        raise ValueError(f"{len(images)} images for {start} figures")
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
