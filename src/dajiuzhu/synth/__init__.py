"""A synthetic Changzhou for demos, tests and benchmarks."""
