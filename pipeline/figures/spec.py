"""The report specification of a survey (`surveys/<survey>/report.yaml`): sections and the figures in them.

The format is documented in `load`'s docstring. Everything that names a survey's questions, groups or
wording lives in that file; the code reading it is generic. Validation stops at the first problem and
raises a one-line PulseError naming the file and the key.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from pipeline.errors import PulseError
from pipeline.instrument import Instrument, read_yaml

KINDS = ("stacked", "dots", "bars", "crosstab", "keywords", "keyword-bars", "choices", "models", "pairs", "trend")
SORTS = ("none", "topbox", "mean", "value")
# Kinds drawing the codebook tags of a free-text question, and kinds drawing several questions that must
# come from one question group (so that different kinds of question are never merged in one chart).
TEXT_KINDS = ("keywords", "keyword-bars")
ONE_GROUP_KINDS = ("stacked", "dots", "models", "pairs")
DEFAULT_SORT = {"dots": "mean", "models": "mean", "pairs": "value", "choices": "value"}
ALL = "all"
ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
WORDING = re.compile(r"\b\d+\s+(?:months?|years?|weeks?|days?)\b")

# Headline rules, the keys each accepts, and the placeholders its `text` may use.
RULES: dict[str, dict[str, Any]] = {
    "share": {"keys": {"text", "question"}, "fields": {"pct", "topbox", "n", "question"}},
    "largest": {"keys": {"text", "question"}, "fields": {"level", "noun", "pct", "count", "n"}},
    "diagonal": {"keys": {"text"}, "fields": {"low", "high", "low_group", "high_group"}},
    "top": {"keys": {"text"}, "fields": {"question", "pct", "topbox"}},
    "differences": {"keys": {"breakdown", "more", "less", "unit", "between", "likely", "groups"}, "fields": set()},
    "leading": {"keys": {"text", "count"}, "fields": {"tags", "n"}},
    "associations": {"keys": {"between", "unit"}, "fields": set()},
    "adjusted": {"keys": {"text", "term", "level", "unit"}, "fields": {"count", "total", "others", "group", "reference"}},
    "gaps": {"keys": {"text", "unit", "higher"}, "fields": {"count", "total", "largest", "gap", "side_a", "side_b"}},
    "gap": {"keys": {"text"}, "fields": {"domain", "pct_a", "pct_b", "topbox", "side_a", "side_b"}},
}
# The kinds each rule reads (a rule on another kind of figure has nothing to read).
RULE_KINDS = {
    "share": ("stacked", "dots", "bars"), "largest": ("bars", "stacked", "crosstab"), "diagonal": ("crosstab",),
    "top": ("stacked", "dots"), "differences": ("stacked", "dots", "bars"), "leading": TEXT_KINDS,
    "associations": ("choices",), "adjusted": ("models",), "gaps": ("pairs",), "gap": ("stacked",),
}
PHRASES = ("more", "less", "unit", "between", "likely")
NAMES_OPTIONS = ("term", "level")


@dataclass(frozen=True)
class Headline:
    rule: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FigureSpec:
    id: str
    section: str
    kind: str
    title: str | None
    questions: tuple[str, ...]
    breakdowns: tuple[str, ...]
    sort: str
    caption: str | None
    headline: Headline | None
    where: str
    pairs: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    sides: tuple[str, ...] = ()


@dataclass(frozen=True)
class SectionSpec:
    id: str
    title: str
    intro: str
    placeholder: str | None
    methods: bool
    figures: tuple[FigureSpec, ...]
    coding: str | None = None


@dataclass(frozen=True)
class ReportSpec:
    path: Path
    title: str | None
    subtitle: str | None
    nouns: Mapping[str, str]
    sections: tuple[SectionSpec, ...]

    @property
    def figures(self) -> tuple[FigureSpec, ...]:
        return tuple(f for s in self.sections for f in s.figures)


class _Checker:
    """Raises one-line PulseErrors of the form '<file>: <key>: <problem>'."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str) -> None:
        raise PulseError(f"{self.path}: {key}: {problem}")

    def mapping(self, node: Any, key: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(node, dict):
            self.fail(key, "expected a mapping")
        for name in node:
            if name not in allowed:
                self.fail(f"{key}.{name}" if key else str(name), f"unknown key; expected one of {', '.join(sorted(allowed))}")
        for name in sorted(required):
            if name not in node:
                self.fail(f"{key}.{name}" if key else name, "missing")
        return node

    def text(self, node: Any, key: str, optional: bool = False) -> str | None:
        if node is None and optional:
            return None
        if not isinstance(node, str) or not node.strip():
            self.fail(key, "expected a non-empty text")
        return " ".join(node.split())

    def names(self, node: Any, key: str) -> tuple[str, ...]:
        items = [node] if isinstance(node, str) else node
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            self.fail(key, "expected a name or a non-empty list of names")
        return tuple(items)


def _no_typed_numbers(check: _Checker, text: str, key: str) -> None:
    literal = WORDING.sub("", "".join(part for part, *_ in string.Formatter().parse(text)))
    if re.search(r"\d", literal):
        check.fail(key, "contains a typed number; numbers in headlines come from the tables through {placeholders} "
                        "(only spans of time such as '18 months' may be typed)")


def _headline(check: _Checker, node: Any, key: str, questions: tuple[str, ...]) -> Headline:
    node = check.mapping(node, key, {"rule"} | set().union(*(r["keys"] for r in RULES.values())), {"rule"})
    rule = node["rule"]
    if rule not in RULES:
        check.fail(f"{key}.rule", f"unknown rule {rule!r}; expected one of {', '.join(RULES)}")
    check.mapping(node, key, {"rule"} | RULES[rule]["keys"])
    options = {k: v for k, v in node.items() if k != "rule"}
    if "text" in RULES[rule]["keys"]:
        text = check.text(options.get("text"), f"{key}.text")
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        except ValueError as exc:
            check.fail(f"{key}.text", f"not a valid template ({exc})")
        for name in fields:
            base = re.split(r"[.\[]", name, maxsplit=1)[0]
            if base not in RULES[rule]["fields"]:
                check.fail(f"{key}.text", f"unknown placeholder {{{name}}}; rule {rule} offers "
                                          f"{', '.join('{' + f + '}' for f in sorted(RULES[rule]['fields']))}")
            index = re.findall(r"\[([^\]]*)\]", name)
            for question in index:
                if question not in questions:
                    check.fail(f"{key}.text", f"{{{name}}} names {question!r}, which is not a question of this figure")
        _no_typed_numbers(check, text, f"{key}.text")
        options["text"] = text
    if "question" in options and options["question"] not in questions:
        check.fail(f"{key}.question", f"{options['question']!r} is not a question of this figure")
    for phrase in PHRASES:
        if phrase in options:
            options[phrase] = check.text(options[phrase], f"{key}.{phrase}")
            _no_typed_numbers(check, options[phrase], f"{key}.{phrase}")
    if "count" in options and (not isinstance(options["count"], int) or isinstance(options["count"], bool)
                               or options["count"] < 1):
        check.fail(f"{key}.count", "expected a whole number of at least 1")
    for name in NAMES_OPTIONS:
        if name in options and (not isinstance(options[name], str) or not options[name].strip()):
            check.fail(f"{key}.{name}", "expected a name")
    if "higher" in options and options["higher"] not in ("a", "b"):
        check.fail(f"{key}.higher", "expected a or b: the side counted when it is rated significantly higher")
    if "groups" in options:
        groups = check.names(options["groups"], f"{key}.groups")
        if len(groups) != 2:
            check.fail(f"{key}.groups", "expected the two groups to compare")
        options["groups"] = groups
    return Headline(rule, options)


def _pairs(check: _Checker, node: Any, key: str, instrument: Instrument) -> tuple[str, ...]:
    """The pair ids of `pairs:`: a pair group of the instrument, or a list of pair ids."""
    groups = list(dict.fromkeys(p.group for p in instrument.pairs if p.group))
    if isinstance(node, str) and node in groups:
        return tuple(p.id for p in instrument.pairs if p.group == node)
    ids = check.names(node, key)
    known = {p.id for p in instrument.pairs}
    for pair in ids:
        if pair not in known:
            check.fail(key, f"unknown pair or pair group {pair!r}; the instrument declares the groups "
                            f"{', '.join(groups) or '(none)'}")
    return ids


def _questions(check: _Checker, node: dict, key: str, instrument: Instrument) -> tuple[str, ...]:
    given = [k for k in ("question", "questions", "group", "pairs") if k in node]
    if len(given) != 1:
        check.fail(key, "give exactly one of question, questions, group or pairs")
    if given[0] == "pairs":
        pairs = {p.id: p for p in instrument.pairs}
        return tuple(q for pair in _pairs(check, node["pairs"], f"{key}.pairs", instrument)
                     for q in (pairs[pair].a, pairs[pair].b))
    if given[0] == "group":
        group = node["group"]
        if group not in instrument.question_groups:
            check.fail(f"{key}.group", f"unknown question group {group!r}; the instrument declares "
                                       f"{', '.join(instrument.question_groups)}")
        return tuple(q.id for q in instrument.questions if q.group == group and q.type in ("ordinal", "nominal", "multi"))
    ids = check.names(node[given[0]], f"{key}.{given[0]}")
    known = {q.id for q in instrument.questions} | {d.id for d in instrument.derived if d.values()}
    for question in ids:
        if question not in known:
            check.fail(f"{key}.{given[0]}", f"unknown question or derived variable {question!r}")
        kind = instrument.question(question).type if question in {q.id for q in instrument.questions} else "derived"
        if kind not in ("ordinal", "nominal", "multi", "derived", "text"):
            check.fail(f"{key}.{given[0]}", f"{question!r} is a {kind} question; figures draw choice questions "
                                            f"and the codebook tags of free-text questions")
    return ids


def _figure(check: _Checker, node: Any, key: str, section: str, instrument: Instrument) -> FigureSpec:
    allowed = {"id", "kind", "title", "question", "questions", "group", "pairs", "breakdown", "breakdowns", "sort",
               "caption", "headline", "terms", "sides"}
    if not isinstance(node, dict):
        check.fail(key, "expected a mapping")
    figure_id = node.get("id")
    if not isinstance(figure_id, str) or not ID.match(figure_id):
        check.fail(f"{key}.id", "expected lower-case letters, digits, '-' or '_'")
    key = f"{key.rsplit('[', 1)[0]}[{figure_id}]"
    node = check.mapping(node, key, allowed, {"id", "kind"})
    kind = node["kind"]
    if kind not in KINDS:
        check.fail(f"{key}.kind", f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    questions = _questions(check, node, key, instrument)
    if "breakdown" in node and "breakdowns" in node:
        check.fail(key, "give breakdown or breakdowns, not both")
    breakdowns = check.names(node.get("breakdowns", node.get("breakdown", ALL)), f"{key}.breakdowns")
    known = {ALL} | {b.id for b in instrument.breakdowns}
    for breakdown in breakdowns:
        if breakdown not in known:
            check.fail(f"{key}.breakdowns", f"unknown breakdown {breakdown!r}; expected all or one of "
                                            f"{', '.join(b.id for b in instrument.breakdowns)}")
    sort = node.get("sort", DEFAULT_SORT.get(kind, "none"))
    if sort not in SORTS:
        check.fail(f"{key}.sort", f"unknown sort {sort!r}; expected one of {', '.join(SORTS)}")
    types = {q.id: q.type for q in instrument.questions}
    ordinal = [q for q in questions if types.get(q) == "ordinal"]
    if "pairs" in node and kind not in ("pairs", "stacked"):
        check.fail(f"{key}.pairs", f"kind {kind} does not draw pairs; use kind pairs or stacked")
    if kind == "pairs" and "pairs" not in node:
        check.fail(key, "kind pairs needs pairs: a pair group of the instrument or a list of pair ids")
    if any(types.get(q) == "text" for q in questions) and kind not in (*TEXT_KINDS, "choices"):
        check.fail(key, f"kind {kind} draws choice questions; draw a free-text question's tags with kind "
                        f"keywords, keyword-bars or choices")
    if kind in TEXT_KINDS and (len(questions) != 1 or types.get(questions[0]) != "text"):
        check.fail(key, f"kind {kind} draws the tags of one free-text question")
    if kind == "choices" and (len(questions) != 1 or types.get(questions[0]) not in ("text", "multi")):
        check.fail(key, "kind choices draws one multi-select question or the tags of one free-text question")
    if kind in ("stacked", "dots", "models", "pairs") and len(ordinal) != len(questions):
        check.fail(key, f"kind {kind} draws ordinal questions only")
    if kind in ("stacked", "dots", "pairs") and len({instrument.question(q).scale.id for q in questions}) > 1:
        check.fail(key, f"kind {kind} draws questions on one scale; split the figure")
    groups = list(dict.fromkeys(instrument.question(q).group for q in questions if q in types))
    if kind in ONE_GROUP_KINDS and len(groups) > 1:
        check.fail(key, f"kind {kind} draws questions of one question group, and these come from "
                        f"{', '.join(str(g) for g in groups)}; split the figure")
    if kind in ("bars", "crosstab") and len(questions) != 1:
        check.fail(key, f"kind {kind} draws one question")
    if kind == "trend" and (len(questions) != 1 or len(ordinal) != 1):
        check.fail(key, "kind trend draws one ordinal question across waves")
    if kind == "crosstab" and (len(breakdowns) != 1 or breakdowns[0] == ALL):
        check.fail(f"{key}.breakdowns", "a crosstab needs exactly one breakdown other than all")
    if kind in (*TEXT_KINDS, "models", "pairs") and breakdowns != (ALL,):
        check.fail(f"{key}.breakdowns", f"kind {kind} draws all respondents only")
    if kind == "stacked" and "pairs" in node and breakdowns != (ALL,):
        check.fail(f"{key}.breakdowns", "stacked pairs draw all respondents only")
    if kind == "choices" and len([b for b in breakdowns if b != ALL]) > 1:
        check.fail(f"{key}.breakdowns", "kind choices draws one breakdown (and all respondents)")
    terms: tuple[str, ...] = ()
    if kind == "models":
        if "terms" not in node:
            check.fail(key, "kind models needs terms: the model terms to draw (params model_terms)")
        terms = check.names(node["terms"], f"{key}.terms")
        variables = set(types) | {d.id for d in instrument.derived}
        for term in terms:
            if term not in variables:
                check.fail(f"{key}.terms", f"unknown variable {term!r}")
    elif "terms" in node:
        check.fail(f"{key}.terms", "only kind models has terms")
    sides: tuple[str, ...] = ()
    if "sides" in node:
        if "pairs" not in node:
            check.fail(f"{key}.sides", "only figures of pairs have sides")
        sides = check.names(node["sides"], f"{key}.sides")
        if len(sides) != 2:
            check.fail(f"{key}.sides", "expected the names of the two sides of each pair (a, then b)")
        for i, side in enumerate(sides):
            _no_typed_numbers(check, side, f"{key}.sides[{i}]")
    headline = _headline(check, node["headline"], f"{key}.headline", questions) if "headline" in node else None
    if headline and kind not in RULE_KINDS[headline.rule]:
        check.fail(f"{key}.headline.rule", f"rule {headline.rule} does not apply to kind {kind}; it reads "
                                           f"{', '.join(RULE_KINDS[headline.rule])} figures")
    if headline and headline.rule == "gap" and "pairs" not in node:
        check.fail(f"{key}.headline.rule", "rule gap compares the two sides of pairs; give the figure pairs")
    if headline and headline.rule == "adjusted" and headline.options.get("term", terms[0]) not in terms:
        check.fail(f"{key}.headline.term", f"{headline.options['term']!r} is not one of the figure's terms")
    if headline and headline.rule == "differences":
        chosen = headline.options.get("breakdown") or next((b for b in breakdowns if b != ALL), None)
        if chosen is None or chosen not in breakdowns or chosen == ALL:
            check.fail(f"{key}.headline.breakdown", "the differences rule needs a breakdown of this figure other than all")
        headline = Headline(headline.rule, {**headline.options, "breakdown": chosen})
    pairs = _pairs(check, node["pairs"], f"{key}.pairs", instrument) if "pairs" in node else ()
    return FigureSpec(
        id=figure_id, section=section, kind=kind, title=check.text(node.get("title"), f"{key}.title", optional=True),
        questions=questions, breakdowns=breakdowns, sort=sort,
        caption=check.text(node.get("caption"), f"{key}.caption", optional=True), headline=headline, where=key,
        pairs=pairs, terms=terms, sides=sides,
    )


def parse(raw: Any, path: Path, instrument: Instrument) -> ReportSpec:
    """A validated ReportSpec from the parsed YAML `raw` (see `load` for the format)."""
    check = _Checker(path)
    raw = check.mapping(raw, "", {"title", "subtitle", "nouns", "sections"}, {"sections"})
    nouns = raw.get("nouns") or {}
    if not isinstance(nouns, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in nouns.items()):
        check.fail("nouns", "expected a mapping of group labels to the words used for them in headlines")
    if not isinstance(raw["sections"], list) or not raw["sections"]:
        check.fail("sections", "expected a non-empty list of sections")
    sections, seen, figure_ids = [], set(), set()
    for i, node in enumerate(raw["sections"]):
        where = f"sections[{i}]"
        if not isinstance(node, dict):
            check.fail(where, "expected a mapping")
        if not isinstance(node.get("id"), str) or not ID.match(node["id"]):
            check.fail(f"{where}.id", "expected lower-case letters, digits, '-' or '_'")
        where = f"sections[{node['id']}]"
        node = check.mapping(node, where, {"id", "title", "intro", "placeholder", "methods", "figures", "coding"},
                             {"id", "title"})
        coding = node.get("coding")
        if coding is not None and (not isinstance(coding, str) or coding not in
                                   {q.id for q in instrument.questions if q.type == "text"}):
            check.fail(f"{where}.coding", "expected the id of a free-text question (its coding is described here)")
        if node["id"] in seen:
            check.fail(f"{where}.id", "duplicate section id")
        seen.add(node["id"])
        figures_raw = node.get("figures") or []
        if not isinstance(figures_raw, list):
            check.fail(f"{where}.figures", "expected a list of figures")
        figures = []
        for j, figure in enumerate(figures_raw):
            spec = _figure(check, figure, f"{where}.figures[{j}]", node["id"], instrument)
            if spec.id in figure_ids:
                check.fail(spec.where + ".id", "duplicate figure id")
            figure_ids.add(spec.id)
            figures.append(spec)
        methods = node.get("methods", False)
        if not isinstance(methods, bool):
            check.fail(f"{where}.methods", "expected true or false")
        sections.append(SectionSpec(
            id=node["id"], title=check.text(node["title"], f"{where}.title"),
            intro=check.text(node.get("intro"), f"{where}.intro", optional=True) or "",
            placeholder=check.text(node.get("placeholder"), f"{where}.placeholder", optional=True),
            methods=methods, figures=tuple(figures), coding=coding,
        ))
    return ReportSpec(path=path, title=check.text(raw.get("title"), "title", optional=True),
                      subtitle=check.text(raw.get("subtitle"), "subtitle", optional=True),
                      nouns=dict(nouns), sections=tuple(sections))


def default_raw(instrument: Instrument) -> dict:
    """A report for a survey without report.yaml: one section per question group with choice questions
    (a stacked figure of its ordinal questions, a bar chart per nominal question), then the methods."""
    sections = []
    for group, title in instrument.question_groups.items():
        ordinal = [q.id for q in instrument.questions if q.group == group and q.type == "ordinal"]
        nominal = [q.id for q in instrument.questions if q.group == group and q.type in ("nominal", "multi")]
        figures = []
        if ordinal:
            figures.append({"id": f"{group}-overall".replace("_", "-"), "kind": "stacked", "questions": ordinal,
                            "headline": {"rule": "top", "text": "{question}: {pct} {topbox}"} if len(ordinal) > 1 else
                            {"rule": "share", "text": "{pct} of respondents: {topbox}"}})
        figures += [{"id": q.replace("_", "-"), "kind": "bars", "question": q} for q in nominal]
        if figures:
            sections.append({"id": f"section-{group}".replace("_", "-"), "title": title, "figures": figures})
    if not instrument.question_groups:
        choice = [q.id for q in instrument.questions if q.type in ("ordinal", "nominal", "multi")]
        figures = [{"id": q.replace("_", "-"), "question": q,
                    "kind": "stacked" if instrument.question(q).type == "ordinal" else "bars"} for q in choice]
        sections.append({"id": "results", "title": "Results", "figures": figures})
    sections.append({"id": "methods", "title": "Methods", "methods": True})
    return {"sections": sections}


def load(path: Path, instrument: Instrument) -> ReportSpec:
    """Read and validate a report.yaml; without one, the default report of `default_raw`.

    Format (all text is plain; numbers never appear in it, they come from the tables):

        title: optional report title (default: the instrument's title)
        subtitle: optional
        nouns: {group label: word used in headlines}   # e.g. Woman: women
        sections:
          - id: sample                 # lower-case, unique among sections
            title: Sample overview
            intro: optional paragraph
            placeholder: optional text shown instead of content (a section still to be written)
            methods: true              # optional: this section holds the generated methods appendix
            coding: question id        # optional: how this free-text question was coded (tags, manual
                                       # coding, agreement between coders), from keywords.csv and
                                       # coding_agreement.csv; answers themselves are never shown
            figures:
              - id: concern-region     # lower-case, unique among figures
                kind: stacked | dots | bars | crosstab | keywords | keyword-bars | choices | models | pairs
                question: id | questions: [ids] | group: question group id | pairs: pair group or [pair ids]
                breakdowns: [all, un_group]   # default [all]; instrument breakdown ids
                sort: none | topbox | mean | value
                title: optional (default: question and breakdown names)
                caption: optional
                terms: [gender, weog]  # kind models: the model terms drawn, one panel per compared level
                sides: [a, b]          # figures of pairs: what the two sides are called (default: from
                                       # the questions' short names)
                headline: {rule: share | largest | diagonal | top | differences | leading | associations
                                 | adjusted | gaps | gap, ...}

        Kinds: stacked (100% bars of ordinal answers; with `pairs`, the two sides of each pair side by
        side), dots (mean ratings by group), bars (one question's answers), crosstab (a question by a
        breakdown), keywords (the codebook tags of a free-text question, type size growing with mentions),
        keyword-bars (the same tags ranked), choices (share of each group choosing each choice of a
        multi-select question or tag, with the per-choice tests), models (adjusted odds ratios from
        models.csv), pairs (mean ratings of the two sides of each pair from paired.csv, sorted by gap).
        The questions of a stacked, dots, models or pairs figure come from one question group.
    """
    raw = read_yaml(path) if path.exists() else default_raw(instrument)
    return parse(raw, path, instrument)
