"""``escape_markdown``: any text is shown as typed by Streamlit's Markdown."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from crm_app.state import escape_markdown
from crm_app.ui import esc

SPECIALS = set("\\`*_{}[]()#+-.!|<>:~$=")
WORD_JOINER = "\u2060"


def _unescaped(text: str) -> str:
    """What Markdown shows for an escaped string: a backslash escape gives its character;
    the word joiner is invisible."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.S).replace(WORD_JOINER, "")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_every_special_character_is_escaped_and_the_text_kept(text: str) -> None:
    out = escape_markdown(text)
    assert _unescaped(out) == text.replace(WORD_JOINER, "")
    i = 0
    while i < len(out):  # no special character without its backslash
        if out[i] == "\\":
            i += 2
            continue
        assert out[i] not in SPECIALS, (text, out, i)
        i += 1


def test_bare_addresses_are_not_links() -> None:
    out = escape_markdown("see http://127.0.0.1:9/p.png, www.example.com or ann@example.com")
    assert "://" not in out.replace("\\", "") and "http\\:\u2060//" in out
    assert "www\u2060\\." in out and "ann\u2060@example" in out
    assert esc is escape_markdown


def test_the_issue_names() -> None:
    for name in ("<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", ":red[x]",
                 "![](http://127.0.0.1:9/p.png)"):  # fmt: skip
        out = escape_markdown(name)
        assert "[" not in out.replace("\\[", "") and "<" not in out.replace("\\<", "")
        assert _unescaped(out) == name
