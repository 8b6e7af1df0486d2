"""Benchmarks: run on demand with `make bench` / `./dev bench`, never part of the tests."""
