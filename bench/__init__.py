"""Benchmarks: casehooks against baselines run in the same process tree at the same time (``python -m bench``)."""
