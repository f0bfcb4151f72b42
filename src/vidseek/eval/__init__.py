"""Evaluation: metrics, and later dataset loaders, baselines and reports."""
