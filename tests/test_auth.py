"""Optional sign-in: nothing of the data before it, who saved a scenario after it."""

from __future__ import annotations

import hmac
import json
from pathlib import Path

import pytest
from conftest import APP

from crm_app import auth
from crm_core.whatif import scenarios as saved
from crm_core.whatif.levers import Levers, Scenario

PASSWORD = "correct horse battery staple"
PAGES = Path(APP).parent / "pages"
OIDC = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 32,
    "client_id": "id",
    "client_secret": "secret",
    "server_metadata_url": "https://id.example.com/.well-known/openid-configuration",
}


def _app(**env: str):
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=120)


def _shows_no_data(at, company: str = "Northwind") -> None:
    """No KPI, table, chart, snapshot picker or company name anywhere on the screen."""
    assert not at.exception, at.exception
    assert len(at.metric) == 0
    assert len(at.dataframe) == 0 and len(at.table) == 0
    assert len(at.get("plotly_chart")) == 0
    assert all(s.key != "snapshot" for s in at.selectbox)
    texts = [e.value for kind in ("markdown", "caption", "title", "subheader", "info", "error")
             for e in at.get(kind) if isinstance(getattr(e, "value", None), str)]  # fmt: skip
    assert not any(company in t for t in texts), texts


def test_password_is_compared_in_constant_time(monkeypatch) -> None:
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    assert auth.check_password(PASSWORD, PASSWORD)
    assert not auth.check_password(PASSWORD[:-1], PASSWORD)
    assert not auth.check_password("", PASSWORD)
    assert auth.check_password("zoë", "zoë") and not auth.check_password("zoe", "zoë")
    assert len(calls) == 5


@pytest.mark.parametrize("page", [None, *(f"pages/{p.name}" for p in sorted(PAGES.glob("*.py")))])
def test_password_mode_shows_nothing_before_sign_in(data_dir: Path, monkeypatch, page) -> None:
    monkeypatch.setenv(auth.ENV_PASSWORD, PASSWORD)
    at = _app()
    at.query_params["snapshot"] = "test-retail"
    at.run()
    if page is not None:
        at.switch_page(page).run()
    _shows_no_data(at)
    assert [t.key for t in at.text_input] == ["auth_name", "auth_password"]


def test_password_sign_in(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv(auth.ENV_PASSWORD, PASSWORD)
    at = _app()
    at.query_params["snapshot"] = "test-retail"
    at.run()
    at.text_input(key="auth_name").input("Ann")
    at.text_input(key="auth_password").input(PASSWORD + " ")
    at.button[0].click().run()  # the form's submit button
    _shows_no_data(at)
    assert any("not the team's" in e.value for e in at.error)
    at.text_input(key="auth_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert len(at.metric) > 0  # the data, once signed in
    assert any("Signed in as Ann" in c.value for c in at.sidebar.caption)
    at.switch_page("pages/whatif.py").run()
    assert not at.exception and len(at.metric) > 0
    at.button(key="auth_logout").click().run()
    _shows_no_data(at)


def test_sign_in_off_by_default(data_dir: Path, monkeypatch) -> None:
    monkeypatch.delenv(auth.ENV_PASSWORD, raising=False)
    at = _app()
    at.query_params["snapshot"] = "test-retail"
    at.run()
    assert not at.exception and len(at.metric) > 0
    assert not any("Signed in" in c.value for c in at.sidebar.caption)


def test_oidc_mode_shows_nothing_before_sign_in(data_dir: Path, monkeypatch) -> None:
    monkeypatch.delenv(auth.ENV_PASSWORD, raising=False)
    at = _app()
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": False}
    at.query_params["snapshot"] = "test-retail"
    at.run()
    _shows_no_data(at)
    at.switch_page("pages/customer_value.py").run()
    _shows_no_data(at)
    at.user = {"is_logged_in": True, "email": "ann@example.com", "name": "Ann"}
    at.switch_page("pages/overview.py").run()
    assert not at.exception, at.exception
    assert len(at.metric) > 0
    assert any(c.value == "Signed in as ann\u2060@example\\.com" for c in at.sidebar.caption)


def test_saved_scenario_records_who_saved_it(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv(auth.ENV_PASSWORD, PASSWORD)
    at = _app()
    at.query_params["snapshot"] = "test-retail"
    at.run()
    at.text_input(key="auth_name").input("Ann <b>Lee</b>")
    at.text_input(key="auth_password").input(PASSWORD)
    at.button[0].click().run()
    at.switch_page("pages/whatif.py").run()
    at.text_input(key="sc_name").input("Plan A").run()
    at.button(key="sc_save").click().run()
    assert not at.exception, at.exception
    data = json.loads(saved.scenario_path(data_dir / "scenarios", "Plan A").read_text())
    assert data["saved_by"] == "Ann <b>Lee</b>"
    at.selectbox(key="sc_pick").set_value("Plan A").run()
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Saved by Ann \\<b\\>Lee\\</b\\>") for c in captions), captions


def test_scenarios_without_sign_in_record_nobody(tmp_path: Path) -> None:
    scenario = Scenario(name="Plan B", levers=Levers())
    saved.save_scenario(tmp_path, scenario)
    assert saved.scenario_provenance(tmp_path, "Plan B")[0] is None
    with saved.saving_as("bob@example.com"):
        saved.save_scenario(tmp_path, scenario)
    who, when = saved.scenario_provenance(tmp_path, "Plan B")
    assert who == "bob@example.com" and when
    saved.save_scenario(tmp_path, scenario, saved_by="carol")
    assert saved.scenario_provenance(tmp_path, "Plan B")[0] == "carol"
    assert saved.load_scenario(tmp_path, "Plan B").name == "Plan B"


def test_default_bind_is_loopback() -> None:
    import tomllib

    root = Path(APP).parent
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    run = (root / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "address" not in run and "0.0.0.0" not in run, run
