"""The words of "What changed since last quarter": sentences and a compact table made from a wave's
`trend_tests.csv` (and `trend_questions.csv`). Every number written is a formatted cell of those tables; each
sentence keeps the rows it was written from (`facts`), so a test can check its numbers against them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import format as fmt
from pipeline.figures.names import Names
from pipeline.figures.tables import ALL, read_table

KEY = ["question", "measure", "breakdown", "group", "wave_a", "wave_b"]
TEST_NAMES = {"two-proportion-z": "two-proportion z test", "mann-whitney": "Mann–Whitney test",
              "mcnemar": "McNemar test", "wilcoxon-signed-rank": "Wilcoxon signed-rank test"}


@dataclass(frozen=True)
class Sentence:
    """One change in words, and the trend_tests rows (as dicts) its numbers come from."""

    text: str
    facts: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def value(row: dict, column: str) -> str:
    """A cell of trend_tests as written in a sentence: shares in percent, their differences in points, means
    with one decimal and their differences with two, q-values as q-values."""
    topbox = row["measure"] == "topbox"
    if column in ("estimate_a", "estimate_b"):
        return fmt.percent(row[column]) if topbox else fmt.mean(row[column])
    if column in ("difference", "ci_low", "ci_high"):
        return fmt.points(row[column]) if topbox else fmt.signed(row[column])
    if column == "n_a":
        return fmt.count(row[column])
    return fmt.pvalue_clause("q", row[column])


def _what(row: dict, names: Names) -> str:
    if row["measure"] == "topbox":
        return f"the share {names.topbox(row['question']) or 'in the top box'}"
    return "the mean rating"


def _direction(row: dict) -> str:
    return "rose" if row["difference"] > 0 else "fell" if row["difference"] < 0 else "did not change"


def _significant(row: dict, alpha: float) -> bool:
    return bool(row["q_value"] < alpha)


def clause(row: dict, names: Names, alpha: float) -> str:
    """One comparison in words: the estimates of both waves, the difference with its interval, the test and q."""
    numbers = (f"({value(row, 'difference')}, CI {value(row, 'ci_low')} to {value(row, 'ci_high')}; "
               f"{TEST_NAMES[row['test']]}, {value(row, 'q_value')}")
    tail = ")" if _significant(row, alpha) else "): not a significant change"
    if row["design"] == "paired":
        return (f"among the {value(row, 'n_a')} who answered in both waves, {_what(row, names)} {_direction(row)} "
                f"from {value(row, 'estimate_a')} to {value(row, 'estimate_b')} {numbers}{tail}")
    return (f"{_what(row, names)} {_direction(row)} from {value(row, 'estimate_a')} in {row['wave_a']} to "
            f"{value(row, 'estimate_b')} in {row['wave_b']} {numbers}{tail}")


def sentence(independent: dict | None, paired: dict | None, names: Names, alpha: float) -> Sentence:
    """The sentence for one question × measure × group: its significant comparison first, then the other design."""
    rows = sorted((r for r in (independent, paired) if r is not None), key=lambda r: not _significant(r, alpha))
    first = rows[0]
    who = "" if first["breakdown"] == ALL else f" (among {names.noun(first['breakdown'], first['group'])})"
    text = f"{names.question_short(first['question'])}{who}: " + "; ".join(clause(r, names, alpha) for r in rows)
    return Sentence(text + ".", tuple(rows))


def _by_key(tests: pd.DataFrame) -> dict[tuple, dict[str, dict]]:
    grouped: dict[tuple, dict[str, dict]] = {}
    for row in tests.to_dict("records"):
        grouped.setdefault(tuple(row[k] for k in KEY), {})[row["design"]] = row
    return grouped


def significant_sentences(tests: pd.DataFrame, names: Names, alpha: float) -> list[Sentence]:
    """A sentence per question × measure × group with a change at q < `alpha` in either design, whole sample
    first, then by the smallest q-value."""
    hits = tests[(tests["q_value"] < alpha) & ~tests["suppressed"]]
    smallest = hits.groupby(KEY, sort=False)["q_value"].min()
    order = sorted(smallest.items(), key=lambda item: (item[0][2] != ALL, item[1], item[0]))
    grouped = _by_key(tests[~tests["suppressed"]])
    return [sentence(grouped[k].get("independent"), grouped[k].get("paired"), names, alpha) for k, _ in order]


def rest_table(tests: pd.DataFrame, names: Names, alpha: float) -> dict[str, Any]:
    """The compact table of the whole-sample comparisons without a change at q < `alpha`: head and rows of
    formatted cells (question, measure, each wave's estimate, difference, q of both designs)."""
    whole = tests[(tests["breakdown"] == ALL)]
    grouped = _by_key(whole)
    rows = []
    for key, designs in grouped.items():
        independent, paired = designs.get("independent"), designs.get("paired")
        if any(r is not None and not r["suppressed"] and r["q_value"] < alpha for r in (independent, paired)):
            continue
        r = independent or paired
        tested = independent is not None and not independent["suppressed"]
        rows.append([names.question_short(r["question"]),
                     "top box (%)" if r["measure"] == "topbox" else "mean rating",
                     value(r, "estimate_a") if tested else fmt.MISSING,
                     value(r, "estimate_b") if tested else fmt.MISSING,
                     value(r, "difference") if tested else fmt.MISSING,
                     fmt.pvalue(r["q_value"]) if tested else fmt.MISSING,
                     fmt.pvalue(paired["q_value"]) if paired is not None and not paired["suppressed"] else fmt.MISSING])
    waves = (whole["wave_a"].iloc[0], whole["wave_b"].iloc[0]) if len(whole) else ("", "")
    head = ["Question", "Measure", waves[0], waves[1], "Change", "q (independent)", "q (paired)"]
    return {"head": head, "rows": rows}


def left_out(questions: pd.DataFrame, names: Names) -> list[str]:
    """One line per question not compared, with the reason from trend_questions.csv."""
    skipped = questions[~questions["compared"].astype(str).str.lower().eq("true")]
    return [f"{names.question_short(r['question'])} ({r['question']}): {r['reason']}" for r in skipped.to_dict("records")]


def changes_context(tables_dir: Path, names: Names, alpha: float, confidence: float) -> dict[str, Any] | None:
    """Everything the "What changed since last quarter" section shows, or None when the wave has no previous
    wave (no comparisons in trend_tests.csv) or its trend tables are missing."""
    path = tables_dir / "trend_tests.csv"
    if not path.exists():
        return None
    tests = read_table(path)
    if tests.empty:
        return None
    questions_path = tables_dir / "trend_questions.csv"
    questions = read_table(questions_path) if questions_path.exists() else pd.DataFrame(columns=["compared"])
    compared = questions[questions["compared"].astype(str).str.lower().eq("true")] if len(questions) else questions
    previous, current = tests["wave_a"].iloc[0], tests["wave_b"].iloc[0]
    return {
        "previous": previous,
        "current": current,
        "intro": (f"Changes between {previous} and {current} in the questions asked in both waves "
                  f"({fmt.count(compared['question'].nunique()) if len(compared) else fmt.count(tests['question'].nunique())} "
                  f"questions). A change is called significant when its q-value (Benjamini–Hochberg within each family "
                  f"of wave-over-wave tests) is below {alpha:g}; intervals are {fmt.number(100 * confidence)}% "
                  f"intervals of the difference (later minus earlier)."),
        "sentences": [s.text for s in significant_sentences(tests, names, alpha)],
        "none": f"No change between {previous} and {current} reaches q < {alpha:g}.",
        "rest": rest_table(tests, names, alpha),
        "left_out": left_out(questions, names) if len(questions) else [],
    }
