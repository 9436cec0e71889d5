"""The error hierarchy: problems a user can fix, as opposed to bugs.

:class:`DataError` (a ``ValueError``) is the base of every problem a user can cause with
their data or choices and fix without reading code:

* :class:`SnapshotError`: a snapshot folder or an export violates the snapshot format; the
  message names the file, the column, how many rows are affected and a few example values;
* :class:`~crm_core.clv.errors.ModelFitError`: a model cannot be fitted to the data (no
  repeat purchases, nobody churned yet, ...);
* :class:`NotEnoughData`: the data does not reach far enough back, or holds too few
  customers, for what was asked (say what would be needed).

The app shows a ``DataError`` as a friendly error box and keeps the rest of the page
working; any other exception (including a plain ``ValueError`` from a bad argument) is a
programming error and surfaces as such, never as "could not compute".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["DataError", "NotEnoughData", "SnapshotError"]

_MAX_EXAMPLES = 5


class DataError(ValueError):
    """A problem the user can fix by changing their data or their choices (see module)."""


class NotEnoughData(DataError):
    """The data is too short or too small for the computation asked for."""


class SnapshotError(DataError):
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
