"""One colour per group, the same in every figure of a report.

Colours are assigned once per instrument: breakdowns in the instrument's order, each breakdown's groups
in the order of its levels (for a crossed breakdown, the combinations in order). A group label that an
earlier breakdown already coloured keeps its colour (WEOG is the same blue in a WEOG / non-WEOG figure and
among the five UN regional groups); the other groups take, in order, the palette colours not yet used
within the breakdown. A figure that draws groups of several breakdowns at once gives a later group whose
colour is already taken in that figure the next free colour. All respondents are drawn in ink.
"""

from __future__ import annotations

from itertools import product

from pipeline.figures import style
from pipeline.figures.names import CROSS, Names
from pipeline.figures.tables import ALL, parent

# Okabe–Ito without black, which is the colour of all respondents; sky blue after vermillion, so that the
# first five groups of a breakdown never hold two blues.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442")


def breakdown_groups(names: Names, breakdown: str) -> list[str]:
    """The group labels of a declared breakdown as the tables write them, in the instrument's order."""
    levels = [names.levels(variable) for variable in names.breakdown_variables(breakdown)]
    return [CROSS.join(combination) for combination in product(*levels)]


def assignments(names: Names) -> dict[str, dict[str, str]]:
    """{breakdown id: {group label: colour}} for every breakdown of the instrument."""
    known: dict[str, str] = {}
    result: dict[str, dict[str, str]] = {}
    for breakdown in names.instrument.breakdowns:
        groups = breakdown_groups(names, breakdown.id)
        taken: dict[str, str] = {}
        for group in groups:
            if group in known and known[group] not in taken.values():
                taken[group] = known[group]
        free = [c for c in PALETTE if c not in taken.values()]
        for i, group in enumerate(groups):
            if group not in taken:
                taken[group] = free.pop(0) if free else PALETTE[i % len(PALETTE)]
        for group in groups:
            known.setdefault(group, taken[group])
        result[breakdown.id] = {group: taken[group] for group in groups}
    return result


def colours(names: Names, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{(table breakdown, group): colour} for the series of one figure, distinct within the figure."""
    table = assignments(names)
    found: dict[tuple[str, str], str] = {}
    used: set[str] = set()
    for breakdown, group in keys:
        if breakdown == ALL:
            found[(breakdown, group)] = style.INK
            continue
        colour = table.get(parent(breakdown), {}).get(group)
        if colour is None or colour in used:
            colour = next((c for c in PALETTE if c not in used), PALETTE[len(used) % len(PALETTE)])
        used.add(colour)
        found[(breakdown, group)] = colour
    return found
