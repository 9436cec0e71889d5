"""The Spark session of a build: local mode by default, any master by option or
``SPARK_MASTER``."""

from __future__ import annotations

import os
import shutil
from typing import Any

from crm_core.errors import DataError

__all__ = ["DEFAULT_MASTER", "ENV_MASTER", "master_url", "spark_session"]

ENV_MASTER = "SPARK_MASTER"
ENV_MEMORY = "CRM_SPARK_DRIVER_MEMORY"  # memory of a local-mode Spark (4g)
ENV_JARS = "CRM_SPARK_JARS"  # extra jars (comma-separated), e.g. a JDBC driver
_DEBIAN_JDBC = "/usr/share/java/postgresql.jar"  # libpostgresql-jdbc-java
DEFAULT_MASTER = "local[2]"


def master_url(master: str | None = None) -> str:
    """The Spark master to use: ``master``, else ``$SPARK_MASTER``, else ``local[2]``."""
    return master or os.environ.get(ENV_MASTER) or DEFAULT_MASTER


def spark_session(master: str | None = None, *, partitions: int | None = None) -> Any:
    """A Spark session (the active one when it exists, e.g. in tests or a notebook).

    Dates are computed in UTC and the web UI is off; ``partitions`` sets the shuffle
    partitions (default: 4 per local core, or Spark's own default on a cluster). Local
    mode gets ``$CRM_SPARK_DRIVER_MEMORY`` of memory (default ``4g``). The jars of
    ``$CRM_SPARK_JARS``, or Debian's PostgreSQL JDBC driver when installed, are on the
    classpath (:mod:`crm_core.spark.jdbc`).

    Raises
    ------
    DataError
        If PySpark is not installed or Java is missing (how to fix it is in the message).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError(
            "Spark: PySpark is not installed; install the spark extra "
            "(pip install 'crm-clv-dashboard[spark]')"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise DataError(
            "Spark: Java is not installed (e.g. apt-get install openjdk-17-jre-headless)"
        )
    url = master_url(master)
    builder = (
        SparkSession.builder.master(url)
        .appName("crm-build")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    jars = os.environ.get(ENV_JARS) or (_DEBIAN_JDBC if os.path.exists(_DEBIAN_JDBC) else "")
    if jars:
        builder = builder.config("spark.jars", jars)
    if url.startswith("local"):  # driver and executors are one JVM: give it room
        builder = builder.config("spark.driver.memory", os.environ.get(ENV_MEMORY, "4g"))
    if partitions is None and url.startswith("local"):
        cores = url.removeprefix("local").strip("[]").split(",")[0]
        n = int(cores) if cores.isdigit() else (os.cpu_count() or 2)
        partitions = 4 * n
    if partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
    return builder.getOrCreate()
