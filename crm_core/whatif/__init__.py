"""What-if: the projection engine, the baseline measured from a snapshot, the optimiser
and saved scenarios."""
