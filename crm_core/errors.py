"""Errors a user can cause with their data.

Every problem in a snapshot a user supplies is reported as a :class:`SnapshotError`
whose message names the file, the column, how many rows are affected and a few example
values, so the user can find and fix the fault without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["SnapshotError"]

_MAX_EXAMPLES = 5


class SnapshotError(ValueError):
    """A snapshot folder (or an export to build one) violates the snapshot format.

    Parameters
    ----------
    file
        File name inside the snapshot folder (``"customers.parquet"``) or the path given.
    problem
        What is wrong, in plain words ("has negative values").
    column
        Column concerned, if any.
    rows
        Number of offending rows, if the fault is row-level.
    examples
        A few offending values (at most five are shown).

    The attributes of the same names are kept for programs that want to react to the fault.
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        column: str | None = None,
        rows: int | None = None,
        examples: Iterable[object] = (),
    ) -> None:
        self.file = str(file)
        self.column = column
        self.rows = rows
        self.examples: Sequence[object] = list(examples)[:_MAX_EXAMPLES]
        self.problem = problem
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.file if self.column is None else f"{self.file}, column '{self.column}'"
        text = f"{where}: {self.problem}"
        if self.rows is not None:
            noun = "row" if self.rows == 1 else "rows"
            text += f" ({self.rows:,} {noun}"
            if self.examples:
                text += ", e.g. " + ", ".join(_show(v) for v in self.examples)
            text += ")"
        elif self.examples:
            text += " (e.g. " + ", ".join(_show(v) for v in self.examples) + ")"
        return text


def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
