"""The Excel reader (crm_core.data.xlsx): cells read as stored, by a hand-made workbook whose
XML is known, and by one written with xlsxwriter (what Excel-like tools produce)."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from crm_core import SnapshotError
from crm_core.data.xlsx import ROW, read_xlsx, sheet_names

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def workbook(path: Path, rows: str, *, date1904: bool = False, strings: str = "") -> Path:
    """A minimal .xlsx: one sheet 'Data' with ``rows`` (sheetData XML), style 1 = a date."""
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    parts = {
        "[Content_Types].xml": "<Types/>",
        "xl/workbook.xml": f'<workbook {NS} {RNS}>{pr}<sheets><sheet name="Data" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Target="worksheets/sheet1.xml"/>'
        "</Relationships>",
        "xl/styles.xml": f'<styleSheet {NS}><numFmts><numFmt numFmtId="164" '
        'formatCode="dd/mm/yyyy;@"/><numFmt numFmtId="165" formatCode="[Red]0.00"/></numFmts>'
        '<cellXfs><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/><xf numFmtId="165"/>'
        "</cellXfs></styleSheet>",
        "xl/worksheets/sheet1.xml": f"<worksheet {NS}><sheetData>{rows}</sheetData></worksheet>",
    }
    if strings:
        parts["xl/sharedStrings.xml"] = f"<sst {NS}>{strings}</sst>"
    with zipfile.ZipFile(path, "w") as book:
        for name, xml in parts.items():
            book.writestr(name, xml)
    return path


def test_cells_are_read_as_stored(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="inlineStr"><is><t>amount</t></is></c><c r="D1" t="s"><v>2</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" s="1"><v>45292</v></c>'
        '<c r="C2" s="3"><v>1234.56</v></c><c r="D2" t="b"><v>1</v></c></row>'
        '<row r="4"><c r="A4"><v>7</v></c><c r="B4" s="2"><v>45351.75</v></c>'
        '<c r="C4"><v>-0.1</v></c><c r="D4" t="b"><v>0</v></c></row>'
        '<row r="5"><c r="A5" s="0"/></row>'  # formatting only: no value, no row
    )
    strings = (
        "<si><t>customer</t></si><si><t>date</t></si><si><t>flag</t></si>"
        "<si><r><t>Mül</t></r><r><t>ler</t></r><rPh><t>ミュラー</t></rPh></si>"
    )
    frame, sheet, sheets = read_xlsx(workbook(tmp_path / "b.xlsx", rows, strings=strings))
    assert (sheet, sheets) == ("Data", ["Data"])
    assert frame.columns == [ROW, "customer", "date", "amount", "flag"]
    assert frame[ROW].to_list() == [2, 4]  # the sheet's own row numbers
    assert frame["customer"].to_list() == ["Müller", "7"]  # mixed text and number: as stored
    assert frame["date"].to_list() == [date(2024, 1, 1), date(2024, 2, 29)]
    assert frame["amount"].to_list() == [1234.56, -0.1]  # [Red]0.00 is no date format
    assert frame["flag"].to_list() == [True, False]


def test_the_1904_date_system(tmp_path: Path) -> None:
    rows = ('<row r="1"><c t="inlineStr"><is><t>d</t></is></c></row>'
            '<row r="2"><c s="2"><v>0</v></c></row>')  # fmt: skip
    frame, _, _ = read_xlsx(workbook(tmp_path / "b.xlsx", rows, date1904=True))
    assert frame["d"].to_list() == [date(1904, 1, 1)]


def test_a_workbook_written_by_a_tool(tmp_path: Path) -> None:
    path = tmp_path / "w.xlsx"
    pl.DataFrame({"Customer ID": [1, 2], "Order date": [date(2026, 1, 5), date(2026, 2, 28)],
                  "Total": [12.5, 1234.56], "Name": ["Zoë", None]}).write_excel(
        path, worksheet="Orders")  # fmt: skip
    frame, sheet, _ = read_xlsx(path)
    assert sheet == "Orders"
    assert frame.drop(ROW).rows() == [
        (1.0, date(2026, 1, 5), 12.5, "Zoë"),
        (2.0, date(2026, 2, 28), 1234.56, None),
    ]
    assert sheet_names(path) == ["Orders"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 not really a zip", "cannot be read as an Excel workbook"),
        (None, "has no sheet named 'Sales' (sheets: Data)"),
    ],
)
def test_unreadable_workbooks(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "b.xlsx"
    if content is None:
        workbook(path, '<row r="1"><c t="inlineStr"><is><t>x</t></is></c></row>')
    else:
        path.write_bytes(content)
    with pytest.raises(SnapshotError) as info:
        read_xlsx(path, "Sales" if content is None else None)
    assert message in str(info.value)
