"""Reading the analyze stage's tidy tables and picking the rows a figure draws. No statistics here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import PulseError

NAMES = ("distributions", "topbox", "means", "tests")
RANK_TESTS = ("mann-whitney", "kruskal-wallis")
ALL = "all"


@dataclass(frozen=True)
class Tables:
    distributions: pd.DataFrame
    topbox: pd.DataFrame
    means: pd.DataFrame
    tests: pd.DataFrame

    def get(self, name: str) -> pd.DataFrame:
        return getattr(self, name)


def read_table(path: Path) -> pd.DataFrame:
    """A table as written by the analyze stage: only empty cells are missing ("NA" stays a label),
    `suppressed` as booleans."""
    if not path.exists():
        raise PulseError(f"{path}: table not found; run `pulse analyze` for this wave first")
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    if "suppressed" in frame:
        frame["suppressed"] = frame["suppressed"].astype(str).str.lower().eq("true")
    for column in ("group", "level", "group_a", "group_b", "groups", "note", "topbox", "test"):
        if column in frame:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), "")
    return frame


def load_tables(folder: Path) -> Tables:
    """The tables figures read, from `folder` (outputs/<survey>/<wave>/tables)."""
    return Tables(**{name: read_table(folder / f"{name}.csv") for name in NAMES})


def table_breakdowns(table: pd.DataFrame, breakdown: str) -> list[str]:
    """The table breakdown ids that make up a declared breakdown, in table order: the id itself, or its
    splits `<id>:<choice>` for a multi-select breakdown."""
    values = pd.unique(table["breakdown"])
    return [b for b in values if b == breakdown or str(b).startswith(f"{breakdown}:")]


def is_split(table_breakdown: str) -> bool:
    return ":" in table_breakdown


def parent(table_breakdown: str) -> str:
    return table_breakdown.split(":", 1)[0]


def rows(table: pd.DataFrame, question: str, breakdown: str) -> pd.DataFrame:
    """The rows of `table` for one question and one declared breakdown (all of its splits), table order."""
    wanted = table_breakdowns(table, breakdown)
    picked = table[(table["question"] == question) & table["breakdown"].isin(wanted)]
    order = {b: i for i, b in enumerate(wanted)}
    return picked.sort_values("breakdown", key=lambda s: s.map(order), kind="stable")


def rank_tests(tests: pd.DataFrame, question: str, breakdown: str) -> pd.DataFrame:
    """The rank-test rows (Mann–Whitney or Kruskal–Wallis) of one question and declared breakdown."""
    picked = rows(tests, question, breakdown)
    return picked[picked["test"].isin(RANK_TESTS)]


def one(frame: pd.DataFrame, what: str) -> pd.Series:
    """The single row of `frame`; a PulseError naming `what` otherwise."""
    if len(frame) != 1:
        raise PulseError(f"tables: expected one row for {what}, found {len(frame)}; re-run `pulse analyze`")
    return frame.iloc[0]


def order_questions(questions: tuple[str, ...], sort: str, tables: Tables) -> list[str]:
    """The questions in spec order, or by the all-respondents top-box share or mean, highest first
    (questions without a value keep their place at the end)."""
    if sort not in ("topbox", "mean"):
        return list(questions)
    table = tables.topbox if sort == "topbox" else tables.means
    column = "pct" if sort == "topbox" else "mean"
    whole = table[(table["breakdown"] == ALL) & table["question"].isin(questions)]
    value = dict(zip(whole["question"], whole[column]))
    ranked = sorted(questions, key=lambda q: (pd.isna(value.get(q, float("nan"))), -value.get(q, 0.0)
                                              if not pd.isna(value.get(q, float("nan"))) else 0.0))
    return ranked
