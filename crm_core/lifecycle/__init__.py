"""The customer lifecycle: stages, transitions, funnel, cohorts and profit by tenure."""
