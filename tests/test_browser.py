"""End to end: every page of the app in headless Chromium, for both business models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import wait_for_app

from crm_app.navigation import PAGES

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("CRM_SCREENSHOT_DIR")


@pytest.mark.parametrize("snapshot_id", ["test-retail", "test-subscription"])
@pytest.mark.parametrize("page_entry", PAGES, ids=[p.url_path for p in PAGES])
def test_page_renders_without_exception(app_url, browser, page_entry, snapshot_id) -> None:
    path = "" if page_entry is PAGES[0] else page_entry.url_path
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{app_url}/{path}?snapshot={snapshot_id}")
        wait_for_app(page)
        exceptions = page.locator('[data-testid="stException"]')
        assert exceptions.count() == 0, exceptions.first.inner_text()
        assert page.locator("h1").count() >= 1, "the page shows no title"
        content = page.locator('[data-testid="stPlotlyChart"], [data-testid="stMetric"]')
        assert content.count() > 0, "the page shows no chart and no KPI"
        body = page.inner_text("body")
        assert "Traceback" not in body
        assert "No snapshot is selected" not in body
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=f"{SCREENSHOTS}/{page_entry.url_path}-{snapshot_id}.png", full_page=True
            )
        assert not errors, errors
    finally:
        page.close()


def test_damaged_snapshot_shows_error_box_and_app_stays_usable(app_url, browser) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{app_url}/?snapshot=test-broken")
        wait_for_app(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        alerts = page.locator('[data-testid="stAlertContentError"]')
        assert alerts.count() >= 1
        text = " ".join(alerts.all_inner_texts())
        assert "transactions.parquet" in text and "truncated or damaged" in text
        # pick a good snapshot in the sidebar: the app recovers without a reload
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name="test-retail").click()
        wait_for_app(page)
        assert page.locator('[data-testid="stMetric"]').count() == 11
        assert "snapshot=test-retail" in page.url
    finally:
        page.close()


def test_every_page_link_opens_without_page_not_found(app_url, browser) -> None:
    """Deep links of every page, the first one included ("/overview" is also served at "/"),
    open without Streamlit's "Page not found" dialog, on a server already running."""
    watch = """
      window.__notFound = 0;
      new MutationObserver(() => {
        if (document.body && /page not found/i.test(document.body.innerText)) window.__notFound++;
      }).observe(document, {subtree: true, childList: true, characterData: true});
    """
    for entry in [None, *PAGES]:
        page = browser.new_page()
        page.add_init_script(watch)
        try:
            page.goto(f"{app_url}/{'' if entry is None else entry.url_path}?snapshot=test-retail")
            wait_for_app(page)
            assert page.evaluate("window.__notFound") == 0, entry
            assert page.locator("h1").count() >= 1
        finally:
            page.close()
