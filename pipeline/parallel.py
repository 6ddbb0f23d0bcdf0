"""How many processes a stage may fork for work whose results do not depend on that number, and work a stage
may leave running while the stages after it, which do not read its result, go on."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

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


def _call(job: tuple) -> Any:
    function, argument = job
    return function(argument)


def forked_map(jobs: list[tuple[Callable[[Any], Any], Any]], processes: int | None = None) -> list:
    """`function(argument)` for each `(function, argument)` of `jobs`, results in order, in forked processes when
    more than one may be used (`processes`, else `workers`). The functions must be deterministic (seeded), so the
    results are those of a serial run; they and the arguments travel by pickle, and forked processes see the
    module state of the moment of forking."""
    processes = workers(len(jobs)) if processes is None else max(1, min(processes, workers(len(jobs))))
    if processes <= 1:
        return [_call(job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_call, jobs, chunksize=1))


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
