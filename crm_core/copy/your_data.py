"""Copy of the "Your data" page: labels, help, the reading options offered, and the tables
of the preview and the validation report (headers in words, cells as text).

Column names, values and messages read from an export are data: the page shows them in
table cells or escaped, never as Markdown.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from pathlib import PurePath

import polars as pl

from crm_core.data.build import BuildReport
from crm_core.data.mapping import Role
from crm_core.data.problems import Problem, ProblemsFound
from crm_core.errors import SnapshotError
from crm_core.formatting import fmt_count, formula_safe

__all__ = [
    "DATE_FORMATS",
    "DECIMALS",
    "DELIMITERS",
    "ENCODINGS",
    "NONE",
    "PAGE_WORDS",
    "RESERVED_FOLDERS",
    "failure",
    "file_label",
    "folder_name",
    "folder_problem",
    "preview_table",
    "problem_lines",
    "problems_csv",
    "problems_table",
    "stale_note",
    "summary",
    "upload_help",
]

TITLE = "Your data"
SUBTITLE = (
    "Build a snapshot of your own company from a transactions export or a PostgreSQL query. "
    "Values are read exactly: anything that cannot be read is listed with its rows, and no "
    "existing snapshot changes until a build succeeds."
)
NONE = "(not in the export)"
DETECT = "Detect"
DELIMITERS = {DETECT: None, "Comma ,": ",", "Semicolon ;": ";", "Tab": "\t", "Pipe |": "|"}
DECIMALS = {DETECT: None, "Point (12.50)": ".", "Comma (12,50)": ","}
DATE_FORMATS = {
    DETECT: None,
    "2024-01-31 (%Y-%m-%d)": "%Y-%m-%d",
    "31/01/2024 (%d/%m/%Y)": "%d/%m/%Y",
    "01/31/2024 (%m/%d/%Y)": "%m/%d/%Y",
    "31.01.2024 (%d.%m.%Y)": "%d.%m.%Y",
    "31-01-2024 (%d-%m-%Y)": "%d-%m-%Y",
    "01-31-2024 (%m-%d-%Y)": "%m-%d-%Y",
    "20240131 (%Y%m%d)": "%Y%m%d",
    "31/01/24 (%d/%m/%y)": "%d/%m/%y",
    "01/31/24 (%m/%d/%y)": "%m/%d/%y",
}
ENCODINGS = {
    "Detect (UTF-8, UTF-16)": None,
    "Windows Western (cp1252)": "cp1252",
    "Latin-1 (ISO 8859-1)": "latin-1",
    "Latin-9 (ISO 8859-15)": "iso8859-15",
    "Windows Central European (cp1250)": "cp1250",
    "Mac Roman": "mac-roman",
    "UTF-8": "utf-8",
    "UTF-16": "utf-16",
}
PAGE_WORDS = {
    "date_format": "date format under Reading options",
    "decimal": "decimal mark under Reading options",
    "delimiter": "delimiter under Reading options",
    "encoding": "encoding under Reading options",
    "sheet": "sheet under Reading options",
}
"""How the page names the settings a problem's fix refers to."""
RESERVED_FOLDERS = frozenset({"scenarios", "data"})
FILE_TYPES = ["csv", "tsv", "txt", "parquet", "pq", "xlsx"]
HELP = {
    "file": "One row per purchase or refund, with a customer id, a date and an amount. "
    "CSV or TSV in any delimiter and encoding, Parquet, or an Excel workbook (.xlsx).",
    "extra": "Optional exports with the snapshot's columns (or usual names for them): service "
    "contacts (customer id, date, touchpoint, cost) and prospects (prospect id, first "
    "contact, channel, converted customer id).",
    "options": "Leave on Detect: the reader tells delimiter, decimal mark, date format and "
    "encoding from the values and lists anything it cannot tell. Choose here what it asks.",
    "mapping": "Proposed from the column names; change any that is wrong. Cost, channel, "
    "region and acquisition cost are optional.",
    "as_of": "The date the snapshot describes; later rows are left out (and counted).",
    "folder": "Folder name of the snapshot in the data folder; the sidebar lists it by this "
    "name. Letters, digits, dots, dashes and underscores.",
    "replace": "A snapshot of this name exists: replace it with this build.",
    "sql_url": "postgresql://user:password@host:5432/database. Missing parts come from the "
    "PGHOST, PGUSER, PGPASSWORD and PGDATABASE variables of the server (or ~/.pgpass). The "
    "string is kept for this session only and never shown.",
    "sql_query": "A query giving one row per transaction, e.g. SELECT customer_id, "
    "order_date, total FROM orders. It is read in batches.",
}
BUILD = "Build the snapshot"
NO_SNAPSHOT = "No snapshot yet: build the first one below."
UNUSABLE = (
    "**The snapshot selected cannot be used.** {} Build a new one below or choose another in "
    "the sidebar."
)
NOT_BUILT = "**The snapshot was not built.** {}"
PLAN_PROBLEMS = (
    "The export cannot be read as it is: choose what the table says and it is read again."
)
UPLOAD_FIRST = "Upload an export to see how it is read."
SQL_FIRST = "Give the connection string and a query, then Read."
CHECK_NOTE = (
    "Checked every row. The build reads the export again through the same code as "
    "crm build, so what it writes is exactly what this report describes."
)
SQL_NOTE = (
    "The preview and the detection use the first batch of the result; the build reads and "
    "checks every row."
)


def row_problems(n: int) -> str:
    """Heading of the validation report when rows have problems."""
    return (
        f"{fmt_count(n, compact=False)} problem{'s' * (n != 1)}: nothing can be built until "
        "they are fixed in the export or the settings above."
    )


def upload_help(limit_mb: int) -> str:
    """Caption under the uploader: the size limit and where it is set."""
    return (
        f"Files of up to {limit_mb:,} MB. The limit is Streamlit's server.maxUploadSize "
        "(in .streamlit/config.toml or STREAMLIT_SERVER_MAX_UPLOAD_SIZE); for larger exports "
        "use crm build on the command line, which streams files of any size."
    )


def folder_name(company: str) -> str:
    """A folder name proposed for a company (``"Müller & Söhne GmbH"`` ->
    ``muller-sohne-gmbh``)."""
    latin = unicodedata.normalize("NFKD", company.lower().replace("ß", "ss"))
    slug = re.sub(r"[^a-z0-9]+", "-", latin.encode("ascii", "ignore").decode()).strip("-")
    return slug[:60] or "my-company"


def folder_problem(name: str) -> str | None:
    """Why ``name`` cannot be a snapshot folder name (``None`` if it can)."""
    if not name:
        return "Give the snapshot a folder name."
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}", name):
        return (
            "Use letters, digits, dots, dashes and underscores for the folder name, starting "
            "with a letter or digit."
        )
    if name.lower() in RESERVED_FOLDERS:
        return f"The folder name {name} is used by the app; choose another."
    return None


def file_label(file: str) -> str:
    """How the page names an export: its file name (uploads are kept under a private
    folder the user never saw), or a database source's description as it is."""
    return file if file.startswith("PostgreSQL") else PurePath(file).name or file


def failure(exc: SnapshotError) -> str:
    """The error that stopped reading, in the page's words (plain text): the file's name and,
    for a problem with a fix, the setting to choose rather than the option to pass."""
    if isinstance(exc, ProblemsFound):
        first = exc.problems[0]
        return str(SnapshotError(file_label(first.file), first.sentence(PAGE_WORDS),
                                 column=first.column, rows=first.rows,
                                 examples=first.examples))  # fmt: skip
    return str(SnapshotError(file_label(exc.file), exc.problem, column=exc.column,
                             rows=exc.rows, examples=exc.examples))  # fmt: skip


SHOWN_PROBLEMS = 8


def problem_lines(problems: Sequence[Problem], limit: int = SHOWN_PROBLEMS) -> list[str]:
    """The first ``limit`` problems as sentences in the page's words (plain text), and how
    many more the table lists."""
    lines = [failure(ProblemsFound((p,))) for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"… and {fmt_count(len(problems) - limit, compact=False)} more below.")
    return lines


def _shown(value: object) -> str:
    return "" if value is None else str(value)


def preview_table(preview: pl.DataFrame, roles: Sequence[Role], unit: str) -> pl.DataFrame:
    """The first rows as they will be read: row number, then one column per mapped role
    (headers in words, dates as ISO dates, amounts as read), every cell text."""
    number = "Line" if unit == "line" else "Row"
    columns = [pl.col("__n").cast(pl.String).alias(number)]
    for role in roles:
        if role.key in preview.columns:
            header = role.label[0].upper() + role.label[1:]
            columns.append(pl.col(role.key).cast(pl.String).fill_null("").alias(header))
    return preview.select(columns)


def problems_table(problems: Sequence[Problem]) -> pl.DataFrame:
    """One row per problem: file, column, what is wrong with its first rows, how many rows,
    a few values, and what to do (in the page's words)."""
    return pl.DataFrame(
        {
            "File": [file_label(p.file) for p in problems],
            "Column": [p.column or "" for p in problems],
            "Problem": [p.located() for p in problems],
            "Rows": [fmt_count(p.rows, compact=False) if p.rows else "" for p in problems],
            "Examples": [", ".join(_shown(e) for e in p.examples) for p in problems],
            "What to do": [p.fix.words(PAGE_WORDS) if p.fix else "" for p in problems],
        },
        schema={k: pl.String for k in ("File", "Column", "Problem", "Rows", "Examples",
                                       "What to do")},
    )  # fmt: skip


def problems_csv(problems: Sequence[Problem]) -> bytes:
    """Every listed offending row of every problem as CSV (words for headers; cells that a
    spreadsheet would run as formulas are prefixed with an apostrophe)."""
    rows = []
    for p in problems:
        listed = list(zip(p.where, p.values, strict=False)) or [(None, None)]
        for number, value in listed:
            rows.append(
                {
                    "File": file_label(p.file),
                    "Column": p.column or "",
                    "Row or line": "" if number is None else f"{p.unit} {number}",
                    "Value": _shown(value),
                    "Problem": p.problem,
                    "Rows with this problem": "" if p.rows is None else str(p.rows),
                    "What to do": p.fix.words(PAGE_WORDS) if p.fix else "",
                }
            )
    frame = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}) if rows else None
    if frame is None:
        return b""
    buffer = io.BytesIO()
    frame.select(formula_safe(c) for c in frame.columns).write_csv(buffer)
    return buffer.getvalue()


QUIET_DAYS = 92  # a quarter: longer without any transaction before the as-of date is noted


def stale_note(report: BuildReport, as_of: date) -> str | None:
    """A warning when the export ends long before the as-of date (every customer would look
    inactive since), or ``None``; not when rows after the as-of date were left out (an
    earlier date chosen on purpose)."""
    if report.last is None or report.ignored or (as_of - report.last).days <= QUIET_DAYS:
        return None
    return (
        f"The last transaction is on {report.last:%d %b %Y}, {(as_of - report.last).days:,} "
        f"days before the as-of date {as_of:%d %b %Y}: every customer would look inactive "
        "since. Set the as-of date to the end of the export unless the company really had no "
        "sales since."
    )


def summary(report: BuildReport) -> str:
    """One sentence on what a check found (plain text)."""
    rows = report.rows.get("transactions", 0)
    text = f"{fmt_count(rows, compact=False)} rows read"
    if report.transactions:
        text += (
            f": {fmt_count(report.transactions, compact=False)} transactions from "
            f"{report.first:%d %b %Y} to {report.last:%d %b %Y}"
        )
    if report.ignored:
        text += f"; {fmt_count(report.ignored, compact=False)} dated after the as-of date left out"
    return text + "."
