"""Breakdowns as splits of the clean data: integer group codes per respondent, one split per comparison.

A single-variable breakdown is one split whose groups are the variable's categories. A multi-select
breakdown (field of expertise) gives one split per choice, `<breakdown>:<choice>`, comparing those who
selected it with those who did not, so no test ever compares overlapping groups; its descriptive rows
show only the "selected" group of each split. A crossed breakdown (`variables: [a, b]`) has one group per
observed combination, named "a value · b value". Respondents with a missing breakdown value are in no group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.instrument import Breakdown, Instrument

ALL = "all"
ALL_GROUP = "All respondents"


@dataclass(frozen=True)
class Split:
    """One partition of the respondents. `codes[i]` is respondent i's group index in `labels`, or -1.

    `breakdown` is the id written to the tables; `described` lists the group indices shown in
    descriptive tables (all, except for multi-select choices where only the "selected" group is shown).
    """

    breakdown: str
    labels: tuple[str, ...]
    codes: np.ndarray
    described: tuple[int, ...]
    parent: str

    @property
    def tested(self) -> bool:
        return self.breakdown != ALL


def _categorical_codes(values: pd.Series) -> tuple[tuple[str, ...], np.ndarray]:
    categorical = values.astype("category") if not isinstance(values.dtype, pd.CategoricalDtype) else values
    codes = categorical.cat.codes.to_numpy().astype(np.int64)
    return tuple(str(c) for c in categorical.cat.categories), codes


def _observed(labels: tuple[str, ...], codes: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    present = np.unique(codes[codes >= 0])
    remap = np.full(len(labels) + 1, -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    return tuple(labels[i] for i in present), remap[codes]


def splits_for(breakdown: Breakdown, clean: pd.DataFrame, instrument: Instrument) -> list[Split]:
    """The splits of one declared breakdown (see the module docstring)."""
    if len(breakdown.variables) == 2:
        (labels_a, codes_a), (labels_b, codes_b) = (_categorical_codes(clean[v]) for v in breakdown.variables)
        combined = np.where((codes_a >= 0) & (codes_b >= 0), codes_a * len(labels_b) + codes_b, -1)
        labels = tuple(f"{a} · {b}" for a in labels_a for b in labels_b)
        labels, codes = _observed(labels, combined)
        return [Split(breakdown.id, labels, codes, tuple(range(len(labels))), breakdown.id)]
    variable = breakdown.variables[0]
    question = next((q for q in instrument.questions if q.id == variable), None)
    if question is not None and question.type == "multi":
        splits = []
        for level in question.scale.levels:
            selected = clean[f"{variable}__{level.code}"]
            codes = np.where(selected.isna(), -1, np.where(selected.fillna(False).to_numpy(dtype=bool), 0, 1))
            splits.append(Split(f"{breakdown.id}:{level.code}", (level.label, f"Not {level.label}"),
                                codes.astype(np.int64), (0,), breakdown.id))
        return splits
    labels, codes = _observed(*_categorical_codes(clean[variable]))
    return [Split(breakdown.id, labels, codes, tuple(range(len(labels))), breakdown.id)]


def all_splits(clean: pd.DataFrame, instrument: Instrument) -> list[Split]:
    """The whole sample (`all`) followed by every split of every declared breakdown."""
    whole = Split(ALL, (ALL_GROUP,), np.zeros(len(clean), dtype=np.int64), (0,), ALL)
    return [whole] + [s for b in instrument.breakdowns for s in splits_for(b, clean, instrument)]
