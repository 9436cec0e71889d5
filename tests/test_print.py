"""Printing and presenting in a real browser: Ctrl+P of a page (Chromium's print to PDF,
A4 landscape) and presentation mode (``?present=1``).

The PDF is read with :mod:`test_report_pdf` (no PDF library is installed): its text, line
by line, must hold every KPI label on one line (no label broken over two lines or cut),
the cards' "vs <date>" unbroken, the charts' titles, and nothing of the sidebar.
"""

from __future__ import annotations

import pytest
from conftest import wait_for_app
from test_report_pdf import page_count, pdf_lines

from crm_core.metrics.registry import KPI_KEYS, METRICS

pytestmark = pytest.mark.browser

PRINTABLE_PX = 1047  # A4 landscape less 10 mm margins, CSS pixels


def _print(browser, url: str, width: int, height: int, charts: int = 1) -> tuple[bytes, dict]:
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(url)
        # the charts first: under load the script can look idle before its first run
        page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg')"
            ".length >= n",
            arg=charts,
            timeout=120_000,
        )
        wait_for_app(page)
        data = page.pdf(format="A4", landscape=True, print_background=True)
        page.emulate_media(media="print")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        layout = page.evaluate(
            """() => {
              const main = document.querySelector('[data-testid="stMainBlockContainer"]');
              const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
              const cut = charts.filter(c => {
                const svg = c.querySelector('.main-svg');
                const right = c.getBoundingClientRect().right;
                return svg && svg.getBoundingClientRect().right > right + 1;
              }).length;
              const sidebar = document.querySelector('[data-testid="stSidebar"]');
              return {width: main.getBoundingClientRect().width, charts: charts.length, cut,
                      sidebar: sidebar ? getComputedStyle(sidebar).display : 'none'};
            }"""
        )
    finally:
        page.close()
    return data, layout


@pytest.mark.parametrize(("width", "height"), [(1600, 1000), (1280, 720)])
def test_overview_prints_whole_with_labels_unbroken(app_url, browser, width, height) -> None:
    data, layout = _print(browser, f"{app_url}/?snapshot=test-retail", width, height, charts=2)
    pages = page_count(data)
    assert 2 <= pages <= 4, pages  # the whole page (not one screen), no blank pages
    lines = [line for page in pdf_lines(data) for line in page]
    text = "\n".join(lines)
    for key in KPI_KEYS:
        label = METRICS[key].label
        assert any(label in line for line in lines), (label, text)
    compare = [line for line in lines if "vs 30 Jun 2026" in line]
    assert len(compare) >= 4  # a row of cards per line, never a character per line
    assert "Executive overview" in lines[0]
    assert "Revenue up" in text and "customers in 2026 Q3" in text  # both charts
    for sidebar_text in ("Snapshot", "As of", "Quarterly review", "Page not found"):
        assert sidebar_text not in text
    assert layout["sidebar"] == "none"
    assert layout["charts"] == 2 and layout["cut"] == 0
    assert layout["width"] <= PRINTABLE_PX + 1  # scaled to the paper


def test_segments_chart_prints_whole(app_url, browser) -> None:
    data, layout = _print(browser, f"{app_url}/segments?snapshot=test-retail", 1600, 1000)
    assert page_count(data) >= 1
    text = "\n".join(line for page in pdf_lines(data) for line in page)
    assert "customers earn" in text and "All customers" in text
    assert layout["cut"] == 0 and layout["width"] <= PRINTABLE_PX + 1


def test_presentation_mode_steps_through_the_review(app_url, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(f"{app_url}/review?snapshot=test-retail&present=1")
        wait_for_app(page)
        assert not page.locator('[data-testid="stSidebar"]').is_visible()
        assert not page.locator('[data-testid="stSelectbox"]').first.is_visible()
        assert page.get_by_text("1 / ", exact=False).first.is_visible()
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.stMain h3')).fontSize)"
        )
        assert size >= 28  # enlarged for a room
        page.get_by_role("button", name="Next").click()
        wait_for_app(page)
        assert "step=2" in page.url and "present=1" in page.url
        assert page.get_by_text("2 / ", exact=False).first.is_visible()
        # Next sits under the section: the next one starts at its top, not scrolled
        main = "document.querySelector('[data-testid=\"stMain\"]')"
        page.evaluate(f"{main}.scrollTop = {main}.scrollHeight")
        assert page.evaluate(f"{main}.scrollTop") > 0
        page.get_by_role("button", name="Next").click()
        wait_for_app(page)
        assert "step=3" in page.url
        assert page.evaluate(f"{main}.scrollTop") == 0
        page.get_by_role("button", name="Exit presentation").click()
        wait_for_app(page)
        assert "present" not in page.url
        assert page.locator('[data-testid="stSidebar"]').is_visible()
    finally:
        page.close()
