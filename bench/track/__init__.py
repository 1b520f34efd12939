"""Weights & Biases: a run per point, the sweep's summary run, offline runs left behind."""
