"""The ``crm`` command: make, check and build snapshots, and export model results.

Every user error (bad data, bad arguments) ends with exit status 2 and one line on stderr,
never a traceback. Each module of this package (not starting with ``_``) adds its commands
with ``register(sub)``, listed in the order of their ``ORDER``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

from crm_core.cli._args import EXIT_USAGE
from crm_core.errors import SnapshotError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crm",
        description="Customer lifetime value and CRM economics: snapshots and models.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    ]
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``crm`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (SnapshotError, ValueError, OSError) as exc:
        print(f"crm {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"crm {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
