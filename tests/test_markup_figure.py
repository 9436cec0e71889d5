"""``literal_figure``: every data-derived string of a figure is shown as typed by plotly."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.charts.style import empty_figure, literal_figure

HOSTILE = "<img src=x onerror=alert(1)> & [x](javascript:alert(1)) <a href='http://127.0.0.1:9'>"


def _shown(s: str) -> str:
    """What plotly draws for a string: entities decoded after the tags are taken out."""
    return html.unescape(s)


def test_data_fields_are_escaped_in_full() -> None:
    fig = go.Figure(
        go.Bar(
            x=[HOSTILE, "plain"],
            y=[1, 2],
            name=HOSTILE,
            customdata=np.array([[HOSTILE, 1.5], ["b", 2.5]], dtype=object),
            hovertemplate="<b>%{x}</b><br>%{customdata[0]}<extra></extra>",
        )
    )
    fig.update_xaxes(categoryarray=["plain", HOSTILE])
    out = literal_figure(fig)
    bar = out["data"][0]
    assert bar["x"][0] == html.escape(HOSTILE, quote=False) and "<" not in bar["x"][0]
    assert _shown(bar["x"][0]) == HOSTILE  # shown exactly as typed
    assert bar["name"] == html.escape(HOSTILE, quote=False)
    assert bar["customdata"][0][0] == html.escape(HOSTILE, quote=False)
    assert bar["customdata"][0][1] == 1.5 and bar["y"] == [1, 2]  # numbers untouched
    assert bar["hovertemplate"] == "<b>%{x}</b><br>%{customdata[0]}<extra></extra>"
    assert out["layout"]["xaxis"]["categoryarray"][1] == bar["x"][0]  # order still matches
    assert fig.data[0].x[0] == HOSTILE  # the figure itself is not modified


def test_markup_fields_keep_house_tags_only() -> None:
    fig = go.Figure(go.Scatter(x=[1], y=[2], text=[f"<b>{HOSTILE}</b><br>12%"], mode="text"))
    fig.add_annotation(text=f"Top <i>{HOSTILE}</i>", x=0, y=0)
    out = literal_figure(fig)
    text = out["data"][0]["text"][0]
    assert text.startswith("<b>") and "</b><br>12%" in text
    assert "<img" not in text and "<a " not in text and "&lt;img" in text
    note = out["layout"]["annotations"][0]["text"]
    assert note.startswith("Top <i>") and "<a " not in note


def test_idempotent_and_keeps_escaped_empty_state() -> None:
    fig = empty_figure("Nothing", "sub", "No <data> & none")
    once = literal_figure(fig)
    assert literal_figure(once) is once
    assert once["layout"]["annotations"][0]["text"] == "No &lt;data&gt; &amp; none"
    assert once["layout"]["title"]["text"] == fig.layout.title.text


@settings(max_examples=100, deadline=None)
@given(names=st.lists(st.text(max_size=30), min_size=1, max_size=5, unique=True))
def test_any_names_survive_as_typed(names: list[str]) -> None:
    fig = go.Figure(go.Bar(x=names, y=list(range(len(names))), name=names[0], text=names))
    out = literal_figure(fig)["data"][0]
    assert [_shown(v) for v in out["x"]] == names
    assert _shown(out["name"]) == names[0]
    assert all("<" not in v for v in out["x"])
    go.Figure(literal_figure(fig))  # still a valid figure
