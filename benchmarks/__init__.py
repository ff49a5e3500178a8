"""Benchmarks of flowsim, kept apart from the tests: `make bench` or `python -m benchmarks`."""
