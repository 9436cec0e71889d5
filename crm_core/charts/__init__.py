"""Plotly figure builders: data in, ``go.Figure`` out, no Streamlit.

One module per area of the product; pages and the report exporter share them so a chart
looks the same on screen and in the deck.
"""

from crm_core.charts.style import apply_layout

__all__ = ["apply_layout"]
