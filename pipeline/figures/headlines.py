"""Headline sentences for figures, phrased by rules and filled with numbers read from the tables.

A rule returns a `Claim`: the sentence, the test it rests on (`basis`, empty for a plain description)
and `facts`, one record per number or group name in the sentence saying which table row and column it
was read from, so tests (and reviewers) can check every number against the tables. A comparative
claim is made only from the rank tests in tests.csv with q below `alpha`; when the data do not support
any claim of a rule (too few groups, suppressed rows, ties), the rule returns None.

Rules (chosen per figure in report.yaml):
- share: the top-box share of all respondents, in the wording of `text` ({pct}, {pct[question]}, …).
- largest: the most frequent level of one question.
- diagonal: for a question whose levels are the breakdown's groups, the range of "same level" shares.
- top: the question with the highest top-box share among the figure's questions.
- differences: groups compared over the figure's questions: two groups (Mann–Whitney), several
  groups (Kruskal–Wallis) or each choice of a multi-select breakdown against the rest.
- leading: the most named codebook tags of a free-text question (keywords.csv), with their mentions.
- associations: how many of the drawn choices (or tags) the groups of a breakdown name significantly
  differently often (per-choice tests of independence).
- adjusted: in how many of the figure's questions a model term's odds ratio (models.csv) has an
  interval excluding 1, i.e. the difference survives adjustment for the model's other terms.
- gaps: in how many pairs the paired test (paired.csv) finds side a rated significantly higher.
- gap: the pair whose sides differ most in their top-box shares, if its paired test is significant.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from pipeline import format as fmt
from pipeline.errors import PulseError
from pipeline.figures.names import Names, lower_first
from pipeline.figures.spec import ALL, WORDING, FigureSpec
from pipeline.figures.tables import Tables, choice_tests, is_split, rank_tests_of, rows, table_breakdowns

KEYS = {
    "distributions": ("question", "breakdown", "group", "level"),
    "topbox": ("question", "breakdown", "group"),
    "means": ("question", "breakdown", "group"),
    "tests": ("question", "breakdown", "test"),
    "keywords": ("question", "tag"),
    "models": ("question", "term", "level"),
    "paired": ("pair",),
}
FORMATS: dict[str, Callable[[float], str]] = {"percent": fmt.percent, "count": fmt.count, "mean": fmt.mean,
                                              "signed": fmt.signed}
TEST_NAMES = {
    "mann-whitney": "Mann–Whitney U test",
    "kruskal-wallis": "Kruskal–Wallis test",
    "chi-square": "chi-square test",
    "fisher-exact": "Fisher's exact test",
    "monte-carlo": "Monte Carlo exact test",
    "two-proportion-z": "two-proportion z-test",
    "wilcoxon-signed-rank": "Wilcoxon signed-rank test",
}
CORRECTIONS = {"fdr_bh": "Benjamini–Hochberg", "holm": "Holm"}


@dataclass
class Claim:
    text: str
    basis: str = ""
    facts: list[dict[str, Any]] = field(default_factory=list)


class Facts:
    """Collects where each number and name in a sentence came from."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def value(self, table: str, row: pd.Series, column: str, format: str) -> str:
        text = FORMATS[format](row[column])
        self.records.append({"kind": "value", "text": text, "table": table,
                             "where": {k: _plain(row[k]) for k in KEYS[table]}, "column": column,
                             "format": format, "value": _plain(row[column])})
        return text

    def count(self, n: int, table: str, where: dict, within: dict, query: str = "") -> str:
        text = fmt.count(n)
        self.records.append({"kind": "count", "text": text, "table": table, "where": where,
                             "in": {k: list(v) for k, v in within.items()}, "query": query, "value": n})
        return text

    def name(self, text: str, table: str, column: str, label: str) -> str:
        self.records.append({"kind": "name", "text": text, "table": table, "column": column, "label": label})
        return text


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return value


class Keyed(str):
    """A placeholder value usable both as {pct} and as {pct[question]}."""

    def __new__(cls, text: str, items: dict[str, str]):
        obj = super().__new__(cls, text)
        obj.items = items
        return obj

    def __getitem__(self, key):
        if isinstance(key, str) and key in self.items:
            return self.items[key]
        return super().__getitem__(key)


def _fields(text: str) -> set[str]:
    return {name.split("[", 1)[0].split(".", 1)[0] for _, name, _, _ in string.Formatter().parse(text) if name}


def _indexed(text: str, base: str) -> list[str]:
    keys = []
    for _, name, _, _ in string.Formatter().parse(text):
        if name and name.startswith(f"{base}["):
            keys.append(name[len(base) + 1:name.index("]")])
    return keys


class Context:
    """What every rule reads: the figure spec, the tables, names and the significance threshold."""

    def __init__(self, spec: FigureSpec, tables: Tables, names: Names, alpha: float, multiplicity: str):
        self.spec = spec
        self.tables = tables
        self.names = names
        self.alpha = alpha
        self.multiplicity = multiplicity
        self.facts = Facts()

    def topbox_row(self, question: str, breakdown: str, group: str) -> pd.Series | None:
        picked = rows(self.tables.topbox, question, breakdown)
        picked = picked[picked["group"] == group]
        if len(picked) != 1 or bool(picked.iloc[0]["suppressed"]) or pd.isna(picked.iloc[0]["pct"]):
            return None
        return picked.iloc[0]

    def scope(self, question: str) -> str:
        """" on “<question>”" when the figure shows several questions but the claim rests on one."""
        if len(self.spec.questions) == 1:
            return ""
        return f" on “{self.facts.name(self.names.question_short(question), 'tests', 'question', question)}”"

    def one_test(self, test: str, q_value: float) -> str:
        """The basis of a claim on one test: "Mann–Whitney U test, q = 0.003 (… correction …)."."""
        return f"{test}, {fmt.pvalue_clause('q', q_value)} ({self.correction()} correction within the family of tests)."

    def correction(self) -> str:
        return CORRECTIONS.get(self.multiplicity, self.multiplicity)

    def significant(self) -> str:
        return f"q_value < {self.alpha!r}"


def share(ctx: Context, text: str, question: str | None = None) -> Claim | None:
    """"{pct} of respondents …": top-box shares of all respondents."""
    question = question or ctx.spec.questions[0]
    names = [name for _, name, _, _ in string.Formatter().parse(text) if name]
    indexed = _indexed(text, "pct")
    found = {q: ctx.topbox_row(q, ALL, "All respondents") for q in {question, *indexed}}
    if any(row is None for row in found.values()):
        return None
    used = _fields(text)
    items = {q: ctx.facts.value("topbox", found[q], "pct", "percent") for q in indexed}
    main = (ctx.facts.value("topbox", found[question], "pct", "percent") if "pct" in names
            else fmt.percent(found[question]["pct"]))
    values = found
    mapping = {
        "pct": Keyed(main, items),
        "topbox": ctx.names.topbox(question),
        "n": ctx.facts.value("topbox", values[question], "n", "count") if "n" in used else "",
        "question": lower_first(ctx.names.question_short(question)),
    }
    return Claim(fmt.sentence_case(text.format(**mapping)), "", ctx.facts.records)


def largest(ctx: Context, text: str, question: str | None = None) -> Claim | None:
    """"{noun} … {pct}": the most frequent level of a question among all respondents ({level} is its label,
    {noun} what report.yaml's nouns call it), if it leads the next one after rounding."""
    question = question or ctx.spec.questions[0]
    picked = rows(ctx.tables.distributions, question, ALL)
    picked = picked[~picked["suppressed"] & picked["pct"].notna()]
    if picked.empty:
        return None
    ranked = picked.sort_values("count", ascending=False, kind="stable")
    top = ranked.iloc[0]
    if len(ranked) > 1 and fmt.percent(top["pct"]) == fmt.percent(ranked.iloc[1]["pct"]):
        return None
    used = _fields(text)
    noun = ctx.names.level_noun(question, top["level"])
    mapping = {
        "level": ctx.facts.name(top["level"], "distributions", "level", top["level"]) if "level" in used else "",
        "noun": ctx.facts.name(noun, "distributions", "level", top["level"]) if "noun" in used else "",
        "pct": ctx.facts.value("distributions", top, "pct", "percent") if "pct" in used else "",
        "count": ctx.facts.value("distributions", top, "count", "count") if "count" in used else "",
        "n": ctx.facts.value("distributions", top, "n", "count") if "n" in used else "",
    }
    return Claim(fmt.sentence_case(text.format(**mapping)), "", ctx.facts.records)


def diagonal(ctx: Context, text: str) -> Claim | None:
    """"{low} to {high}": for each group, the share answering the level named like the group."""
    question = ctx.spec.questions[0]
    breakdown = next(b for b in ctx.spec.breakdowns if b != ALL)
    picked = rows(ctx.tables.distributions, question, breakdown)
    same = picked[(picked["group"] == picked["level"]) & ~picked["suppressed"] & picked["pct"].notna()]
    if len(same) < 2 or same["pct"].nunique() < 2:
        return None
    low, high = same.loc[same["pct"].idxmin()], same.loc[same["pct"].idxmax()]
    used = _fields(text)
    mapping = {
        "low": ctx.facts.value("distributions", low, "pct", "percent") if "low" in used else "",
        "high": ctx.facts.value("distributions", high, "pct", "percent") if "high" in used else "",
        "low_group": ctx.facts.name(ctx.names.noun(breakdown, low["group"]), "distributions", "group", low["group"])
        if "low_group" in used else "",
        "high_group": ctx.facts.name(ctx.names.noun(breakdown, high["group"]), "distributions", "group", high["group"])
        if "high_group" in used else "",
    }
    return Claim(fmt.sentence_case(text.format(**mapping)), "", ctx.facts.records)


def top(ctx: Context, text: str) -> Claim | None:
    """"{question} … {pct}": the question with the highest top-box share, if its share leads after rounding."""
    found = [(q, ctx.topbox_row(q, ALL, "All respondents")) for q in ctx.spec.questions]
    found = [(q, r) for q, r in found if r is not None]
    if len(found) < 2:
        return None
    found.sort(key=lambda item: -item[1]["pct"])
    (question, row), (_, runner_up) = found[0], found[1]
    if fmt.percent(row["pct"]) == fmt.percent(runner_up["pct"]):
        return None
    used = _fields(text)
    mapping = {
        "question": ctx.names.question_short(question) if text.startswith("{question}") else lower_first(
            ctx.names.question_short(question)),
        "pct": ctx.facts.value("topbox", row, "pct", "percent") if "pct" in used else "",
        "topbox": ctx.names.topbox(question),
    }
    return Claim(fmt.sentence_case(text.format(**mapping)), "", ctx.facts.records)


def _any(m: int, total: str, unit: str) -> str:
    """"either of the two questions" or "any of the 14 areas"."""
    return f"either of the two {unit}" if m == 2 else f"any of the {total} {unit}"


def _some(n: int, text: str, unit: str) -> str:
    """"1 area" or "3 areas"."""
    return f"{text} {unit[:-1] if n == 1 and unit.endswith('s') else unit}"


def _all(m: int, total: str, unit: str) -> str:
    """"both questions" or "all 14 areas"."""
    return f"both {unit}" if m == 2 else f"all {total} {unit}"


def _two_groups(ctx: Context, tests: pd.DataFrame, breakdown: str, options: dict) -> Claim | None:
    more, less = options.get("more", "higher on the scale"), options.get("less", "lower on the scale")
    unit = options.get("unit", "questions")
    a, b = tests.iloc[0]["group_a"], tests.iloc[0]["group_b"]
    if (tests["group_a"] != a).any() or (tests["group_b"] != b).any():
        return None
    sign = 1
    fixed = options.get("groups")
    if fixed:
        if set(fixed) != {a, b}:
            raise PulseError(f"{ctx.spec.where}.headline.groups: the tested groups are {a!r} and {b!r}")
        sign = 1 if fixed[0] == a else -1
    effect = tests["effect_size"] * sign
    sig = tests["q_value"] < ctx.alpha
    up, down = int((sig & (effect > 0)).sum()), int((sig & (effect < 0)).sum())
    higher, lower = int((effect > 0).sum()), int((effect < 0).sum())
    if not fixed and (down > up or (up == down == 0 and lower > higher)):
        sign, up, down, higher, lower = -sign, down, up, lower, higher
    first, second = (a, b) if sign == 1 else (b, a)
    positive = "effect_size > 0" if sign == 1 else "effect_size < 0"
    where = {"breakdown": breakdown, "test": tests.iloc[0]["test"]}
    within = {"question": list(tests["question"])}
    column_first, column_second = ("group_a", "group_b")[:: sign]
    big = fmt.sentence_case(ctx.facts.name(ctx.names.noun(breakdown, first), "tests", column_first, first))
    small = ctx.facts.name(ctx.names.noun(breakdown, second), "tests", column_second, second)
    m = len(tests)
    test_name = TEST_NAMES[tests.iloc[0]["test"]]
    if m == 1:
        row = tests.iloc[0]
        question = row["question"]
        basis = ctx.one_test(test_name, row["q_value"])
        shares = ""
        rows_ab = [ctx.topbox_row(question, breakdown, g) for g in (first, second)]
        if all(r is not None for r in rows_ab):
            pa, pb = (ctx.facts.value("topbox", r, "pct", "percent") for r in rows_ab)
            shares = f"{pa} vs {pb} {ctx.names.topbox(question)}"
        scope = ctx.scope(question)
        if up:
            text = f"{big} are {more} than {small}{scope}" + (f": {shares}" if shares else "")
        elif down:
            text = f"{big} are {less} than {small}{scope}" + (f": {shares}" if shares else "")
        else:
            text = f"{big} and {small} do not differ significantly{scope}" + (f" ({shares})" if shares else "")
        return Claim(text, basis, ctx.facts.records)
    total = ctx.facts.count(m, "tests", where, within)
    basis = (f"{test_name} in each of the {fmt.count(m)} {unit}; {ctx.correction()} correction within each family of "
             f"tests; significant when q < {ctx.alpha:g}.")
    if up == down == 0:
        text = f"No significant difference between {ctx.names.noun(breakdown, first)} and {small} in {_any(m, total, unit)}"
        return Claim(fmt.sentence_case(text), basis, ctx.facts.records)
    ups = ctx.facts.count(up, "tests", where, within, f"{ctx.significant()} and {positive}")
    if down == 0 and higher == m:
        text = f"{big} are {more} than {small} in {_all(m, total, unit)}"
        if up < m:
            text += f", significantly so in {ups}"
        return Claim(text, basis, ctx.facts.records)
    text = (f"{big} are significantly {more} than {small} in {_all(m, total, unit)}" if up == m else
            f"{big} are significantly {more} than {small} in {ups} of {total} {unit}")
    if down:
        negative = "effect_size < 0" if sign == 1 else "effect_size > 0"
        downs = ctx.facts.count(down, "tests", where, within, f"{ctx.significant()} and {negative}")
        text += f" and {less} in {_some(down, downs, unit)}"
    return Claim(text, basis, ctx.facts.records)


def _several_groups(ctx: Context, tests: pd.DataFrame, breakdown: str, options: dict) -> Claim | None:
    between = options.get("between", "groups")
    unit = options.get("unit", "questions")
    sig = tests["q_value"] < ctx.alpha
    m, k = len(tests), int(sig.sum())
    test_name = TEST_NAMES[tests.iloc[0]["test"]]
    where = {"breakdown": breakdown, "test": tests.iloc[0]["test"]}
    within = {"question": list(tests["question"])}
    if m == 1:
        row = tests.iloc[0]
        question = row["question"]
        basis = ctx.one_test(test_name, row["q_value"])
        shares = rows(ctx.tables.topbox, question, breakdown)
        shares = shares[~shares["suppressed"] & shares["pct"].notna()]
        if len(shares) < 2 or shares["pct"].nunique() < 2:
            return None
        ranked = shares.sort_values("pct", ascending=False, kind="stable")
        hi, lo = ranked.iloc[0], ranked.iloc[-1]
        shown = [fmt.percent(p) for p in ranked["pct"]]
        clear = shown[0] != shown[1] and shown[-1] != shown[-2]
        hi_name = ctx.facts.name(ctx.names.noun(breakdown, hi["group"]), "topbox", "group", hi["group"])
        lo_name = ctx.facts.name(ctx.names.noun(breakdown, lo["group"]), "topbox", "group", lo["group"])
        p_hi = ctx.facts.value("topbox", hi, "pct", "percent")
        p_lo = ctx.facts.value("topbox", lo, "pct", "percent")
        scope = ctx.scope(question)
        if k and not clear:
            text = (f"{fmt.sentence_case(between)} differ significantly{scope}: from {p_lo} ({lo_name}) to {p_hi} "
                    f"({hi_name}) {ctx.names.topbox(question)}")
        elif k:
            likely = options.get("likely", f"to answer “{ctx.names.topbox(question)}”")
            text = (f"{fmt.sentence_case(hi_name)} are the most likely {likely}{scope} ({p_hi}), {lo_name} the least "
                    f"({p_lo})")
        else:
            text = (f"{fmt.sentence_case(between)} do not differ significantly{scope}: from {p_lo} ({lo_name}) to "
                    f"{p_hi} ({hi_name}) {ctx.names.topbox(question)}")
        return Claim(text, basis, ctx.facts.records)
    total = ctx.facts.count(m, "tests", where, within)
    basis = (f"{test_name} in each of the {fmt.count(m)} {unit}; {ctx.correction()} correction within each family of "
             f"tests; significant when q < {ctx.alpha:g}.")
    if k == 0:
        return Claim(f"{fmt.sentence_case(between)} do not differ significantly in {_any(m, total, unit)}", basis,
                     ctx.facts.records)
    count = ctx.facts.count(k, "tests", where, within, ctx.significant())
    text = (f"{fmt.sentence_case(between)} differ significantly in {_all(m, total, unit)}" if k == m else
            f"{fmt.sentence_case(between)} differ significantly in {count} of {total} {unit}")
    return Claim(text, basis, ctx.facts.records)


def _splits(ctx: Context, breakdown: str, options: dict) -> Claim | None:
    more, less = options.get("more", "higher on the scale"), options.get("less", "lower on the scale")
    unit = options.get("unit", "questions")
    between = options.get("between", "groups")
    tests = rank_tests_of(ctx.tables.tests, ctx.spec.questions, breakdown)
    if tests.empty:
        return None
    sig = tests["q_value"] < ctx.alpha
    tests = tests.assign(up=sig & (tests["effect_size"] > 0), down=sig & (tests["effect_size"] < 0))
    per_split = tests.groupby("breakdown", sort=False)[["up", "down"]].sum()
    per_split["any"] = per_split["up"] + per_split["down"]
    per_split["q"] = tests.groupby("breakdown", sort=False)["q_value"].min()
    sizes = tests.groupby("breakdown", sort=False).size()
    widest, m = sizes.idxmax(), int(sizes.max())
    test_name = TEST_NAMES[tests.iloc[0]["test"]]
    basis_unit = f" in each of the {fmt.count(m)} {unit}" if m > 1 else ""
    basis = (f"{test_name}{basis_unit}, each group against all other respondents; {ctx.correction()} correction within "
             f"each family of tests; significant when q < {ctx.alpha:g}.")
    if per_split["any"].max() == 0:
        scope = ""
        if m > 1:
            total = ctx.facts.count(m, "tests", {"breakdown": widest, "test": tests.iloc[0]["test"]},
                                    {"question": list(tests[tests["breakdown"] == widest]["question"])})
            scope = f" in {_any(m, total, unit)}"
        return Claim(f"No {between} differ significantly from the other respondents{scope}", basis, ctx.facts.records)
    split = per_split.sort_values(["any", "q"], ascending=[False, True], kind="stable").index[0]
    chosen = tests[tests["breakdown"] == split]
    up, down = int(per_split.loc[split, "up"]), int(per_split.loc[split, "down"])
    group = chosen.iloc[0]["group_a"]
    noun = fmt.sentence_case(ctx.facts.name(ctx.names.noun(split, group), "tests", "group_a", group))
    where = {"breakdown": split, "test": chosen.iloc[0]["test"]}
    within = {"question": list(chosen["question"])}
    word, other = (more, less) if up >= down else (less, more)
    if len(chosen) == 1:
        question = chosen.iloc[0]["question"]
        row, overall = ctx.topbox_row(question, split, group), ctx.topbox_row(question, ALL, "All respondents")
        text = f"{noun} are {word} than other respondents{ctx.scope(question)}"
        if row is not None and overall is not None:
            text += (f": {ctx.facts.value('topbox', row, 'pct', 'percent')} {ctx.names.topbox(question)}, against "
                     f"{ctx.facts.value('topbox', overall, 'pct', 'percent')} of all respondents")
        basis = ctx.one_test(f"{test_name} against all other respondents", chosen.iloc[0]["q_value"])
        return Claim(text, basis, ctx.facts.records)
    first_query, second_query = "effect_size > 0", "effect_size < 0"
    if down > up:
        first_query, second_query = second_query, first_query
    main = ctx.facts.count(max(up, down), "tests", where, within, f"{ctx.significant()} and {first_query}")
    total = ctx.facts.count(len(chosen), "tests", where, within)
    text = (f"{noun} are significantly {word} than other respondents in {_all(len(chosen), total, unit)}"
            if max(up, down) == len(chosen) else
            f"{noun} are significantly {word} than other respondents in {main} of {total} {unit}")
    if min(up, down):
        rest = ctx.facts.count(min(up, down), "tests", where, within, f"{ctx.significant()} and {second_query}")
        text += f" and {other} in {_some(min(up, down), rest, unit)}"
    return Claim(text, basis, ctx.facts.records)


def differences(ctx: Context, breakdown: str, **options) -> Claim | None:
    """Comparisons of the groups of `breakdown` over the figure's questions, from the rank tests."""
    if any(is_split(b) for b in table_breakdowns(ctx.tables.tests, breakdown)):
        return _splits(ctx, breakdown, options)
    tests = rank_tests_of(ctx.tables.tests, ctx.spec.questions, breakdown)
    if tests.empty:
        return None
    if (tests["test"] == "mann-whitney").all():
        return _two_groups(ctx, tests, breakdown, options)
    if (tests["test"] == "kruskal-wallis").all():
        return _several_groups(ctx, tests, breakdown, options)
    return None


def _all_of(text: str, count: int, total: int) -> str:
    """"{count} of {total}" reads "all {total}" when every one counts."""
    return text.replace("{count} of {total}", "all {total}") if count == total else text


def leading(ctx: Context, text: str, count: int = 2) -> Claim | None:
    """"{tags} are the groups most often named": the `count` most mentioned tags shown in keywords.csv,
    the first with "(46 of 188 meaningful answers)", the others with their mentions; None when the next
    tag ties with the last one named (the choice would be arbitrary)."""
    question = ctx.spec.questions[0]
    table = ctx.tables.get("keywords")
    picked = table[(table["question"] == question) & table["shown"]]
    ranked = picked.sort_values("mentions", ascending=False, kind="stable")
    if len(ranked) < count:
        return None
    if len(ranked) > count and ranked.iloc[count - 1]["mentions"] == ranked.iloc[count]["mentions"]:
        return None
    parts = []
    for i in range(count):
        row = ranked.iloc[i]
        name = ctx.facts.name(ctx.names.label_noun(row["label"]), "keywords", "label", row["label"])
        mentions = ctx.facts.value("keywords", row, "mentions", "count")
        if i == 0:
            n = ctx.facts.value("keywords", row, "meaningful_answers", "count")
            parts.append(f"{name} ({mentions} of {n} meaningful answers)")
        else:
            parts.append(f"{name} ({mentions})")
    used = _fields(text)
    mapping = {"tags": fmt.join(parts),
               "n": ctx.facts.value("keywords", ranked.iloc[0], "meaningful_answers", "count") if "n" in used else ""}
    return Claim(fmt.sentence_case(text.format(**mapping)), "", ctx.facts.records)


def associations(ctx: Context, between: str = "groups", unit: str = "choices") -> Claim | None:
    """"Regional groups differ significantly in how often they name 2 of the 22 groups: A and B": the
    per-choice tests of the figure's breakdown over the choices drawn."""
    from pipeline.figures import choices

    breakdown = next((b for b in ctx.spec.breakdowns if b != ALL), None)
    if breakdown is None:
        return None
    variable, drawn = choices.variable_and_choices(ctx.spec, ctx.tables, ctx.names)
    codes = [code for code, _ in drawn]
    tests = choice_tests(ctx.tables.tests, variable, breakdown)
    tests = tests[tests["code"].isin(codes)]
    if tests.empty:
        return None
    sig = tests[tests["q_value"] < ctx.alpha]
    within = {"question": list(tests["question"])}
    where = {"breakdown": breakdown}
    total = ctx.facts.count(len(tests), "tests", where, within)
    kinds = fmt.join([TEST_NAMES[t] for t in dict.fromkeys(tests["test"])], "or")
    basis = (f"{kinds} of independence for each of the {fmt.count(len(tests))} {unit}; {ctx.correction()} correction "
             f"within the family of tests; significant when q < {ctx.alpha:g}.")
    if sig.empty:
        return Claim(f"{fmt.sentence_case(between)} do not differ significantly in how often they name any of the "
                     f"{total} {unit}", basis, ctx.facts.records)
    k = ctx.facts.count(len(sig), "tests", where, within, ctx.significant())
    label = dict(drawn)
    named = [ctx.facts.name(ctx.names.label_noun(label[c]), "distributions", "level", label[c]) for c in sig["code"]]
    text = f"{fmt.sentence_case(between)} differ significantly in how often they name {k} of the {total} {unit}"
    if len(named) <= 3:
        text += f": {fmt.join(named)}"
    return Claim(text, basis, ctx.facts.records)


def adjusted(ctx: Context, text: str, term: str | None = None, level: str | None = None,
             unit: str = "questions") -> Claim | None:
    """"The gender gap survives adjustment for {others} in {count} of {total} areas": the questions whose
    odds ratio for `term` (its `level`, by default its first) has an interval excluding 1."""
    term = term or ctx.spec.terms[0]
    models = ctx.tables.get("models")
    picked = models[models["question"].isin(ctx.spec.questions) & (models["term"] == term)]
    if picked.empty:
        return None
    level = level or picked.iloc[0]["level"]
    picked = picked[(picked["level"] == level) & picked["odds_ratio"].notna()]
    if picked.empty:
        return None
    excludes = (picked["ci_low"] > 1) | (picked["ci_high"] < 1)
    where = {"term": term, "level": level}
    within = {"question": list(picked["question"])}
    query = "ci_low > 1 or ci_high < 1"
    original = _fields(text)
    text = _all_of(text, int(excludes.sum()), len(picked))
    used = _fields(text) | (original & {"count"})
    everything = models[models["question"].isin(ctx.spec.questions)]
    others = [t for t in dict.fromkeys(everything["term"]) if t and t != term]
    reference = picked.iloc[0]["reference"]
    mapping = {
        "count": ctx.facts.count(int(excludes.sum()), "models", where, within, query) if "count" in used else "",
        "total": ctx.facts.count(len(picked), "models", where, within) if "total" in used else "",
        "others": fmt.join([ctx.names.term(t) for t in others]),
        "group": ctx.facts.name(ctx.names.level_noun(term, level), "models", "level", level) if "group" in used else "",
        "reference": (ctx.facts.name(ctx.names.level_noun(term, reference), "models", "reference", reference)
                      if "reference" in used else ""),
    }
    violated = int((picked["po_violated"] & excludes).sum())
    basis = (f"Proportional-odds models of each of the {fmt.count(len(picked))} {unit} on "
             f"{fmt.join([ctx.names.term(t) for t in [term, *others]])}; the count is of {unit} whose odds ratio's "
             f"interval excludes 1.")
    if violated:
        basis += (f" In {fmt.count(violated)} of them the proportional-odds test rejected the assumption for this term "
                  f"(the odds ratio is an average over thresholds).")
    return Claim(fmt.sentence_case(text.format(**mapping)), basis, ctx.facts.records)


def gaps(ctx: Context, text: str, unit: str = "pairs", higher: str = "a") -> Claim | None:
    """"… significantly higher for {side_a} than for {side_b} in {count} of {total} domains; the gap is
    largest for {largest} ({gap})": the paired tests of the figure's pairs, {count} being the pairs whose
    side `higher` (a, or b) is rated significantly higher. If the other side is significantly higher in
    any pair, the sentence says so."""
    paired = ctx.tables.get("paired")
    picked = paired[paired["pair"].isin(ctx.spec.pairs) & paired["q_value"].notna()]
    if picked.empty:
        return None
    sig = picked["q_value"] < ctx.alpha
    up, down = int((sig & (picked["mean_diff"] > 0)).sum()), int((sig & (picked["mean_diff"] < 0)).sum())
    ahead, behind = ("mean_diff > 0", "mean_diff < 0") if higher == "a" else ("mean_diff < 0", "mean_diff > 0")
    if higher == "b":
        up, down = down, up
    where = {}
    within = {"pair": list(picked["pair"])}
    largest = picked.loc[picked["mean_diff"].abs().idxmax()]
    row_name, side_a, side_b = ctx.names.pair_names(largest["pair"], ctx.spec.sides)
    original = _fields(text)
    text = _all_of(text, up, len(picked))
    used = _fields(text) | (original & {"count"})
    mapping = {
        "count": ctx.facts.count(up, "paired", where, within, f"{ctx.significant()} and {ahead}") if "count" in used else "",
        "total": ctx.facts.count(len(picked), "paired", where, within) if "total" in used else "",
        "largest": ctx.facts.name(lower_first(row_name), "paired", "pair", largest["pair"]) if "largest" in used else "",
        "gap": ctx.facts.value("paired", largest, "mean_diff", "signed") if "gap" in used else "",
        "side_a": side_a,
        "side_b": side_b,
    }
    sentence = fmt.sentence_case(text.format(**mapping))
    if down:
        downs = ctx.facts.count(down, "paired", where, within, f"{ctx.significant()} and {behind}")
        sentence += f"; the reverse holds significantly in {_some(down, downs, unit)}"
    basis = (f"Wilcoxon signed-rank test on the paired answers in each of the {fmt.count(len(picked))} {unit}; "
             f"{ctx.correction()} correction within the group of pairs; significant when q < {ctx.alpha:g}.")
    return Claim(sentence, basis, ctx.facts.records)


def gap(ctx: Context, text: str) -> Claim | None:
    """"… within three years or less is expected for {domain} by {pct_a} for higher-income countries but
    {pct_b} for lower-income countries": among pairs whose paired test is significant, the one whose two
    top-box shares (all respondents answering each side) differ most."""
    paired = ctx.tables.get("paired")
    found = []
    for pair_id in ctx.spec.pairs:
        pair = ctx.names.pair(pair_id)
        a, b = ctx.topbox_row(pair.a, ALL, "All respondents"), ctx.topbox_row(pair.b, ALL, "All respondents")
        test = paired[paired["pair"] == pair_id]
        if a is None or b is None or test.empty or pd.isna(test.iloc[0]["q_value"]):
            continue
        found.append((abs(a["pct"] - b["pct"]), pair_id, a, b, test.iloc[0]))
    significant = [f for f in found if f[4]["q_value"] < ctx.alpha]
    if not significant:
        return None
    significant.sort(key=lambda f: -f[0])
    if len(significant) > 1 and fmt.percent(significant[0][0]) == fmt.percent(significant[1][0]):
        return None
    _, pair_id, a, b, test = significant[0]
    row_name, side_a, side_b = ctx.names.pair_names(pair_id, ctx.spec.sides)
    used = _fields(text)
    question = ctx.names.pair(pair_id).a
    mapping = {
        "domain": ctx.facts.name(lower_first(row_name), "paired", "pair", pair_id) if "domain" in used else "",
        "pct_a": ctx.facts.value("topbox", a, "pct", "percent") if "pct_a" in used else "",
        "pct_b": ctx.facts.value("topbox", b, "pct", "percent") if "pct_b" in used else "",
        "topbox": ctx.names.topbox(question),
        "side_a": side_a,
        "side_b": side_b,
    }
    basis = (f"Shares of all respondents answering each question (n = {fmt.count(a['n'])} and {fmt.count(b['n'])}); "
             f"Wilcoxon signed-rank test on the {fmt.count(test['n_pairs'])} respondents who answered both, "
             f"{fmt.pvalue_clause('q', test['q_value'])} ({ctx.correction()} correction within the group of pairs).")
    return Claim(fmt.sentence_case(text.format(**mapping)), basis, ctx.facts.records)


RULES = {"share": share, "largest": largest, "diagonal": diagonal, "top": top, "differences": differences,
         "leading": leading, "associations": associations, "adjusted": adjusted, "gaps": gaps, "gap": gap}


def claim(spec: FigureSpec, tables: Tables, names: Names, alpha: float, multiplicity: str) -> Claim | None:
    """The figure's headline claim by its rule, or None when it has no rule or the data support none."""
    if spec.headline is None:
        return None
    ctx = Context(spec, tables, names, alpha, multiplicity)
    found = RULES[spec.headline.rule](ctx, **spec.headline.options)
    if found is not None:
        typed = " ".join(str(v) for k, v in spec.headline.options.items() if isinstance(v, str))
        for span in dict.fromkeys(WORDING.findall(typed)):
            found.facts.append({"kind": "wording", "text": span, "source": str(spec.where)})
    return found
