"""Load a survey instrument (`surveys/<survey>/instrument.yaml`) into a frozen, validated description.

Validation runs in two passes and collects every problem before failing: the JSON Schema in
`pipeline/schema/instrument.schema.json` checks the structure, then `semantic_problems` checks what a
schema cannot (references between questions, scales, derived variables and breakdowns; cycles).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml

from pipeline.errors import PulseError

SINGLE_CHOICE = ("ordinal", "nominal")
DERIVED_SOURCES = {
    "country": ("country",),
    "nationality": ("country",),
    "un_group": ("derived",),
    "income_group": ("derived",),
    "recode": ("derived", "nominal", "ordinal"),
    "selected": ("multi",),
}
UN_GROUPS = ("African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG", "Unknown")
INCOME_GROUPS = ("High income", "Upper middle income", "Lower middle income", "Low income", "Unknown")


@dataclass(frozen=True)
class Level:
    code: int | str
    label: str
    short: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class MissingCode:
    label: str
    kind: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scale:
    id: str
    type: str
    levels: tuple[Level, ...]
    missing: tuple[MissingCode, ...] = ()
    blank: str = "blank"
    palette: str = "qualitative"

    @property
    def codes(self) -> tuple[int | str, ...]:
        return tuple(level.code for level in self.levels)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(level.label for level in self.levels)

    def level(self, code: int | str) -> Level:
        return next(level for level in self.levels if level.code == code)

    def score(self, code: int | str) -> int:
        """The 1-based position of a level: the score used for means of ordinal scales."""
        return self.codes.index(code) + 1


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    column: str
    short: str
    scale: Scale | None = None
    group: str | None = None
    letter: str | None = None
    topbox_codes: tuple[int | str, ...] = ()
    topbox_label: str | None = None
    eligible: Mapping[str, Any] | None = None
    multiple: bool = False
    separator: str = ";"
    minimum: float | None = None
    maximum: float | None = None
    since: str | None = None
    until: str | None = None
    comparable_with: Mapping[str, str] | None = None

    def asked_in(self, wave: str) -> bool:
        """Whether the question was asked in `wave`: `since` <= wave <= `until` where given. Wave labels compare as
        text, so they must sort in fielding order (e.g. 2024-05, 2024-08)."""
        return (self.since is None or self.since <= wave) and (self.until is None or wave <= self.until)


@dataclass(frozen=True)
class Derived:
    id: str
    rule: str
    source: str
    label: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def values(self) -> tuple[str, ...]:
        """The ordered categories this variable can take (empty for ISO3 country codes)."""
        if self.rule == "un_group":
            return UN_GROUPS
        if self.rule == "income_group":
            return INCOME_GROUPS
        if self.rule == "recode":
            mapped = list(dict.fromkeys(self.options["map"].values()))
            other = self.options.get("other")
            return tuple(mapped + ([other] if other and other not in mapped else []))
        if self.rule == "selected":
            return tuple(self.options["values"])
        return ()


@dataclass(frozen=True)
class Breakdown:
    id: str
    variables: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class Pair:
    """Two ordinal questions on the same scale asked of the same respondents (e.g. one domain rated for
    higher- and for lower-income countries), compared with a paired test."""

    id: str
    a: str
    b: str
    label: str
    group: str | None = None


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    title: str
    short_title: str
    organiser: str
    annex: str
    invitation: str
    export: Mapping[str, Any]
    scales: Mapping[str, Scale]
    question_groups: Mapping[str, str]
    questions: tuple[Question, ...]
    derived: tuple[Derived, ...]
    breakdowns: tuple[Breakdown, ...]
    changelog: tuple[Mapping[str, Any], ...]
    path: Path
    pairs: tuple[Pair, ...] = ()

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)

    def questions_of(self, *types: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.type in types)

    def derived_variable(self, variable_id: str) -> Derived:
        return next(d for d in self.derived if d.id == variable_id)

    def for_wave(self, wave: str) -> "Instrument":
        """The instrument as fielded in `wave`: only the questions whose `since`/`until` include it."""
        return replace(self, questions=tuple(q for q in self.questions if q.asked_in(wave)))


@cache
def schema() -> dict:
    """The instrument JSON Schema shipped in the package."""
    text = resources.files("pipeline").joinpath("schema/instrument.schema.json").read_text("utf-8")
    return json.loads(text)


def _key_path(error: jsonschema.ValidationError, raw: Mapping[str, Any]) -> str:
    parts: list[str] = []
    node: Any = raw
    for step in error.absolute_path:
        if isinstance(step, int) and isinstance(node, list):
            item = node[step] if step < len(node) else None
            name = item.get("id") if isinstance(item, dict) else None
            parts.append(f"[{name}]" if name else f"[{step}]")
            node = item
        else:
            parts.append(f".{step}" if parts else str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def schema_problems(raw: Any) -> list[str]:
    """One message per JSON Schema violation, as 'key.path: reason', in document order."""
    if not isinstance(raw, dict):
        return ["(top level): an instrument must be a YAML mapping of keys such as id, scales, questions"]
    validator = jsonschema.Draft202012Validator(schema())
    problems = []
    for error in sorted(validator.iter_errors(raw), key=lambda e: [str(p) for p in e.absolute_path]):
        leaf = error
        if error.context:
            leaf = min(error.context, key=lambda e: (len(list(e.absolute_path)) * -1, e.message))
        hint = " (YAML reads yes/no/on/off as true/false: quote it)" if isinstance(leaf.instance, bool) else ""
        problems.append(f"{_key_path(leaf, raw)}: {leaf.message}{hint}")
    return problems


def _condition_questions(condition: Mapping[str, Any]) -> list[tuple[str, list]]:
    if "question" in condition:
        return [(condition["question"], list(condition["in"]))]
    children = condition.get("all") or condition.get("any") or [condition.get("not")]
    return [pair for child in children if child for pair in _condition_questions(child)]


def derivation_order(derived: list[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """Derived-variable ids in declaration order, moved only as far as needed to follow what they read,
    and the ids caught in cycles."""
    ids = {d["id"] for d in derived}
    needs = {d["id"]: {d["from"], d.get("residence")} & ids for d in derived}
    order: list[str] = []
    remaining = list(needs)
    while remaining:
        ready = next((i for i in remaining if needs[i] <= set(order)), None)
        if ready is None:
            return order, sorted(remaining)
        order.append(ready)
        remaining.remove(ready)
    return order, []


def _overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two questions are asked in a common wave by their `since`/`until` (open ends overlap everything)."""
    starts = [str(q["since"]) for q in (a, b) if q.get("since")]
    ends = [str(q["until"]) for q in (a, b) if q.get("until")]
    return not (starts and ends and max(starts) > min(ends))


def semantic_problems(raw: Mapping[str, Any]) -> list[str]:
    """Problems a schema cannot see: unknown or duplicate references, unknown levels, cycles, and versioning
    (`since`/`until`, `comparable_with` links, the changelog: `version_problems`)."""
    problems: list[str] = []
    scales = raw.get("scales", {})
    for scale_id, scale in scales.items():
        for key in ("code", "label"):
            values = [level[key] for level in scale["levels"]]
            for value in sorted({v for v in values if values.count(v) > 1}, key=str):
                problems.append(f"scales.{scale_id}.levels: duplicate {key} {value!r}")
    seen: dict[str, str] = {}
    columns: dict[str, str] = {}
    questions: dict[str, Mapping[str, Any]] = {}
    for q in raw["questions"]:
        questions.setdefault(q["id"], q)
    groups = raw.get("question_groups")
    for q in raw["questions"]:
        where = f"questions[{q['id']}]"
        if q["id"] in seen:
            problems.append(f"{where}.id: duplicate question id {q['id']!r}")
        seen[q["id"]] = "question"
        if "column" in q:
            if q["column"] in columns and _overlap(q, questions[columns[q["column"]]]):
                problems.append(f"{where}.column: column {q['column']!r} is already used by question {columns[q['column']]!r}")
            columns[q["column"]] = q["id"]
        scale = scales.get(q.get("scale")) if "scale" in q else None
        if "scale" in q and scale is None:
            problems.append(f"{where}.scale: unknown scale {q['scale']!r}; declare it under scales or fix the name")
        if groups is not None and q.get("group") and q["group"] not in groups:
            problems.append(f"{where}.group: unknown question group {q['group']!r}; declare it under question_groups")
        if "topbox" in q:
            if q["type"] != "ordinal":
                problems.append(f"{where}.topbox: only ordinal questions have a top box")
            elif scale is not None:
                codes = [level["code"] for level in scale["levels"]]
                for code in q["topbox"]["codes"]:
                    if code not in codes:
                        problems.append(f"{where}.topbox.codes: {code!r} is not a code of scale {q['scale']!r}")
        for ref, values in _condition_questions(q.get("eligible") or {}):
            if ref not in questions:
                problems.append(f"{where}.eligible: unknown question {ref!r}")
                continue
            target = scales.get(questions[ref].get("scale"))
            if target is not None:
                allowed = {level["label"] for level in target["levels"]} | {level["code"] for level in target["levels"]}
                for value in values:
                    if value not in allowed:
                        problems.append(f"{where}.eligible: {value!r} is not a level of question {ref!r}")
    problems += version_problems(raw)
    derived = raw.get("derived", [])
    for d in derived:
        where = f"derived[{d['id']}]"
        if d["id"] in seen:
            problems.append(f"{where}.id: {d['id']!r} is already the id of a {seen[d['id']]}")
        seen[d["id"]] = "derived variable"
    derived_ids = {d["id"] for d in derived}
    for d in derived:
        where = f"derived[{d['id']}]"
        for key in ("from", "residence"):
            ref = d.get(key)
            if ref is None:
                continue
            if ref not in questions and ref not in derived_ids:
                problems.append(f"{where}.{key}: unknown question or derived variable {ref!r}")
                continue
            kind = "derived" if ref in derived_ids else questions[ref]["type"]
            if key == "from" and kind not in DERIVED_SOURCES[d["rule"]]:
                problems.append(f"{where}.from: rule {d['rule']!r} cannot read {ref!r} (a {kind} variable)")
        if d["rule"] == "nationality" and "residence" not in d:
            problems.append(f"{where}.residence: the nationality rule needs the residence variable")
        if d["rule"] == "selected" and d["from"] in questions:
            scale = scales.get(questions[d["from"]].get("scale"), {"levels": []})
            if d["choice"] not in [level["code"] for level in scale["levels"]]:
                problems.append(f"{where}.choice: {d['choice']!r} is not a choice of question {d['from']!r}")
    _, cycle = derivation_order(derived)
    if cycle:
        problems.append(f"derived: cycle between {', '.join(cycle)}; each derived variable must read only earlier ones")
    variables = set(questions) | derived_ids
    breakdown_ids: set[str] = set()
    for b in raw.get("breakdowns", []):
        where = f"breakdowns[{b['id']}]"
        if b["id"] in breakdown_ids:
            problems.append(f"{where}.id: duplicate breakdown id {b['id']!r}")
        breakdown_ids.add(b["id"])
        for ref in b.get("variables") or [b.get("variable")]:
            if ref not in variables:
                problems.append(f"{where}: unknown variable {ref!r}")
            elif ref in questions and questions[ref]["type"] not in ("ordinal", "nominal", "multi"):
                problems.append(f"{where}: {ref!r} is a {questions[ref]['type']} question and cannot split the sample")
    pair_ids: set[str] = set()
    for pair in raw.get("pairs", []):
        where = f"pairs[{pair['id']}]"
        if pair["id"] in pair_ids:
            problems.append(f"{where}.id: duplicate pair id {pair['id']!r}")
        pair_ids.add(pair["id"])
        for key in ("a", "b"):
            if pair[key] not in questions:
                problems.append(f"{where}.{key}: unknown question {pair[key]!r}")
            elif questions[pair[key]]["type"] != "ordinal":
                problems.append(f"{where}.{key}: {pair[key]!r} is not an ordinal question")
        scales_of = [questions[pair[k]].get("scale") for k in ("a", "b") if pair[k] in questions]
        if len(scales_of) == 2 and all(s in scales for s in scales_of) and scales_of[0] != scales_of[1]:
            problems.append(f"{where}: {pair['a']!r} and {pair['b']!r} use different scales and cannot be paired")
        if groups is not None and pair.get("group") and pair["group"] not in groups:
            problems.append(f"{where}.group: unknown question group {pair['group']!r}")
    return problems


def _link_problems(q: Mapping[str, Any], questions: Mapping[str, Mapping[str, Any]],
                   scales: Mapping[str, Any]) -> list[str]:
    """Problems of one question's `comparable_with` link: unknown or own id, a link to another type, a scale with
    another number of levels, or other level labels without a note saying why they compare."""
    where = f"questions[{q['id']}].comparable_with"
    target = q["comparable_with"]["id"]
    if target == q["id"]:
        return [f"{where}: a question cannot be comparable with itself; name the id it replaced"]
    if target not in questions:
        return [f"{where}: unknown question {target!r}; keep the replaced question in the instrument with until: "
                f"<its last wave>"]
    old = questions[target]
    if old["type"] != q["type"]:
        return [f"{where}: {target!r} is of type {old['type']} and {q['id']!r} of type {q['type']}; only questions "
                f"of one type can be compared"]
    old_scale, new_scale = scales.get(old.get("scale")), scales.get(q.get("scale"))
    if old_scale is None or new_scale is None or old_scale is new_scale:
        return []
    old_labels = [level["label"] for level in old_scale["levels"]]
    new_labels = [level["label"] for level in new_scale["levels"]]
    if len(old_labels) != len(new_labels):
        return [f"{where}: scale {old['scale']!r} of {target!r} has {len(old_labels)} levels and scale "
                f"{q['scale']!r} has {len(new_labels)}; levels are matched by position, so the link needs as many"]
    if old_labels != new_labels and not q["comparable_with"].get("note"):
        return [f"{where}: scales {old['scale']!r} and {q['scale']!r} have different level labels; add a note "
                f"saying why they compare"]
    return []


def version_problems(raw: Mapping[str, Any]) -> list[str]:
    """Problems of the instrument's versioning: `since` after `until`, links to questions asked at the same time
    or later, and a `version` missing from a given changelog."""
    problems: list[str] = []
    questions = {q["id"]: q for q in raw["questions"]}
    for q in raw["questions"]:
        where = f"questions[{q['id']}]"
        if q.get("since") and q.get("until") and str(q["since"]) > str(q["until"]):
            problems.append(f"{where}: since {q['since']!r} is after until {q['until']!r}; swap them or fix the wave")
        if "comparable_with" in q:
            problems += _link_problems(q, questions, raw.get("scales", {}))
            old = questions.get(q["comparable_with"]["id"], {})
            if old and not (old.get("until") and q.get("since") and str(old["until"]) < str(q["since"])):
                problems.append(f"{where}.comparable_with: {old['id']!r} must end before {q['id']!r} starts: give "
                                f"{old['id']!r} until: <last wave> and {q['id']!r} since: <first wave>")
    changelog = raw.get("changelog")
    if changelog and raw["version"] not in [str(entry["version"]) for entry in changelog]:
        problems.append(f"changelog: no entry for version {raw['version']!r}; add one saying what changed")
    return problems


def _scale(scale_id: str, raw: Mapping[str, Any]) -> Scale:
    return Scale(
        id=scale_id,
        type=raw["type"],
        levels=tuple(
            Level(level["code"], level["label"], level.get("short", level["label"]), tuple(level.get("aliases", ())))
            for level in raw["levels"]
        ),
        missing=tuple(MissingCode(m["label"], m["kind"], tuple(m.get("aliases", ()))) for m in raw.get("missing", ())),
        blank=raw.get("blank", "blank"),
        palette=raw.get("palette", "sequential" if raw["type"] == "ordinal" else "qualitative"),
    )


def _question(raw: Mapping[str, Any], scales: Mapping[str, Scale]) -> Question:
    topbox = raw.get("topbox", {})
    return Question(
        id=raw["id"],
        type=raw["type"],
        text=" ".join(raw["text"].split()),
        column=raw["column"],
        short=raw.get("short", raw["id"]),
        scale=scales.get(raw.get("scale")),
        group=raw.get("group"),
        letter=raw.get("letter"),
        topbox_codes=tuple(topbox.get("codes", ())),
        topbox_label=topbox.get("label"),
        eligible=raw.get("eligible"),
        multiple=raw.get("multiple", False),
        separator=raw.get("separator", ";"),
        minimum=raw.get("minimum"),
        maximum=raw.get("maximum"),
        since=raw.get("since"),
        until=raw.get("until"),
        comparable_with=raw.get("comparable_with"),
    )


def build(raw: Mapping[str, Any], path: Path) -> Instrument:
    """The frozen description of an instrument mapping that has passed validation."""
    scales = {scale_id: _scale(scale_id, scale) for scale_id, scale in raw["scales"].items()}
    derived_raw = {d["id"]: d for d in raw.get("derived", [])}
    order, _ = derivation_order(list(derived_raw.values()))
    derived = tuple(
        Derived(
            id=i,
            rule=derived_raw[i]["rule"],
            source=derived_raw[i]["from"],
            label=derived_raw[i].get("label", i),
            options={k: v for k, v in derived_raw[i].items() if k not in ("id", "rule", "from", "label")},
        )
        for i in order
    )
    return Instrument(
        id=raw["id"],
        version=raw["version"],
        title=raw["title"],
        short_title=raw.get("short_title", raw["title"]),
        organiser=" ".join(raw["organiser"].split()),
        annex=raw.get("annex", ""),
        invitation=" ".join(raw.get("invitation", "").split()),
        export=raw["export"],
        scales=scales,
        question_groups=raw.get("question_groups", {}),
        questions=tuple(_question(q, scales) for q in raw["questions"]),
        derived=derived,
        breakdowns=tuple(
            Breakdown(b["id"], tuple(b.get("variables") or [b["variable"]]), b["label"]) for b in raw.get("breakdowns", [])
        ),
        changelog=tuple(raw.get("changelog", ())),
        path=path,
        pairs=tuple(Pair(p["id"], p["a"], p["b"], p["label"], p.get("group")) for p in raw.get("pairs", [])),
    )


def _dates_as_text(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _dates_as_text(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_dates_as_text(value) for value in node]
    return node.isoformat() if isinstance(node, (datetime.date, datetime.datetime)) else node


def parse_yaml(text: str) -> Any:
    """The YAML document in `text`, read by libyaml's safe loader when PyYAML was built with it (several
    times faster than the pure-Python one, same result), else by the pure-Python safe loader."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def read_yaml(path: Path) -> Any:
    """The parsed YAML document at `path`; a missing file or a syntax error is a one-line PulseError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PulseError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise PulseError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    try:
        return _dates_as_text(parse_yaml(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PulseError(f"{path}:{where}: invalid YAML ({problem}); fix the syntax") from None


def load(path: str | Path) -> Instrument:
    """Read, validate and build the instrument at `path`.

    Raises PulseError with one line per problem, each naming the file and the offending key.
    """
    path = Path(path)
    raw = read_yaml(path)
    problems = schema_problems(raw)
    if not problems:
        problems = semantic_problems(raw)
    if problems:
        raise PulseError([f"{path}: {p}" for p in problems])
    return build(raw, path)
