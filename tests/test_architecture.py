"""The layout the house style asks for: imports in one direction, small modules, thin pages."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MODULE_LINES = 450  # "modules under about 400 lines"
PAGE_LINES = 260  # "page files under about 250 lines"


def test_import_contracts_hold() -> None:
    """import-linter contracts of pyproject.toml: the layers and no Streamlit in crm_core."""
    import subprocess
    import sys

    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.mark.parametrize(
    ("folder", "limit"),
    [("crm_core", MODULE_LINES), ("crm_app", MODULE_LINES), ("pages", PAGE_LINES)],
)
def test_files_stay_small(folder: str, limit: int) -> None:
    long = {
        str(p.relative_to(REPO)): n
        for p in (REPO / folder).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > limit
    }
    assert not long, f"split these files (over {limit} lines): {long}"
