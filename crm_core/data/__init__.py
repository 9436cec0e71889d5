"""Snapshot data: the format (schema), loading, writing and cutting snapshots, date
expressions, and the customer ledger built from them."""
