"""Evaluation: metrics, dataset loaders (`datasets/`), methods and baselines, the runner
behind ``vidseek eval``, reports, and the synthetic needle and fact benchmarks."""
