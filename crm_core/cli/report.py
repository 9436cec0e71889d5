"""``crm report``: the quarterly review as PowerPoint, PDF or a web page."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from crm_core.cli._args import iso_date

ORDER = 40
_BAR = 28


class _Progress:
    """A one-line progress bar on stderr (a line per step when stderr is not a terminal)."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.monotonic()
        self.last = ""

    def __call__(self, text: str, done: float) -> None:
        done = min(max(done, 0.0), 1.0)
        filled = round(_BAR * done)
        bar = "#" * filled + "-" * (_BAR - filled)
        line = f"[{bar}] {done:4.0%} {text} ({time.monotonic() - self.start:.0f} s)"
        if self.tty:
            self.stream.write("\r" + line.ljust(len(self.last)))
        elif text != self.last:
            self.stream.write(line + "\n")
        self.last = line if self.tty else text
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _cmd_report(args: argparse.Namespace) -> int:
    from crm_core.data.snapshot import load_snapshot
    from crm_core.report.export import export, format_of
    from crm_core.report.inputs import snapshot_review_inputs
    from crm_core.report.render import browser_path
    from crm_core.report.sections import SECTIONS, build_deck
    from crm_core.whatif.scenarios import load_scenario

    fmt = format_of(args.out)
    if fmt != "html":
        browser_path()  # say what to install before any work
    progress = _Progress()
    try:
        progress("Reading the snapshot", 0.0)
        snap = load_snapshot(args.snapshot)
        if args.as_of is not None:
            snap = snap.cut(args.as_of)
        scenario = None
        if args.scenario is not None:
            folder = args.scenarios or Path(args.snapshot).resolve().parent / "scenarios"
            scenario = load_scenario(folder, args.scenario)
        share = 0.35 if fmt != "html" else 0.9
        inputs = snapshot_review_inputs(
            snap, scenario=scenario, progress=lambda text: progress(text, 0.05)
        )
        count = len(SECTIONS)
        made = iter(range(count))
        deck = build_deck(
            inputs,
            progress=lambda title: progress(f"Slides: {title}", 0.1 + 0.2 * next(made) / count),
        )
        data = export(deck, fmt, lambda text, done: progress(text, share + (1 - share) * done))
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    finally:
        progress.close()
    print(f"wrote {args.out}: {len(deck.slides)} slides, {deck.figure_count} charts ({fmt})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the ``crm`` parser."""
    p = sub.add_parser(
        "report",
        help="write the quarterly review deck (.pptx, .pdf or .html)",
        description="The quarterly review: title, executive summary, key metrics, segments, "
        "lifecycle, customer value, a what-if scenario, value at risk and the definitions, "
        "with the dashboard's numbers. PowerPoint and PDF draw the charts with Chromium "
        "(/usr/bin/chromium or $BROWSER_PATH); the web page needs none and opens offline.",
    )
    p.add_argument("--snapshot", required=True, type=Path, help="snapshot folder")
    p.add_argument("--out", required=True, type=Path, help="file to write: .pptx, .pdf or .html")
    p.add_argument("--as-of", type=iso_date, default=None, help="an earlier date (YYYY-MM-DD)")
    p.add_argument(
        "--scenario",
        default=None,
        help="name of a saved what-if scenario (default: +5 points of retention everywhere)",
    )
    p.add_argument(
        "--scenarios",
        type=Path,
        default=None,
        help="folder of saved scenarios (default: scenarios/ beside the snapshot folder)",
    )
    p.set_defaults(func=_cmd_report)
