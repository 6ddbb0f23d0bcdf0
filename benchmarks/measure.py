"""Run a child process and measure it: wall time, CPU time (user + system) and peak resident memory.

`os.wait4` gives the rusage of exactly that child (on Linux including the children it waited for, e.g. the
worker processes of the analysis: CPU is summed, `ru_maxrss` is the largest single process).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence


#: Environment and working folder of every measured child unless given: set by the runner so children import
#: the code being benchmarked (a snapshot of a commit, or the work tree) and not whatever the cwd holds.
CHILD = {"env": None, "cwd": None}


class ChildFailed(RuntimeError):
    """A measured child process exited non-zero."""


def maxrss_mb(value: int) -> float:
    """ru_maxrss in MiB (kilobytes on Linux, bytes on macOS)."""
    return value / (1024 * 1024) if sys.platform == "darwin" else value / 1024


def run_child(cmd: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> dict:
    """Run `cmd` to completion and return {wall, user, sys, cpu, maxrss_mb, stdout, stderr}.

    Output goes to temporary files (no pipe to fill up while we block in wait4). Raises ChildFailed,
    with the end of stderr, when the child exits non-zero.
    """
    env = CHILD["env"] if env is None else env
    cwd = CHILD["cwd"] if cwd is None else cwd
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(map(str, cmd)), cwd=cwd, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise ChildFailed(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{tail}")
    return {"wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime, "cpu": usage.ru_utime + usage.ru_stime,
            "maxrss_mb": maxrss_mb(usage.ru_maxrss), "stdout": stdout, "stderr": stderr}


METRICS = ("wall", "cpu", "maxrss_mb")


def summarise(samples: list[dict]) -> dict:
    """Median of each metric over runs, plus the runs themselves (min and max too, to show the spread)."""
    summary: dict = {"runs": len(samples)}
    for key in METRICS:
        values = [s[key] for s in samples]
        summary[key] = statistics.median(values)
        summary[f"{key}_min"] = min(values)
        summary[f"{key}_max"] = max(values)
        summary[f"{key}_all"] = values
    return summary


def loadavg() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None
