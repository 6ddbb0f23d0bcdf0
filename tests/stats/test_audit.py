"""The recomputation attack (pipeline.stats.audit) on hand-worked tables."""

import numpy as np

from pipeline.stats.audit import Interval, System, intervals, recovered


def _table(hidden: list[tuple[int, int]], truth: np.ndarray, rows: bool = True, columns: bool = True) -> System:
    """A two-way table with published row and column totals and the cells in `hidden` unknown."""
    where = {cell: i for i, cell in enumerate(hidden)}
    system = System(np.array([truth[cell] for cell in hidden], dtype=float))
    lines = []
    if rows:
        lines += [[(r, c) for c in range(truth.shape[1])] for r in range(truth.shape[0])]
    if columns:
        lines += [[(r, c) for r in range(truth.shape[0])] for c in range(truth.shape[1])]
    for cells in lines:
        rhs = float(sum(truth[cell] for cell in cells))
        index = [where[cell] for cell in cells if cell in where]
        rhs -= sum(truth[cell] for cell in cells if cell not in where)
        system.relate(np.array(index), np.ones(len(index)), rhs)
    return system


TRUTH = np.array([[3, 12, 20],
                  [8, 2, 15],
                  [9, 14, 6]])


def test_a_lone_hidden_cell_is_recomputed_from_its_row_total():
    # 3 = 35 - 12 - 20: hiding one cell of a row with a published total protects nothing
    assert recovered(_table([(0, 0)], TRUTH)) == [0]


def test_two_hidden_cells_in_a_row_are_recomputed_from_their_columns():
    # row 0 hides 3 and 12, but columns 0 and 1 have no other hidden cell: 3 = 20 - 8 - 9
    assert sorted(recovered(_table([(0, 0), (0, 1)], TRUTH))) == [0, 1]


def test_a_rectangle_of_hidden_cells_protects_each_of_them():
    # (0,0)=3, (0,1)=12, (1,0)=8, (1,1)=2: moving +t, -t, -t, +t keeps every total, t in [-2, 3]
    system = _table([(0, 0), (0, 1), (1, 0), (1, 1)], TRUTH)
    found = intervals(system)
    assert recovered(system) == []
    assert all(not interval.recovered for interval in found.values())


def test_the_exact_interval_of_a_rectangle():
    from pipeline.stats.audit import _Programme, _solve

    system = _table([(0, 0), (0, 1), (1, 0), (1, 1)], TRUTH)
    programme = _Programme(system, *system.matrix())
    # x00 = 3 + t with x11 = 2 + t >= 0 and x01 = 12 - t, x10 = 8 - t >= 0: t in [-2, 8] -> x00 in [1, 11]
    # (the relations hold within a relative slack of 1e-6 of their right-hand sides, at most 20 here)
    for _ in range(2):
        interval = _solve(0, programme)
        assert abs(interval.low - 1) < 1e-4 and abs(interval.high - 11) < 1e-4


def test_bounds_can_pin_a_cell_that_the_equations_leave_free():
    # a rectangle whose partner cells are 0: the cell can only move one way, and here not at all
    truth = np.array([[2, 0], [0, 5]])
    system = _table([(0, 0), (0, 1), (1, 0), (1, 1)], truth, rows=True, columns=True)
    # x00 + x01 = 2, x10 + x11 = 5, x00 + x10 = 2, x01 + x11 = 5 -> x00 = 2 - x01 = 2 - t, t in [0, 2]
    assert recovered(system) == []
    tight = np.array([[1, 0], [0, 0]])
    assert recovered(_table([(0, 0), (0, 1), (1, 0), (1, 1)], tight)) == [0, 1, 2, 3]


def test_an_interval_holding_one_integer_is_a_recovery():
    assert Interval(2.3, 3.2).recovered
    assert Interval(3.0, 3.0).recovered
    assert not Interval(2.0, 3.0).recovered
    assert not Interval(0.0, 11.0).recovered


def test_a_second_moment_recovers_cells_that_the_total_and_mean_do_not():
    # one row of a five-point scale, counts (1, 0, 4, 0, 3) with levels 1 and 2 hidden: n and the mean
    # give x1 + x2 = 1 and x1 + 2 x2 = 1, so x1 = 1 exactly
    truth = np.array([1.0, 0.0])
    system = System(truth)
    system.relate(np.array([0, 1]), np.array([1.0, 1.0]), 1.0)
    assert recovered(system) == []
    system.relate(np.array([0, 1]), np.array([1.0, 2.0]), 1.0)
    assert recovered(system) == [0, 1]


def test_making_a_solver_prints_nothing():
    """HiGHS 1.16 prints a banner on the first solver of a process; the attack keeps standard output clean,
    for the first solver and the ones after it."""
    import subprocess
    import sys

    code = ("import numpy as np; from pipeline.stats.audit import System, _Programme; "
            "s = System(np.array([1.0, 2.0])); s.relate(np.array([0, 1]), np.array([1.0, 1.0]), 3.0); "
            "_Programme(s, *s.matrix()); _Programme(s, *s.matrix()); print('done')")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout == "done\n"
