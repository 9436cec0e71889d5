"""Where an export comes from: a file, or a database query (:mod:`crm_core.data.sql`)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from crm_core.data.exports import Export, ReadOptions, open_export

__all__ = ["FileSource", "Source", "source_of"]


class Source(Protocol):
    """Where a table comes from: something that opens as an :class:`Export`."""

    name: str

    def open(self, options: ReadOptions, workdir: Path, stack: contextlib.ExitStack) -> Export: ...


@dataclass(frozen=True)
class FileSource:
    """An export file (CSV, TSV, Parquet, Excel)."""

    path: Path

    @property
    def name(self) -> str:
        return Path(self.path).name

    def open(self, options: ReadOptions, workdir: Path, stack: contextlib.ExitStack) -> Export:
        del stack
        return open_export(self.path, options, workdir)


def source_of(value: str | os.PathLike[str] | Source) -> Source:
    """A :class:`Source` for a path (a :class:`FileSource`) or a source as given."""
    if isinstance(value, str | os.PathLike):
        return FileSource(Path(value))
    return value
