"""A PostgreSQL query or table as an export, streamed in Arrow batches (ADBC).

``crm build --sql URL --query "select ..."`` (or ``--table``) reads through the ADBC
PostgreSQL driver (``adbc-driver-postgresql``, libpq inside): the result arrives as a
stream of Arrow record batches (PostgreSQL's binary ``COPY`` protocol), each read, checked
and written to the work folder before the next one is fetched, so a table larger than
memory is never held whole. Credentials come from the URL or libpq's usual sources
(``PGHOST``, ``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``, ``~/.pgpass``, ...); they never
appear in messages: errors name the source as ``PostgreSQL query on host/db`` and any
password is masked.

Types arrive typed (text, integers, dates, timestamps, floats); ``numeric`` arrives as its
exact decimal text and is read like a number in a file. The first batch serves detection
(text dates, decimal marks); the rest are read under the same plan, strictly.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import polars as pl

from crm_core.data.exports import ROW_INDEX, Export, ReadOptions
from crm_core.errors import SnapshotError

__all__ = ["SqlSource", "describe_url"]

_IDENTIFIER = re.compile(r'^(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)$')


def describe_url(url: str) -> str:
    """``host/database`` of a connection string, without user or password."""
    if "://" not in url and "=" in url:  # libpq's key=value words
        words = {k: v.strip("'") for k, v in re.findall(r"(\w+)\s*=\s*('[^']*'|\S+)", url)}
        host, port, database = words.get("host"), words.get("port"), words.get("dbname")
    else:
        try:
            parts = urlsplit(url)
            host, port, database = parts.hostname, parts.port, parts.path.lstrip("/")
        except ValueError:
            return "an unreadable connection string"
    shown = (host or "the default host") + (f":{port}" if port else "")
    return f"{shown}/{database or '(default database)'}"


def _secrets(url: str) -> list[str]:
    found = [url]
    with contextlib.suppress(ValueError):
        parts = urlsplit(url)
        if parts.password:
            found += [parts.password, unquote(parts.password)]
    for said in re.findall(r"password\s*=\s*('[^']*'|[^&\s]+)", url):
        found += [said, said.strip("'")]
    return sorted({s for s in found if s}, key=len, reverse=True)


def _check_url(url: str) -> None:
    """Refuse what is not a PostgreSQL connection string (a URI, or libpq's ``key=value``
    words), before connecting; the message never repeats the string."""
    form = "write it as postgresql://user@host:5432/database"
    try:
        parts = urlsplit(url)
        _ = parts.port  # parsed lazily: raises for a port that is not a number
    except ValueError as exc:
        reason = str(exc)
        for secret in _secrets(url):
            reason = reason.replace(secret, "***")
        raise SnapshotError("connection string", f"cannot be read ({reason}): {form}") from None
    if parts.scheme in {"postgresql", "postgres"} or ("://" not in url and "=" in url):
        return
    said = f"starts with {parts.scheme}://" if parts.scheme else "does not start with postgresql://"
    raise SnapshotError("connection string", f"is not PostgreSQL's (it {said}): {form}")


def _quote_table(table: str) -> str:
    parts = table.split(".")
    if not 1 <= len(parts) <= 2 or not all(_IDENTIFIER.match(p) for p in parts):
        raise SnapshotError(
            "--table",
            f'{table!r} is not a table name (name or schema.name; quote odd names: "My table")',
        )
    return ".".join(p if p.startswith('"') else f'"{p}"' for p in parts)


def _frame(batch) -> pl.DataFrame:
    """A record batch as a polars frame (driver extension types -> their storage)."""
    import pyarrow as pa

    columns = [c.storage if isinstance(c.type, pa.BaseExtensionType) else c for c in batch.columns]
    return pl.from_arrow(pa.RecordBatch.from_arrays(columns, names=batch.schema.names))


@dataclass(frozen=True)
class SqlSource:
    """A PostgreSQL query (or a whole table) giving one row per transaction.

    Attributes
    ----------
    url
        libpq connection URI (``postgresql://user@host:5432/db``); missing parts come from
        the ``PG*`` environment variables.
    query, table
        Exactly one: the query, or a table (``name`` or ``schema.name``) read whole.
    batch_rows
        Rows per Arrow batch asked of the driver (a hint; memory stays about one batch).
    """

    url: str
    query: str | None = None
    table: str | None = None
    batch_rows: int = 100_000

    def __post_init__(self) -> None:
        _check_url(self.url)
        if (self.query is None) == (self.table is None):
            raise SnapshotError(self.name, "needs exactly one of a query or a table")
        if self.query is not None and not self.query.strip():
            raise SnapshotError(self.name, "the query is empty")

    @property
    def name(self) -> str:
        """The source as named in messages (no credentials)."""
        what = f"table {self.table}" if self.table else "query"
        return f"PostgreSQL {what} on {describe_url(self.url)}"

    def _error(self, exc: BaseException) -> SnapshotError:
        text = " ".join(str(exc).split())
        for secret in _secrets(self.url):
            text = text.replace(secret, "***")
        text = re.sub(r"^[A-Z_]+: (\[libpq\] )?", "", text)
        text = re.sub(r"\s*Query was: .*$", "", text)
        return SnapshotError(self.name, text[:300] or type(exc).__name__)

    def open(self, options: ReadOptions, workdir: Path, stack: contextlib.ExitStack) -> Export:
        """Connect, run the query and return the export over its batch stream."""
        del options, workdir
        try:
            import adbc_driver_manager
            from adbc_driver_postgresql import StatementOptions, dbapi
        except ImportError:  # pragma: no cover - a declared dependency
            raise SnapshotError(self.name, "needs the adbc-driver-postgresql package") from None
        sql = self.query if self.query is not None else f"SELECT * FROM {_quote_table(self.table)}"
        try:
            conn = dbapi.connect(self.url)
            stack.callback(conn.close)
            cursor = conn.cursor()
            stack.callback(cursor.close)
            cursor.adbc_statement.set_options(
                **{StatementOptions.BATCH_SIZE_HINT_BYTES.value: str(64 * self.batch_rows)}
            )
            cursor.execute(sql)
            reader = cursor.fetch_record_batch()
            first = _first(reader)
        except (adbc_driver_manager.Error, OSError) as exc:
            raise self._error(exc) from None
        if first.height == 0:
            raise SnapshotError(
                self.name, f"returned no rows (columns: {', '.join(first.columns)})"
            )
        first = first.with_row_index(ROW_INDEX)
        errors = adbc_driver_manager.Error

        def batches(columns: list[str]) -> Iterator[pl.DataFrame]:
            wanted = [ROW_INDEX, *columns]
            yield first.select(wanted)
            offset = first.height
            try:
                for batch in reader:
                    frame = _frame(batch)
                    yield frame.with_row_index(ROW_INDEX, offset=offset).select(wanted)
                    offset += frame.height
            except errors as exc:
                raise self._error(exc) from None

        return Export(self.name, "sql", first.lazy(), batches, "row", None,
                      error=self._error)  # fmt: skip


def _first(reader) -> pl.DataFrame:
    """The first batch of the stream (an empty frame with the result's columns if none)."""
    import pyarrow as pa

    for batch in reader:
        if batch.num_rows:
            return _frame(batch)
    return _frame(pa.RecordBatch.from_pylist([], schema=reader.schema))
