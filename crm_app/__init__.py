"""The Streamlit layer shared by the pages: sidebar, selection, cached snapshot access."""
