"""Benchmarks: `python bench/run.py` (the `make bench` target)."""
