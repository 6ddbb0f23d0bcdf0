"""Reading the analyze stage's tidy tables and picking the rows a figure draws. No statistics here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import PulseError

NAMES = ("distributions", "topbox", "means", "tests")
OPTIONAL = ("models", "paired", "keywords", "coding_agreement")
RANK_TESTS = ("mann-whitney", "kruskal-wallis")
CHOICE_TESTS = ("chi-square", "fisher-exact", "monte-carlo")
BOOLEAN = ("suppressed", "shown", "converged", "po_violated")
TEXT = ("group", "level", "group_a", "group_b", "groups", "note", "topbox", "test", "tag", "label", "term",
        "reference", "pair", "question_a", "question_b", "family")
ALL = "all"
TAGS = "_tags"


@dataclass(frozen=True)
class Tables:
    """The tidy tables figures read. The four always needed are loaded eagerly; models, paired, keywords
    and coding_agreement are None when a caller did not load them (a figure that needs one says so)."""

    distributions: pd.DataFrame
    topbox: pd.DataFrame
    means: pd.DataFrame
    tests: pd.DataFrame
    models: pd.DataFrame | None = None
    paired: pd.DataFrame | None = None
    keywords: pd.DataFrame | None = None
    coding_agreement: pd.DataFrame | None = None
    folder: Path | None = None

    def get(self, name: str) -> pd.DataFrame:
        table = getattr(self, name)
        if table is None:
            where = self.folder / f"{name}.csv" if self.folder else f"{name}.csv"
            raise PulseError(f"{where}: table not found; run `pulse analyze` for this wave first")
        return table


def read_table(path: Path) -> pd.DataFrame:
    """A table as written by the analyze stage: only empty cells are missing ("NA" stays a label),
    `suppressed` as booleans."""
    if not path.exists():
        raise PulseError(f"{path}: table not found; run `pulse analyze` for this wave first")
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for column in BOOLEAN:
        if column in frame:
            frame[column] = frame[column].astype(str).str.lower().eq("true")
    for column in TEXT:
        if column in frame:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), "")
    return frame


def load_tables(folder: Path) -> Tables:
    """The tables figures read, from `folder` (outputs/<survey>/<wave>/tables); the optional ones when
    they exist."""
    optional = {name: read_table(folder / f"{name}.csv") for name in OPTIONAL if (folder / f"{name}.csv").exists()}
    return Tables(**{name: read_table(folder / f"{name}.csv") for name in NAMES}, **optional, folder=folder)


def tags_variable(question: str) -> str:
    """The variable under which the analyze stage describes the codebook tags of a free-text question."""
    return f"{question}{TAGS}"


def choice_tests(tests: pd.DataFrame, variable: str, breakdown: str) -> pd.DataFrame:
    """The per-choice tests of independence (`<variable>:<code>`) of a multi-select variable or of the tags
    of a free-text question, for one declared breakdown (not its splits), with `code` added."""
    picked = tests[tests["question"].astype(str).str.startswith(f"{variable}:") & (tests["breakdown"] == breakdown)
                   & tests["test"].isin(CHOICE_TESTS)].copy()
    picked["code"] = picked["question"].str.slice(len(variable) + 1)
    return picked


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
    if len(wanted) < 2:
        return picked
    order = {b: i for i, b in enumerate(wanted)}
    return picked.sort_values("breakdown", key=lambda s: s.map(order), kind="stable")


def rank_tests_of(tests: pd.DataFrame, questions, breakdown: str) -> pd.DataFrame:
    """The rank-test rows of each of `questions` and the declared breakdown, in the order of `questions`, then of
    the breakdown's splits, then of the table (a fresh index)."""
    keys = (pd.DataFrame({"question": list(questions)}, dtype=object)
            .merge(pd.DataFrame({"breakdown": table_breakdowns(tests, breakdown)}, dtype=object), how="cross")
            .reset_index(names="_key"))
    ranked = tests[tests["test"].isin(RANK_TESTS)].reset_index(drop=True).reset_index(names="_position")
    found = keys.merge(ranked, on=["question", "breakdown"]).sort_values(["_key", "_position"], kind="stable")
    return found[list(tests.columns)].reset_index(drop=True)


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
