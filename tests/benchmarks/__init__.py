"""Benchmarks (``make bench``): figures for the issue notes, not pass/fail tests."""
