"""Benchmarks: each prints its figures and a ratio against a baseline measured in the same run.

Run from the repository root, e.g. `.venv/bin/python -m bench.fanout --help`; see bench/README.md.
"""
