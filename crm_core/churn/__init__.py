"""Churn early warning: who is about to leave, what they are worth, and who to call first.

Modules, in the order the report uses them:

* :mod:`.columns` - column names of the features and results;
* :mod:`.cuts` - the cut dates (training, test, scoring) and the label (the ledger's
  activity rule, ``horizon`` periods after the cut);
* :mod:`.features` - the features of a customer at a cut, one polars pipeline;
* :mod:`.model_features` - P(alive), expected purchases and the next purchase date from
  the shared BG/NBD fit, renewal odds from the sBG fit;
* :mod:`.model` - the calibrated gradient-boosting model, the logistic regression and the
  recency baseline;
* :mod:`.evaluate` - ROC AUC, PR AUC, Brier score, lift by decile, calibration curve;
* :mod:`.reasons` - each customer's strongest reasons (feature groups);
* :mod:`.value` - value at risk, the call list, savings of contacting its top K;
* :mod:`.report` - :func:`~crm_core.churn.report.churn_report`, everything together.

Nothing here refits a CLV model: the model sets fitted at the cut dates are passed in.
"""
