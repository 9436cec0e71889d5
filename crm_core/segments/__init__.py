"""Segments: who earns the profit and who costs it (profit tiers, whale curve, value
matrix, RFM, cost to serve)."""
