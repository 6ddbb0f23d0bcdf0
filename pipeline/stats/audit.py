"""The recomputation attack on a suppressed table: how narrowly can each hidden count be pinned down?

A table is a matrix of non-negative counts x[r, c] (rows: groups, columns: levels) some of which are
published and some hidden. An attacker knows every published count and every published linear relation
(row totals, column partitions, top-box counts, mean × n, second moments, …). For each hidden count the
attack solves two linear programmes, the minimum and the maximum of that count subject to all of it
(integrality relaxed), with HiGHS (scipy.optimize.linprog). A hidden count is *recovered* when the
interval [min, max] contains a single integer: the attacker then knows it exactly.

A cheap certificate avoids most programmes: the true table is feasible, so if a direction d in the null
space of the equality relations with d_j = ±1 can move x_j one whole unit up or down without making any
hidden count negative, the count is protected. Only counts without such a certificate are solved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TOLERANCE = 1e-6


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


def _solve(j: int, system: System, a: np.ndarray, b: np.ndarray) -> Interval:
    """The LP interval of hidden count j: min and max subject to the relations within a small tolerance."""
    from scipy.optimize import linprog

    size = len(system.truth)
    slack = TOLERANCE * np.maximum(1.0, np.abs(b))
    a_ub = np.vstack([a, -a]) if len(a) else None
    b_ub = np.concatenate([b + slack, -(b - slack)]) if len(a) else None
    bounds = [(0, system.upper.get(i)) for i in range(size)]
    ends = []
    for sense in (1.0, -1.0):
        c = np.zeros(size)
        c[j] = sense
        result = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if result.status == 3:
            ends.append(np.inf if sense < 0 else 0.0)
        elif result.status != 0:
            raise ValueError(f"audit LP failed ({result.message}); the published relations are inconsistent")
        else:
            ends.append(float(result.x[j]))
    return Interval(ends[0], ends[1])


def _sweep(system: System, a: np.ndarray, b: np.ndarray, targets: list[int]) -> dict[int, Interval]:
    """Intervals proved wide by up to four programmes for all targets at once: feasible tables minimising, then
    maximising, the sum of the targets not yet moved, then the same with alternating signs; a target that
    differs there from its true value by a whole unit is not recovered (its interval holds both values)."""
    from scipy.optimize import linprog

    if not len(a):
        return {}
    slack = TOLERANCE * np.maximum(1.0, np.abs(b))
    bounds = [(0, system.upper.get(i)) for i in range(len(system.truth))]
    found: dict[int, Interval] = {}
    for sense in (1.0, -1.0, 0.5, -0.5):
        open_ = [j for j in targets if j not in found]
        if not open_:
            break
        c = np.zeros(len(system.truth))
        c[open_] = np.sign(sense) * (1.0 if abs(sense) == 1 else (-1.0) ** np.arange(len(open_)))
        result = linprog(c, A_ub=np.vstack([a, -a]), b_ub=np.concatenate([b + slack, -(b - slack)]), bounds=bounds,
                         method="highs")
        if result.status != 0:
            continue
        for j in open_:
            low, high = sorted((float(system.truth[j]), float(result.x[j])))
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
    found = _sweep(system, a, b, targets) if len(targets) > 2 else {}
    rest = [j for j in targets if j not in found]
    basis = _null_space(a) if len(rest) > 3 and not found else None
    for j in rest:
        if basis is not None and _certified(j, basis, system):
            found[j] = Interval(max(0.0, system.truth[j] - 1), system.truth[j] + 1)
        else:
            found[j] = _solve(j, system, a, b)
            if first and found[j].recovered:
                break
    return {j: found[j] for j in targets if j in found}


def recovered(system: System, targets: list[int] | None = None, first: bool = False) -> list[int]:
    """The target hidden counts an attacker pins down exactly (with `first`: at most one, the first found)."""
    return [j for j, interval in intervals(system, targets, first).items() if interval.recovered]
