"""crm_core: the analytics core of the CRM economics dashboard.

Pure Python on polars: snapshots in, polars frames and frozen dataclasses out. Never
imports Streamlit. The names in ``__all__`` are the public contract (ARCHITECTURE.md).
"""

from crm_core.errors import SnapshotError
from crm_core.snapshot import Manifest, Snapshot, find_snapshots, load_snapshot, write_snapshot

__all__ = [
    "Manifest",
    "Snapshot",
    "SnapshotError",
    "find_snapshots",
    "load_snapshot",
    "write_snapshot",
]
