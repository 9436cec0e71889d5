"""The review in a file: PowerPoint, PDF (a page per slide) or a self-contained web page.

:func:`export` turns a :class:`~crm_core.report.slides.Deck` into the bytes of one format.
PowerPoint and PDF draw the charts as images with Chromium (:mod:`crm_core.report.render`;
without it :class:`~crm_core.report.render.BrowserMissing` says what to install); the PDF
is the HTML layout with those images, printed by the same browser; the HTML export needs
no browser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crm_core.report import html as html_writer
from crm_core.report.layout import HEIGHT, WIDTH, figure_pixels, figure_slots
from crm_core.report.render import Job, render
from crm_core.report.slides import Deck

__all__ = ["FORMATS", "MIME", "export", "figure_jobs", "format_of"]

FORMATS = ("pptx", "pdf", "html")
MIME = {
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
    "html": "text/html",
}

Progress = Callable[[str, float], None]
"""``progress(step in words, fraction done)``."""


def format_of(path: str | Path) -> str:
    """The export format a file name asks for (``ValueError`` for another suffix)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot tell the format of {Path(path).name!r}: the file name must end in "
            + ", ".join(f".{f}" for f in FORMATS)
        )
    return suffix


def figure_jobs(deck: Deck) -> list[Job]:
    """Every figure of the deck at the size of its box, as its slide shows it."""
    jobs = []
    for slide in deck.slides:
        for slot, figure in zip(figure_slots(slide), slide.figures, strict=True):
            width, height = figure_pixels(slot.box)
            jobs.append(Job(html_writer.figure_for(figure, height), width, height))
    return jobs


def export(deck: Deck, fmt: str, progress: Progress | None = None) -> bytes:
    """The bytes of ``deck`` in format ``fmt`` (one of :data:`FORMATS`).

    Raises
    ------
    BrowserMissing
        PowerPoint or PDF without Chromium.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    step = progress or (lambda _text, _done: None)
    if fmt == "html":
        step("Writing the web page", 0.5)
        data = html_writer.deck_html(deck).encode("utf-8")
        step("Done", 1.0)
        return data
    jobs = figure_jobs(deck)
    share = 0.85 if fmt == "pptx" else 0.7

    def drawn(done: int, total: int) -> None:
        step(f"Drawing chart {done} of {total}", share * done / max(total, 1))

    step("Starting Chromium", 0.0)
    if fmt == "pdf":

        def page(images: tuple[bytes, ...]) -> tuple[str, float, float]:
            step("Printing the PDF", share)
            return html_writer.deck_html(deck, html_writer.images(images)), WIDTH, HEIGHT

        result = render(jobs, pdf=page, progress=drawn)
        assert result.pdf is not None
        data = result.pdf
    else:
        from crm_core.report.powerpoint import deck_pptx

        images = render(jobs, progress=drawn).images
        step("Writing the slides", share)
        data = deck_pptx(deck, images)
    step("Done", 1.0)
    return data
