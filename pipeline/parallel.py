"""How many processes a stage may fork for work whose results do not depend on that number."""

from __future__ import annotations


def workers(count: int) -> int:
    """How many processes share `count` independent jobs: one per CPU this process may use (the environment
    variable PULSE_WORKERS overrides), never more than the jobs, and 1 where processes cannot be forked."""
    import multiprocessing
    import os

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    wanted = os.environ.get("PULSE_WORKERS", "").strip()
    cpus = int(wanted) if wanted.isdigit() else len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1
    return max(1, min(cpus, count))
