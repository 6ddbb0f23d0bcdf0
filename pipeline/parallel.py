"""How many processes a stage may fork for work whose results do not depend on that number, and work a stage
may leave running while the stages after it, which do not read its result, go on."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

_PENDING: list[Callable[[], None]] | None = None


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


@contextlib.contextmanager
def overlapping() -> Iterator[None]:
    """A block in which `later` defers waiting for background work; the block waits for all of it when it ends
    (re-raising the first error of that work, unless the block itself raised, whose error then wins)."""
    global _PENDING
    outer, _PENDING = _PENDING, []
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            settle()
        raise
    else:
        settle()
    finally:
        _PENDING = outer


def later(wait: Callable[[], None]) -> None:
    """Call `wait` (it blocks until some background work is done and raises that work's error) when the
    enclosing `overlapping` block settles, or now outside such a block."""
    if _PENDING is None:
        wait()
    else:
        _PENDING.append(wait)


def settle() -> None:
    """Wait for every piece of background work deferred with `later`, in the order it was deferred; each is
    waited for even when an earlier one failed, and the first error is raised after."""
    failed = None
    while _PENDING:
        try:
            _PENDING.pop(0)()
        except Exception as error:
            failed = failed or error
    if failed is not None:
        raise failed
