"""Open an export as people have them: CSV or TSV in any common encoding, Parquet, Excel.

:func:`open_export` recognises the kind of file by its content (not its name), the text
encoding (UTF-8 with or without a byte-order mark, UTF-16/32 by their marks or by their
zero bytes; any other encoding only when given, since a byte such as 0xE9 reads é in
cp1252 but č in cp1250) and the delimiter (the one of ``, ; tab |`` that splits every
line of the first 64 KB into the header's number of fields). Text columns stay text: the
values are read exactly later (:mod:`crm_core.data.values`). Every problem is a
:class:`~crm_core.errors.SnapshotError` naming the file and what to pass instead.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from crm_core.data.problems import Fix, Problem
from crm_core.data.sniff import (
    DELIMITERS,
    SAMPLE_BYTES,
    csv_error,
    delimiter_name,
    detect_delimiter,
    detect_encoding,
    transcode,
)
from crm_core.data.xlsx import ROW, read_xlsx
from crm_core.errors import SnapshotError

__all__ = ["DELIMITERS", "Export", "ReadOptions", "delimiter_name", "open_export"]

BATCH_ROWS = 250_000
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_UTF8 = {"utf-8", "utf8", "utf_8", "utf-8-sig", "utf_8_sig", "ascii", "us-ascii"}


@dataclass(frozen=True)
class ReadOptions:
    """How to read an export; ``None`` means detect.

    Attributes
    ----------
    delimiter
        Field separator of a text file (``","``, ``";"``, ``"\\t"`` or ``"tab"``, ``"|"``).
    decimal
        Decimal mark of numbers written as text: ``"."`` or ``","``.
    date_format
        strftime format of dates written as text (``%d/%m/%Y``).
    encoding
        Text encoding (``utf-8``, ``cp1252``, ``latin-1``, ``utf-16``, ...).
    sheet
        Excel sheet to read (default: the first).
    """

    delimiter: str | None = None
    decimal: str | None = None
    date_format: str | None = None
    encoding: str | None = None
    sheet: str | None = None

    def __post_init__(self) -> None:
        if self.delimiter is not None:
            d = _DELIMITER_NAMES.get(self.delimiter.lower(), self.delimiter)
            if len(d) != 1 or d in '"\r\n':
                raise SnapshotError(
                    "--delimiter", f"must be one character (or tab), got {self.delimiter!r}"
                )
            object.__setattr__(self, "delimiter", d)
        if self.decimal is not None and self.decimal not in {".", ","}:
            raise SnapshotError("--decimal", f"must be . or , (got {self.decimal!r})")
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise SnapshotError(
                    "--encoding",
                    f"unknown encoding {self.encoding!r} (e.g. utf-8, cp1252, latin-1, utf-16)",
                ) from None


@dataclass(frozen=True)
class Export:
    """An opened export: its raw columns, lazily, and how it was read.

    Attributes
    ----------
    source
        The export as named in messages.
    kind
        ``"csv"``, ``"parquet"``, ``"excel"`` or ``"sql"``.
    frame
        The raw columns (text for text files) for detection: the whole file, or the first
        batch of a query.
    batches
        Called with the columns to read, yields the data in batches (each with the
        ``__row`` column: 0-based position in the export).
    unit
        How rows are numbered in messages: ``"line"`` (text files: the header is line 1)
        or ``"row"`` (1-based; Excel: the sheet's row numbers).
    rows
        Number of data rows, if known before reading.
    encoding, delimiter
        Of a text file.
    notes
        What was detected or converted, in words.
    error
        Turns an exception met while reading the data into a one-line
        :class:`~crm_core.errors.SnapshotError` (a bad byte found late in a text file).
    header_line
        Line of a text file's header (after any blank lines, which the reader skips).
    """

    source: str
    kind: str
    frame: pl.LazyFrame
    batches: Callable[[list[str]], Iterator[pl.DataFrame]]
    unit: str = "row"
    rows: int | None = None
    encoding: str | None = None
    delimiter: str | None = None
    notes: tuple[str, ...] = field(default=())
    error: Callable[[Exception], SnapshotError] | None = None
    header_line: int = 1

    def failed(self, exc: Exception) -> SnapshotError:
        """The one-line error for an exception met while reading the data."""
        if self.error is not None:
            return self.error(exc)
        return SnapshotError(self.source, f"cannot be read: {_short(exc)}")

    @property
    def label(self) -> str:
        """Short name: the file name, or the whole name of a database source."""
        return self.source if self.kind == "sql" else Path(self.source).name

    @property
    def columns(self) -> list[str]:
        """The export's column names."""
        return [c for c in self.frame.collect_schema().names() if c not in (ROW_INDEX, ROW)]

    def number(self, index: int) -> int:
        """The row number shown in messages for the 0-based data row ``index``."""
        return index + (self.header_line + 1 if self.unit == "line" else 1)


ROW_INDEX = "__row"


# ----------------------------------------------------------------------------- opening


def open_export(path: str | Path, options: ReadOptions, workdir: Path) -> Export:
    """Open the export at ``path``; temporary files (transcoded text) go to ``workdir``.

    Raises
    ------
    SnapshotError
        For a missing file, a folder, an empty or header-only file, an unsupported kind
        (old ``.xls``, zip, gzip), an undetectable encoding or delimiter, or a damaged file.
    """
    file = Path(path)
    source = str(path)
    if file.is_dir():
        inside = sorted(
            p.name
            for p in file.iterdir()
            if p.suffix.lower() in {".csv", ".tsv", ".txt", ".parquet", ".xlsx"}
        )
        hint = f" (it holds {', '.join(inside[:3])})" if inside else ""
        raise SnapshotError(
            source, f"is a folder, not a file: pass the export file inside it{hint}"
        )
    if not file.is_file():
        raise SnapshotError(source, "file not found")
    with file.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head:
        raise SnapshotError(source, "is empty (0 bytes)")
    if head[:4] == b"PAR1":
        return _parquet(file, source)
    if head[:4] == b"PK\x03\x04":
        if _is_workbook(file):
            return _excel(file, source, options)
        if file.suffix.lower() == ".xlsx":
            raise SnapshotError(
                source, "cannot be read as an Excel workbook (.xlsx): it is damaged or "
                "incomplete; save it again from the spreadsheet program"
            )  # fmt: skip
        raise SnapshotError(source, "is a zip archive: unpack it and pass the export inside")
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise SnapshotError(
            source, "is an Excel 97-2003 workbook (.xls): save it as .xlsx or CSV first"
        )
    if head[:2] == b"\x1f\x8b":
        raise SnapshotError(source, "is compressed (gzip): unpack it first")
    if options.encoding is None and _looks_binary(head):
        kind = {".xlsx": "an Excel workbook", ".parquet": "a Parquet file", ".pq": "a Parquet file"}
        named = kind.get(file.suffix.lower())
        what = f"is not {named} (though its name ends in {file.suffix}) nor" if named else "is not"
        raise SnapshotError(
            source,
            f"{what} a text export: it holds binary data; export the table as CSV, TSV, "
            "Parquet or Excel .xlsx",
        )
    return _text(file, source, head, options, workdir)


def _looks_binary(head: bytes) -> bool:
    """Whether the first bytes are binary data rather than text in any 8-bit or UTF-16
    encoding (control characters other than tab, line feed and carriage return)."""
    sample = head[:4096]
    if (
        sample.startswith((b"\xff\xfe", b"\xfe\xff"))
        or sample[0::2].count(0) > len(sample) // 4
        or sample[1::2].count(0) > len(sample) // 4
    ):
        return False  # UTF-16 (checked by the encoding detection)
    control = sum(sample.count(bytes([b])) for b in (*range(9), 11, 12, *range(14, 32), 127))
    return control > len(sample) // 20


def _is_workbook(file: Path) -> bool:
    try:
        with zipfile.ZipFile(file) as book:
            return "xl/workbook.xml" in book.namelist()
    except zipfile.BadZipFile:
        return False


def _with_index(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.with_row_index(ROW_INDEX)


def _lazy_batches(frame: pl.LazyFrame) -> Callable[[list[str]], Iterator[pl.DataFrame]]:
    def batches(columns: list[str]) -> Iterator[pl.DataFrame]:
        wanted = [ROW_INDEX, *[c for c in columns if c != ROW_INDEX]]
        yield from frame.select(wanted).collect_batches(chunk_size=BATCH_ROWS)

    return batches


def _parquet(file: Path, source: str) -> Export:
    try:
        frame = pl.scan_parquet(file)
        rows = frame.select(pl.len()).collect().item()
    except Exception as exc:  # polars raises many types for damaged files
        raise SnapshotError(source, f"cannot be read as Parquet: {_short(exc)}") from None
    if rows == 0:
        raise SnapshotError(
            source, f"has no rows (columns: {', '.join(frame.collect_schema().names())})"
        )
    indexed = _with_index(frame)
    return Export(source, "parquet", indexed, _lazy_batches(indexed), "row", rows)


def _excel(file: Path, source: str, options: ReadOptions) -> Export:
    frame, sheet, sheets = read_xlsx(file, options.sheet)
    if frame.height == 0:
        others = tuple(repr(s) for s in sheets if s != sheet)
        raise Problem(
            source,
            None,
            f"sheet {sheet!r} has a header but no data rows (columns: "
            f"{', '.join(c for c in frame.columns if c != ROW)})",
            fix=Fix("sheet", others, "if the transactions are there") if others else None,
        ).error()
    notes = [f"the sheet {sheet!r}"]
    if len(sheets) > 1:
        notes[0] += f" (of {', '.join(repr(s) for s in sheets)})"
    indexed = frame.with_row_index(ROW_INDEX).lazy()

    def batches(columns: list[str]) -> Iterator[pl.DataFrame]:
        data = indexed.select([ROW_INDEX, ROW, *columns]).collect()
        for start in range(0, data.height, BATCH_ROWS):
            yield data.slice(start, BATCH_ROWS)

    return Export(source, "excel", indexed, batches, "row", frame.height, notes=tuple(notes))


# ----------------------------------------------------------------------------- text


def _text(file: Path, source: str, head: bytes, options: ReadOptions, workdir: Path) -> Export:
    notes = []
    encoding = options.encoding or detect_encoding(head, source)
    direct = codecs.lookup(encoding).name in {codecs.lookup(e).name for e in _UTF8}
    path = file if direct else transcode(file, source, encoding, workdir)
    if not direct or head.startswith(codecs.BOM_UTF8):
        notes.append(f"encoding {encoding}")
    if direct:
        sample = head
    else:
        with path.open("rb") as handle:
            sample = handle.read(SAMPLE_BYTES)
    text = sample.decode("utf-8", errors="ignore").lstrip("\ufeff")
    if not text.strip():
        raise SnapshotError(source, "is empty (no text: only blank lines or a byte-order mark)")
    if options.delimiter is None:
        delimiter, header = detect_delimiter(
            text, source, file.suffix.lower(), len(sample) == SAMPLE_BYTES
        )
        notes.append(f"{delimiter_name(delimiter)}-separated")
    else:
        delimiter = options.delimiter
        first = next(line for line in text.splitlines() if line.strip())
        header = next(csv.reader(io.StringIO(first), delimiter=delimiter))
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise SnapshotError(
            source, f"has several columns named {', '.join(repr(d) for d in duplicated)}: "
            "rename them so each column has its own name"
        )  # fmt: skip
    frame = pl.scan_csv(
        path,
        separator=delimiter,
        infer_schema=False,
        quote_char='"',
        encoding="utf8",
        raise_if_empty=True,
    )
    try:
        rows = frame.select(pl.len()).collect().item()
    except Exception as exc:
        raise csv_error(file, source, exc, delimiter) from None
    if rows == 0:
        raise SnapshotError(source, f"has a header but no data rows (columns: {', '.join(header)})")
    indexed = _with_index(frame)
    return Export(
        source,
        "csv",
        indexed,
        _lazy_batches(indexed),
        "line",
        rows,
        encoding,
        delimiter,
        tuple(notes),
        lambda exc: csv_error(file, source, exc, delimiter),
        header_line=1 + next(i for i, line in enumerate(text.splitlines()) if line.strip()),
    )


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."
