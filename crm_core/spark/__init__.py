"""Build the customer ledger and the model inputs on Apache Spark (PySpark).

One machine with polars handles a few million customers; a company with a hundred
million keeps its transactions in a data lake and already runs Spark. This package does
the heavy per-customer and per-period aggregations there and writes a snapshot folder
that carries their results:

* the customer ledger (:mod:`crm_core.data.ledger`: the panel, its customers and grid),
  computed with the same rules (:mod:`crm_core.spark.panel`);
* the model inputs grouped by their distinct values with the number of customers each
  row stands for (:func:`crm_core.clv.fitted.grouped_inputs`), which the fits accept as
  weighted rows (:func:`crm_core.clv.fitted.fit_grouped`);
* the customers table, and the raw rows of a bounded sample of customers for drill-downs.

:func:`crm_core.data.ledger.build_ledger` reads such a snapshot's ledger instead of
rebuilding it from the (sampled) raw rows. Entry points: :func:`crm_core.spark.build.
build_snapshot_spark` and ``crm build --engine spark`` (:mod:`crm_core.cli._spark`).
PySpark is an optional extra (``pip install .[spark]``) and needs Java; importing this
package does not import PySpark.
"""
