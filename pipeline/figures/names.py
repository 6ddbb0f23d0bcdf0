"""Words for what the tables hold by id: question wording, level and group names, breakdown labels.

All wording comes from the instrument (and, for headline nouns, from report.yaml); nothing here names a
particular survey.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from pipeline.figures.tables import ALL, parent
from pipeline.instrument import Instrument

ALL_GROUP = "All respondents"
CROSS = " · "


@dataclass(frozen=True)
class Names:
    instrument: Instrument
    nouns: Mapping[str, str]

    def _question(self, variable: str):
        return next((q for q in self.instrument.questions if q.id == variable), None)

    def question_short(self, variable: str) -> str:
        """The short name of a question or derived variable ("Overall concern")."""
        question = self._question(variable)
        return question.short if question else self.instrument.derived_variable(variable).label

    def question_text(self, variable: str) -> str:
        """The wording as asked; for a derived variable, its label."""
        question = self._question(variable)
        return question.text if question else self.instrument.derived_variable(variable).label

    def sources(self, variable: str) -> list[str]:
        """The questions a variable is derived from (itself for a question), in derivation order."""
        if self._question(variable):
            return [variable]
        derived = self.instrument.derived_variable(variable)
        found = self.sources(derived.source)
        residence = derived.options.get("residence")
        if residence:
            found += [q for q in self.sources(residence) if q not in found]
        return found

    def levels(self, variable: str) -> list[str]:
        """The ordered level labels as they appear in the tables."""
        question = self._question(variable)
        if question and question.scale:
            return list(question.scale.labels)
        return list(self.instrument.derived_variable(variable).values())

    def level_short(self, variable: str, label: str) -> str:
        question = self._question(variable)
        if question and question.scale and label in question.scale.labels:
            return question.scale.levels[question.scale.labels.index(label)].short
        return label

    def palette(self, variable: str) -> str:
        """'sequential', 'diverging' or 'qualitative', as declared on the question's scale."""
        question = self._question(variable)
        return question.scale.palette if question and question.scale else "qualitative"

    def topbox(self, variable: str) -> str:
        question = self._question(variable)
        return (question.topbox_label or "") if question else ""

    def multiple(self, variable: str) -> bool:
        question = self._question(variable)
        return bool(question and question.type == "multi")

    def breakdown_label(self, breakdown: str) -> str:
        if breakdown == ALL:
            return ALL_GROUP
        return next(b.label for b in self.instrument.breakdowns if b.id == parent(breakdown))

    def breakdown_variables(self, breakdown: str) -> tuple[str, ...]:
        if breakdown == ALL:
            return ()
        return next(b.variables for b in self.instrument.breakdowns if b.id == parent(breakdown))

    def group(self, breakdown: str, group: str) -> str:
        """The display name of a group: the short level names of its variables ("WEOG · Women")."""
        if breakdown == ALL:
            return ALL_GROUP
        variables = self.breakdown_variables(breakdown)
        parts = group.split(CROSS) if len(variables) > 1 else [group]
        if len(parts) != len(variables):
            return group
        return CROSS.join(self.level_short(v, p) for v, p in zip(variables, parts))

    def noun(self, breakdown: str, group: str) -> str:
        """How a group is called in a headline: report.yaml's nouns (by table label or display name),
        else its display name."""
        shown = self.group(breakdown, group)
        return self.nouns.get(group, self.nouns.get(shown, shown))

    def level_noun(self, variable: str, label: str) -> str:
        shown = self.level_short(variable, label)
        return self.nouns.get(label, self.nouns.get(shown, shown))

    def label_noun(self, label: str) -> str:
        """How a label with no scale (a codebook tag) reads inside a sentence: report.yaml's nouns, else
        the label with its first letter lower-cased ("Marginalised communities" → "marginalised communities")."""
        return self.nouns.get(label, lower_first(label))

    def term(self, variable: str) -> str:
        """How a model term reads inside a sentence ("gender", "age band"): report.yaml's nouns by the
        variable id, else the label of the breakdown on that variable, else the variable's own name."""
        if variable in self.nouns:
            return self.nouns[variable]
        breakdown = next((b for b in self.instrument.breakdowns if b.variables == (variable,)), None)
        label = breakdown.label if breakdown else self.question_short(variable)
        return lower_first(label)

    def pair(self, pair_id: str):
        return next(p for p in self.instrument.pairs if p.id == pair_id)

    def pair_names(self, pair_id: str, sides: tuple[str, ...] = ()) -> tuple[str, str, str]:
        """(row name, name of side a, name of side b) of a pair: the common part of its questions' short
        names, and report.yaml's `sides` or else the parts that differ."""
        pair = self.pair(pair_id)
        row, side_a, side_b = split_pair(self.question_short(pair.a), self.question_short(pair.b))
        if sides:
            side_a, side_b = sides
        return row, side_a, side_b


def lower_first(text: str) -> str:
    """"Pace of adoption" → "pace of adoption"; acronyms and names stay ("WEOG", "GRULAC")."""
    word = text.split(" ", 1)[0]
    if len(word) > 1 and word[0].isupper() and word[1:].islower():
        return text[0].lower() + text[1:]
    return text


def split_pair(short_a: str, short_b: str) -> tuple[str, str, str]:
    """The common part and the two distinct parts of the short names of a pair's questions, split at a
    word: ("Economic activity (higher-income)", "Economic activity (lower-income)") → ("Economic activity",
    "higher-income", "lower-income"). Without a common part, the short name of a names the row."""
    words_a, words_b = short_a.split(), short_b.split()
    common = 0
    while common < min(len(words_a), len(words_b)) and words_a[common] == words_b[common]:
        common += 1
    strip = " ,;:-–—()[]"
    shared = " ".join(words_a[:common]).strip(strip)
    rest_a, rest_b = (" ".join(w[common:]).strip(strip) for w in (words_a, words_b))
    if not shared or not rest_a or not rest_b:
        return short_a, short_a, short_b
    return shared, rest_a, rest_b
