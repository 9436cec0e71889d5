"""Reading a database table or query on Spark through JDBC.

``build_snapshot_spark(JdbcTable(url, table=...), ...)`` reads the transactions from a
database instead of files. A ``postgresql://user:password@host:port/db`` URL (the form
``crm build --sql`` takes) becomes Spark's ``jdbc:postgresql://host:port/db`` with the user
and password passed as properties, so they never appear in a message. The JDBC driver must
be on Spark's classpath: :func:`crm_core.spark.session.spark_session` adds Debian's
PostgreSQL driver (``libpostgresql-jdbc-java``) or the jars in ``$CRM_SPARK_JARS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from pyspark.sql import DataFrame, SparkSession

from crm_core.errors import SnapshotError

__all__ = ["JdbcTable", "read_jdbc"]


@dataclass(frozen=True)
class JdbcTable:
    """A table or a query of a database, read whole by Spark.

    Attributes
    ----------
    url
        ``postgresql://user:password@host:port/db`` or a ``jdbc:...`` URL.
    table, query
        Exactly one: a table (``schema.table``) or a query giving one row per transaction
        with the snapshot's column names (``SELECT client AS customer_id, ...``).
    """

    url: str
    table: str | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        if (self.table is None) == (self.query is None):
            raise SnapshotError("--table/--query", "give exactly one of a table or a query")

    @property
    def name(self) -> str:
        """How messages name the source (no credentials)."""
        jdbc, _ = self.connection()
        return f"{jdbc} {self.table or 'query'}"

    def connection(self) -> tuple[str, dict[str, str]]:
        """Spark's JDBC URL and the user/password properties."""
        if self.url.startswith("jdbc:"):
            return self.url, {}
        parts = urlsplit(self.url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise SnapshotError("--sql", "write the database as postgresql://user@host:5432/db")
        port = f":{parts.port}" if parts.port else ""
        props = {"driver": "org.postgresql.Driver"}
        if parts.username:
            props["user"] = unquote(parts.username)
        if parts.password:
            props["password"] = unquote(parts.password)
        return f"jdbc:postgresql://{parts.hostname}{port}{parts.path or '/'}", props


def read_jdbc(spark: SparkSession, source: JdbcTable) -> DataFrame:
    """The rows of ``source`` (column types as the database gives them)."""
    url, props = source.connection()
    table = source.table if source.table is not None else f"({source.query}) AS crm_rows"
    try:
        frame = spark.read.jdbc(url, table, properties=props)
        frame.schema  # noqa: B018 - connect now, so a bad source fails here
    except Exception as exc:
        text = " ".join(str(exc).split())
        for secret in props.values():
            text = text.replace(secret, "***") if len(secret) > 2 else text
        if "No suitable driver" in text or "ClassNotFoundException" in text:
            raise SnapshotError(source.name, "the JDBC driver is not on Spark's classpath "
                                "(apt-get install libpostgresql-jdbc-java, or set "
                                "CRM_SPARK_JARS)") from None  # fmt: skip
        raise SnapshotError(source.name, f"cannot be read: {text[:160]}") from None
    return frame
