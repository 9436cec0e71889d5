"""Optional sign-in: nothing of the data is shown before it, when it is switched on.

Two modes, both off by default (the app then listens on 127.0.0.1 only; see
``.streamlit/config.toml``):

- **OpenID Connect** (``st.login``): an ``[auth]`` section in ``.streamlit/secrets.toml``
  (``redirect_uri``, ``cookie_secret`` and the provider's ``client_id``, ``client_secret``,
  ``server_metadata_url``; see ``.streamlit/secrets.toml.example``). Needs
  ``Authlib>=1.3.2``; without it the app refuses to show anything and says so.
- **Shared password** for a small team: the environment variable ``CRM_APP_PASSWORD``.
  The password typed is compared with it in constant time (``hmac.compare_digest``); a
  wrong one waits a second before it is answered. The name typed with it is who saves a
  scenario.

With both configured, OpenID Connect is used. ``app.py`` calls :func:`gate` before the
sidebar and the router, and ``crm_app.state.require_selection`` calls it again, so a page
run on its own (a deep link on a fresh server) shows nothing either.
"""

from __future__ import annotations

import hmac
import os
import time
from typing import Literal

import streamlit as st

__all__ = ["ENV_PASSWORD", "current_user", "gate", "mode", "signed_in"]

ENV_PASSWORD = "CRM_APP_PASSWORD"
_USER = "_crm_signed_in_as"
_FAILED_WAIT_S = 1.0

Mode = Literal["oidc", "password"] | None


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def mode() -> Mode:
    """``"oidc"``, ``"password"`` or ``None`` (sign-in off)."""
    if _oidc_configured():
        return "oidc"
    if os.environ.get(ENV_PASSWORD, ""):
        return "password"
    return None


def signed_in() -> bool:
    """Whether the session may see data (always, with sign-in off)."""
    how = mode()
    if how is None:
        return True
    if how == "oidc":
        return bool(st.user.is_logged_in)
    return st.session_state.get(_USER) is not None


def current_user() -> str | None:
    """Who is signed in (e-mail or name from the identity provider, or the name typed
    with the shared password); ``None`` with sign-in off or before sign-in."""
    how = mode()
    if how == "oidc" and st.user.is_logged_in:
        for key in ("email", "name", "sub"):
            value = st.user.get(key)
            if value:
                return str(value)
        return "signed-in user"
    if how == "password":
        return st.session_state.get(_USER)
    return None


def check_password(typed: str, expected: str) -> bool:
    """``typed == expected``, in time independent of where they differ."""
    return hmac.compare_digest(typed.encode("utf-8"), expected.encode("utf-8"))


def _password_form() -> None:
    with st.form("crm_sign_in"):
        name = st.text_input("Your name", key="auth_name", max_chars=60,
                             help="Recorded with the scenarios you save.")  # fmt: skip
        typed = st.text_input("Team password", type="password", key="auth_password")
        sent = st.form_submit_button("Sign in", icon=":material/login:")
    if not sent:
        return
    if check_password(typed, os.environ.get(ENV_PASSWORD, "")):
        st.session_state[_USER] = name.strip() or "team member"
        st.rerun()
    time.sleep(_FAILED_WAIT_S)  # slows guessing
    st.error("That password is not the team's. Ask whoever runs the dashboard.", icon="⚠️")


def _sign_in_page() -> None:
    """What a visitor sees before signing in: the app's name and the sign-in only."""
    st.title("CRM economics")
    how = mode()
    if how == "oidc":
        from streamlit.auth_util import is_authlib_installed

        if not is_authlib_installed():
            st.error(
                "Sign-in with an identity provider is configured (`[auth]` in "
                "`.streamlit/secrets.toml`) but Authlib is not installed: run "
                "`pip install 'Authlib>=1.3.2'` and restart the app.",
                icon="⚠️",
            )
            return
        st.caption("Sign in with your company account to see the dashboard.")
        st.button("Sign in", key="auth_login", on_click=st.login, icon=":material/login:")
    else:
        st.caption("Sign in with the team password to see the dashboard.")
        _password_form()


def gate() -> bool:
    """Stop the run with the sign-in screen unless the session may see data.

    Returns ``True`` when the page may go on. In ``app.py`` the sign-in screen is routed
    for every URL (the query string is kept, so a shared link opens after sign-in);
    elsewhere the run stops after drawing it.
    """
    if signed_in():
        return True
    _sign_in_page()
    st.stop()
    return False  # pragma: no cover (st.stop raises)


def sidebar_account() -> None:
    """Who is signed in and a sign-out button, in the sidebar (nothing with sign-in off)."""
    how, user = mode(), current_user()
    if how is None or user is None:
        return
    from crm_app.state import escape_markdown

    with st.sidebar:
        st.caption(f"Signed in as {escape_markdown(user)}")
        if how == "oidc":
            st.button("Sign out", key="auth_logout", on_click=st.logout)
        else:
            st.button("Sign out", key="auth_logout", on_click=_sign_out)


def _sign_out() -> None:
    st.session_state.pop(_USER, None)
