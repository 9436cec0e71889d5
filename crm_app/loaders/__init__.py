"""Cached loaders: the only place the app computes anything.

``base`` holds what every page shares, built once per snapshot, fingerprint and date and
shared by all sessions (``st.cache_resource``): the customer ledger, the fitted CLV model
set, valuations and the metric inputs. Each page has one module here with the loader it
calls (``crm_app.loaders.overview``, ...), which reads the shared objects and never
refits or rebuilds them. Cached results are frozen dataclasses or polars frames; callers
must not mutate them.
"""
