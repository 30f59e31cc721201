"""Benchmarks: each module runs alone (``python -m bench.<name>``); results go to docs/benchmarks.md."""
