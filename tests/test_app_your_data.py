"""The "Your data" page: AppTest on both samples and an earlier date, an upload mapped,
checked and built through ``crm build``'s code into the sidebar, bad files that change
nothing, data shown as text, the PostgreSQL source, and the page in headless Chromium."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import open_page, serve_app, wait_for_app
from polars.testing import assert_frame_equal
from test_sql import PASSWORD, postgres  # noqa: F401 - the real PostgreSQL server fixture

from crm_core import load_snapshot
from crm_core.cli import main
from crm_core.copy import your_data as copy
from crm_core.data.problems import Problem

PAGE = "pages/your_data.py"
EXPORT = (
    "Kunde;Datum;Betrag;Kanal;Land\n"
    "K1;05.01.2026;1.234,50;web;DE\n"
    "K2;13.02.2026;12,50;shop;AT\n"
    "K1;01.03.2026;-3,00;web;DE\n"
    "K3;02.10.2026;7,00;web;CH\n"
).encode("cp1252")


def tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def upload(at, content: bytes, name: str = "orders.csv"):
    at.file_uploader(key="yd_file").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def plain(shown: str) -> str:
    """Text shown through ``escape_markdown``, unescaped."""
    return re.sub(r"\\(.)", r"\1", shown)


def build_button(at):
    return next(b for b in at.button if b.label == copy.BUILD)


@pytest.mark.parametrize(("snapshot_id", "as_of"), [("test-retail", None),
                         ("test-subscription", None), ("test-retail", "2026-03-31")])  # fmt: skip
def test_the_page_shows_the_selected_snapshot(data_dir: Path, snapshot_id, as_of) -> None:
    at = open_page(snapshot_id, PAGE)
    if as_of is not None:
        at.selectbox(key="as_of").set_value(as_of).run()
        assert not at.exception
    cards = {m.label: m.value for m in at.metric}
    folder = data_dir / snapshot_id
    tx = pl.read_parquet(folder / "transactions.parquet")
    assert (
        cards["Customers in the snapshot"]
        == f"{pl.read_parquet(folder / 'customers.parquet').height:,}"
    )
    assert cards["Transactions in the snapshot"] == f"{tx.height:,}"
    assert cards["First transaction"] == f"{tx['date'].min():%d %b %Y}"
    assert cards["Snapshot date"] == "30 Sep 2026"
    assert at.title[0].value == copy.TITLE
    assert any("Files of up to 200 MB" in c.value for c in at.caption)
    assert not at.error


def test_an_upload_is_mapped_checked_and_built_into_the_sidebar(data_dir: Path, capsys) -> None:
    at = open_page("test-retail", PAGE)
    at.selectbox(key="as_of").set_value("2026-03-31").run()  # an earlier date of the sample
    at = upload(at, EXPORT)
    mapped = {s.label: s.value for s in at.selectbox}
    assert mapped["Customer id"] == "Kunde" and mapped["Amount"] == "Betrag"
    assert mapped["Region (optional)"] == "Land"
    preview = at.dataframe[0].value
    assert preview["Amount"].to_list() == ["1234.5", "12.5", "-3.0", "7.0"]
    assert preview["Date"].to_list() == ["2026-01-05", "2026-02-13", "2026-03-01", "2026-10-02"]
    assert preview["Line"].to_list() == ["2", "3", "4", "5"]
    assert any("decimal comma" in c.value for c in at.caption)
    at.date_input(key="yd_asof").set_value(date(2027, 3, 1)).run()
    (stale,) = [w.value for w in at.warning]  # 01 Mar 2026 .. 01 Mar 2027: a year quiet
    assert stale.startswith("The last transaction is on 02 Oct 2026, 150 days before")
    at.date_input(key="yd_asof").set_value(date(2026, 9, 30)).run()
    assert any("4 rows read: 3 transactions" in s.value for s in at.success)
    assert not at.warning  # 213 quiet days, but a row after 30 Sep 2026 was left out
    at.text_input(key="yd_company").set_value("Müller & Söhne").run()
    build_button(at).click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="snapshot").value == "muller-sohne"
    assert at.selectbox(key="as_of").value == "2026-09-30"  # the new snapshot's own date
    assert any("Built muller-sohne" in plain(s.value) for s in at.success)
    built = load_snapshot(data_dir / "muller-sohne")
    assert built.manifest.company == "Müller & Söhne"
    # the very same build from the command line
    export = data_dir.parent / "orders.csv"
    export.write_bytes(EXPORT)
    assert main(["build", "--transactions", str(export), "--as-of", "2026-09-30", "--out",
                 str(data_dir.parent / "cli"), "--encoding", "cp1252", "--customer-id-col", "Kunde",
                 "--date-col", "Datum", "--amount-col", "Betrag", "--channel-col", "Kanal",
                 "--region-col", "Land"]) == 0  # fmt: skip
    capsys.readouterr()
    cli = load_snapshot(data_dir.parent / "cli")
    for table in ("customers", "transactions"):
        assert_frame_equal(getattr(built, table).collect(), getattr(cli, table).collect())
    # the other pages open the new company
    at.switch_page("pages/overview.py").run()
    assert not at.exception and not at.error


def test_a_bad_file_shows_its_problems_and_changes_nothing(data_dir: Path) -> None:
    before = tree(data_dir)
    bad = b"customer_id,date,amount\na,2026-01-05,10\nb,2026-02-30,x\n,2026-01-07,3\n"
    at = upload(open_page("test-retail", PAGE), bad)
    at.date_input(key="yd_asof").set_value(date(2026, 9, 30)).run()
    assert any("3 problems" in e.value for e in at.error)
    report = next(d.value for d in at.dataframe if "What to do" in d.value.columns)
    assert report["Problem"].to_list() == [
        "has rows without a customer id on line 4",
        "has values that are not dates in the format %Y-%m-%d on line 3",
        "has values that are not numbers (read with a decimal point) on line 3",
    ]
    assert build_button(at).disabled
    ambiguous = b"customer_id,date,amount\na,01/02/2026,10\n"
    at = upload(at, ambiguous, "us.csv")
    report = next(d.value for d in at.dataframe if "What to do" in d.value.columns)
    assert report["What to do"].to_list() == [
        "choose %d/%m/%Y or %m/%d/%Y as the date format under Reading options"
    ]
    at.selectbox(key="yd_datefmt").set_value("01/31/2024 (%m/%d/%Y)").run()
    assert at.dataframe[0].value["Date"].to_list() == ["2026-01-02"]
    at = upload(at, b"", "empty.csv")
    assert any("is empty" in e.value for e in at.error)
    assert tree(data_dir) == before


def test_folder_names_never_replace_what_is_there_unasked(data_dir: Path) -> None:
    at = upload(open_page("test-retail", PAGE), EXPORT)
    at.date_input(key="yd_asof").set_value(date(2026, 9, 30)).run()
    at.text_input(key="yd_folder").set_value("scenarios").run()
    assert any("used by the app" in w.value for w in at.warning)
    assert build_button(at).disabled
    before = tree(data_dir / "test-retail")
    at.text_input(key="yd_folder").set_value("test-retail").run()
    assert build_button(at).disabled  # a snapshot of that name: replace only when ticked
    assert tree(data_dir / "test-retail") == before
    at.checkbox(key="yd_replace").check().run()
    build_button(at).click().run()
    assert load_snapshot(data_dir / "test-retail").customers.collect().height == 2
    (data_dir / "mine").mkdir()
    (data_dir / "mine" / "notes.txt").write_text("keep")
    at.text_input(key="yd_folder").set_value("mine").run()
    build_button(at).click().run()
    assert any("is not empty and not a snapshot" in e.value for e in at.error)
    assert (data_dir / "mine" / "notes.txt").read_text() == "keep"


def test_data_is_shown_as_text(data_dir: Path) -> None:
    nasty = (
        b"**bold**,date,amount\n"
        b"[x](javascript:alert(1)),2026-01-05,10\n"
        b"![](http://127.0.0.1:9/p.png),2026-01-06,=1+1\n"
        b":red[x],2026-01-07,3\n"
    )
    at = upload(open_page("test-retail", PAGE), nasty)
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Customer id")).set_value(
        "**bold**").run()  # fmt: skip
    preview = at.dataframe[0].value
    assert preview["Customer id"].to_list()[:2] == [
        "[x](javascript:alert(1))",
        "![](http://127.0.0.1:9/p.png)",
    ]
    shown = " ".join(m.value for m in [*at.markdown, *at.caption, *at.error, *at.success])
    for raw in ("[x](javascript", "![](http", ":red[x]", "**bold**"):
        assert raw not in shown
    at.date_input(key="yd_asof").set_value(date(2026, 9, 30)).run()
    report = next(d.value for d in at.dataframe if "What to do" in d.value.columns)
    assert report["Examples"].to_list() == ["=1+1"]  # a cell of text, shown as typed
    csv = copy.problems_csv(
        [Problem("f.csv", "amount", "bad", rows=1, where=(3,), values=("=1+1",), unit="line")]
    ).decode()
    assert "'=1+1" in csv and ",=1+1" not in csv


def test_a_postgresql_query_builds_from_the_page(data_dir: Path, postgres: str) -> None:  # noqa: F811
    from adbc_driver_postgresql import dbapi

    with dbapi.connect(postgres) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS page_orders")
        cur.execute("CREATE TABLE page_orders (customer_id text, date date, amount numeric)")
        cur.execute("INSERT INTO page_orders VALUES ('a', '2026-01-05', 10.5), "
                    "('b', '2026-02-01', 3), ('a', '2026-03-01', 1)")  # fmt: skip
        conn.commit()
    at = open_page("test-retail", PAGE)
    at.segmented_control(key="yd_from").set_value("PostgreSQL").run()
    at.text_input(key="yd_sql_url").set_value(postgres.replace(PASSWORD, "nope")).run()
    at.text_area(key="yd_sql_query").set_value("SELECT * FROM page_orders").run()
    at.button(key="yd_sql_read").click().run()
    shown = " ".join(e.value for e in at.error)
    assert "password authentication failed" in shown and "nope" not in shown
    at.text_input(key="yd_sql_url").set_value(postgres).run()
    at.button(key="yd_sql_read").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.dataframe[0].value["Amount"].to_list() == ["10.5", "3.0", "1.0"]
    at.date_input(key="yd_asof").set_value(date(2026, 9, 30)).run()
    at.text_input(key="yd_folder").set_value("from-sql").run()
    build_button(at).click().run()
    assert at.selectbox(key="snapshot").value == "from-sql"
    assert load_snapshot(data_dir / "from-sql").transactions.collect()["amount"].sum() == 14.5
    assert PASSWORD not in (data_dir / "from-sql" / "manifest.json").read_text()


@pytest.fixture
def own_server(tmp_path: Path, sample_dir: Path):
    """The app on a free port with its own data folder (the upload writes into it)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "test-retail").symlink_to(sample_dir, target_is_directory=True)
    with serve_app(data, tmp_path / "streamlit.log") as url:
        yield url, data


@pytest.mark.browser
def test_upload_map_build_in_the_browser(own_server, browser, tmp_path: Path) -> None:
    url, data = own_server
    export = tmp_path / "orders.csv"
    export.write_bytes(EXPORT)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{url}/your_data?snapshot=test-retail")
        wait_for_app(page)
        uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]').first
        uploader.set_input_files(str(export))
        wait_for_app(page)
        assert page.get_by_text("The first rows as they will be read").count() == 1
        assert "1234.5" in (page.locator('[data-testid="stDataFrame"]').first.text_content() or "")
        page.get_by_label("year, As of").click()  # the date's segments, typed in turn
        page.keyboard.type("20260930")
        page.keyboard.press("Tab")
        wait_for_app(page)
        page.get_by_label("Company name").fill("Browser GmbH")
        page.get_by_label("Company name").press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name=copy.BUILD).click()
        wait_for_app(page)
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "Browser GmbH · retail" in sidebar  # the new snapshot is the one selected
        assert "snapshot=browser-gmbh" in page.url
        built = load_snapshot(data / "browser-gmbh").manifest
        assert built.company == "Browser GmbH" and built.as_of == date(2026, 9, 30)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors
        if shots := os.environ.get("CRM_SCREENSHOT_DIR"):
            page.screenshot(path=f"{shots}/your_data-built.png", full_page=True)
    finally:
        page.close()


def test_errors_name_the_uploaded_file_and_the_setting_to_choose(data_dir: Path) -> None:
    before = tree(data_dir)
    at = upload(open_page("test-retail", PAGE), b"customer_id,date,amount\na,2026-01-05,1,5\n")
    (shown,) = [plain(e.value) for e in at.error]
    assert shown.startswith("orders.csv: has lines with another number of fields")
    assert "set the delimiter under Reading options" in shown
    assert "crm-uploads" not in shown and "--delimiter" not in shown
    at = upload(at, b"id;date;total\na;2026-01-05;1\n", "shop.csv")
    report = next(d.value for d in at.dataframe if "What to do" in d.value.columns)
    assert report["File"].to_list() == ["shop.csv"]
    assert report["What to do"].to_list() == ["choose the customer id column"]
    for content, words in [
        (np.random.default_rng(3).bytes(2000), "shop.csv: is not a text export"),
        (b"customer_id,date,amount\n", "shop.csv: has a header but no data rows"),
        (b"\xef\xbb\xbf\r\n\r\n", "shop.csv: is empty (no text"),
    ]:
        at = upload(at, content, "shop.csv")
        assert any(plain(e.value).startswith(words) for e in at.error), [e.value for e in at.error]
    assert tree(data_dir) == before


def test_the_command_line_names_the_option_the_page_names_the_setting(tmp_path: Path) -> None:
    from crm_core.data.build import import_snapshot
    from crm_core.data.problems import ProblemsFound

    export = tmp_path / "shop.csv"
    export.write_text("id;when;total\na;2026-01-05;1\n")
    with pytest.raises(ProblemsFound) as caught:
        import_snapshot(None, transactions=export, as_of=date(2026, 9, 30))
    assert str(caught.value).endswith(": map it with --customer-id-col")
    assert copy.failure(caught.value).startswith("shop.csv: has no customer id column")
    assert copy.failure(caught.value).endswith(": choose the customer id column")
    many = [Problem("/tmp/crm-uploads/x/f.csv", "amount", f"bad {i}", rows=1, where=(i + 2,),
                    unit="line") for i in range(10)]  # fmt: skip
    lines = copy.problem_lines(many)
    assert lines[0] == "f.csv, column 'amount': bad 0 on line 2 (1 row)"
    assert len(lines) == 9 and lines[-1] == "… and 2 more below."
    assert copy.row_problems(1).startswith("1 problem: nothing")
    assert copy.row_problems(1234).startswith("1,234 problems: nothing")
    assert copy.file_label("PostgreSQL query on db.internal/shop") == (
        "PostgreSQL query on db.internal/shop"
    )
