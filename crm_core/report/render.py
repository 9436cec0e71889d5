"""Chart images and PDF pages drawn by Debian's Chromium through kaleido.

Kaleido 1.x drives an installed Chromium (choreographer); nothing here downloads a
browser. The browser is ``$BROWSER_PATH`` when set, else ``/usr/bin/chromium``; without
one, :class:`BrowserMissing` (a :class:`~crm_core.errors.DataError`: the user can fix it)
says what to install, and the HTML export, which needs no browser, still works.

:func:`render` opens one browser for a whole deck: every figure becomes a PNG (plotly.js
from the installed plotly package, MathJax off: no network), and, when asked, an HTML
document is printed to PDF in the same browser.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go

from crm_core.errors import DataError

__all__ = [
    "BROWSER_ENV",
    "DEFAULT_BROWSER",
    "BrowserMissing",
    "Rendered",
    "browser_path",
    "render",
]

BROWSER_ENV = "BROWSER_PATH"
DEFAULT_BROWSER = "/usr/bin/chromium"
SCALE = 2
"""Pixels per CSS pixel of the chart images (crisp on a projector and in print)."""
_TABS = 2
_TIMEOUT_S = 120


class BrowserMissing(DataError):
    """No Chromium to draw the charts with."""


def browser_path() -> str:
    """The Chromium to use (module docstring); :class:`BrowserMissing` when there is none."""
    wanted = os.environ.get(BROWSER_ENV, "").strip()
    path = Path(wanted or DEFAULT_BROWSER)
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    where = f"{BROWSER_ENV}={wanted}" if wanted else DEFAULT_BROWSER
    raise BrowserMissing(
        f"PowerPoint and PDF export draw the charts with Chromium, which was not found at "
        f"{where}. Install Debian's Chromium (apt-get install chromium) or set {BROWSER_ENV} "
        "to a Chromium or Chrome executable. The HTML export works without it."
    )


@dataclass(frozen=True)
class Rendered:
    """PNG bytes per figure (in order) and the printed PDF, if one was asked for."""

    images: tuple[bytes, ...]
    pdf: bytes | None = None


@dataclass(frozen=True)
class Job:
    """A figure to draw at a layout size in CSS pixels."""

    figure: go.Figure
    width: int
    height: int


async def _print_pdf(browser, document: str, width_in: float, height_in: float) -> bytes:
    """``document`` (HTML) printed to PDF with pages of ``width_in`` x ``height_in``."""
    with tempfile.TemporaryDirectory(prefix="crm-review-") as folder:
        page = Path(folder) / "review.html"
        page.write_text(document, encoding="utf-8")
        tab = await browser.create_tab("about:blank")
        try:
            await tab.send_command("Page.enable")
            loaded = tab.subscribe_once("Page.loadEventFired")
            await tab.send_command("Page.navigate", params={"url": page.as_uri()})
            await asyncio.wait_for(loaded, _TIMEOUT_S)
            reply = await tab.send_command(
                "Page.printToPDF",
                params={
                    "printBackground": True,
                    "paperWidth": width_in,
                    "paperHeight": height_in,
                    "marginTop": 0,
                    "marginBottom": 0,
                    "marginLeft": 0,
                    "marginRight": 0,
                    "preferCSSPageSize": True,
                },
            )
        finally:
            await browser.close_tab(tab)
    if "error" in reply:
        raise RuntimeError(f"Chromium could not print the deck: {reply['error']}")
    return base64.b64decode(reply["result"]["data"])


async def _render(
    jobs: Sequence[Job],
    pdf: Callable[[tuple[bytes, ...]], tuple[str, float, float]] | None,
    progress: Callable[[int, int], None] | None,
) -> Rendered:
    import kaleido

    done = 0

    async def one(k, job: Job) -> bytes:
        nonlocal done
        opts = {"format": "png", "width": job.width, "height": job.height, "scale": SCALE}
        image = await k.calc_fig(job.figure, opts=opts)
        done += 1
        if progress is not None:
            progress(done, len(jobs))
        return image

    async with kaleido.Kaleido(
        n=_TABS, path=browser_path(), mathjax=False, timeout=_TIMEOUT_S
    ) as k:
        images = tuple(await asyncio.gather(*(one(k, job) for job in jobs)))
        printed = None
        if pdf is not None:
            document, width_in, height_in = pdf(images)
            printed = await _print_pdf(k, document, width_in, height_in)
    return Rendered(images, printed)


def render(
    jobs: Sequence[Job],
    *,
    pdf: Callable[[tuple[bytes, ...]], tuple[str, float, float]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Rendered:
    """Draw every figure of ``jobs`` as a PNG and, with ``pdf``, print the HTML document
    ``pdf(images)`` returns (with its page size in inches) to PDF, in one browser session.

    Runs its own event loop; called from a thread that already runs one (a notebook, a
    test session driving a browser), it runs that loop on a thread of its own.
    ``progress(done, total)`` is called after each image.

    Raises
    ------
    BrowserMissing
        Without Chromium (module docstring).
    """
    browser_path()  # fail before starting anything
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_render(jobs, pdf, progress))
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="crm-render") as pool:
        return pool.submit(lambda: asyncio.run(_render(jobs, pdf, progress))).result()
