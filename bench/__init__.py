"""Developer benchmarks (not part of the product package): `make bench` runs bench/run.py."""
