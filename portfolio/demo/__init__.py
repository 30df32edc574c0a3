"""Synthetic centres for demonstrations and benchmarks: ``portfolio demo generate``."""
