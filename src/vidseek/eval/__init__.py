"""Evaluation: dataset loaders (`datasets/`, the synthetic needle haystack among them),
metrics, methods and baselines, one runner behind ``vidseek eval`` and ``vidseek bench
needle``, its typed per-sample records (`records`), scoring and reports."""
