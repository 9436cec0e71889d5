"""AppTest of the Quarterly review page: the deck it previews is the one ``crm report``
writes, its numbers are the pages' (Overview, Growth, Segments, Customer value, Lifecycle
and What-if, opened on the same snapshot and date), presentation mode steps through the
sections, and the files are made by the worker thread."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import metrics, open_page
from streamlit.testing.v1 import AppTest

from crm_app.loaders.review import Exports, ExportState
from crm_app.state import escape_markdown as esc
from crm_core import load_snapshot
from crm_core.report.inputs import snapshot_review_inputs
from crm_core.report.render import BROWSER_ENV
from crm_core.report.sections import build_deck
from crm_core.report.slides import Deck
from crm_core.whatif.levers import Levers, Scenario
from crm_core.whatif.scenarios import save_scenario

PAGE = "pages/review.py"


def core_deck(data_dir: Path, snapshot_id: str, as_of: str | None, scenario=None) -> Deck:
    snap = load_snapshot(data_dir / snapshot_id)
    snap = snap if as_of is None else snap.cut(as_of)
    return build_deck(snapshot_review_inputs(snap, scenario=scenario))


def review_page(snapshot_id: str, as_of: str | None) -> AppTest:
    at = open_page(snapshot_id, PAGE, timeout=300)
    if as_of is not None:
        at.selectbox(key="as_of").set_value(as_of).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def slide_titles(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("snapshot_id", "as_of"),
    [("test-retail", None), ("test-subscription", None), ("test-retail", "2026-03-31")],
)
def test_page_previews_the_deck_crm_report_writes(data_dir, snapshot_id, as_of) -> None:
    at = review_page(snapshot_id, as_of)
    deck = core_deck(data_dir, snapshot_id, as_of)
    assert slide_titles(at) == [esc(s.title) for s in deck.slides]
    tables = [s.table for s in deck.slides if s.table is not None]
    shown = [frame.value for frame in at.dataframe]
    assert len(shown) == len(tables)
    for frame, table in zip(shown, tables, strict=True):
        assert list(frame.columns) == list(table.header)
        assert [tuple(r) for r in frame.itertuples(index=False)] == list(table.rows)
    assert len(at.get("plotly_chart")) == deck.figure_count


def _table(deck: Deck, section: str, index: int = 0):
    return [s for s in deck.section_slides(section) if s.table is not None][index].table


@pytest.mark.slow
@pytest.mark.parametrize(
    ("snapshot_id", "as_of"), [("test-retail", None), ("test-subscription", "2026-03-31")]
)
def test_deck_numbers_are_the_pages_numbers(data_dir, snapshot_id, as_of) -> None:
    """Every number of the KPI, tier, value, stage and what-if slides is read off the page
    that shows it, opened on the same snapshot and date."""
    deck = core_deck(data_dir, snapshot_id, as_of)

    def page(file: str) -> AppTest:
        at = open_page(snapshot_id, file, timeout=300)
        if as_of is not None:
            at.selectbox(key="as_of").set_value(as_of).run()
        assert not at.exception, at.exception
        return at

    cards = metrics(page("pages/overview.py"))
    kpis = _table(deck, "kpis")
    assert {row[0]: row[1] for row in kpis.rows} == cards

    segments = page("pages/segments.py")
    tiers = _table(deck, "segments")
    frame = segments.table[0].value
    assert [tuple(str(v) for v in r) for r in frame.itertuples(index=False)] == list(tiers.rows)

    value = _table(deck, "value")
    value_cards = {m.label: (m.value, m.delta) for m in page("pages/customer_value.py").metric}
    for label, shown, note in value.rows:
        if label in value_cards:
            assert value_cards[label][0] == shown, label
            if note.startswith("P10"):
                assert value_cards[label][1] == note
    assert sum(label in value_cards for label, _, _ in value.rows) >= 3

    stages = metrics(page("pages/lifecycle.py"))
    for label, now, *_ in _table(deck, "lifecycle").rows:
        assert stages[label] == now, label

    growth = metrics(page("pages/growth.py"))
    for label, now, *_ in _table(deck, "growth").rows:
        assert growth[label] == now, label

    whatif = metrics(page("pages/whatif.py"))  # sliders at the baseline
    for label, baseline, *_ in _table(deck, "whatif").rows:
        assert whatif[label] == baseline, label


def test_presentation_mode_steps_through_the_sections(data_dir) -> None:
    at = AppTest.from_file(str(Path(__file__).parent.parent / "app.py"), default_timeout=300)
    at.query_params["snapshot"] = "test-retail"
    at.query_params["present"] = "1"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    first = [c.value for c in at.caption]
    assert any(c.startswith("1 / ") and c.endswith("Title") for c in first), first
    at.button(key="present_next").click().run()
    assert any(c.startswith("2 / ") for c in (c.value for c in at.caption))
    assert at.query_params["step"] == ["2"] or at.query_params["step"] == "2"
    assert slide_titles(at)[0].startswith(tuple("0123456789"))  # the summary's finding
    at.button(key="present_exit_button").click().run()
    assert "present" not in at.query_params
    assert at.segmented_control(key="rv_section") is not None  # the preview is back


def test_a_saved_scenario_is_offered_and_shown(data_dir) -> None:
    save_scenario(data_dir / "scenarios", Scenario("Win back", Levers(retention_points=2.0)))
    at = open_page("test-retail", PAGE, timeout=300)
    at.selectbox(key="rv_scenario").set_value("Win back").run()
    assert not at.exception, at.exception
    assert any(t.startswith(esc("Win back: projected equity")) for t in slide_titles(at))


def test_the_web_page_is_made_and_offered_for_download(data_dir) -> None:
    at = open_page("test-retail", PAGE, timeout=300)
    at.button(key="rv_make_html").click().run()
    for _ in range(60):
        if any(b.label == "Download web page" for b in at.get("download_button")):
            break
        time.sleep(0.5)
        at.run()
    assert not at.exception, at.exception
    assert any(b.label == "Download web page" for b in at.get("download_button"))


def test_exports_are_made_once_per_key_and_fail_with_a_message(data_dir, monkeypatch):
    deck = core_deck(data_dir, "test-retail", None)
    jobs = Exports()
    key = ("path", "stamp", deck.as_of, None, "html")
    first = jobs.start(key, deck)
    assert jobs.start(key, deck) is first  # asked again: the same file
    _wait(first)
    assert first.status == "done" and first.data.startswith(b"<!DOCTYPE html>")
    monkeypatch.setenv(BROWSER_ENV, "/no/chromium")
    failed = jobs.start((*key[:4], "pdf"), deck)
    _wait(failed)
    assert failed.status == "failed" and "apt-get install chromium" in failed.error
    assert jobs.state(key) is first


def _wait(state: ExportState) -> None:
    for _ in range(240):
        if state.status != "running":
            return
        time.sleep(0.25)
    raise AssertionError("the export did not finish")


def test_churn_risk_is_scored_off_the_script_thread(data_dir, monkeypatch) -> None:
    """Above the size the page waits for, the review is shown at once with the value-at-risk
    section pending and the files held back; once the worker has scored churn risk the page
    shows the slides ``crm report`` writes."""
    import threading

    from crm_app.loaders import review as load
    from crm_core.copy import review_risk as words

    release = threading.Event()
    scored = load.churn

    def slow(path, stamp, as_of):
        release.wait(120)
        return scored(path, stamp, as_of)

    monkeypatch.setattr(load, "WAIT_BELOW", 0)
    monkeypatch.setattr(load, "churn", slow)
    at = open_page("test-retail", PAGE, timeout=300)
    titles = slide_titles(at)
    assert esc(words.RISK_PENDING_TITLE) in titles
    assert any(i.value == words.RISK_PENDING_NOTE for i in at.info)
    assert at.button(key="rv_make_pdf").disabled
    release.set()
    for _ in range(240):  # the page reruns itself when the worker is done; here: by hand
        time.sleep(0.25)
        at.run()
        if esc(words.RISK_PENDING_TITLE) not in slide_titles(at):
            break
    assert not at.exception, at.exception
    deck = core_deck(data_dir, "test-retail", None)
    assert slide_titles(at) == [esc(s.title) for s in deck.slides]
    assert not at.button(key="rv_make_pdf").disabled
