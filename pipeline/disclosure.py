"""Disclosure control: no published count, share, mean or row describes fewer than `min_group` respondents
(a group) or `min_cell` respondents (a cell within a group), and no hidden value can be recomputed from what
is published.

The unit of protection is one question × one breakdown: a matrix whose rows are the whole sample (O), the
breakdown's described groups (G) and the *pool* (P: respondents in no published group — no value for the
breakdown, or in a group left out), and whose columns are the question's levels followed by the four
excluded-answer reasons. Published relations: every published count (and pct × n, which is the same), each
row's valid n (levels sum to n for a single-choice question; a multi-select count is at most n), each row's
excluded answers (they sum to the group size less n; the group size is assumed known to an attacker), each
column's partition O = ΣG + P, and each published top-box count, mean × n and second moment.

Rules, applied to a fixed point and deterministically (smallest count first, then table order):
1. group: a group is left out of every item of a question group when its smallest valid n over the items
   (ignoring items it was not asked) is below `min_group`; the pool must then hold 0 or at least `min_group`
   respondents in every item, else the next smallest group is left out too. Left-out groups publish nothing,
   not even n.
2. primary: a count 0 < x < `min_cell`, in any row including O and the pool.
3. row: a row with a hidden count in a block with a published total (levels of a single-choice question;
   excluded answers) hides at least two counts totalling at least `min_cell`.
4. column: a column never has exactly one hidden count among O, G and P (P's counts are not published, but
   they are derivable as O − ΣG unless another count of the column is hidden). O's pattern is the one of the
   `all` table, so it is the same in every breakdown.
5. derived: a row with hidden level counts hides its mean, SD and interval, and its top-box share when the
   hidden counts lie on both sides of the top-box edge (otherwise the top box adds no relation).
Then every unit is attacked (pipeline.stats.audit); a recovered count makes its row (then its column partner,
then its group) hidden too, and the rules run again. Breakdowns nested in one another (`nesting`: each
respondent's fine group determines their coarse row) are linked: rule 1 holds within every coarse row, and each
question's nested pair of units is attacked together with the equations linking them (`link_system`) and
tightened until nothing is recovered. Tests (chi-square, rank tests, models) are computed on
all respondents of the groups with at least `min_group` valid answers and are not treated as disclosive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.breakdowns import ALL, ALL_GROUP
from pipeline.errors import PulseError
from pipeline.stats.audit import System, recovered

EXCLUDED = ("dont_know", "refused", "blank", "not_asked")
SUPPRESSION_COLUMNS = ["table", "question", "breakdown", "group", "level", "reason", "rule"]
MAX_ROUNDS = 60
LINK_ROUNDS = 8


@dataclass
class Unit:
    """True counts of one question × breakdown. Rows: O, the described groups, the residual (respondents in
    no described group); columns: levels, then EXCLUDED. `n` is each row's valid n."""

    question: str
    key: str
    breakdown: str
    groups: tuple[str, ...]
    levels: tuple[str, ...]
    counts: np.ndarray
    n: np.ndarray
    multi: bool
    ordinal: bool
    topbox: tuple[int, ...]


@dataclass
class Plan:
    """The disclosure decision for a unit: left-out groups, and a hidden mask over rows O, published groups, P."""

    unit: Unit
    left_out: tuple[str, ...]
    published: tuple[str, ...]
    counts: np.ndarray
    n: np.ndarray
    mask: np.ndarray
    reasons: dict[tuple[int, int], str] = field(default_factory=dict)

    @property
    def size(self) -> np.ndarray:
        """Each row's group size (valid n plus excluded answers)."""
        return self.n + self.counts[:, len(self.unit.levels):].sum(axis=1)


# ---------------------------------------------------------------- true counts


def units(clean: pd.DataFrame, instrument, coded: dict | None = None) -> list[Unit]:
    """Every question × breakdown of distributions.csv with its true counts, in the analysis order."""
    from pipeline.analyze import outcome_variables, prepare, skipped, split_counts, tag_variables
    from pipeline.breakdowns import all_splits

    variables = outcome_variables(clean, instrument) + tag_variables(clean, instrument, coded or {})
    splits = all_splits(clean, instrument)
    found = []
    for variable in variables:
        key = variable.id if variable.group in ("", "derived") else variable.group
        overall, answers = None, prepare(variable)
        for split in splits:
            if skipped(variable, split, instrument):
                continue
            counts = split_counts(variable, split, answers)
            n = counts.n
            rows = np.hstack([counts.table, counts.status[:, 1:]]).astype(np.int64)
            if overall is None:
                overall = (rows[0], n[0])
            shown = list(split.described)
            groups = rows[shown] if split.breakdown != ALL else rows[:0]
            group_n = n[shown] if split.breakdown != ALL else n[:0]
            residual = overall[0] - groups.sum(axis=0)
            found.append(Unit(variable.id, key, split.breakdown,
                              tuple(split.labels[g] for g in shown) if split.breakdown != ALL else (),
                              tuple(variable.labels), np.vstack([overall[0], groups, residual]),
                              np.concatenate([[overall[1]], group_n, [overall[1] - group_n.sum()]]).astype(np.int64),
                              variable.selected is not None, variable.ordinal, tuple(variable.topbox)))
    return found


Nesting = dict[tuple[str, str], dict[str, str | None]]


def nesting(clean: pd.DataFrame, instrument) -> Nesting:
    """The nested pairs of breakdowns of a wave (see `nested_splits`)."""
    from pipeline.breakdowns import all_splits

    return nested_splits(all_splits(clean, instrument))


def nested_splits(splits) -> Nesting:
    """{(fine, coarse): {fine group: coarse group, or None for the coarse pool}} for every pair of breakdowns
    in which each respondent's described fine group determines their coarse row (a described coarse group, or
    the coarse pool: no value or a group not described, e.g. "not selected" of a multi-select choice), with
    at least one fine group inside a described coarse group. Computed from the respondents' codes; a fine
    group with no respondent lies in the pool."""
    real = [s for s in splits if s.breakdown != ALL]
    rows = {s.breakdown: np.where(np.isin(s.codes, s.described), s.codes, -1) for s in real}
    found: Nesting = {}
    for fine in real:
        member = np.isin(fine.codes, fine.described)
        for coarse in real:
            if coarse is fine:
                continue
            pairs = np.unique(fine.codes[member] * (len(coarse.labels) + 1) + rows[coarse.breakdown][member] + 1)
            a, b = np.divmod(pairs, len(coarse.labels) + 1)
            if len(np.unique(a)) != len(a):
                continue
            inside = dict.fromkeys((fine.labels[g] for g in fine.described), None)
            inside.update({fine.labels[g]: coarse.labels[r - 1] for g, r in zip(a, b) if r > 0})
            if any(v is not None for v in inside.values()):
                found[(fine.breakdown, coarse.breakdown)] = inside
    return found


# ---------------------------------------------------------------- rule 1: groups


def left_out_groups(found: list[Unit], min_group: int,
                    nested: "Nesting | None" = None) -> dict[tuple[str, str], tuple[str, ...]]:
    """Groups left out per (question group, breakdown), the same for every item of the question group. With
    `nested` (see `nesting`), the pool rule also holds within every row of each coarser breakdown."""
    by_key: dict[tuple[str, str], list[Unit]] = {}
    for unit in found:
        if unit.breakdown != ALL:
            by_key.setdefault((unit.key, unit.breakdown), []).append(unit)
    left = {key: _left_out(items, min_group) for key, items in by_key.items()}
    if not nested:
        return left
    by_question = {(u.question, u.breakdown): u for u in found}
    changed = True
    while changed:
        changed = False
        for (key, fine), coarse, inside in ((k, c, inside) for k in by_key for (f, c), inside in nested.items()
                                            if f == k[1] and (k[0], c) in left):
            coarse_units = [by_question.get((u.question, coarse)) for u in by_key[(key, fine)]]
            more = _left_out_within(by_key[(key, fine)], coarse_units, inside, left[(key, fine)],
                                    left[(key, coarse)], min_group)
            if more != left[(key, fine)]:
                left[(key, fine)], changed = more, True
    return left


def _smallest(items: list[Unit]) -> np.ndarray:
    """Each group's smallest positive valid n over the items (inf when it has none)."""
    sizes = np.array([[u.n[1 + g] for g in range(len(items[0].groups))] for u in items], dtype=float)
    return np.where(sizes > 0, sizes, np.inf).min(axis=0)


def _left_out_within(items: list[Unit], coarse_units: list[Unit | None], inside: dict, left_out: tuple[str, ...],
                     coarse_left_out: tuple[str, ...], min_group: int) -> tuple[str, ...]:
    """`left_out` plus further fine groups (smallest first, then order) until, in every item and every row of
    the coarse breakdown (a shown coarse group, or its pool), the respondents not in a shown fine group are
    none or at least min_group. Fine groups of a left-out coarse group belong to the coarse pool."""
    groups, smallest = items[0].groups, _smallest(items)
    out = {groups.index(g) for g in left_out}
    while True:
        short = _short_row(items, coarse_units, inside, out, coarse_left_out, min_group)
        if short is None:
            return tuple(groups[g] for g in sorted(out))
        out.add(min(short, key=lambda g: (smallest[g], g)))


def _short_row(items, coarse_units, inside, out, coarse_left_out, min_group) -> list[int] | None:
    """The shown fine groups of the first coarse row whose remainder is 0 < x < min_group, or None."""
    groups = items[0].groups
    for unit, coarse in zip(items, coarse_units):
        if coarse is None:
            continue
        shown = [b for b in coarse.groups if b not in coarse_left_out]
        sizes = {b: coarse.n[1 + coarse.groups.index(b)] for b in shown}
        sizes[None] = coarse.n[0] - sum(sizes.values())
        for row, size in sizes.items():
            members = [g for g in range(len(groups)) if g not in out
                       and (inside.get(groups[g]) if inside.get(groups[g]) in shown else None) == row]
            rest = size - sum(unit.n[1 + g] for g in members)
            if 0 < rest < min_group and members:
                return members
    return None


def _left_out(items: list[Unit], min_group: int) -> tuple[str, ...]:
    """Groups with a smallest positive n below min_group, plus the next smallest until every item's pool
    (residual + left-out groups) is empty or reaches min_group."""
    groups = items[0].groups
    smallest = _smallest(items)
    out = {g for g in range(len(groups)) if smallest[g] < min_group}
    while True:
        pools = [u.n[-1] + sum(u.n[1 + g] for g in out) for u in items]
        if all(p == 0 or p >= min_group for p in pools) or len(out) == len(groups):
            return tuple(groups[g] for g in sorted(out))
        rest = [g for g in range(len(groups)) if g not in out]
        out.add(min(rest, key=lambda g: (smallest[g], g)))


# ---------------------------------------------------------------- rules 2-4: cells


def blocks(unit: Unit) -> list[tuple[slice, bool]]:
    """(columns, has a published row total) for the levels and the excluded answers."""
    levels = len(unit.levels)
    return [(slice(0, levels), not unit.multi), (slice(levels, levels + len(EXCLUDED)), True)]


def pooled(unit: Unit, published: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(counts, valid n) of rows O, the published groups, and the pool (everyone else)."""
    index = [1 + unit.groups.index(g) for g in published]
    counts = np.vstack([unit.counts[0], unit.counts[index], unit.counts[0] - unit.counts[index].sum(axis=0)])
    n = np.concatenate([[unit.n[0]], unit.n[index], [unit.n[0] - unit.n[index].sum()]])
    return counts, n


def plan_unit(unit: Unit, left_out: tuple[str, ...], overall_mask: np.ndarray | None, min_cell: int,
              forced: np.ndarray | None = None) -> Plan:
    """The hidden mask of one unit by rules 2-4 (see the module docstring), starting from `forced`."""
    published = tuple(g for g in unit.groups if g not in left_out)
    counts, n = pooled(unit, published)
    plan = Plan(unit, left_out, published, counts, n, np.zeros(counts.shape, dtype=bool))
    primary = (counts > 0) & (counts < min_cell)
    for r, c in zip(*np.nonzero(primary)):
        plan.reasons[(int(r), int(c))] = "primary"
    plan.mask |= primary
    if overall_mask is not None:
        plan.mask[0] = overall_mask
    if forced is not None:
        plan.mask |= forced
    _fixed_point(plan, min_cell, free_overall=overall_mask is None)
    return plan


def _fixed_point(plan: Plan, min_cell: int, free_overall: bool) -> None:
    """Apply the row and column rules until nothing changes."""
    changed = True
    while changed:
        changed = _row_rule(plan, min_cell, free_overall)
        if len(plan.counts) > 2:
            changed = _column_rule(plan) or changed


def _hide(plan: Plan, r: int, c: int, why: str) -> None:
    plan.mask[r, c] = True
    plan.reasons.setdefault((r, c), why)


def _row_rule(plan: Plan, min_cell: int, free_overall: bool) -> bool:
    """Rule 3 on every row (O only in the `all` unit); True when a count was hidden."""
    changed = False
    rows = range(len(plan.counts)) if free_overall else range(1, len(plan.counts))
    for r in rows:
        if r == len(plan.counts) - 1 and plan.n[r] == 0 and plan.counts[r].sum() == 0:
            continue
        for columns, has_total in blocks(plan.unit)[:1]:
            if not has_total:
                continue
            hidden = plan.mask[r, columns]
            values = plan.counts[r, columns]
            usable = plan.counts[0, columns] > 0
            while hidden.any() and (hidden.sum() < 2 or values[hidden].sum() < min_cell) and (~hidden & usable).any():
                open_ = np.flatnonzero(~hidden & usable)
                pick = open_[np.lexsort((open_, values[open_], values[open_] == 0))[0]]
                _hide(plan, r, columns.start + int(pick), "complementary: row")
                hidden = plan.mask[r, columns]
                changed = True
    return changed


def _column_rule(plan: Plan) -> bool:
    """Rule 4 on every column: a lone hidden count gets a partner among the groups and the pool (never O, whose
    pattern comes from the `all` table); an empty pool is no partner (its counts are known zeros)."""
    changed = False
    last = len(plan.counts) - 1
    candidates = list(range(1, last)) + ([last] if plan.n[last] + plan.counts[last].sum() > 0 else [])
    for c in range(len(plan.unit.levels)):
        if plan.mask[:, c].sum() != 1 or plan.counts[0, c] == 0:
            continue
        open_ = [r for r in candidates if not plan.mask[r, c]]
        if not open_:
            continue
        pick = min(open_, key=lambda r: (plan.counts[r, c], r))
        _hide(plan, pick, c, "complementary: column")
        changed = True
    return changed


def derived_hidden(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """(top box hidden, mean hidden) per row by rule 5."""
    levels = len(plan.unit.levels)
    cells = plan.mask[:, :levels]
    mean = cells.any(axis=1)
    if not plan.unit.topbox:
        return np.zeros(len(cells), dtype=bool), mean
    inside = np.zeros(levels, dtype=bool)
    inside[list(plan.unit.topbox)] = True
    topbox = cells[:, inside].any(axis=1) & cells[:, ~inside].any(axis=1)
    return topbox, mean


# ---------------------------------------------------------------- the attack on one unit


@dataclass
class View:
    """What is published about one unit (NaN = hidden), as the audit reads it. Rows: O, published groups,
    P (never published). `size` (group sizes) is assumed known to the attacker."""

    unit: Unit
    values: np.ndarray
    n: np.ndarray
    size: np.ndarray
    topbox: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    truth: np.ndarray
    targets: np.ndarray
    published: tuple[str, ...] = ()


def view_of(plan: Plan) -> View:
    """The published view of a plan, straight from its masks."""
    topbox_hidden, mean_hidden = derived_hidden(plan)
    levels = len(plan.unit.levels)
    values = np.where(plan.mask, np.nan, plan.counts.astype(float))
    values[-1] = np.nan
    scores = np.arange(1, levels + 1, dtype=float)
    cells = plan.counts[:, :levels].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (cells @ scores) / plan.n
        sd = np.sqrt(np.maximum(cells @ scores ** 2 - plan.n * mean ** 2, 0) / (plan.n - 1))
    topbox = cells[:, list(plan.unit.topbox)].sum(axis=1) if plan.unit.topbox else np.full(len(cells), np.nan)
    hide_mean = mean_hidden | ~plan.unit.ordinal
    return View(plan.unit, values, plan.n.astype(float), plan.size.astype(float),
                np.where(topbox_hidden, np.nan, topbox), np.where(hide_mean, np.nan, mean),
                np.where(hide_mean, np.nan, sd), plan.counts.astype(float), plan.mask.copy(), plan.published)


def system_of(view: View) -> tuple[System, list[tuple[int, int]]]:
    """The attacker's relations over the hidden counts of a view, and the (row, column) of each hidden count."""
    hidden = [(int(r), int(c)) for r, c in zip(*np.nonzero(np.isnan(view.values)))]
    where = {cell: i for i, cell in enumerate(hidden)}
    system = System(np.array([view.truth[cell] for cell in hidden], dtype=float))
    last = len(view.values) - 1
    n = view.n.copy()
    n[last] = n[0] - n[1:last].sum()
    size = view.size.copy()
    size[last] = size[0] - size[1:last].sum()
    for r in range(len(view.values)):
        for columns, has_total in blocks(view.unit):
            total = n[r] if columns.start == 0 else size[r] - n[r]
            if has_total:
                _relate(system, view, where, [(r, c) for c in range(columns.start, columns.stop)], None, total)
            else:
                for c in range(columns.start, columns.stop):
                    if (r, c) in where:
                        system.upper[where[(r, c)]] = float(n[r])
        _derived_relations(system, view, where, r)
    for c in range(view.values.shape[1]):
        cells = [(r, c) for r in range(len(view.values))]
        _relate(system, view, where, cells, [1.0] + [-1.0] * last, 0.0)
    return system, hidden


def _relate(system: System, view: View, where: dict, cells: list, coef: list | None, rhs: float) -> None:
    """Add sum(coef · x[cells]) = rhs with the published counts moved to the right-hand side."""
    coef = [1.0] * len(cells) if coef is None else coef
    index, weights = [], []
    for cell, k in zip(cells, coef):
        if cell in where:
            index.append(where[cell])
            weights.append(k)
        else:
            rhs -= k * view.values[cell]
    system.relate(np.array(index), np.array(weights), rhs)


def _derived_relations(system: System, view: View, where: dict, r: int) -> None:
    """Top box count, mean × n and the second moment of row r, where published."""
    levels = len(view.unit.levels)
    cells = [(r, c) for c in range(levels)]
    if not np.isnan(view.topbox[r]):
        picked = [(r, c) for c in view.unit.topbox]
        _relate(system, view, where, picked, None, view.topbox[r])
    if not np.isnan(view.mean[r]) and view.n[r] > 1:
        scores = np.arange(1, levels + 1, dtype=float)
        _relate(system, view, where, cells, list(scores), view.mean[r] * view.n[r])
        second = (view.n[r] - 1) * view.sd[r] ** 2 + view.n[r] * view.mean[r] ** 2
        _relate(system, view, where, cells, list(scores ** 2), second)


def attack(view: View) -> list[tuple[int, int]]:
    """The target cells of a view (row, column) that the recomputation attack pins down exactly. Targets
    with a unit cycle (see `_cycle`) are protected without solving anything; the rest are solved."""
    levels = len(view.unit.levels)
    hidden_mask = np.isnan(view.values)
    open_ = [(int(r), int(c)) for r, c in zip(*np.nonzero(view.targets & hidden_mask)) if c < levels
             and not _cycle(view, hidden_mask, int(r), int(c))]
    if not open_:
        return []
    system, hidden = system_of(view)
    where = {cell: i for i, cell in enumerate(hidden)}
    return [hidden[i] for i in recovered(system, [where[cell] for cell in open_])]


def _cycle(view: View, hidden: np.ndarray, r: int, c: int) -> bool:
    """True when the hidden count (r, c) lies on a move of ±1 along hidden counts that keeps every published
    relation and bound: a rectangle (r, c), (r, c2), (r2, c), (r2, c2) for single-choice questions (c, c2 on
    the same side of the top-box edge in rows whose top box is published), or a pair (r, c), (r2, c) for
    multi-select ones. O's counts move with the same sign as their partner (O = ΣG + P)."""
    truth, last = view.truth, len(view.values) - 1
    n = view.n.copy()
    n[last] = n[0] - n[1:last].sum()
    rows = [k for k in range(len(view.values)) if k != r and hidden[k, c]]
    if view.unit.multi:
        for k in rows:
            sign = 1 if 0 in (r, k) else -1
            for up in (1, -1):
                a, b = truth[r, c] + up, truth[k, c] + sign * up
                if 0 <= a <= n[r] and 0 <= b <= n[k]:
                    return True
        return False
    inside = set(view.unit.topbox)
    for c2 in np.flatnonzero(hidden[r, :len(view.unit.levels)]):
        if c2 == c:
            continue
        for k in rows:
            if not hidden[k, c2]:
                continue
            if any(not np.isnan(view.topbox[x]) and ((c in inside) != (c2 in inside)) for x in (r, k)):
                continue
            sign = 1 if 0 in (r, k) else -1
            for up in (1, -1):
                moved = (truth[r, c] + up, truth[r, c2] - up, truth[k, c] + sign * up, truth[k, c2] - sign * up)
                if min(moved) >= 0:
                    return True
    return False


# ---------------------------------------------------------------- the attack across nested breakdowns


def link_system(fine: View, coarse: View, inside: dict,
                min_cell: int) -> tuple[System, list[tuple[str, int, int]], list[int]]:
    """The attacker's relations over two views of one question whose breakdowns are nested (fine inside coarse),
    the cell of each unknown ("fine"/"coarse", row, column; or "pool", coarse row, column: the fine pool's
    part in that coarse row), and the targets. Beyond each view's own relations: the whole-sample rows agree,
    each coarse row (shown group or pool) is the sum of the shown fine groups inside it plus its part of the
    fine pool, and those parts sum to the fine pool. Targets: each view's targets in shown rows, and every
    count of the coarse pool or part of the fine pool in a coarse row holding 0 < x < min_cell. The fine
    pool's own counts are no target here: it is the sum of its parts, each of which is a target, and what
    the coarse table says about a union of its rows is that table's business (its own attack)."""
    sf, hf = system_of(fine)
    sc, hc = system_of(coarse)
    last_f, last_c = len(fine.values) - 1, len(coarse.values) - 1
    width, levels = fine.values.shape[1], len(fine.unit.levels)
    row_of = [coarse.published.index(inside.get(g)) + 1 if inside.get(g) in coarse.published else last_c
              for g in fine.published]
    inner = {b: [1 + a for a, row in enumerate(row_of) if row == b] for b in range(1, last_c + 1)}
    parts = [(b, c) for b in range(1, last_c + 1) for c in range(width)]
    part_truth = [coarse.truth[b, c] - fine.truth[inner[b], c].sum() for b, c in parts]
    cells = [("fine", r, c) for r, c in hf] + [("coarse", r, c) for r, c in hc] + [("pool", b, c) for b, c in parts]
    where = {cell: i for i, cell in enumerate(cells)}
    system = System(np.concatenate([sf.truth, sc.truth, part_truth]).astype(float))
    system.rows = sf.rows + [(index + len(hf), coef, rhs) for index, coef, rhs in sc.rows]
    system.upper = {**sf.upper, **{k + len(hf): v for k, v in sc.upper.items()}}
    views = {"fine": fine, "coarse": coarse}

    def relate(terms: list[tuple[tuple[str, int, int], float]]) -> None:
        index, weights, rhs = [], [], 0.0
        for cell, k in terms:
            if cell in where:
                index.append(where[cell])
                weights.append(k)
            else:
                rhs -= k * views[cell[0]].values[cell[1], cell[2]]
        system.relate(np.array(index), np.array(weights), rhs)

    for c in range(width):
        relate([(("fine", 0, c), 1.0), (("coarse", 0, c), -1.0)])
        for b in range(1, last_c + 1):
            relate([(("coarse", b, c), 1.0), (("pool", b, c), -1.0), *((("fine", a, c), -1.0) for a in inner[b])])
        relate([(("fine", last_f, c), 1.0), *((("pool", b, c), -1.0) for b in range(1, last_c + 1))])
    wanted = lambda view, r, c: (c < levels and view.targets[r, c]
                                 and (r < len(view.values) - 1 or 0 < view.truth[r, c] < min_cell))
    targets = [where[("fine", r, c)] for r, c in hf if wanted(fine, r, c) and r < last_f]
    targets += [where[("coarse", r, c)] for r, c in hc if wanted(coarse, r, c)]
    targets += [where[("pool", b, c)] for (b, c), x in zip(parts, part_truth) if c < levels and 0 < x
                and x < min_cell]
    return system, cells, targets


def attack_link(fine: View, coarse: View, inside: dict, min_cell: int,
                first: bool = False) -> list[tuple[str, int, int]]:
    """The target cells the attack across two nested views pins down exactly (see `link_system`); with
    `first`, at most one."""
    system, cells, targets = link_system(fine, coarse, inside, min_cell)
    return [cells[j] for j in recovered(system, targets, first)] if targets else []


# ---------------------------------------------------------------- the whole wave


def plan_all(found: list[Unit], min_group: int, min_cell: int, nested: Nesting | None = None) -> list[Plan]:
    """Plans for every unit: rule 1 per question group and breakdown (within every coarser breakdown's rows
    too, given `nested`), rules 2-5 per unit, each unit attacked and tightened until nothing is recovered, then
    each nested pair of units attacked together and tightened until nothing is recovered. After rule 1 the
    questions are independent of each other, and are planned in forked processes (pipeline.parallel)."""
    from pipeline.parallel import forked_map

    left = left_out_groups(found, min_group, nested)
    questions = _by_question(found)
    jobs = [(_plan_question, ([found[i] for i in members], left, min_cell, nested)) for members in questions]
    plans: list[Plan | None] = [None] * len(found)
    for members, planned in zip(questions, forked_map(jobs)):
        for i, plan in zip(members, planned):
            plans[i] = plan
    return plans


def _by_question(items: list) -> list[list[int]]:
    """Indices of `items` (units, or plans and views holding one) grouped by question, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(getattr(item, "unit", item).question, []).append(i)
    return list(groups.values())


def _plan_question(job: tuple) -> list[Plan]:
    """The plans of the units of one question (the whole-sample unit first), given the groups rule 1 leaves out."""
    found, left, min_cell, nested = job
    overall = None
    plans = []
    for unit in found:
        plan = _secure(unit, left.get((unit.key, unit.breakdown), ()), overall, min_cell)
        if unit.breakdown == ALL:
            overall = plan.mask[0].copy()
        plans.append(plan)
    if nested:
        _secure_links(plans, nested, min_cell)
    return plans


def _linked(items: list, nested: Nesting) -> list[tuple[int, int, dict]]:
    """(fine index, coarse index, inside) of every pair of items (plans or views) of one question whose
    breakdowns are nested."""
    index = {(x.unit.question, x.unit.breakdown): i for i, x in enumerate(items)}
    return [(i, index[(x.unit.question, coarse)], inside) for i, x in enumerate(items)
            for (fine, coarse), inside in nested.items()
            if fine == x.unit.breakdown and (x.unit.question, coarse) in index]


def _secure_links(plans: list[Plan], nested: Nesting, min_cell: int) -> None:
    """Attack every nested pair of plans together; for a recovered count hide one more count (see
    `_link_complement`) and secure that unit again, until no pair leaks. Replaces plans in place."""
    pairs = _linked(plans, nested)
    pending, rounds = list(range(len(pairs))), [0] * len(pairs)
    while pending:
        q = pending.pop(0)
        i, j, inside = pairs[q]
        found = attack_link(view_of(plans[i]), view_of(plans[j]), inside, min_cell, first=True)
        if not found:
            continue
        rounds[q] += 1
        side, forced = _link_complement(plans[i], plans[j], inside, *found[0])
        if forced is None or rounds[q] > LINK_ROUNDS:
            k, plan = i, plans[i]
            group = _link_group(plans[i], plans[j], inside, *found[0])
            if group is None or sum(rounds) > MAX_ROUNDS * len(pairs):
                raise PulseError(f"disclosure control: {plan.unit.question} by {plan.unit.breakdown} and by "
                                 f"{plans[j].unit.breakdown} cannot be protected together; raise "
                                 f"disclosure.min_group or merge groups")
            left_out = tuple(g for g in plan.unit.groups if g in plan.left_out or g == group)
            plans[i], rounds[q] = _secure(plan.unit, left_out, plan.mask[0].copy(), min_cell), 0
        else:
            k = (i, j)[side]
            plan = plans[k]
            plans[k] = _secure(plan.unit, plan.left_out, plan.mask[0].copy(), min_cell, forced)
        pending = sorted(set(pending) | {p for p, (a, b, _) in enumerate(pairs) if k in (a, b)})


def _link_group(fine: Plan, coarse: Plan, inside: dict, kind: str, r: int, c: int) -> str | None:
    """The fine group to leave out when hiding more counts does not settle a nested pair: the recovered fine
    group itself, else the smallest shown fine group inside the coarse row concerned; None when there is none."""
    last = len(coarse.counts) - 1
    if kind == "fine":
        return fine.published[r - 1] if 0 < r < len(fine.counts) - 1 else None
    rows = [a for a, g in enumerate(fine.published)
            if (coarse.published.index(inside[g]) + 1 if inside.get(g) in coarse.published else last) == r]
    return fine.published[min(rows, key=lambda a: (fine.n[1 + a], a))] if rows else None


def _link_complement(fine: Plan, coarse: Plan, inside: dict, kind: str, r: int,
                     c: int) -> tuple[int, np.ndarray | None]:
    """(0 for the fine plan or 1 for the coarse one, its new forced mask) hiding one more count against a
    recovered count of a nested pair: for a fine count or a part of the fine pool, the smallest other shown
    count of its column among the fine groups of the same coarse row, else that coarse row's count, else the
    fine row's own complement; for a coarse count, the smallest shown fine count inside it, else its own
    complement; failing all these, one more count in a partly hidden row of the other unit, then of its own
    (`_widen`). None when nothing is left to hide."""
    last = len(coarse.counts) - 1
    row_of = [coarse.published.index(inside[g]) + 1 if inside.get(g) in coarse.published else last
              for g in fine.published]
    beta = r if kind in ("pool", "coarse") else row_of[r - 1] if 0 < r < len(fine.counts) - 1 else None
    forced = fine.mask.copy()
    rows = [1 + a for a, b in enumerate(row_of) if b == beta and not forced[1 + a, c] and 1 + a != r
]
    if beta is not None and rows:
        forced[min(rows, key=lambda a: (fine.counts[a, c], a)), c] = True
        return 0, forced
    if kind != "coarse" and beta is not None and beta < last and not coarse.mask[beta, c]:
        forced = coarse.mask.copy()
        forced[beta, c] = True
        return 1, forced
    side, plan = (1, coarse) if kind == "coarse" else (0, fine)
    forced = plan.mask.copy()
    if kind != "pool" and _tighten(plan, forced, r, c):
        return side, forced
    for side in (1 - side, side) if kind != "pool" else (0, 1):
        forced = _widen((fine, coarse)[side])
        if forced is not None:
            return side, forced
    return side, None


def _widen(plan: Plan) -> np.ndarray | None:
    """A forced mask hiding one more level count (the smallest, then first) in a shown row that already hides
    some but not all of its level counts, loosening that row's total; None when there is no such row."""
    levels = len(plan.unit.levels)
    cells = [(plan.counts[r, c], r, c) for r in range(1, len(plan.counts) - 1)
             if plan.mask[r, :levels].any() for c in range(levels) if not plan.mask[r, c]]
    if not cells:
        return None
    _, r, c = min(cells)
    forced = plan.mask.copy()
    forced[r, c] = True
    return forced


def _secure(unit: Unit, left_out: tuple[str, ...], overall_mask, min_cell: int,
            forced: np.ndarray | None = None) -> Plan:
    """plan_unit from `forced`, then attack and tighten (row, then column partner, then the group) until safe."""
    for _ in range(MAX_ROUNDS):
        plan = plan_unit(unit, left_out, overall_mask, min_cell, forced)
        found = attack(view_of(plan))
        if not found:
            return plan
        forced = plan.mask.copy()
        for r, c in found:
            if not _tighten(plan, forced, r, c):
                left_out = tuple(sorted(set(left_out) | {plan.published[r - 1]}, key=unit.groups.index)) \
                    if 0 < r < len(plan.counts) - 1 else left_out
                forced = None
                break
    raise PulseError(f"disclosure control: {unit.question} by {unit.breakdown} cannot be protected; "
                     f"raise disclosure.min_group or merge its groups")


def _tighten(plan: Plan, forced: np.ndarray, r: int, c: int) -> bool:
    """Hide more around a recovered count: the rest of its row block, else a column partner; False when
    neither is possible (the group must go)."""
    for columns, _ in blocks(plan.unit)[:1]:
        if columns.start <= c < columns.stop and r > 0 and not forced[r, columns].all():
            forced[r, columns] = True
            return True
    open_ = [k for k in range(1, len(plan.counts)) if not forced[k, c] and k != r]
    if open_:
        forced[min(open_, key=lambda k: (plan.counts[k, c], k)), c] = True
        return True
    return False


# ---------------------------------------------------------------- publishing


def _index(plans: list[Plan]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Long tables of what to hide: level cells, excluded-answer cells, rows (topbox, mean), left-out groups."""
    cells, excluded, rows, groups = [], [], [], []
    for plan in plans:
        unit = plan.unit
        labels = (ALL_GROUP,) if unit.breakdown == ALL else plan.published
        topbox_hidden, mean_hidden = derived_hidden(plan)
        for i, group in enumerate(labels):
            r = i if unit.breakdown == ALL else i + 1
            for c in np.flatnonzero(plan.mask[r]):
                reason = plan.reasons.get((r, int(c)), "complementary: audit")
                if c < len(unit.levels):
                    cells.append((unit.question, unit.breakdown, group, unit.levels[c], reason))
                else:
                    excluded.append((unit.question, unit.breakdown, group, EXCLUDED[c - len(unit.levels)], reason))
            rows.append((unit.question, unit.breakdown, group, bool(topbox_hidden[r]), bool(mean_hidden[r])))
        for group in plan.left_out:
            groups.append((unit.question, unit.breakdown, group))
    key = ["question", "breakdown", "group"]
    return (pd.DataFrame(cells, columns=[*key, "level", "reason"]),
            pd.DataFrame(excluded, columns=[*key, "level", "reason"]),
            pd.DataFrame(rows, columns=[*key, "topbox_hidden", "mean_hidden"]),
            pd.DataFrame(groups, columns=key))


def _flag(frame: pd.DataFrame, keys: pd.DataFrame, on: list[str]) -> np.ndarray:
    """Boolean per row of `frame`: its `on` values appear in `keys`."""
    if not len(keys) or not len(frame):
        return np.zeros(len(frame), dtype=bool)
    marks = keys[on].drop_duplicates().assign(_hit=True)
    return frame[on].merge(marks, on=on, how="left")["_hit"].fillna(False).to_numpy(dtype=bool)


def publish(tables: dict[str, pd.DataFrame], plans: list[Plan], min_cell: int) -> dict[str, pd.DataFrame]:
    """The tables with every hidden value blanked (see docs/tables.md) and `suppressions`."""
    cells, excluded, rows, groups = _index(plans)
    key = ["question", "breakdown", "group"]
    out = dict(tables)
    d = tables["distributions"].copy()
    gone = _flag(d, groups, key)
    hidden = _flag(d, cells, [*key, "level"])
    d.loc[gone | hidden, ["count", "pct", "ci_low", "ci_high"]] = np.nan
    d["suppressed"] = d["suppressed"].astype(bool) | gone
    d["n"] = d["n"].astype("Int64").mask(gone)
    for name in EXCLUDED:
        blank = gone | _flag(d, excluded[excluded["level"] == name], key)
        d[name] = d[name].astype("Int64").mask(blank)
    if "cell_suppressed" in d:
        d["cell_suppressed"] = (d["cell_suppressed"].astype(bool) | hidden) & ~gone
    else:
        d.insert(d.columns.get_loc("suppressed") + 1, "cell_suppressed", hidden & ~gone)
    out["distributions"] = d
    out["topbox"] = _blank_rows(tables["topbox"], groups, rows[rows["topbox_hidden"]], ["count", "pct", "ci_low", "ci_high"])
    out["means"] = _blank_rows(tables["means"], groups, rows[rows["mean_hidden"]], ["mean", "sd", "ci_low", "ci_high"])
    if "keywords" in tables:
        out["keywords"] = _keywords(tables["keywords"], cells, min_cell)
    if "tests" in tables:
        out["tests"] = _test_notes(tables["tests"])
    out["suppressions"] = suppressions(out, cells, excluded, rows, groups, plans)
    return out


def _blank_rows(frame: pd.DataFrame, groups: pd.DataFrame, hidden: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows of a topbox or means table with their estimates blanked where hidden; n blank for left-out groups."""
    key = ["question", "breakdown", "group"]
    frame = frame.copy()
    gone = _flag(frame, groups, key)
    blank = gone | _flag(frame, hidden, key)
    frame.loc[blank, columns] = np.nan
    frame["suppressed"] = frame["suppressed"].astype(bool) | blank
    frame["n"] = frame["n"].astype("Int64").mask(gone)
    return frame


def _keywords(frame: pd.DataFrame, cells: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """keywords.csv with tags mentioned by fewer than min_cell answers (or hidden in the overall tag table)
    blanked and not shown."""
    frame = frame.copy()
    overall = cells[(cells["breakdown"] == ALL) & cells["question"].str.endswith("_tags")]
    hidden_labels = set(zip(overall["question"].str.removesuffix("_tags"), overall["level"]))
    small = (frame["mentions"] > 0) & (frame["mentions"] < min_cell)
    hide = small.to_numpy() | np.array([(q, label) in hidden_labels for q, label in zip(frame["question"], frame["label"])],
                                       dtype=bool)
    frame["pct"] = frame["pct"].mask(hide)
    for column in ("mentions", "automatic", "added", "removed"):
        frame[column] = frame[column].astype("Int64").mask(hide)
    frame["shown"] = frame["shown"].astype(bool) & ~hide
    frame["suppressed"] = hide
    return frame


GROUP_SIZE = re.compile(r" \(n=\d+\)")


def _test_notes(frame: pd.DataFrame) -> pd.DataFrame:
    """tests.csv without the sizes of the groups left out in its notes (they are below min_group)."""
    frame = frame.copy()
    frame["note"] = frame["note"].map(lambda note: GROUP_SIZE.sub("", note) if isinstance(note, str) else note)
    return frame


def suppressions(out: dict, cells, excluded, rows, groups, plans: list[Plan]) -> pd.DataFrame:
    """One row per suppressed value: which table, question, breakdown, group, level or statistic, why."""
    records = []
    for frame, table in ((cells, "distributions"), (excluded, "distributions")):
        for q, b, g, level, reason in frame.itertuples(index=False):
            kind, _, rule = reason.partition(": ")
            records.append((table, q, b, g, level, kind, _RULES.get(rule or kind, rule)))
    for q, b, g, topbox, mean in rows.itertuples(index=False):
        if topbox:
            records.append(("topbox", q, b, g, "topbox", "complementary", _RULES["topbox"]))
        if mean:
            records.append(("means", q, b, g, "mean", "complementary", _RULES["mean"]))
    for q, b, g in groups.itertuples(index=False):
        records.append(("distributions, topbox, means", q, b, g, "all", "group", _RULES["group"]))
    keywords = out.get("keywords")
    if keywords is not None and len(keywords):
        for q, tag in keywords.loc[keywords["suppressed"], ["question", "tag"]].itertuples(index=False):
            records.append(("keywords", q, ALL, ALL_GROUP, tag, "primary", _RULES["primary"]))
    frame = pd.DataFrame(records, columns=SUPPRESSION_COLUMNS)
    return frame.sort_values(SUPPRESSION_COLUMNS, kind="stable").reset_index(drop=True)


_RULES = {
    "primary": "fewer than min_cell respondents",
    "row": "second hidden count of its row, so that the row's hidden counts total at least min_cell",
    "column": "second hidden count of its column, so that it cannot be recomputed as whole sample minus groups",
    "audit": "hidden after the recomputation attack (this table alone, or with a breakdown it is nested in) "
             "pinned a count of its row or column",
    "topbox": "its row has hidden counts on both sides of the top-box edge",
    "mean": "its row has hidden counts (mean × n and the SD would recover them)",
    "group": "fewer than min_group valid answers in an item of its question group, or needed so that the groups "
             "left out and respondents without a group total at least min_group, overall and within each group of "
             "a coarser breakdown",
}


def protect(tables: dict[str, pd.DataFrame], clean: pd.DataFrame, instrument, params: dict,
            coded: dict | None = None) -> dict[str, pd.DataFrame]:
    """The analyze tables made safe to publish (`disclosure` params: min_group, min_cell), with
    `suppressions`; raises PulseError if the attack on the published tables still recovers a count."""
    min_group, min_cell = int(params["min_group"]), int(params["min_cell"])
    found = units(clean, instrument, coded)
    nested = nesting(clean, instrument)
    plans = plan_all(found, min_group, min_cell, nested)
    out = publish(tables, plans, min_cell)
    leaks = audit_tables(out, found, min_cell, nested)
    if leaks:
        q, b, g, level = leaks[0]
        raise PulseError(f"disclosure control: {len(leaks)} hidden count(s) can be recomputed from the published "
                         f"tables, e.g. {q} by {b}, {g}, {level}; report this as a bug")
    return out


# ---------------------------------------------------------------- auditing published tables


def views_from_tables(tables: dict[str, pd.DataFrame], found: list[Unit], min_cell: int) -> list[View]:
    """The published view of every unit read back from the published tables (as an attacker would read the
    CSVs), with the true counts from `found` for reporting. Targets: every blank count of O and the published
    groups with a valid answer (a group with n = 0 has nothing to hide), and every count 0 < x < min_cell of
    the pool."""
    d = tables["distributions"]
    columns = _Columns(d)
    parts = d.groupby(["question", "breakdown"], sort=False).indices
    tb = _row_lookup(tables.get("topbox"), "count")
    means = _row_lookup(tables.get("means"), "mean")
    sds = _row_lookup(tables.get("means"), "sd")
    views = []
    for unit in found:
        part = parts.get((unit.question, unit.breakdown))
        if part is None:
            continue
        whole = parts.get((unit.question, ALL), part)
        shown = set(columns.group[part][~np.isnan(columns.n[part])])
        published = tuple(g for g in unit.groups if g in shown)
        views.append(_view_from_part(unit, published, columns, part, whole, (tb, means, sds), min_cell))
    return views


class _Columns:
    """distributions.csv as numeric arrays (NaN where blank)."""

    def __init__(self, d: pd.DataFrame):
        number = lambda column: pd.to_numeric(d[column]).to_numpy(dtype=float, na_value=np.nan)
        self.group = d["group"].to_numpy(dtype=object)
        self.level = d["level"].to_numpy(dtype=object)
        self.question = d["question"].to_numpy(dtype=object)
        self.n = number("n")
        self.count = number("count")
        self.excluded = np.column_stack([number(c) for c in EXCLUDED])


def _row_lookup(frame: pd.DataFrame | None, column: str) -> dict:
    if frame is None or not len(frame):
        return {}
    return dict(zip(zip(frame["question"], frame["breakdown"], frame["group"]), frame[column]))


def _view_from_part(unit: Unit, published: tuple[str, ...], columns: _Columns, part: np.ndarray, whole: np.ndarray,
                    lookups: tuple[dict, dict, dict], min_cell: int) -> View:
    labels = [ALL_GROUP, *published]
    values = np.vstack([_matrix(columns, whole, labels[:1], unit.levels), _matrix(columns, part, labels[1:], unit.levels),
                        np.full((1, len(unit.levels) + len(EXCLUDED)), np.nan)])
    counts, n = pooled(unit, published)
    size = n + counts[:, len(unit.levels):].sum(axis=1)
    pick = lambda lookup: np.array([lookup.get((unit.question, ALL if r == 0 else unit.breakdown, label), np.nan)
                                    for r, label in enumerate(labels)] + [np.nan], dtype=float)
    targets = np.isnan(values) & (n[:, None] > 0)
    targets[-1] = (counts[-1] > 0) & (counts[-1] < min_cell)
    return View(unit, values, n.astype(float), size.astype(float), *(pick(x) for x in lookups),
                counts.astype(float), targets, published)


def _matrix(columns: _Columns, rows: np.ndarray, labels: list[str], levels: tuple[str, ...]) -> np.ndarray:
    """Rows `labels` × (levels, EXCLUDED) of published counts from a distributions part, which lists each group's
    levels together in the instrument's order (as pipeline.analyze writes it)."""
    width = len(levels)
    if not labels:
        return np.zeros((0, width + len(EXCLUDED)))
    if tuple(columns.level[rows[:width]]) != tuple(levels):
        raise PulseError(f"distributions.csv: levels of {columns.question[rows[0]]} are not in the instrument's order")
    position = {g: i for i, g in enumerate(columns.group[rows][::width])}
    counts = columns.count[rows].reshape(-1, width)
    excluded = columns.excluded[rows][::width]
    return np.array([np.concatenate([counts[position[g]], excluded[position[g]]]) for g in labels])


def audit_tables(tables: dict[str, pd.DataFrame], found: list[Unit], min_cell: int,
                 nested: Nesting | None = None) -> list[tuple]:
    """(question, breakdown, group, level) of every hidden count the attack recovers from the published tables,
    each unit alone and, given `nested`, each nested pair of units together (breakdown "fine in coarse";
    group "(pool in X)" for the fine pool's part in coarse row X). Questions are attacked in forked processes."""
    from pipeline.parallel import forked_map

    views = views_from_tables(tables, found, min_cell)
    jobs = [(_audit_question, ([views[i] for i in members], min_cell, nested)) for members in _by_question(views)]
    return [leak for leaks in forked_map(jobs) for leak in leaks]


def _audit_question(job: tuple) -> list[tuple]:
    """The leaks of `audit_tables` among the views of one question."""
    views, min_cell, nested = job
    leaks = []
    for view in views:
        labels = [ALL_GROUP, *view.published, "(pool)"]
        columns = [*view.unit.levels, *EXCLUDED]
        leaks += [(view.unit.question, view.unit.breakdown, labels[r], columns[c]) for r, c in attack(view)]
    for i, j, inside in _linked(views, nested or {}):
        fine, coarse = views[i], views[j]
        labels = {"fine": [ALL_GROUP, *fine.published, "(pool)"], "coarse": [ALL_GROUP, *coarse.published, "(pool)"],
                  "pool": [ALL_GROUP, *(f"(pool in {g})" for g in coarse.published), "(pool in pool)"]}
        columns = [*fine.unit.levels, *EXCLUDED]
        leaks += [(fine.unit.question, f"{fine.unit.breakdown} in {coarse.unit.breakdown}", labels[kind][r],
                   columns[c]) for kind, r, c in attack_link(fine, coarse, inside, min_cell)]
    return leaks


# ---------------------------------------------------------------- trends


TREND_HIDDEN = ["count", "estimate", "sd", "ci_low", "ci_high"]
TREND_TEST_HIDDEN = ["n_a", "n_b", "n_linked", "estimate_a", "estimate_b", "difference", "ci_low", "ci_high",
                     "statistic", "df", "p_value", "q_value", "effect_size"]
MEASURE_TABLE = {"topbox": ("topbox", "pct"), "mean": ("means", "mean")}


def protect_trends(tables: dict[str, pd.DataFrame], published: dict[str, dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """trends.csv and trend_tests.csv with a group's row of a measure hidden in every wave when that wave's
    published topbox.csv or means.csv hides it in any wave compared (consistent across waves); n as published
    by the wave (blank for a group left out). `published` maps each wave to its published tables."""
    trends_, tests = tables["trends"].copy(), tables["trend_tests"].copy()
    lookup = {(wave, MEASURE_TABLE[m][0]): _published_values(frames[MEASURE_TABLE[m][0]], MEASURE_TABLE[m][1])
              for wave, frames in published.items() for m in MEASURE_TABLE}
    shown = [lookup.get((w, MEASURE_TABLE[m][0]), {}).get((s, b, g), (np.nan, np.nan))
             for w, m, s, b, g in zip(trends_["wave"], trends_["measure"], trends_["source"], trends_["breakdown"],
                                      trends_["group"])]
    value_hidden = np.array([np.isnan(v) for v, _ in shown], dtype=bool)
    key = ["question", "measure", "breakdown", "group"]
    hidden = trends_.loc[value_hidden, key].drop_duplicates()
    rows = _flag(trends_, hidden, key)
    trends_.loc[rows, TREND_HIDDEN] = np.nan
    trends_["n"] = pd.array([n for _, n in shown], dtype="Float64").round().astype("Int64") if len(trends_) \
        else trends_["n"]
    trends_["suppressed"] = trends_["suppressed"].astype(bool) | rows
    trends_["note"] = _note(trends_["note"], rows)
    gone = _flag(tests, hidden, key)
    tests[TREND_TEST_HIDDEN] = tests[TREND_TEST_HIDDEN].astype(float)
    tests.loc[gone, TREND_TEST_HIDDEN] = np.nan
    tests["suppressed"] = tests["suppressed"].astype(bool) | gone
    tests["note"] = _note(tests["note"], gone)
    return {**tables, "trends": trends_, "trend_tests": tests}


HIDDEN_NOTE = "hidden by disclosure control in at least one of the waves compared"


def _note(notes: pd.Series, rows: np.ndarray) -> pd.Series:
    return pd.Series([HIDDEN_NOTE if hit else note for note, hit in zip(notes, rows)], index=notes.index,
                     dtype=object)


def _published_values(frame: pd.DataFrame, column: str) -> dict:
    """{(question, breakdown, group): (published value, published n)} of a topbox or means table."""
    if frame is None or not len(frame):
        return {}
    values = pd.to_numeric(frame[column]).to_numpy(dtype=float, na_value=np.nan)
    n = pd.to_numeric(frame["n"]).to_numpy(dtype=float, na_value=np.nan)
    return dict(zip(zip(frame["question"], frame["breakdown"], frame["group"]), zip(values, n)))


# ---------------------------------------------------------------- the methods appendix


REASON_WORDS = {"primary": "fewer than min_cell respondents", "complementary": "hidden so that others cannot be "
                "recomputed", "group": "group left out"}


def methods_summary(suppressions: pd.DataFrame, params: dict) -> dict:
    """The methods appendix's account of disclosure control, generated from suppressions.csv: the rules as
    text, counts of hidden values per table and reason, and the groups left out with how many questions."""
    min_group, min_cell = int(params["min_group"]), int(params["min_cell"])
    rules = (f"No published count, share, mean or group describes fewer than {min_group} respondents (a group) or "
             f"{min_cell} respondents (an answer within a group). A group with fewer than {min_group} valid answers "
             f"to any item of a question group is left out of every item of that group, and further groups are left "
             f"out until the respondents not shown (those left out plus those without an answer to the breakdown) "
             f"are none or at least {min_group}, overall and within each group of a coarser breakdown the groups "
             f"lie inside (such as regions inside a wider bloc, read from the data); left-out groups publish nothing, not even their size. Within shown "
             f"groups, an answer given by 1 to {min_cell - 1} respondents is hidden (primary suppression); further "
             f"answers are hidden so that no hidden count can be recomputed from row totals, from the whole sample "
             f"minus the shown groups, or from a percentage times n (complementary suppression: at least two hidden "
             f"answers per row totalling at least {min_cell}, never a lone hidden answer in a column). A group's "
             f"mean and standard deviation are hidden when any of its answers is, and its top-box share when hidden "
             f"answers lie on both sides of the top box. Every table was then attacked by linear programming "
             f"(the smallest and largest value of each hidden count consistent with everything published, including "
             f"the sums linking a breakdown to a coarser one); no hidden count was pinned down. Counts of don't know, refused and blank answers per group are hidden "
             f"when below {min_cell}, but their total follows from the group's size and valid answers. Significance "
             f"tests and models use every respondent of the groups with at least {min_group} valid answers; their "
             f"statistics are not treated as disclosive. Trends publish a group only when it is shown in both waves.")
    frame = suppressions if suppressions is not None else pd.DataFrame(columns=SUPPRESSION_COLUMNS)
    counts = (frame.groupby(["table", "reason"], sort=True).size().reset_index(name="values")
              if len(frame) else pd.DataFrame(columns=["table", "reason", "values"]))
    groups = frame[frame["reason"] == "group"]
    left = (groups.groupby(["breakdown", "group"], sort=True)["question"].nunique().reset_index(name="questions")
            if len(groups) else pd.DataFrame(columns=["breakdown", "group", "questions"]))
    return {
        "rules": rules,
        "counts": [[t, REASON_WORDS.get(r, r).replace("min_cell", str(min_cell)), int(v)]
                   for t, r, v in counts.itertuples(index=False)],
        "left_out": [[b, g, int(q)] for b, g, q in left.itertuples(index=False)],
        "total": int(len(frame)),
    }
