"""Session state of the What-if page: following the baseline, and the named scenarios'
save, load and delete callbacks (the page's buttons call these)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from crm_core.copy import whatif as copy
from crm_core.whatif import controls as ctl
from crm_core.whatif import scenarios as saved

SCENARIO_FOLDER = "scenarios"
_IDENTITY, FLASH, CURRENT = "_whatif_baseline", "_whatif_flash", "_whatif_scenario"


def reset(values: dict) -> None:
    """Set the widgets' values (``key -> value``)."""
    for key, value in values.items():
        st.session_state[key] = value


def follow_baseline(identity: tuple, base) -> None:
    """Another snapshot, date or segmentation starts from its own values (not a shared
    link: on a new session the URL's values apply); relative levers are kept."""
    previous = st.session_state.get(_IDENTITY)
    st.session_state[_IDENTITY] = identity
    if previous is not None and previous != identity:
        reset(ctl.rebased_values(base))


def load(base, folder: Path) -> None:
    name = st.session_state.get("sc_pick")
    if not name:
        return
    try:
        scenario = saved.load_scenario(folder, name)
        values, adjusted = ctl.controls_from_scenario(base, scenario)
    except ValueError as exc:
        st.session_state[FLASH] = ("error", f"Could not load {name!r}. {exc}")
        return
    reset(values | {"sc_name": scenario.name})
    st.session_state[FLASH] = ("success", copy.load_message(name, adjusted, base.currency))


def save(folder: Path) -> None:
    scenario, name = st.session_state.get(CURRENT), st.session_state.get("sc_name", "")
    try:
        if scenario is not None:
            saved.save_scenario(folder, ctl.renamed(scenario, name))
            st.session_state[FLASH] = ("success", f"Saved {name.strip()!r}.")
    except ValueError as exc:
        st.session_state[FLASH] = ("error", f"Could not save the scenario. {exc}")


def delete(folder: Path) -> None:
    name = st.session_state.get("sc_pick")
    if name:
        saved.delete_scenario(folder, name)
        st.session_state["sc_pick"] = None
        st.session_state["sc_cmp"] = [n for n in st.session_state.get("sc_cmp", []) if n != name]
        st.session_state[FLASH] = ("success", f"Deleted {name!r}.")
