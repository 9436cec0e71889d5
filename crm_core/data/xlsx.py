"""Read one sheet of an Excel workbook (``.xlsx``) exactly, with the standard library only.

An ``.xlsx`` file is a zip of XML parts (ECMA-376 / ISO/IEC 29500). Cells are read as
stored: numbers from their decimal text, text from the shared-strings table or inline,
booleans, and numbers whose cell style is a date format as dates (serial days since
1899-12-30, or 1904-01-01 in workbooks using the 1904 date system; a time of day is
ignored). A column holding one kind of value gets that type; a column mixing kinds becomes
text (numbers as stored, dates as ISO dates), so nothing is converted silently. Formula
cells give their cached result. Rows keep their sheet row number in :data:`ROW`, so
problems name the row the user sees.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path, PurePosixPath
from xml.etree.ElementTree import Element, iterparse

import polars as pl

from crm_core.errors import SnapshotError

__all__ = ["ROW", "read_xlsx", "sheet_names"]

ROW = "__sheet_row"
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# built-in number formats that are dates (ECMA-376 part 1, 18.8.30, and the CJK ones)
_DATE_IDS = {14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36}
_DATE_IDS |= {45, 46, 47, 50, 51, 52, 53, 54, 55, 56, 57, 58}
_NUMBER, _TEXT, _BOOL, _DATE = "number", "text", "bool", "date"


def _read(book: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        return book.read(name)
    except KeyError:
        return None


def _parse(data: bytes) -> Element:
    from xml.etree.ElementTree import fromstring

    return fromstring(data)


def _sheets(book: zipfile.ZipFile) -> tuple[list[tuple[str, str]], bool]:
    """``(name, part path)`` of every sheet, and whether the 1904 date system is used."""
    workbook = _read(book, "xl/workbook.xml")
    rels = _read(book, "xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        raise ValueError("no workbook part")
    root = _parse(workbook)
    targets = {
        r.get("Id"): r.get("Target", "") for r in _parse(rels).iter(f"{_PKG_REL}Relationship")
    }
    sheets = []
    for sheet in root.iter(f"{_NS}sheet"):
        target = targets.get(sheet.get(_REL), "")
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        sheets.append((sheet.get("name", ""), path))
    pr = root.find(f"{_NS}workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0") in {"1", "true"}
    return sheets, date1904


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    data = _read(book, "xl/sharedStrings.xml")
    if data is None:
        return []
    out = []
    for si in _parse(data).iter(f"{_NS}si"):
        # plain <t>, or rich-text runs <r><t>; phonetic runs <rPh> are not part of the text
        parts = [t.text or "" for t in si.iter(f"{_NS}t")]
        phonetic = [t.text or "" for rph in si.iter(f"{_NS}rPh") for t in rph.iter(f"{_NS}t")]
        text = "".join(parts)
        for p in phonetic:
            text = text.replace(p, "", 1)
        out.append(text)
    return out


def _is_date_code(code: str) -> bool:
    text = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code.lower())  # quoted, escaped, [colors]
    return bool(re.search(r"[dy]", text))


def _date_styles(book: zipfile.ZipFile) -> set[int]:
    data = _read(book, "xl/styles.xml")
    if data is None:
        return set()
    root = _parse(data)
    custom = {
        int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in root.iter(f"{_NS}numFmt")
    }
    xfs = root.find(f"{_NS}cellXfs")
    dates = set()
    for i, xf in enumerate([] if xfs is None else xfs.findall(f"{_NS}xf")):
        fid = int(xf.get("numFmtId", "0"))
        if fid in _DATE_IDS or (fid in custom and _is_date_code(custom[fid])):
            dates.add(i)
    return dates


def _column_index(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref)
    n = 0
    for ch in letters.group(0) if letters else "":
        n = n * 26 + ord(ch) - 64
    return n - 1


def _cells(
    stream, strings: list[str], dates: set[int], epoch: date
) -> Iterator[tuple[int, dict[int, tuple[str, object, str]]]]:
    """``(sheet row number, {column index: (kind, value, text)})`` per non-empty row."""
    row_number = 0
    for _, elem in iterparse(stream, events=("end",)):
        if elem.tag != f"{_NS}row":
            continue
        row_number = int(elem.get("r", row_number + 1))
        values: dict[int, tuple[str, object, str]] = {}
        position = -1
        for c in elem.iter(f"{_NS}c"):
            ref = c.get("r")
            position = _column_index(ref) if ref else position + 1
            kind = c.get("t", "n")
            v = c.find(f"{_NS}v")
            raw = v.text if v is not None else None
            if kind == "inlineStr":
                raw = "".join(t.text or "" for t in c.iter(f"{_NS}t"))
                values[position] = (_TEXT, raw, raw)
            elif raw is None:
                continue
            elif kind == "s":
                text = strings[int(raw)]
                values[position] = (_TEXT, text, text)
            elif kind in {"str", "e"}:
                values[position] = (_TEXT, raw, raw)
            elif kind == "b":
                flag = raw.strip() in {"1", "true"}
                values[position] = (_BOOL, flag, "TRUE" if flag else "FALSE")
            elif kind == "d":  # ISO 8601 date cell
                day = date.fromisoformat(raw[:10])
                values[position] = (_DATE, day, day.isoformat())
            elif int(c.get("s", "0")) in dates:
                day = epoch + timedelta(days=int(float(raw) // 1))
                values[position] = (_DATE, day, day.isoformat())
            else:
                values[position] = (_NUMBER, float(raw), raw.strip())
        elem.clear()
        if any(text.strip() if kind == _TEXT else True for kind, _, text in values.values()):
            yield row_number, values


def sheet_names(path: str | Path) -> list[str]:
    """Names of the sheets of a workbook, in order."""
    with zipfile.ZipFile(path) as book:
        return [name for name, _ in _sheets(book)[0]]


def read_xlsx(path: str | Path, sheet: str | None = None) -> tuple[pl.DataFrame, str, list[str]]:
    """The first row holding values as header, the rows below as data.

    Returns
    -------
    tuple[pl.DataFrame, str, list[str]]
        The frame (plus the sheet row number in :data:`ROW`), the sheet read, and every
        sheet name of the workbook.

    Raises
    ------
    SnapshotError
        If the file is not a readable workbook or has no such sheet.
    """
    source = str(path)
    try:
        with zipfile.ZipFile(path) as book:
            sheets, date1904 = _sheets(book)
            names = [n for n, _ in sheets]
            if not sheets:
                raise SnapshotError(source, "is a workbook without sheets")
            if sheet is None:
                name, part = sheets[0]
            elif sheet in names:
                name, part = sheets[names.index(sheet)]
            else:
                raise SnapshotError(
                    source, f"has no sheet named {sheet!r} (sheets: {', '.join(names)})"
                )
            epoch = date(1904, 1, 1) if date1904 else date(1899, 12, 30)
            with book.open(part) as stream:
                rows = list(_cells(stream, _shared_strings(book), _date_styles(book), epoch))
    except SnapshotError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, IndexError, OSError, SyntaxError) as exc:
        raise SnapshotError(source, f"cannot be read as an Excel workbook (.xlsx): {exc}") from None
    if not rows:
        raise SnapshotError(source, f"sheet {name!r} is empty")
    _, header = rows[0]
    width = max(header) + 1
    columns = []
    for i in range(width):
        text = header.get(i, (_TEXT, "", ""))[2].strip()
        columns.append(text or f"column {_letters(i)}")
    data = {col: [] for col in columns}
    kinds: list[set[str]] = [set() for _ in columns]
    numbers = []
    for number, values in rows[1:]:
        numbers.append(number)
        for i, col in enumerate(columns):
            cell = values.get(i)
            data[col].append(cell)
            if cell is not None:
                kinds[i].add(cell[0])
    frame = {ROW: pl.Series(ROW, numbers, dtype=pl.Int64)}
    for i, col in enumerate(columns):
        frame[col] = _column(col, data[col], kinds[i])
    return pl.DataFrame(frame), name, names


def _column(name: str, cells: list, kinds: set[str]) -> pl.Series:
    if len(kinds) == 1:
        kind = next(iter(kinds))
        dtype = {_NUMBER: pl.Float64, _BOOL: pl.Boolean, _DATE: pl.Date, _TEXT: pl.String}[kind]
        return pl.Series(name, [None if c is None else c[1] for c in cells], dtype=dtype)
    return pl.Series(name, [None if c is None else c[2] for c in cells], dtype=pl.String)


def _letters(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out
