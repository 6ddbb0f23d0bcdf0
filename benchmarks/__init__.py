"""Benchmarks of the pulse pipeline (issue #9): `python -m benchmarks --help`.

Synthetic Risk Pulse waves of several sizes are generated with the seeded generator (cached in a scratch
folder outside the repository), then every registered stage is timed as the CLI runs it (a fresh
`python -m pipeline.cli --root DIR <stage> WAVE_DIR` process each time, so start-up and imports count),
the whole pipeline end to end (`pulse --root DIR run WAVE_DIR`), the analysis functions in-process, a
`pandas.read_csv(engine="pyarrow")` baseline, a no-op `dvc repro`, and pyinstrument profiles. The runner
writes `benchmarks/results.md`.

This package imports nothing heavy at import time: its child-process entry points (`python -m
benchmarks.inprocess`, `python -m benchmarks.profiling`, `python -m benchmarks.baseline`) are timed.
"""
