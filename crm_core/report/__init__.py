"""The quarterly review: a deck built from the pages' own numbers and figures.

:mod:`~crm_core.report.inputs` gathers the pages' results for one snapshot and date,
:mod:`~crm_core.report.sections` turns them into slides (a list of sections others can
extend), and :mod:`~crm_core.report.export` writes PowerPoint, PDF or a self-contained web
page. Import from the submodules (this package stays light to import).
"""
