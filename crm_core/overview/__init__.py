"""The Executive overview: KPI cards and the quarterly trend."""
