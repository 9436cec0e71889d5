"""The page registry points at real, committed page files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crm_app.navigation import PAGES

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("page", PAGES, ids=[p.url_path for p in PAGES])
def test_page_file_exists_and_is_tracked(page) -> None:
    path = REPO / page.file
    assert path.is_file(), f"{page.file} is registered but missing"
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", page.file],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    if tracked.returncode == 128 and b"not a git repository" in tracked.stderr:
        pytest.skip("not a git checkout")
    assert tracked.returncode == 0, f"{page.file} is registered but not committed"


def test_url_paths_and_titles_are_unique() -> None:
    assert len({p.url_path for p in PAGES}) == len(PAGES)
    assert len({p.title for p in PAGES}) == len(PAGES)


@pytest.mark.parametrize("page", PAGES, ids=[p.url_path for p in PAGES])
def test_url_path_is_the_file_stem(page) -> None:
    """A fresh server resolves deep links against pages/ file names first (legacy mode)."""
    assert page.url_path == Path(page.file).stem
