"""The deck as one HTML document: interactive (the HTML export) or with chart images (the
page the PDF export prints).

Each slide is a 13.333 x 7.5 inch box laid out by :mod:`crm_core.report.layout`, one
printed page per slide. Every string is escaped (data is text, never markup). The
interactive document embeds plotly.js from the installed plotly package once, so it opens
offline and loads nothing from any server; the arrow keys step from slide to slide.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from crm_core.report.figures import fit_axis_titles, untitled
from crm_core.report.layout import HEIGHT, WIDTH, Box, boxes, figure_slots
from crm_core.report.slides import Deck, Slide, Table

__all__ = ["deck_html", "figure_for", "footer_text"]

PX = 96  # CSS pixels per inch
FONT = "Inter, 'Segoe UI', 'Helvetica Neue', Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"
CONFIG = {"displaylogo": False, "responsive": False, "toImageButtonOptions": {"scale": 2}}

_CSS = f"""
@page {{ size: {WIDTH}in {HEIGHT}in; margin: 0; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; }}
body {{ background: #E9EDF2; font-family: {FONT}; color: #1B2430; }}
.slide {{ position: relative; width: {WIDTH}in; height: {HEIGHT}in; margin: 24px auto;
  background: #FFFFFF; overflow: hidden; box-shadow: 0 2px 12px rgba(27,36,48,.18);
  break-after: page; page-break-after: always; }}
.slide:last-child {{ break-after: auto; page-break-after: auto; }}
.box {{ position: absolute; overflow: hidden; }}
.title {{ font-size: 24pt; font-weight: 700; line-height: 1.15; color: #1F4E79;
  display: flex; align-items: flex-end; }}
.cover .title {{ font-size: 40pt; align-items: flex-start; }}
.subtitle {{ font-size: 12.5pt; color: #5F6B7A; line-height: 1.3; }}
.bullets {{ font-size: 16pt; line-height: 1.35; }}
.bullets ul {{ margin: 0; padding-left: 1.1em; }} .bullets li {{ margin: 0 0 .45em; }}
.bullets.caption {{ font-size: 12.5pt; color: #3B4656; }}
.cover .bullets {{ font-size: 20pt; color: #3B4656; }}
.heading .h {{ font-size: 13pt; font-weight: 700; line-height: 1.2; }}
.heading .s {{ font-size: 10pt; color: #5F6B7A; line-height: 1.25; margin-top: 2px; }}
.footer {{ font-size: 9pt; color: #8A94A6; border-top: 1px solid #D5DBE3; padding-top: 4px; }}
table {{ border-collapse: collapse; width: 100%; font-size: var(--size, 11pt); }}
th {{ background: #1F4E79; color: #FFFFFF; font-weight: 600; text-align: left; }}
th, td {{ padding: 3px 6px; border-bottom: 1px solid #D5DBE3; vertical-align: top; }}
tr:nth-child(even) td {{ background: #F4F6F9; }}
.num {{ text-align: right; white-space: nowrap; }}
.figure img {{ width: 100%; height: 100%; object-fit: contain; display: block; }}
@media print {{ body {{ background: #FFFFFF; }} .slide {{ margin: 0; box-shadow: none; }} }}
"""

_KEYS = """
document.addEventListener('keydown', function (e) {
  var keys = {ArrowRight: 1, PageDown: 1, ' ': 1, ArrowLeft: -1, PageUp: -1};
  if (!(e.key in keys)) return;
  var slides = Array.prototype.slice.call(document.querySelectorAll('.slide'));
  var y = window.scrollY + 40, i = 0;
  while (i + 1 < slides.length && slides[i + 1].offsetTop <= y) i++;
  var next = slides[Math.min(Math.max(i + keys[e.key], 0), slides.length - 1)];
  next.scrollIntoView({behavior: 'smooth'}); e.preventDefault();
});
"""


def _style(box: Box) -> str:
    return (
        f"left:{box.left * PX:.1f}px;top:{box.top * PX:.1f}px;"
        f"width:{box.width * PX:.1f}px;height:{box.height * PX:.1f}px"
    )


def _table(table: Table) -> str:
    size = "10pt" if len(table.rows) > 10 else "11.5pt"
    head = "".join(
        f"<th class='{'num' if table.is_numeric(i) else ''}'>{html.escape(h)}</th>"
        for i, h in enumerate(table.header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='{'num' if table.is_numeric(i) else ''}'>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in table.rows
    )
    return (
        f"<table style='--size:{size}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def footer_text(deck: Deck, number: int) -> str:
    """The line at the foot of slide ``number`` (1-based)."""
    return f"{deck.company} · Quarterly review {deck.quarter} · {number} / {len(deck.slides)}"


def figure_for(figure: go.Figure, height: int | None = None) -> go.Figure:
    """The figure as a slide shows it: without its title (the slide or the figure's
    heading carries it, as text that wraps), its y-axis titles fitted to its ``height``
    (CSS pixels) when given."""
    out = untitled(figure)
    return out if height is None else fit_axis_titles(out, height)


FigureHtml = Callable[[int, int, go.Figure, Box], str]


def interactive(slide_no: int, fig_no: int, figure: go.Figure, box: Box) -> str:
    """A figure as an interactive plotly chart filling ``box`` (plotly.js loaded once)."""
    fig = go.Figure(figure)
    fig.update_layout(width=round(box.width * PX), height=round(box.height * PX))
    return pio.to_html(
        fig, full_html=False, include_plotlyjs=False, config=CONFIG,
        div_id=f"slide{slide_no}-figure{fig_no}",
    )  # fmt: skip


def images(pngs: tuple[bytes, ...]) -> FigureHtml:
    """Figures as the PNGs drawn for them, in deck order."""
    it = iter(pngs)

    def image(slide_no: int, fig_no: int, figure: go.Figure, box: Box) -> str:
        data = base64.b64encode(next(it)).decode("ascii")
        return f"<img alt='Chart {slide_no}.{fig_no}' src='data:image/png;base64,{data}'>"

    return image


def _slide(deck: Deck, number: int, slide: Slide, figure_html: FigureHtml) -> str:
    b = boxes(slide)
    parts = [f"<div class='box title' style='{_style(b.title)}'>{html.escape(slide.title)}</div>"]
    if b.subtitle is not None:
        parts.append(
            f"<div class='box subtitle' style='{_style(b.subtitle)}'>"
            f"{html.escape(slide.subtitle)}</div>"
        )
    if b.bullets is not None:
        caption = " caption" if (slide.figures or slide.table) and not slide.cover else ""
        items = "".join(f"<li>{html.escape(t)}</li>" for t in slide.bullets)
        inner = (
            f"<ul>{items}</ul>"
            if len(slide.bullets) > 1 and not slide.cover
            else "".join(f"<div>{html.escape(t)}</div>" for t in slide.bullets)
        )
        parts.append(f"<div class='box bullets{caption}' style='{_style(b.bullets)}'>{inner}</div>")
    if b.table is not None and slide.table is not None:
        parts.append(
            f"<div class='box table' style='{_style(b.table)}'>{_table(slide.table)}</div>"
        )
    slots = figure_slots(slide)
    for i, (slot, figure) in enumerate(zip(slots, slide.figures, strict=True), start=1):
        if slot.heading is not None:
            parts.append(
                f"<div class='box heading' style='{_style(slot.heading)}'>"
                f"<div class='h'>{html.escape(slot.title)}</div>"
                f"<div class='s'>{html.escape(slot.subtitle)}</div></div>"
            )
        body = figure_html(number, i, figure_for(figure, round(slot.box.height * PX)), slot.box)
        parts.append(f"<div class='box figure' style='{_style(slot.box)}'>{body}</div>")
    if not slide.cover:
        parts.append(
            f"<div class='box footer' style='{_style(b.footer)}'>"
            f"{html.escape(footer_text(deck, number))}</div>"
        )
    kind = "slide cover" if slide.cover else "slide"
    return f"<section class='{kind}' id='slide-{number}'>{''.join(parts)}</section>"


def deck_html(deck: Deck, figure_html: FigureHtml = interactive) -> str:
    """The whole deck as one HTML document (module docstring)."""
    head = [
        "<meta charset='utf-8'>",
        f"<title>{html.escape(f'{deck.company} · Quarterly review {deck.quarter}')}</title>",
        f"<style>{_CSS}</style>",
    ]
    if figure_html is interactive and deck.figure_count:
        head.append(f"<script>{get_plotlyjs()}</script>")
    slides = "".join(_slide(deck, n, s, figure_html) for n, s in enumerate(deck.slides, start=1))
    keys = f"<script>{_KEYS}</script>" if figure_html is interactive else ""
    body = f"<body>{slides}{keys}</body>"
    return f"<!DOCTYPE html><html lang='en'><head>{''.join(head)}</head>{body}</html>"
