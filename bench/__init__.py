"""Benchmarks at a country's scale: ``make bench`` (see bench/README.md)."""
