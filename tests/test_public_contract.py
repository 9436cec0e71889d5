"""The names ARCHITECTURE.md promises to code outside the repo exist and behave."""

from __future__ import annotations

import subprocess
import sys

import pytest

import crm_core

CONTRACT = [
    "SnapshotError",
    "load_snapshot",
    "write_snapshot",
    "generate_sample",
    "rfm_summary",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_sbg",
    "clv_revenue",
    "clv_profit",
    "clv_contribution",
    "clv_retention",
    "Segment",
    "simulate",
]


@pytest.mark.parametrize("name", CONTRACT)
def test_contract_name_is_exported(name: str) -> None:
    assert name in crm_core.__all__
    assert getattr(crm_core, name) is not None


def test_everything_in_all_exists() -> None:
    missing = [n for n in crm_core.__all__ if not hasattr(crm_core, n)]
    assert missing == []


def test_snapshot_error_is_a_value_error() -> None:
    assert issubclass(crm_core.SnapshotError, ValueError)


def test_import_has_no_side_effects_and_no_streamlit() -> None:
    code = "import sys, crm_core; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert out.stderr == ""
