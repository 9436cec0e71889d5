"""Exports as people have them: each shape builds exactly or fails in one actionable line,
and nothing existing is deleted or altered (``crm build`` end to end)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crm_core import load_snapshot
from crm_core.cli import main

D = date
Rows = list[tuple[str, date, float]]


def text(content: str, encoding: str = "utf-8", name: str = "export.csv") -> Callable:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content.encode(encoding))
        return path

    return write


def parquet(frame: pl.DataFrame, name: str = "export.parquet") -> Callable:
    def write(folder: Path) -> Path:
        path = folder / name
        frame.write_parquet(path)
        return path

    return write


def excel(frame: pl.DataFrame, name: str = "export.xlsx") -> Callable:
    def write(folder: Path) -> Path:
        path = folder / name
        frame.write_excel(path, worksheet="Orders")
        return path

    return write


def _truncated_xlsx(folder: Path) -> Path:
    path = excel(pl.DataFrame({"customer_id": ["a", "b"], "date": [D(2026, 1, 5)] * 2,
                               "amount": [1.0, 2.0]}))(folder)  # fmt: skip
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def _truncated_parquet(folder: Path) -> Path:
    path = parquet(pl.DataFrame({"customer_id": ["a"], "date": [D(2026, 1, 5)],
                                 "amount": [1.0]}))(folder)  # fmt: skip
    path.write_bytes(path.read_bytes()[:-20])
    return path


def _notes_first(folder: Path) -> Path:
    import xlsxwriter

    path = folder / "book.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("Notes").write(0, 0, "exported by")
    orders = book.add_worksheet("Orders")
    for r, row in enumerate([["customer_id", "date", "amount"], ["a", "2026-01-05", 1.5]]):
        orders.write_row(r, 0, row)
    book.close()
    return path


GOOD: list[tuple[str, Callable, list[str], Rows]] = [
    (
        "german Excel CSV: semicolons, decimal comma, dotted dates, cp1252",
        text(
            "Kundennummer;Datum;Betrag;Region\r\nK1;05.01.2026;1.234,50;München\r\n"
            "K2;13.02.2026;12,50;Köln\r\nK1;01.03.2026;-3,00;München\r\n",
            "cp1252",
        ),
        ["--encoding", "cp1252", "--region-col", "Region"],
        [("K1", D(2026, 1, 5), 1234.5), ("K1", D(2026, 3, 1), -3.0), ("K2", D(2026, 2, 13), 12.5)],
    ),
    (
        "UTF-16 tab-separated (Excel 'Unicode text')",
        text("Customer ID\tDate\tAmount\r\nA\t2026-01-05\t10.5\r\nB\t2026-02-05\t7\r\n",
             "utf-16", "export.txt"),
        [],
        [("A", D(2026, 1, 5), 10.5), ("B", D(2026, 2, 5), 7.0)],
    ),
    (
        "UTF-8 with a byte-order mark and CRLF",
        text("\ufeffcustomer_id,date,amount\r\na,2026-01-05,10\r\n"),
        [],
        [("a", D(2026, 1, 5), 10.0)],
    ),
    (
        "US export: thousands commas in quotes, slash dates told apart by a day over 12",
        text('customer,order date,total\nA,01/02/2026,"1,234.50"\nB,02/13/2026,12.50\n'),
        [],
        [("A", D(2026, 1, 2), 1234.5), ("B", D(2026, 2, 13), 12.5)],
    ),
    (
        "US slash dates with the format given",
        text("customer_id,date,amount\na,01/02/2026,10\nb,03/04/2026,5\n"),
        ["--date-format", "%m/%d/%Y"],
        [("a", D(2026, 1, 2), 10.0), ("b", D(2026, 3, 4), 5.0)],
    ),
    (
        "payments export: timestamps, currency signs, accounting negatives",
        text('id,Created (UTC),Amount,Customer ID\nch_1,2026-01-05 13:45:00,"$1,200.00",cus_1\n'
             "ch_2,2026-02-05 08:00:00,($20.00),cus_1\n"),
        [],
        [("cus_1", D(2026, 1, 5), 1200.0), ("cus_1", D(2026, 2, 5), -20.0)],
    ),
    (
        "French: spaces (no-break) as thousands, decimal comma",
        text("client;date;montant\nc1;2026-01-05;1\u00a0234,50\nc2;2026-01-06;3\n"),
        ["--customer-id-col", "client", "--amount-col", "montant"],
        [("c1", D(2026, 1, 5), 1234.5), ("c2", D(2026, 1, 6), 3.0)],
    ),
    (
        "ambiguous thousands made explicit",
        text('customer_id,date,amount\na,2026-01-05,"1,234"\n'),
        ["--decimal", "."],
        [("a", D(2026, 1, 5), 1234.0)],
    ),
    (
        "pipe-separated with month names",
        text("customer_id|date|amount\na|05-Jan-2026|10\nb|28-Feb-2026|2.5\n", name="x.dat"),
        [],
        [("a", D(2026, 1, 5), 10.0), ("b", D(2026, 2, 28), 2.5)],
    ),
    (
        "quoted values holding delimiters and line breaks",
        text('customer_id,date,amount,note\n"a, inc.",2026-01-05,10,"two\nlines"\n'),
        [],
        [("a, inc.", D(2026, 1, 5), 10.0)],
    ),
    (
        "Excel workbook with numeric ids and real dates",
        excel(pl.DataFrame({"Customer ID": [1, 2], "Order date": [D(2026, 1, 5), D(2026, 2, 1)],
                            "Total": [12.5, 1234.56]})),
        [],
        [("1", D(2026, 1, 5), 12.5), ("2", D(2026, 2, 1), 1234.56)],
    ),
    (
        "Parquet with integer ids, timestamps and decimals",
        parquet(pl.DataFrame({"customer_id": [7, 8],
                              "date": [datetime(2026, 1, 5, 10), datetime(2026, 2, 1)],
                              "amount": ["12.50", "3.00"]}).with_columns(
            pl.col("amount").cast(pl.Decimal(10, 2)))),
        [],
        [("7", D(2026, 1, 5), 12.5), ("8", D(2026, 2, 1), 3.0)],
    ),
    (
        "Parquet with dates as 8-digit numbers and the format given",
        parquet(pl.DataFrame({"customer_id": ["a"], "date": [20260105], "amount": [1.0]})),
        ["--date-format", "%Y%m%d"],
        [("a", D(2026, 1, 5), 1.0)],
    ),
]  # fmt: skip

BAD: list[tuple[str, Callable, list[str], tuple[str, ...]]] = [
    ("header only", text("customer_id,date,amount\n"), [],
     ("export.csv", "has a header but no data rows (columns: customer_id, date, amount)")),
    ("empty file", text(""), [], ("is empty",)),
    ("only a byte-order mark and blank lines", text("\ufeff\r\n\r\n"), [],
     ("is empty (no text",)),
    ("blank lines before the header", text("\n\n\ncustomer_id;date;amount\na;2026-01-05;x\n"),
     ["--delimiter", ";"], ("column 'amount'", "not numbers", "on line 5")),
    ("comma decimals in a comma file", text("customer_id,date,amount\na,2026-01-05,12,50\n"), [],
     ("lines with another number of fields", "line 2", "--delimiter", "decimal comma")),
    ("ambiguous thousands", text('customer_id,date,amount\na,2026-01-05,"1,234"\n'), [],
     ("column 'amount'", "could mean 1234 or 1.234", "line 2", "pass --decimal . or ,")),
    ("mixed decimal marks",
     text("customer_id;date;amount\na;2026-01-05;12,50\nb;2026-01-06;3.25\n"), [],
     ("mixes a decimal point and a decimal comma", "lines 2 and 3", "--decimal")),
    ("european thousands read with a point", text("c;date;amount\na;2026-01-05;1.234,50\n"),
     ["--customer-id-col", "c", "--decimal", "."],
     ("column 'amount'", "not numbers (read with a decimal point) on line 2",
      "pass --decimal ,", "'1.234,50'")),
    ("US slash dates", text("customer_id,date,amount\na,01/02/2026,10\nb,03/04/2026,5\n"), [],
     ("column 'date'", "dates look like 01/02/2026",
      "pass --date-format %d/%m/%Y or %m/%d/%Y")),
    ("two-digit years", text("customer_id,date,amount\na,05/01/26,10\n"), [],
     ("two-digit years", "--date-format %d/%m/%y or %m/%d/%y")),
    ("dates as Excel serial numbers in text", text("customer_id,date,amount\na,45292,10\n"), [],
     ("dates look like plain numbers", "'45292'", "--date-format")),
    ("a date that is not a date", text("customer_id,date,amount\na,2026-01-05,1\nb,2026-02-30,2\n"),
     [], ("not dates in the format %Y-%m-%d on line 3", "'2026-02-30'")),
    ("placeholder dates", text("customer_id,date,amount\na,0001-01-01,1\nb,2026-01-05,2\n"), [],
     ("dates before 1900-01-01", "line 2")),
    ("booleans as amounts in text", text("customer_id,date,amount\na,2026-01-05,true\n"), [],
     ("not numbers", "'true'", "correct them")),
    ("empty amounts", text("customer_id,date,amount\na,2026-01-05,\nb,2026-01-05,1\n"), [],
     ("has empty values on line 2",)),
    ("rows without customer", text("customer_id,date,amount\n,2026-01-05,1\n"), [],
     ("has rows without a customer id on line 2",)),
    ("a totals row", text("customer_id,date,amount\na,2026-01-05,1\nTotal,,1\n"), [],
     ("column 'date'", "has empty dates on line 3")),
    ("not UTF-8 and no encoding given",
     text("customer_id,date,amount,name\na,2026-01-05,1,Müller\n", "latin-1"), [],
     ("is not UTF-8 text", "line 2", "pass --encoding cp1252", "Müller")),
    ("duplicate column names", text("customer_id,date,amount,amount\na,2026-01-05,1,2\n"), [],
     ("several columns named 'amount'",)),
    ("single column", text("customer_id date amount\na 2026-01-05 1\n"), [],
     ("has a single column", "--delimiter")),
    ("missing column", text("id,date,amount\na,2026-01-05,1\n"), [],
     ("has no customer id column (columns: id, date, amount)", "--customer-id-col")),
    ("float ids in Parquet",
     parquet(pl.DataFrame({"customer_id": [1.0, 2.0], "date": [D(2026, 1, 1)] * 2,
                           "amount": [1.0, 2.0]})), [],
     ("customer ids are stored as floating-point numbers", "re-export")),
    ("dates as small integers in Parquet",
     parquet(pl.DataFrame({"customer_id": ["a"], "date": [3], "amount": [1.0]})), [],
     ("dates are stored as whole numbers", "--date-format %Y%m%d")),
    ("booleans as amounts in Parquet",
     parquet(pl.DataFrame({"customer_id": ["a"], "date": [D(2026, 1, 1)], "amount": [True]})), [],
     ("amounts are stored as true/false",)),
    ("huge integers in Parquet",
     parquet(pl.DataFrame({"customer_id": ["a"], "date": [D(2026, 1, 1)],
                           "amount": [2**60]})), [],
     ("too large to be read exactly", "row 1")),
    ("empty Parquet",
     parquet(pl.DataFrame(schema={"customer_id": pl.String, "date": pl.Date,
                                  "amount": pl.Float64})), [], ("has no rows",)),
    ("old Excel", lambda f: (f / "x.xls", (f / "x.xls").write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100))[0], [], ("Excel 97-2003",)),
    ("gzip", lambda f: (f / "x.csv.gz", (f / "x.csv.gz").write_bytes(b"\x1f\x8b\x08"))[0], [],
     ("compressed (gzip)",)),
    ("a folder", lambda f: (f / "exports", (f / "exports").mkdir(),
                            (f / "exports" / "orders.csv").write_text("x"))[0], [],
     ("is a folder, not a file", "orders.csv")),
    ("missing file", lambda f: f / "nope.csv", [], ("file not found",)),
    ("binary garbage", lambda f: (f / "x.csv", (f / "x.csv").write_bytes(
        np.random.default_rng(5).bytes(3000)))[0], [], ("is not a text export", "binary data")),
    ("binary garbage named .xlsx", lambda f: (f / "x.xlsx", (f / "x.xlsx").write_bytes(
        np.random.default_rng(6).bytes(3000)))[0], [],
     ("is not an Excel workbook (though its name ends in .xlsx)", "binary data")),
    ("a truncated workbook", _truncated_xlsx, [],
     ("cannot be read as an Excel workbook", "damaged or incomplete")),
    ("a truncated Parquet file", _truncated_parquet, [],
     ("cannot be read as Parquet",)),
    ("unknown encoding", text("customer_id,date,amount\na,2026-01-05,1\n"),
     ["--encoding", "klingon"], ("unknown encoding 'klingon'",)),
    ("Excel: the first sheet is not the data", _notes_first, [],
     ("sheet 'Notes' has a header but no data rows", "pass --sheet 'Orders'")),
    ("Excel: a sheet that is not there",
     excel(pl.DataFrame({"customer_id": ["a"], "date": [D(2026, 1, 5)], "amount": [1.0]})),
     ["--sheet", "Sales"], ("has no sheet named 'Sales' (sheets: Orders)",)),
]  # fmt: skip


def tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def build(capsys, export: Path, out: Path, options: list[str]) -> tuple[int, str, str]:
    code = main(
        ["build", "--transactions", str(export), "--as-of", "2026-09-30", "--out", str(out),
         *options]
    )  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("make", "options", "rows"), [g[1:] for g in GOOD],
                         ids=[g[0] for g in GOOD])  # fmt: skip
def test_real_world_exports_build_exactly(tmp_path: Path, capsys, make, options, rows) -> None:
    export = make(tmp_path)
    before = tree(tmp_path)
    code, out, err = build(capsys, export, tmp_path / "snap", options)
    assert code == 0, err
    tx = load_snapshot(tmp_path / "snap").transactions.collect().sort("customer_id", "date")
    assert list(tx.select("customer_id", "date", "amount").iter_rows()) == rows
    assert "Valid snapshot" in out
    assert tree(tmp_path).items() >= before.items()  # the export is untouched


@pytest.mark.parametrize(("make", "options", "parts"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])  # fmt: skip
def test_bad_exports_fail_in_one_actionable_line(tmp_path: Path, capsys, make, options, parts):
    export = make(tmp_path)
    existing = tmp_path / "snap"
    existing.mkdir()
    (existing / "keep.txt").write_text("not a snapshot, but --out is another folder below")
    out = tmp_path / "out"
    before = tree(tmp_path)
    code, stdout, err = build(capsys, export, out, options)
    assert code == 2
    assert stdout == ""
    assert err.count("\n") == 1 and err.startswith("crm build: error: ")
    assert "Traceback" not in err
    for part in parts:
        assert part in err, f"{part!r} not in {err!r}"
    assert not out.exists()
    assert tree(tmp_path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_bad_export_leaves_the_existing_snapshot_untouched(tmp_path: Path, capsys) -> None:
    good = text("customer_id,date,amount\na,2026-01-05,10\n", name="good.csv")(tmp_path)
    bad = text("customer_id,date,amount\na,01/02/2026,10\n", name="bad.csv")(tmp_path)
    assert build(capsys, good, tmp_path / "snap", [])[0] == 0
    before = tree(tmp_path / "snap")
    code, _, err = build(capsys, bad, tmp_path / "snap", [])
    assert code == 2 and "dates look like 01/02/2026" in err
    assert tree(tmp_path / "snap") == before


def test_an_as_of_the_pages_cannot_count_from_is_refused_before_reading(tmp_path, capsys):
    good = text("customer_id,date,amount\na,2026-01-05,10\n", name="good.csv")(tmp_path)
    before = tree(tmp_path)
    code = main(["build", "--transactions", str(good), "--as-of", "9999-12-31",
                 "--out", str(tmp_path / "snap")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err == "crm build: error: --as-of: must lie between 1900-01-01 and 2199-12-31, "\
        "found 9999-12-31\n"  # fmt: skip
    assert tree(tmp_path) == before and not (tmp_path / "snap").exists()
    from crm_core.data.build import import_snapshot
    from crm_core.errors import SnapshotError

    with pytest.raises(SnapshotError, match="as-of date: must lie between"):
        import_snapshot(None, transactions=good, as_of=D(1899, 12, 31), dry_run=True)
    assert main(["build", "--transactions", str(good), "--as-of", "2199-12-31",
                 "--out", str(tmp_path / "snap")]) == 0  # fmt: skip  # the last date allowed


@pytest.mark.parametrize("as_of", ["9999-12-31", "1899-12-31", "10000-01-01"])
def test_a_snapshot_dated_where_quarters_cannot_be_counted_is_refused(
    data_dir: Path, capsys, as_of: str
) -> None:
    import json

    from conftest import open_page

    from crm_core.errors import SnapshotError

    folder = data_dir / "test-retail"
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "as_of": as_of}))
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "key 'as_of'" in err and "Traceback" not in err
    with pytest.raises(SnapshotError, match="as_of"):
        load_snapshot(folder)
    for page in ("pages/overview.py", "pages/your_data.py"):
        at = open_page("test-retail", page)  # checks there is no exception
        shown = [e.value for e in at.error]
        assert any("cannot be used" in e and "as\\_of" in e for e in shown), (page, shown)


def test_an_out_that_cannot_be_created_is_one_line(tmp_path: Path, capsys) -> None:
    good = text("customer_id,date,amount\na,2026-01-05,10\n", name="good.csv")(tmp_path)
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    code, out, err = build(capsys, good, tmp_path / "notes.txt" / "snap", [])
    assert code == 2 and out == ""
    blocked = tmp_path / "notes.txt"
    assert err == f"crm build: error: {blocked / 'snap'}: cannot be written: {blocked} is a file, "\
        "not a folder\n"  # fmt: skip
    assert (tmp_path / "notes.txt").read_text() == "a file, not a folder"
