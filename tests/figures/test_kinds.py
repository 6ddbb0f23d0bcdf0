"""The figure kinds and headline rules added for free-text tags, adjusted comparisons and paired ratings, on
hand-made tables: what is drawn is exactly what the tables hold, and every headline number is a table cell."""

import itertools
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.analyze import (DISTRIBUTION_COLUMNS, MEAN_COLUMNS, MODEL_COLUMNS, PAIRED_COLUMNS, TEST_COLUMNS,
                              TOPBOX_COLUMNS)
from pipeline.errors import PulseError
from pipeline.figures import keywords, models, pairs, palette
from pipeline.figures.headlines import claim
from pipeline.figures.names import Names, split_pair
from pipeline.figures.spec import load, parse
from pipeline.figures.tables import Tables
from pipeline.instrument import load as load_instrument
from pipeline.text.keywords import KEYWORD_COLUMNS

from tests.figures.helpers import REPO

RISK = load_instrument(REPO / "surveys" / "risk-pulse" / "instrument.yaml")
SCAN = load_instrument(REPO / "surveys" / "opportunity-scan" / "instrument.yaml")
AREAS = [q.id for q in RISK.questions if q.group == "harm_areas"]
NOUNS = {"Global South": "the Global South", "weog": "WEOG nationality"}


def frame(rows, columns):
    return pd.DataFrame(list(rows), columns=columns)


def tables(**given) -> Tables:
    empty = {"distributions": DISTRIBUTION_COLUMNS, "topbox": TOPBOX_COLUMNS, "means": MEAN_COLUMNS,
             "tests": TEST_COLUMNS}
    made = {name: frame([], columns) for name, columns in empty.items()}
    made.update(given)
    return Tables(**made)


def spec(figure: dict, instrument=RISK, nouns=NOUNS):
    raw = {"nouns": nouns, "sections": [{"id": "s", "title": "S", "figures": [figure]}]}
    return parse(raw, Path("report.yaml"), instrument).figures[0]


def tag(name, label, mentions, n=188, minimum=3):
    return {"question": "groups_of_concern", "tag": name, "label": label, "mentions": mentions,
            "meaningful_answers": n, "pct": 100 * mentions / n, "shown": mentions >= minimum, "automatic": mentions,
            "added": 0, "removed": 0}


TAGS = [tag("global_south", "Global South", 46), tag("marginalised", "Marginalised communities", 43),
        tag("children", "Children", 10), tag("youth", "Young people", 10), tag("women", "Women and girls", 7),
        tag("journalists", "Journalists", 4), tag("migrants", "Migrants and refugees", 2),
        tag("society", "Society at large", 0)]
CLOUD = {"id": "k", "kind": "keywords", "question": "groups_of_concern",
         "headline": {"rule": "leading", "text": "{tags} are the groups most often named"}}


def keyword_tables(rows=TAGS):
    return tables(keywords=frame(rows, KEYWORD_COLUMNS))


def test_the_keyword_figure_draws_exactly_the_shown_tags_sized_by_mentions():
    drawn = keywords.describe(spec(CLOUD), keyword_tables(), Names(RISK, NOUNS))
    assert list(drawn["tag"]) == [t["tag"] for t in TAGS if t["shown"]]
    for (_, a), (_, b) in itertools.combinations(drawn.iterrows(), 2):
        if a["mentions"] > b["mentions"]:
            assert a["size"] > b["size"]
        elif a["mentions"] == b["mentions"]:
            assert a["size"] == b["size"]
    assert drawn["size"].max() == keywords.LARGEST and drawn["size"].min() == keywords.SMALLEST


def test_keyword_boxes_never_overlap_and_stay_inside_the_chart():
    many = [tag(f"t{i}", f"Tag number {i} with words", 60 - i) for i in range(40)]
    drawn = keywords.describe(spec(CLOUD), keyword_tables(many), Names(RISK, NOUNS))
    boxes = list(zip(drawn["x"] - drawn["width"] / 2, drawn["x"] + drawn["width"] / 2,
                     drawn["y"] - drawn["height"] / 2, drawn["y"] + drawn["height"] / 2))
    for (l1, r1, t1, b1), (l2, r2, t2, b2) in itertools.combinations(boxes, 2):
        assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1
    assert min(b[0] for b in boxes) >= 0 and max(b[1] for b in boxes) <= 7.0 - 2 * 0.12
    again = keywords.describe(spec(CLOUD), keyword_tables(many), Names(RISK, NOUNS))
    assert again[["x", "y"]].equals(drawn[["x", "y"]])


def test_leading_names_the_most_mentioned_tags_with_table_counts():
    found = claim(spec(CLOUD), keyword_tables(), Names(RISK, NOUNS), 0.05, "fdr_bh")
    assert found.text == ("The Global South (46 of 188 meaningful answers) and marginalised communities (43) are the "
                          "groups most often named")
    values = {f["text"]: (f["column"], f["where"]["tag"]) for f in found.facts if f["kind"] == "value"}
    assert values == {"46": ("mentions", "global_south"), "188": ("meaningful_answers", "global_south"),
                      "43": ("mentions", "marginalised")}


def test_leading_says_nothing_when_the_last_named_tag_ties_with_the_next():
    figure = {**CLOUD, "headline": {**CLOUD["headline"], "count": 3}}
    assert claim(spec(figure), keyword_tables(), Names(RISK, NOUNS), 0.05, "fdr_bh") is None


def model_row(question, term, level, reference, odds, low, high, violated=False):
    row = {c: None for c in MODEL_COLUMNS}
    row.update(question=question, term=term, level=level, reference=reference, odds_ratio=odds, ci_low=low,
               ci_high=high, p_value=0.01, n=300, n_excluded=20, converged=True, po_p_value=0.01 if violated else 0.5,
               po_violated=violated, note="")
    return row


MODELS = {"id": "m", "kind": "models", "group": "harm_areas", "terms": ["gender", "weog"],
          "headline": {"rule": "adjusted", "term": "gender", "unit": "areas",
                       "text": "The gender gap survives adjustment for {others} in {count} of {total} areas"}}


def model_tables(excluding: int):
    rows = []
    for i, q in enumerate(AREAS):
        low = 1.1 if i < excluding else 0.9
        rows.append(model_row(q, "gender", "Woman", "Man", 1.6, low, 2.4, violated=i == 0))
        rows.append(model_row(q, "weog", "non-WEOG", "WEOG", 1.2, 0.8, 1.7))
        rows.append(model_row(q, "age", "30-39", "Under 30", 1.0, 0.5, 2.0))
    return tables(models=frame(rows, MODEL_COLUMNS))


def test_adjusted_counts_the_intervals_excluding_one():
    found = claim(spec(MODELS), model_tables(9), Names(RISK, NOUNS), 0.05, "fdr_bh")
    assert found.text == "The gender gap survives adjustment for WEOG nationality and age band in 9 of 14 areas"
    count = next(f for f in found.facts if f["kind"] == "count" and f["text"] == "9")
    assert count["query"] == "ci_low > 1 or ci_high < 1" and count["where"] == {"term": "gender", "level": "Woman"}
    assert "proportional-odds test rejected" in found.basis
    every = claim(spec(MODELS), model_tables(14), Names(RISK, NOUNS), 0.05, "fdr_bh")
    assert every.text.endswith("in all 14 areas")


def test_the_forest_plot_draws_one_panel_per_compared_level_and_flags_violations():
    drawn = models.describe(spec(MODELS), model_tables(9), Names(RISK, NOUNS))
    assert list(dict.fromkeys(drawn["panel"])) == ["Women vs men", "Non-WEOG vs WEOG"]
    assert set(drawn["question"]) == set(AREAS) and "age" not in set(drawn["term"])
    assert drawn["excludes_one"].sum() == 9 and drawn["po_violated"].sum() == 1


def paired_row(pair_id, a, b, group, mean_a, mean_b, q):
    row = {c: None for c in PAIRED_COLUMNS}
    row.update(pair=pair_id, question_a=a, question_b=b, label=pair_id, group=group, n_pairs=70, n_zero=5,
               mean_a=mean_a, mean_b=mean_b, mean_diff=mean_a - mean_b, ci_low=-1, ci_high=1,
               test="wilcoxon-signed-rank", p_value=q, q_value=q, family=f"paired/{group}", note="")
    return row


def scan_paired(group: str, gaps: list[float], q=0.01):
    chosen = [p for p in SCAN.pairs if p.group == group]
    return tables(paired=frame([paired_row(p.id, p.a, p.b, group, 3.0, 3.0 - gap, q)
                                for p, gap in zip(chosen, gaps)], PAIRED_COLUMNS))


PAIRS = {"id": "p", "kind": "pairs", "pairs": "so_far", "sides": ["Higher-income countries", "Lower-income countries"],
         "headline": {"rule": "gaps", "unit": "domains",
                      "text": "Rated significantly higher for higher-income countries in {count} of {total} domains, "
                              "most of all for {largest} ({gap})"}}


def test_pairs_are_sorted_by_the_size_of_the_gap():
    gaps = [0.2, -0.9, 0.5, 0.0, 0.7, 0.1, 0.3, 0.25, 0.4, 0.6, -0.1, 0.05, 0.15, 0.35, 0.45, 0.55]
    drawn = pairs.describe(spec(PAIRS, SCAN, {}), scan_paired("so_far", gaps), Names(SCAN, {}))
    sizes = list(drawn["mean_diff"].abs())
    assert sizes == sorted(sizes, reverse=True) and len(drawn) == 16
    assert drawn["row"].iloc[0] == "Scientific discovery (n=70)"
    assert set(drawn["side_b"]) == {"Lower-income countries"}


def test_gaps_counts_significant_pairs_and_says_when_the_reverse_holds():
    gaps = [0.2, -0.9, 0.5, 0.3, 0.7, 0.1, 0.3, 0.25, 0.4, 0.6, 0.2, 0.05, 0.15, 0.35, 0.45, 0.55]
    found = claim(spec(PAIRS, SCAN, {}), scan_paired("so_far", gaps), Names(SCAN, {}), 0.05, "fdr_bh")
    assert found.text == ("Rated significantly higher for higher-income countries in 15 of 16 domains, most of all for "
                          "scientific discovery (−0.90); the reverse holds significantly in 1 domain")


def test_split_pair_finds_the_common_part_of_two_short_names():
    assert split_pair("SDG 16 Peace, justice, institutions (higher-income)",
                      "SDG 16 Peace, justice, institutions (lower-income)") == (
        "SDG 16 Peace, justice, institutions", "higher-income", "lower-income")
    assert split_pair("Alpha", "Beta") == ("Alpha", "Alpha", "Beta")


def test_a_group_has_the_same_colour_in_every_breakdown_and_figure():
    names = Names(RISK, {})
    table = palette.assignments(names)
    assert table["weog"]["WEOG"] == table["un_group"]["WEOG"] == table["residence_un_group"]["WEOG"]
    for breakdown, colours in table.items():
        assert len(set(colours.values())) == len(colours), breakdown
    alone = palette.colours(names, [("weog", "WEOG"), ("weog", "non-WEOG")])
    among = palette.colours(names, [("all", "All respondents")] + [("un_group", g) for g in
                                                                  ("African", "Asia-Pacific", "WEOG", "GRULAC")])
    assert alone[("weog", "WEOG")] == among[("un_group", "WEOG")]


def test_eligibility_note_counts_the_respondents_asked_from_the_table():
    from pipeline.figures.notes import eligibility

    rows = [{"question": "lmic_expertise", "breakdown": "all", "group": "All respondents", "level": level, "n": 121,
             "count": count, "pct": 100 * count / 121, "suppressed": False} for level, count in (("Yes", 78), ("No", 43))]
    made = frame(rows, DISTRIBUTION_COLUMNS)
    note = eligibility(["sofar_hi_econ", "sofar_lo_econ"], Names(SCAN, {}), made, "The questions on lower-income countries")
    assert note.startswith("The questions on lower-income countries were asked only of the 78 respondents who answered "
                           "“Yes” to “Do you have expertise on AI in lower-middle-income and/or low-income countries?”")
    assert eligibility(["sofar_hi_econ"], Names(SCAN, {}), made) == ""


def scan_spec_error(figure: dict, tmp_path) -> str:
    raw = {"sections": [{"id": "s", "title": "S", "figures": [figure]}]}
    path = tmp_path / "report.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PulseError) as caught:
        load(path, SCAN)
    return caught.value.messages[0]


def test_timing_and_three_year_questions_cannot_share_a_chart(tmp_path):
    mixed = {"id": "m", "kind": "stacked", "questions": ["next3_hi_econ", "sofar_hi_econ"]}
    assert "draws questions of one question group" in scan_spec_error(mixed, tmp_path)
    across_scales = {"id": "m", "kind": "stacked", "questions": ["next3_hi_econ", "when_hi_econ"]}
    assert "split the figure" in scan_spec_error(across_scales, tmp_path)
    dots = {"id": "m", "kind": "dots", "questions": ["next3_lo_sdg1", "when_lo_sdgs"]}
    assert "split the figure" in scan_spec_error(dots, tmp_path)


@pytest.mark.parametrize("figure, expected", [
    ({"id": "k", "kind": "keywords", "question": "gender"}, "kind keywords draws the tags of one free-text question"),
    ({"id": "p", "kind": "pairs", "pairs": "nothing"}, "unknown pair or pair group 'nothing'"),
    ({"id": "p", "kind": "pairs", "group": "so_far"}, "kind pairs needs pairs"),
    ({"id": "m", "kind": "models", "group": "so_far"}, "kind models needs terms"),
    ({"id": "b", "kind": "bars", "question": "gender", "headline": {"rule": "gaps", "text": "{count}"}},
     "rule gaps does not apply to kind bars"),
    ({"id": "s", "kind": "stacked", "group": "timing", "headline": {"rule": "gap", "text": "{domain}"}},
     "rule gap compares the two sides of pairs"),
])
def test_new_kinds_are_validated_in_one_line(tmp_path, figure, expected):
    assert expected in scan_spec_error(figure, tmp_path)


def test_the_opportunity_scan_report_never_merges_timing_and_three_year_questions():
    spec_ = load(REPO / "surveys" / "opportunity-scan" / "report.yaml", SCAN)
    groups = {q.id: q.group for q in SCAN.questions}
    drawn = set()
    for figure in spec_.figures:
        figure_groups = {groups.get(q) for q in figure.questions}
        assert not {"timing", "three_years"} <= figure_groups, figure.id
        if figure.kind in ("stacked", "dots", "pairs", "models"):
            assert len(figure_groups) == 1, figure.id
        drawn |= figure_groups
    assert {"so_far", "three_years", "timing", "barriers"} <= drawn
    kinds = {f.kind for f in spec_.figures}
    assert {"pairs", "stacked", "bars", "crosstab"} <= kinds
    assert all(f.headline is not None for f in spec_.figures)


def test_choices_read_the_per_tag_tests_and_mark_significant_rows():
    from pipeline.figures import choices

    groups = {"all": [("All respondents", 188)], "gender": [("Woman", 77), ("Man", 107)]}
    rows = []
    for breakdown, members in groups.items():
        for group, n in members:
            for t in TAGS:
                count = round(t["mentions"] * n / 188)
                rows.append({"question": "groups_of_concern_tags", "breakdown": breakdown, "group": group,
                             "level": t["label"], "n": n, "count": count, "pct": 100 * count / n, "suppressed": False,
                             "dont_know": 0, "refused": 0, "blank": 0, "not_asked": 0})
    tests = []
    for t in TAGS:
        q = 0.01 if t["tag"] == "children" else 0.6
        tests.append({"question": f"groups_of_concern_tags:{t['tag']}", "breakdown": "gender", "test": "chi-square",
                      "p_value": q, "q_value": q, "family": "open/gender/choice", "group_a": "Woman", "group_b": "Man"})
    made = tables(keywords=frame(TAGS, KEYWORD_COLUMNS), distributions=frame(rows, DISTRIBUTION_COLUMNS),
                  tests=frame(tests, TEST_COLUMNS))
    figure = {"id": "c", "kind": "choices", "question": "groups_of_concern", "breakdowns": ["all", "gender"],
              "headline": {"rule": "associations", "between": "women and men", "unit": "groups of concern"}}
    names = Names(RISK, NOUNS)
    drawn = choices.describe(spec(figure), made, names)
    shown = [t["label"] for t in TAGS if t["shown"]]
    assert list(dict.fromkeys(drawn["level"])) == shown and set(drawn["breakdown"]) == {"all", "gender"}
    assert set(drawn.loc[drawn["q_value"] < 0.05, "code"]) == {"children"}
    assert choices.footnotes(drawn, spec(figure), names, 10, 0.05)[0].startswith("* The groups differ significantly")
    found = claim(spec(figure), made, names, 0.05, "fdr_bh")
    assert found.text == "Women and men differ significantly in how often they name 1 of the 6 groups of concern: children"
