"""Benchmarks (issue 5): matching speed, the bot end to end, memory and start-up.

Run everything with `python -m bench.run` (or `make bench`); results go to bench/RESULTS.md.
"""
