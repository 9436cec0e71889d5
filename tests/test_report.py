"""The quarterly review deck: its slides, and the three files it is written to.

The deck of the sample retailer is built once; PowerPoint is opened with python-pptx, the
PDF's pages are counted and read (:mod:`test_report_pdf`), the HTML is parsed. PowerPoint
and PDF need Debian's Chromium (skipped without it, unless CI).
"""

from __future__ import annotations

import json
import os
import shutil
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import pytest
from test_report_pdf import page_count, pdf_lines

from crm_core.cli import main
from crm_core.copy.review import SECTION_TITLES
from crm_core.data.snapshot import load_snapshot
from crm_core.metrics.registry import METRICS
from crm_core.report.export import export, figure_jobs, format_of
from crm_core.report.inputs import DEFAULT_SCENARIO, snapshot_review_inputs
from crm_core.report.layout import HEIGHT, WIDTH, boxes, figure_slots
from crm_core.report.render import BROWSER_ENV, DEFAULT_BROWSER, BrowserMissing
from crm_core.report.sections import SECTIONS, build_deck
from crm_core.report.slides import Deck, Slide, Table
from crm_core.whatif.levers import Levers, Scenario
from crm_core.whatif.scenarios import save_scenario


def _needs_browser() -> None:
    if not Path(os.environ.get(BROWSER_ENV) or DEFAULT_BROWSER).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing; .ci/run installs Debian's chromium")
        pytest.skip("no Chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def deck(sample_dir: Path) -> Deck:
    return build_deck(snapshot_review_inputs(load_snapshot(sample_dir)))


@pytest.fixture(scope="module")
def pptx_bytes(deck: Deck) -> bytes:
    _needs_browser()
    return export(deck, "pptx")


@pytest.fixture(scope="module")
def pdf_bytes(deck: Deck) -> bytes:
    _needs_browser()
    return export(deck, "pdf")


# ----------------------------------------------------------------------------- the deck


def test_deck_has_every_section_in_order(deck: Deck) -> None:
    keys = [key for key, _ in deck.sections]
    assert keys == [s.key for s in SECTIONS]  # the sample has data for every section
    firsts = [next(i for i, s in enumerate(deck.slides) if s.section == k) for k in keys]
    assert firsts == sorted(firsts)
    assert deck.slides[0].cover and deck.slides[0].title == "Northwind Outfitters"
    assert len(deck.slides) >= 8


def test_titles_state_findings(deck: Deck) -> None:
    """A content slide's title is a finding with a number, never a section name."""
    generic = set(SECTION_TITLES.values())
    for slide in deck.slides[1:]:
        assert slide.title not in generic, slide.title
        if slide.section != "appendix":
            assert any(c.isdigit() for c in slide.title), slide.title


def test_every_content_slide_has_notes(deck: Deck) -> None:
    assert all(s.notes for s in deck.slides[1:])


def test_appendix_defines_every_registry_metric(deck: Deck) -> None:
    rows = [row for s in deck.section_slides("appendix") if s.table for row in s.table.rows]
    assert {label for label, _ in rows} == {m.label for m in METRICS.values()}
    assert all(definition == METRICS_BY_LABEL[label] for label, definition in rows)


METRICS_BY_LABEL = {m.label: m.definition for m in METRICS.values()}


def test_layout_keeps_every_box_on_the_slide(deck: Deck) -> None:
    for slide in deck.slides:
        b = boxes(slide)
        parts = [b.title, b.subtitle, b.bullets, b.table, *b.figures, b.footer]
        for box in filter(None, parts):
            assert box.left >= 0 and box.top >= 0, slide.title
            assert box.left + box.width <= WIDTH + 1e-9 and box.top + box.height <= HEIGHT + 1e-9
        body = [box for box in (b.bullets, b.table, *b.figures) if box is not None]
        for i, one in enumerate(body):
            for other in body[i + 1 :]:
                apart = (
                    one.left + one.width <= other.left + 1e-9
                    or other.left + other.width <= one.left + 1e-9
                    or one.top + one.height <= other.top + 1e-9
                    or other.top + other.height <= one.top + 1e-9
                )
                assert apart, slide.title
        assert len(figure_slots(slide)) == len(slide.figures)


def test_table_rejects_ragged_rows() -> None:
    with pytest.raises(ValueError, match="do not have 2 cells"):
        Table(("a", "b"), (("1", "2"), ("3",)))


def test_format_of_names_the_file() -> None:
    assert format_of("deck.PPTX") == "pptx"
    with pytest.raises(ValueError, match=r"deck\.docx"):
        format_of("out/deck.docx")


# ----------------------------------------------------------------------------- PowerPoint


def test_pptx_has_titles_pictures_tables_and_notes(deck: Deck, pptx_bytes: bytes) -> None:
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    prs = Presentation(BytesIO(pptx_bytes))
    assert abs(prs.slide_width / prs.slide_height - 16 / 9) < 0.01
    slides = list(prs.slides)
    assert len(slides) == len(deck.slides) >= 8
    for page, slide in zip(slides, deck.slides, strict=True):
        assert page.shapes.title.text == slide.title
        pictures = [s for s in page.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == len(slide.figures), slide.title
        tables = [s for s in page.shapes if s.has_table]
        assert len(tables) == (slide.table is not None), slide.title
        if slide.table is not None:
            grid = tables[0].table
            assert grid.cell(0, 0).text == slide.table.header[0]
            assert grid.cell(1, 1).text == slide.table.rows[0][1]
        if not slide.cover:
            assert page.has_notes_slide and page.notes_slide.notes_text_frame.text == slide.notes
    assert sum(len(s.figures) > 0 for s in deck.slides) >= 8


def test_pptx_pictures_are_crisp(deck: Deck, pptx_bytes: bytes) -> None:
    """Each chart image has at least 150 pixels per inch of the box it fills."""
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE
    from pptx.util import Emu

    prs = Presentation(BytesIO(pptx_bytes))
    for page in prs.slides:
        for shape in page.shapes:
            if shape.shape_type == MSO_SHAPE_TYPE.PICTURE:
                width_px, _ = shape.image.size
                assert width_px / Emu(shape.width).inches >= 150


# ----------------------------------------------------------------------------- PDF


def test_pdf_has_a_page_per_slide_with_its_title(deck: Deck, pdf_bytes: bytes) -> None:
    assert pdf_bytes.startswith(b"%PDF")
    assert page_count(pdf_bytes) == len(deck.slides)
    pages = pdf_lines(pdf_bytes)
    assert len(pages) == len(deck.slides)
    for lines, slide in zip(pages, deck.slides, strict=True):
        text = " ".join(lines)
        assert " ".join(slide.title.split()) in text, slide.title
        if slide.table is not None:
            assert slide.table.rows[0][1] in text


def test_kpi_slide_reads_the_same_in_the_pdf(deck: Deck, pdf_bytes: bytes) -> None:
    index = next(i for i, s in enumerate(deck.slides) if s.section == "kpis")
    lines = pdf_lines(pdf_bytes)[index]
    for row in deck.slides[index].table.rows:
        assert " ".join(row) in lines, row


# ----------------------------------------------------------------------------- HTML


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.figures = 0
        self.slides = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a)
        if "plotly-graph-div" in (a.get("class") or ""):
            self.figures += 1
        if tag == "section" and "slide" in (a.get("class") or ""):
            self.slides += 1

    def handle_data(self, data) -> None:
        self.texts.append(data)


def test_html_is_self_contained_and_interactive(deck: Deck) -> None:
    page = export(deck, "html").decode("utf-8")
    scan = _Scan()
    scan.feed(page)
    assert scan.slides == len(deck.slides)
    assert scan.figures == deck.figure_count > 0
    assert all(s.get("src") is None for s in scan.scripts)
    assert '<script src="http' not in page and "<script src='http" not in page
    assert "Plotly.newPlot" in page and "plotly.js" in page.lower()


def test_html_shows_data_as_text(tmp_path: Path, sample_dir: Path) -> None:
    folder = shutil.copytree(sample_dir, tmp_path / "odd")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["company"] = "<img src=x onerror=alert(1)> & Co"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    odd = build_deck(snapshot_review_inputs(load_snapshot(folder)))
    page = export(odd, "html").decode("utf-8")
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; Co" in page


# ----------------------------------------------------------------------------- no browser


def test_without_chromium_pptx_and_pdf_say_what_to_install(deck: Deck, monkeypatch) -> None:
    monkeypatch.setenv(BROWSER_ENV, "/nowhere/chromium")
    for fmt in ("pptx", "pdf"):
        with pytest.raises(BrowserMissing, match="apt-get install chromium"):
            export(deck, fmt)
    assert export(deck, "html").startswith(b"<!DOCTYPE html>")


def test_figure_jobs_match_the_figures(deck: Deck) -> None:
    jobs = figure_jobs(deck)
    assert len(jobs) == deck.figure_count
    assert all(not (j.figure.layout.title.text or "") for j in jobs)  # the slide says it


# ----------------------------------------------------------------------------- command line


def test_cli_writes_the_web_page(sample_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "deck" / "review.html"
    assert main(["report", "--snapshot", str(sample_dir), "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"<!DOCTYPE html>")
    captured = capsys.readouterr()
    assert "100%" in captured.err and "slides" in captured.out


def test_cli_uses_a_saved_scenario(sample_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scenarios"
    scenario = Scenario(name="Loyalty plan", levers=Levers(retention_points=3.0))
    save_scenario(folder, scenario)
    out = tmp_path / "review.html"
    argv = ["report", "--snapshot", str(sample_dir), "--out", str(out), "--scenario",
            "loyalty PLAN", "--scenarios", str(folder), "--as-of", "2026-06-30"]  # fmt: skip
    assert main(argv) == 0
    page = out.read_text(encoding="utf-8")
    assert "Loyalty plan: projected equity +" in page
    assert "What-if scenario: Loyalty plan" in page and "30 Jun 2026" in page


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "deck.docx"], "must end in"),
        (["--out", "deck.html", "--scenario", "missing"], "No saved scenario named 'missing'"),
    ],
)
def test_cli_errors_are_one_line(sample_dir: Path, tmp_path: Path, capsys, extra, message):
    argv = ["report", "--snapshot", str(sample_dir), *extra]
    argv = [str(tmp_path / a) if a.startswith("deck.") else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("crm report: error:") and message in err


def test_cli_without_chromium_stops_before_any_work(sample_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(BROWSER_ENV, str(tmp_path / "no-chromium"))
    out = tmp_path / "review.pdf"
    assert main(["report", "--snapshot", str(sample_dir), "--out", str(out)]) == 2
    assert "apt-get install chromium" in capsys.readouterr().err
    assert not out.exists()


def test_default_scenario_is_five_points_of_retention(deck: Deck) -> None:
    whatif = deck.section_slides("whatif")[0]
    assert whatif.title.startswith(f"{DEFAULT_SCENARIO.name}: projected equity")
    assert whatif.table is not None and whatif.table.header[2] == DEFAULT_SCENARIO.name


def test_render_works_inside_a_running_event_loop() -> None:
    """A caller with its own loop (a notebook, Playwright's sync API in a test session)
    still gets its images: the render runs its loop on a thread of its own."""
    import asyncio
    import concurrent.futures

    import plotly.graph_objects as go

    from crm_core.report.render import Job, render

    _needs_browser()

    async def inside() -> bytes:
        asyncio.get_running_loop()  # the caller's loop runs
        return render([Job(go.Figure(go.Bar(x=["a"], y=[1])), 300, 200)]).images[0]

    # on a thread of its own: this test session's main thread may run Playwright's loop
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        png = pool.submit(lambda: asyncio.run(inside())).result()
    assert png.startswith(b"\x89PNG")


def test_long_axis_titles_are_broken_to_fit() -> None:
    import plotly.graph_objects as go

    from crm_core.report.figures import fit_axis_titles

    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
    fig.update_layout(margin={"t": 40, "b": 60}, yaxis_title="Cumulative share of net profit (%)")
    short = fit_axis_titles(fig, 250)  # a 150 px plot: 34 characters do not fit
    assert short.layout.yaxis.title.text == "Cumulative share<br>of net profit (%)"
    assert fit_axis_titles(fig, 600).layout.yaxis.title.text == fig.layout.yaxis.title.text
    assert fig.layout.yaxis.title.text == "Cumulative share of net profit (%)"  # a copy


def test_figure_headings_grow_with_their_text() -> None:
    import plotly.graph_objects as go

    from crm_core.charts.style import apply_layout

    def slot(title: str, subtitle: str):
        fig = apply_layout(go.Figure(), title=title, subtitle=subtitle)
        table = Table(("a", "b"), (("1", "2"),))
        (one,) = figure_slots(Slide("x", "Another finding", figures=(fig,), table=table))
        return one

    short, long = slot("Short", "short"), slot("A finding " * 12, "How it was measured " * 10)
    assert short.heading is not None and long.heading is not None
    assert long.heading.height > short.heading.height
    assert long.box.top == pytest.approx(long.heading.top + long.heading.height)
    assert long.box.top + long.box.height == pytest.approx(short.box.top + short.box.height)


def test_kpi_slide_values_clv_a_year_ago_with_that_dates_fit(deck: Deck, sample_dir: Path) -> None:
    """The Overview's "A year ago" cards value CLV with the model set fitted four quarters
    back; the KPI slide's year-ago column is the same (the fit made here directly)."""
    from crm_core.clv import fit_models, value
    from crm_core.data.ledger import build_ledger
    from crm_core.formatting import fmt_money

    ledger = build_ledger(load_snapshot(sample_dir))
    then = value(fit_models(ledger, 4))
    (kpis,) = [s for s in deck.section_slides("kpis") if s.table is not None]
    label = METRICS["customer_equity"].label
    assert kpis.table.lookup(label, "A year ago") == fmt_money(then.customer_equity, "USD")
    clv = METRICS["average_clv"].label
    assert kpis.table.lookup(clv, "A year ago") != "n/a"
