"""End to end in headless Chromium: a slider moved with the keyboard changes the What-if
cards and goes into the URL, and reloading that URL restores the scenario."""

from __future__ import annotations

import re

import pytest
from conftest import wait_for_app

pytestmark = pytest.mark.browser

CARD = '[data-testid="stMetric"]:has-text("Projected equity with new customers")'
EQUITY = f'{CARD} [data-testid="stMetricValue"]'


def retention_slider(page, segment: str):
    """The (keyboard-focusable) range input of the retention slider of ``segment``."""
    box = page.locator('[data-testid="stSlider"]').filter(has_text=segment).first
    return box.locator('input[type="range"]')


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
def test_slider_changes_the_cards_and_the_url_restores_them(app_url, browser, snapshot_id):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{app_url}/whatif?snapshot={snapshot_id}")
        wait_for_app(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        equity = page.locator(EQUITY)
        expect(equity).to_have_text(re.compile(r"\$"), timeout=30_000)
        before = equity.inner_text()
        thumb = retention_slider(page, "A: top 10%")
        start = float(thumb.input_value())

        thumb.focus()
        for _ in range(10):  # ten steps of half a point: +5 points of retention in tier A
            page.keyboard.press("ArrowRight")
        expect(equity).not_to_have_text(before, timeout=30_000)
        wait_for_app(page)
        moved = float(thumb.input_value())
        assert moved == pytest.approx(start + 5.0)
        after = equity.inner_text()
        assert after != before
        delta = page.locator(f'{CARD} [data-testid="stMetricDelta"]')
        assert delta.inner_text().strip().startswith("+")
        expect(page).to_have_url(re.compile(r"[?&]r_A=" + re.escape(f"{moved:g}")))

        shared = page.url
        page.goto("about:blank")
        page.goto(shared)
        wait_for_app(page)
        expect(page.locator(EQUITY)).to_have_text(after, timeout=30_000)
        restored = retention_slider(page, "A: top 10%").input_value()
        assert float(restored) == pytest.approx(moved)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors
    finally:
        page.close()
