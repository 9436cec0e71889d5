"""Problems found while reading an export: where, what, and what to pass instead.

A :class:`Problem` names the file, the column, how many rows, the first row numbers and a
few values, and the fix (an option and its values). The command line words the fix as an
option to pass (``pass --date-format %m/%d/%Y or %d/%m/%Y``); the "Your data" page as the
setting to choose. :meth:`Problem.error` is the :class:`~crm_core.errors.SnapshotError`
(one line) the command line prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crm_core.errors import SnapshotError

__all__ = ["CLI_WORDS", "Fix", "Problem", "ProblemsFound", "first_error"]

CLI_WORDS: Mapping[str, str] = {
    "date_format": "--date-format",
    "decimal": "--decimal",
    "delimiter": "--delimiter",
    "encoding": "--encoding",
    "sheet": "--sheet",
}
_SHOWN_ROWS = 5


@dataclass(frozen=True)
class Fix:
    """What the user can pass instead: ``option`` set to one of ``values``, or ``text``
    (``elsewhere``: the same advice for surfaces other than the command line, when it
    differs, e.g. a column chosen on the page rather than named by an option)."""

    option: str | None = None
    values: tuple[str, ...] = ()
    text: str = ""
    elsewhere: str = ""

    def words(self, names: Mapping[str, str] = CLI_WORDS) -> str:
        """The fix in the words of a surface (``names`` maps options to their flags)."""
        if self.option is None:
            return self.elsewhere if self.elsewhere and names is not CLI_WORDS else self.text
        flag = names.get(self.option, self.option)
        if names is CLI_WORDS:
            shown = " or ".join(self.values)
            text = f"pass {flag} {shown}" if self.values else f"pass {flag}"
        else:
            shown = " or ".join(self.values)
            text = f"choose {shown} as the {flag}" if self.values else f"set the {flag}"
        return f"{text} {self.text}".strip()


@dataclass(frozen=True)
class Problem:
    """One problem of one column of an export.

    Attributes
    ----------
    file
        The export as given (path or a name such as ``PostgreSQL query``).
    column
        Column of the export (its own name), if any.
    problem
        What is wrong, in plain words.
    rows
        How many rows have it (``None`` for file-level problems).
    where
        Offending row numbers (1-based, see ``unit``), the first ones only for large counts.
    values
        The value on each of those rows (same order), when known.
    unit
        ``"line"`` (a text or spreadsheet line, the header being line 1) or ``"row"``.
    examples
        A few offending values.
    fix
        What to pass instead.
    """

    file: str
    column: str | None
    problem: str
    rows: int | None = None
    where: tuple[int, ...] = ()
    values: tuple[object, ...] = ()
    unit: str = "row"
    examples: tuple[object, ...] = ()
    fix: Fix | None = None

    def located(self) -> str:
        """The problem with its first row numbers (``... on lines 3, 8 and 12``)."""
        if not self.where:
            return self.problem
        shown = [f"{n:,}" for n in self.where[:_SHOWN_ROWS]]
        more = (self.rows or len(self.where)) > len(shown)
        if more:
            listed = ", ".join(shown) + ", ..."
        elif len(shown) > 1:
            listed = ", ".join(shown[:-1]) + " and " + shown[-1]
        else:
            listed = shown[0]
        noun = self.unit + ("s" if len(shown) > 1 or more else "")
        return f"{self.problem} on {noun} {listed}"

    def sentence(self, names: Mapping[str, str] = CLI_WORDS) -> str:
        """The located problem and its fix, without file and column."""
        text = self.located()
        if self.fix is not None and (fix := self.fix.words(names)):
            text += f": {fix}"
        return text

    def error(self) -> SnapshotError:
        """The one-line error of the command line (a :class:`ProblemsFound` holding this
        problem, so other surfaces can word its fix their way)."""
        return ProblemsFound((self,))


class ProblemsFound(SnapshotError):
    """An export has problems; the message is the first, :attr:`problems` holds all."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("ProblemsFound needs at least one problem")
        self.problems = tuple(problems)
        first = problems[0]
        super().__init__(
            first.file,
            first.sentence(),
            column=first.column,
            rows=first.rows,
            examples=first.examples,
        )


def first_error(problems: Sequence[Problem]) -> None:
    """Raise :class:`ProblemsFound` if there is any problem."""
    if problems:
        raise ProblemsFound(problems)
