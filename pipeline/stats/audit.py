"""The recomputation attack on a suppressed table: how narrowly can each hidden count be pinned down?

A table is a matrix of non-negative counts x[r, c] (rows: groups, columns: levels) some of which are
published and some hidden. An attacker knows every published count and every published linear relation
(row totals, column partitions, top-box counts, mean × n, second moments, …). For each hidden count the
attack solves two linear programmes, the minimum and the maximum of that count subject to all of it
(integrality relaxed), with HiGHS (highspy), one model per table re-solved from its last basis. A hidden count is *recovered* when the
interval [min, max] contains a single integer: the attacker then knows it exactly.

A cheap certificate avoids most programmes: the true table is feasible, so if a direction d in the null
space of the equality relations with d_j = ±1 can move x_j one whole unit up or down without making any
hidden count negative, the count is protected. Only counts without such a certificate are solved.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

TOLERANCE = 1e-6
_SOLVER_MADE = False


@contextlib.contextmanager
def _no_banner() -> Iterator[None]:
    """Standard output (the file descriptor, which C code writes to) sent to the null device while the block
    runs, the first time in a process (a forked child inherits HiGHS's state with this module's): HiGHS 1.16
    prints a banner when a process makes its first solver, before any option can turn it off."""
    import ctypes

    global _SOLVER_MADE
    if _SOLVER_MADE:
        yield
        return
    _SOLVER_MADE = True
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 1)
        os.close(saved)


@dataclass
class System:
    """Published linear relations over the hidden counts of one table.

    `truth` holds the true value of every hidden count (used only to build the certificate and to report; the
    attack itself never reads it). Each relation is sum(coef · x[hidden]) = rhs, where published counts have
    already been moved to the right-hand side. `upper` are upper bounds (e.g. a multi-select count ≤ n).
    """

    truth: np.ndarray
    rows: list[tuple[np.ndarray, np.ndarray, float]] = field(default_factory=list)
    upper: dict[int, float] = field(default_factory=dict)

    def relate(self, index: np.ndarray, coef: np.ndarray, rhs: float) -> None:
        """Add sum(coef · x[index]) = rhs (indices into the hidden counts); relations with no hidden term are
        dropped (they are checks on published values, not information about hidden ones)."""
        index, coef = np.asarray(index, dtype=int), np.asarray(coef, dtype=float)
        keep = coef != 0
        if keep.any():
            self.rows.append((index[keep], coef[keep], float(rhs)))

    def matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """(A, b) of the equality relations."""
        a = np.zeros((len(self.rows), len(self.truth)))
        b = np.zeros(len(self.rows))
        for i, (index, coef, rhs) in enumerate(self.rows):
            np.add.at(a[i], index, coef)
            b[i] = rhs
        return a, b


@dataclass(frozen=True)
class Interval:
    """What the attacker learns about one hidden count: its feasible range and whether that pins it."""

    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def recovered(self) -> bool:
        """True when [low, high] holds at most one integer (the hidden count is then known exactly)."""
        return np.floor(self.high + TOLERANCE) - np.ceil(self.low - TOLERANCE) < 1


def _null_space(a: np.ndarray) -> np.ndarray:
    """An orthonormal basis (columns) of the null space of `a`."""
    if a.shape[0] == 0:
        return np.eye(a.shape[1])
    _, s, vt = np.linalg.svd(a)
    rank = int((s > TOLERANCE * max(1.0, s[0] if len(s) else 1.0)).sum())
    return vt[rank:].T


def _certified(j: int, basis: np.ndarray, system: System) -> bool:
    """True when some basis direction moves hidden count j by one whole unit up or down (scaled to d_j = ±1)
    while every hidden count stays within its bounds, starting from the true table."""
    truth = system.truth
    upper = np.array([system.upper.get(i, np.inf) for i in range(len(truth))])
    for k in np.flatnonzero(np.abs(basis[j]) > 1e-9):
        d = basis[:, k] / basis[j, k]
        for sign in (1.0, -1.0):
            moved = truth + sign * d
            if (moved >= -TOLERANCE).all() and (moved <= upper + TOLERANCE).all():
                return True
    return False


class _Programme:
    """One HiGHS model of a system: variables bounded by [0, upper], every equality relation a ranged row
    [rhs - slack, rhs + slack] (slack: a relative tolerance). Costs change between solves and the simplex
    restarts from the previous basis, so the many programmes of one audit cost little more than one."""

    def __init__(self, system: System, a: np.ndarray, b: np.ndarray):
        import highspy
        from scipy.sparse import csc_matrix

        self.size = len(system.truth)
        with _no_banner():
            self.highs = highspy.Highs()
        self.highs.silent()
        self.highs.setOptionValue("threads", 1)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.size, len(b)
        lp.col_cost_ = np.zeros(self.size)
        lp.col_lower_ = np.zeros(self.size)
        lp.col_upper_ = np.array([system.upper.get(i, highspy.kHighsInf) for i in range(self.size)], dtype=float)
        slack = TOLERANCE * np.maximum(1.0, np.abs(b))
        lp.row_lower_, lp.row_upper_ = b - slack, b + slack
        matrix = csc_matrix(a)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        self.highs.passModel(lp)
        self.status = highspy.HighsModelStatus

    def minimise(self, cost: np.ndarray) -> np.ndarray | None | float:
        """The minimising table (None when the relations are infeasible, -inf when the minimum is unbounded; HiGHS's
        "unbounded or infeasible" is read as unbounded, since the true table always satisfies the relations)."""
        self.highs.changeColsCost(self.size, np.arange(self.size, dtype=np.int32), np.asarray(cost, dtype=float))
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == self.status.kOptimal:
            return np.asarray(self.highs.getSolution().col_value)
        if status in (self.status.kUnbounded, self.status.kUnboundedOrInfeasible):
            return -np.inf
        return None


def _solve(j: int, programme: _Programme) -> Interval:
    """The LP interval of hidden count j: its minimum and maximum subject to the relations."""
    ends = []
    for sense in (1.0, -1.0):
        c = np.zeros(programme.size)
        c[j] = sense
        x = programme.minimise(c)
        if x is None:
            raise ValueError("audit LP found no table satisfying the published relations; they are inconsistent")
        ends.append((np.inf if sense < 0 else 0.0) if np.isscalar(x) else float(x[j]))
    return Interval(ends[0], ends[1])


def _sweep(system: System, programme: _Programme, targets: list[int]) -> dict[int, Interval]:
    """Intervals proved wide by up to four programmes for all targets at once: feasible tables minimising, then
    maximising, the sum of the targets not yet moved, then the same with alternating signs; a target that
    differs there from its true value by a whole unit is not recovered (its interval holds both values)."""
    found: dict[int, Interval] = {}
    for sense in (1.0, -1.0, 0.5, -0.5):
        open_ = [j for j in targets if j not in found]
        if not open_:
            break
        c = np.zeros(programme.size)
        c[open_] = np.sign(sense) * (1.0 if abs(sense) == 1 else (-1.0) ** np.arange(len(open_)))
        x = programme.minimise(c)
        if x is None or np.isscalar(x):
            continue
        for j in open_:
            low, high = sorted((float(system.truth[j]), float(x[j])))
            if not Interval(low, high).recovered:
                found[j] = Interval(low, high)
    return found


def intervals(system: System, targets: list[int] | None = None, first: bool = False) -> dict[int, Interval]:
    """The attacker's interval for each target hidden count (default: every hidden count); with `first`, only
    up to the first recovered one. Counts a sweep (`_sweep`, for more than two targets) moves get the range
    between their true and moved values; of the rest, counts with a null-space certificate (tried when the
    sweep moved nothing and more than three remain) get [truth − 1, truth + 1] clipped to their bounds, both without a programme of their
    own (enough to show they are not recovered); the others are solved exactly."""
    a, b = system.matrix()
    targets = list(range(len(system.truth)) if targets is None else targets)
    programme = _Programme(system, a, b)
    found = _sweep(system, programme, targets) if len(targets) > 2 and len(a) else {}
    rest = [j for j in targets if j not in found]
    basis = _null_space(a) if len(rest) > 3 and not found else None
    for j in rest:
        if basis is not None and _certified(j, basis, system):
            found[j] = Interval(max(0.0, system.truth[j] - 1), system.truth[j] + 1)
        else:
            found[j] = _solve(j, programme)
            if first and found[j].recovered:
                break
    return {j: found[j] for j in targets if j in found}


def recovered(system: System, targets: list[int] | None = None, first: bool = False) -> list[int]:
    """The target hidden counts an attacker pins down exactly (with `first`: at most one, the first found)."""
    return [j for j, interval in intervals(system, targets, first).items() if interval.recovered]
