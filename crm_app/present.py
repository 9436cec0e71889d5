"""Presentation mode and the print stylesheet, for every page.

* **Presentation mode** (``?present=1`` in the address, kept while the session moves
  between pages): the sidebar, the page controls and Streamlit's toolbar are hidden, text
  is larger, and the Quarterly review steps through its sections (``&step=N``) with
  Previous / Next buttons. "Exit presentation" brings everything back.
* **Print** (Ctrl+P, A4 or Letter landscape): no sidebar, toolbar or dialogs; the page's
  own scrolling is undone so every part prints; charts, cards and tables never break
  across pages, labels never break inside a word; and just before printing a script scales
  the page to the paper (the charts keep the width they were drawn at on screen, so
  scaling the page, not re-flowing it, keeps them whole).

:func:`apply` is called by ``app.py`` on every run. The CSS and script are constant text
(nothing data-derived goes into them).
"""

from __future__ import annotations

import streamlit as st

__all__ = [
    "PRESENT",
    "STEP",
    "apply",
    "enter_button",
    "presenting",
    "step",
    "step_buttons",
]

PRESENT, STEP = "present", "step"
_SESSION = "_crm_presenting"
PRINT_WIDTH_PX = 980
"""Printable width: Letter landscape less 10 mm margins (A4 is wider), CSS pixels."""

_CONTROLS = ", ".join(
    f'.stMain [data-testid="{t}"]'
    for t in (
        "stSelectbox",
        "stMultiSelect",
        "stSlider",
        "stNumberInput",
        "stTextInput",
        "stCheckbox",
        "stButtonGroup",
        "stExpander",
        "stDownloadButton",
        "stButton",
        "stRadio",
        "stTabs",
    )
)

_COMMON = """
[data-testid="stMetricLabel"] p { white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; overflow-wrap: normal; word-break: normal; hyphens: none; }
[data-testid="stMetricValue"] > div { overflow: visible !important;
  text-overflow: clip !important; }
"""

_PRINT = f"""
@page {{ size: A4 landscape; margin: 10mm; }}
@media print {{
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
  [data-testid="stExpandSidebarButton"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDecoration"], [data-testid="stStatusWidget"], [data-testid="stBottom"],
  [role="dialog"], [data-testid="stToast"], [data-testid="stToastContainer"],
  .st-key-present_exit, .st-key-present_nav, .st-key-present_enter {{ display: none !important; }}
  html, body, #root, .stApp, [data-testid="stApp"], [data-testid="stAppViewContainer"],
  [data-testid="stMain"], [data-testid="stMainBlockContainer"] {{
    height: auto !important; min-height: 0 !important; max-height: none !important;
    overflow: visible !important; position: static !important; }}
  [data-testid="stMain"] {{ margin-left: 0 !important; width: auto !important; }}
  [data-testid="stMainBlockContainer"] {{ padding: 0 !important; margin: 0 !important;
    max-width: none !important; width: var(--crm-print-width, {PRINT_WIDTH_PX}px) !important;
    zoom: var(--crm-print-zoom, 1); }}
  [data-testid="stPlotlyChart"], [data-testid="stMetric"], [data-testid="stTable"],
  [data-testid="stDataFrame"], [data-testid="stVegaLiteChart"], [data-testid="stAlert"],
  [data-testid="stHorizontalBlock"], [data-testid="stVerticalBlockBorderWrapper"] {{
    break-inside: avoid; page-break-inside: avoid; }}
  h1, h2, h3 {{ break-after: avoid; page-break-after: avoid; }}
  p, li, span, div {{ overflow-wrap: normal !important; word-break: normal !important;
    hyphens: none !important; }}
  [data-testid="stPlotlyChart"], [data-testid="stMetric"] {{ overflow: hidden; }}
  * {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
}}
"""

_PRESENT = f"""
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stToolbar"],
[data-testid="stDecoration"], [data-testid="stHeader"] {{ display: none !important; }}
{_CONTROLS} {{ display: none !important; }}
.stMain .st-key-present_nav [data-testid="stButton"],
.stMain .st-key-present_exit [data-testid="stButton"] {{ display: block !important; }}
[data-testid="stMainBlockContainer"] {{ max-width: 1500px; padding-top: 1.5rem !important;
  padding-left: 3rem !important; padding-right: 3rem !important; }}
.stMain {{ font-size: 1.2rem; }}
.stMain h1 {{ font-size: 2.6rem !important; }}
.stMain h2, .stMain h3 {{ font-size: 1.9rem !important; }}
.stMain [data-testid="stMarkdownContainer"] p, .stMain li {{ font-size: 1.25rem; }}
.stMain [data-testid="stCaptionContainer"] p {{ font-size: 1.05rem; }}
[data-testid="stMetricLabel"] p {{ font-size: 1.1rem !important; }}
[data-testid="stMetricValue"] > div {{ font-size: 2.6rem !important; }}
.st-key-present_exit {{ position: fixed; top: .6rem; right: 1rem; z-index: 1000; width: auto; }}
"""

_SCRIPT = f"""
<script>
(function () {{
  var root = window.parent && window.parent.document ? window.parent : window;
  if (root.__crmPrint) return;
  root.__crmPrint = true;
  function fit() {{
    var doc = root.document, main = doc.querySelector('[data-testid="stMainBlockContainer"]');
    if (!main) return;
    var width = main.getBoundingClientRect().width;
    if (!width) return;
    var style = doc.documentElement.style;
    style.setProperty('--crm-print-width', width + 'px');
    style.setProperty('--crm-print-zoom', String(Math.min(1, {PRINT_WIDTH_PX} / width)));
  }}
  root.addEventListener('beforeprint', fit);
  root.addEventListener('resize', fit);
  fit();
  // presentation mode: a new section starts at its top (Next sits under the last one)
  var last = null;
  root.setInterval(function () {{
    var now = new URLSearchParams(root.location.search).get('{STEP}');
    if (now === last) return;
    var main = root.document.querySelector('[data-testid="stMain"]');
    if (last !== null && main) main.scrollTop = 0;
    last = now;
  }}, 250);
}})();
</script>
"""


def presenting() -> bool:
    """Whether the session is in presentation mode (module docstring); keeps the flag in
    the address while the session moves between pages."""
    flag = st.query_params.get(PRESENT)
    if flag is not None:
        st.session_state[_SESSION] = flag in ("1", "true", "yes")
    on = bool(st.session_state.get(_SESSION, False))
    if on and flag is None:
        st.query_params[PRESENT] = "1"
    return on


def _exit() -> None:
    st.session_state[_SESSION] = False
    for name in (PRESENT, STEP):
        st.query_params.pop(name, None)


def _enter() -> None:
    st.session_state[_SESSION] = True
    st.query_params[PRESENT] = "1"
    st.query_params[STEP] = "1"


def apply() -> bool:
    """Add the stylesheets (and presentation mode's exit button); returns whether the
    session is presenting."""
    on = presenting()
    st.html(f"<style>{_COMMON}{_PRINT}{_PRESENT if on else ''}</style>")
    with st.sidebar:
        st.html(_SCRIPT, unsafe_allow_javascript=True)
    if on:
        with st.container(key="present_exit"):
            st.button("Exit presentation", key="present_exit_button", on_click=_exit,
                      icon=":material/close_fullscreen:")  # fmt: skip
    return on


def enter_button() -> None:
    """The button that starts presentation mode at the first section."""
    with st.container(key="present_enter"):
        st.button("Present", key="present_enter_button", on_click=_enter,
                  icon=":material/slideshow:")  # fmt: skip


def step(total: int) -> int:
    """The section shown in presentation mode (0-based, from ``&step=N``)."""
    try:
        n = int(st.query_params.get(STEP, "1"))
    except ValueError:
        n = 1
    return min(max(n, 1), max(total, 1)) - 1


def _go(n: int) -> None:
    st.query_params[STEP] = str(n)


def step_buttons(total: int) -> None:
    """Previous / Next at the foot of a section in presentation mode."""
    now = step(total) + 1
    with st.container(key="present_nav", horizontal=True):
        st.button("Previous", key="present_prev", on_click=_go, args=(now - 1,),
                  disabled=now <= 1, icon=":material/arrow_back:")  # fmt: skip
        st.button("Next", key="present_next", on_click=_go, args=(now + 1,),
                  disabled=now >= total, icon=":material/arrow_forward:")  # fmt: skip
