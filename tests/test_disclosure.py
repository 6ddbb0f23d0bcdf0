"""Disclosure control (pipeline.disclosure): hand-worked units, the attack before and after protection, the
consistency rules, the published tables, trends, params, and the bundled waves read back from their CSVs."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import disclosure as D
from pipeline.errors import PulseError
from pipeline.params import load_params

REPO = Path(__file__).parent.parent
LEVELS = ("Not concerned", "A little", "Somewhat", "Concerned", "Very")
ZERO_EXCLUDED = [0, 0, 0, 0]


def unit(groups: dict[str, list[int]], residual: list[int] | None = None, question: str = "q1", key: str = "risks",
         breakdown: str = "region") -> D.Unit:
    """A single-choice five-level unit with top box = the last two levels; rows O, groups, residual."""
    residual = residual or [0] * len(LEVELS)
    group_rows = [counts + ZERO_EXCLUDED for counts in groups.values()]
    overall = (np.sum(group_rows, axis=0) + np.array(residual + ZERO_EXCLUDED)).tolist()
    counts = np.array([overall, *group_rows, residual + ZERO_EXCLUDED], dtype=np.int64)
    n = counts[:, :len(LEVELS)].sum(axis=1)
    return D.Unit(question, key, breakdown, tuple(groups), LEVELS, counts, n, False, True, (3, 4))


def whole(of: D.Unit) -> D.Unit:
    """The `all` unit of the same question."""
    counts = np.array([of.counts[0], np.zeros_like(of.counts[0])])
    return D.Unit(of.question, of.key, D.ALL, (), of.levels, counts, np.array([of.n[0], 0]), False, True, of.topbox)


PLANTED = unit({"North": [6, 9, 14, 12, 9], "South": [7, 2, 10, 15, 11], "East": [1, 0, 2, 1, 0]})


def naive(of: D.Unit, left_out: tuple[str, ...]) -> D.Plan:
    """Primary suppression only: small groups left out, small cells hidden, no complements."""
    published = tuple(g for g in of.groups if g not in left_out)
    counts, n = D.pooled(of, published)
    mask = (counts > 0) & (counts < 5)
    mask[-1] = False
    return D.Plan(of, left_out, published, counts, n, mask)


def test_the_attack_recovers_cells_hidden_without_complements():
    plan = naive(PLANTED, ("East",))
    view = D.view_of(plan)
    # South's 2 is alone in its row: 45 - 7 - 10 - 15 - 11
    assert (2, 1) in D.attack(view)
    # East (n=4) left out with nobody else: its whole row is the whole sample minus North and South
    view.targets[-1] = plan.counts[-1] > 0
    found = D.attack(view)
    assert {(3, c) for c in range(5) if plan.counts[-1, c] > 0} <= set(found)


def test_after_protection_the_attack_recovers_nothing():
    plans = D.plan_all([whole(PLANTED), PLANTED], min_group=10, min_cell=5)
    plan = plans[1]
    assert "East" in plan.left_out
    # the pool (East alone, 4 people) is below min_group, so the next smallest group goes too
    assert plan.left_out == ("South", "East")
    assert D.attack(D.view_of(plan)) == []


def test_row_and_column_complements_by_hand():
    # North: 1 (primary) gets the smallest non-zero partner of its row (6); the columns of both then need a second
    # hidden count, found in South, whose row then totals 4 + 5 >= 5
    table = unit({"North": [1, 6, 14, 12, 9], "South": [4, 5, 10, 15, 11], "West": [12, 11, 13, 14, 16]})
    plan = D.plan_unit(table, (), np.zeros(9, dtype=bool), min_cell=5)
    assert plan.mask[1, :5].tolist() == [True, True, False, False, False]
    assert plan.mask[2, :5].tolist() == [True, True, False, False, False]
    assert not plan.mask[3].any()
    assert plan.reasons[(1, 0)] == "primary" and plan.reasons[(1, 1)] == "complementary: row"
    assert D.attack(D.view_of(plan)) == []


def test_every_hidden_row_totals_at_least_min_cell_and_no_column_has_a_lone_hidden_count():
    rng = np.random.default_rng(7)
    for _ in range(20):
        groups = {f"g{i}": rng.integers(0, 9, size=5).tolist() for i in range(4)}
        table = unit(groups, residual=rng.integers(0, 3, size=5).tolist())
        plan = D.plan_all([whole(table), table], min_group=10, min_cell=5)[1]
        levels = plan.mask[:, :5]
        for r in range(1, len(levels)):
            if levels[r].any() and not levels[r].all():
                assert levels[r].sum() >= 2 and plan.counts[r, :5][levels[r]].sum() >= 5
        for c in range(5):
            if plan.counts[0, c] > 0:
                assert levels[:, c].sum() != 1
        assert D.attack(D.view_of(plan)) == []


def test_groups_left_out_consistently_across_the_items_of_a_question_group():
    a = unit({"North": [6, 9, 14, 12, 9], "South": [2, 2, 2, 2, 1], "West": [9, 9, 9, 9, 9]}, question="q1")
    b = unit({"North": [6, 9, 14, 12, 9], "South": [2, 2, 2, 2, 3], "West": [9, 9, 9, 9, 9]}, question="q2")
    # South has 9 valid answers to q1 and 11 to q2: it is left out of both; the pool (South alone) is 9 < 10 in
    # q1, so the next smallest group (West, 45) goes too
    assert D.left_out_groups([a, b], 10) == {("risks", "region"): ("South", "West")}


def test_publish_blanks_hidden_values_and_lists_them():
    table = unit({"North": [1, 6, 14, 12, 9], "South": [4, 5, 10, 15, 11], "West": [12, 11, 13, 14, 16]})
    plans = D.plan_all([whole(table), table], min_group=10, min_cell=5)
    rows = []
    for r, label in enumerate([D.ALL_GROUP, "North", "South", "West"]):
        breakdown = D.ALL if r == 0 else "region"
        n = int(table.n[r])
        for c, level in enumerate(LEVELS):
            count = int(table.counts[r, c])
            rows.append({"question": "q1", "breakdown": breakdown, "group": label, "level": level, "n": n,
                         "count": float(count), "pct": 100 * count / n, "ci_low": 0.0, "ci_high": 1.0,
                         "ci_method": "wilson", "suppressed": False, **dict.fromkeys(D.EXCLUDED, 0)})
    distributions = pd.DataFrame(rows)
    means = distributions.drop_duplicates(["question", "breakdown", "group"])[["question", "breakdown", "group", "n"]]
    means = means.assign(mean=3.0, sd=1.0, ci_low=2.0, ci_high=4.0, ci_method="t", suppressed=False)
    out = D.publish({"distributions": distributions, "means": means, "topbox": means.iloc[:0].assign(count=[], pct=[])},
                    plans, 5)
    d = out["distributions"]
    hidden = d[d["cell_suppressed"]]
    assert set(zip(hidden["group"], hidden["level"])) == {("North", LEVELS[0]), ("North", LEVELS[1]),
                                                         ("South", LEVELS[0]), ("South", LEVELS[1])}
    assert hidden[["count", "pct", "ci_low", "ci_high"]].isna().all().all()
    m = out["means"].set_index("group")
    assert m.loc["North", "suppressed"] and np.isnan(m.loc["North", "mean"]) and not m.loc["West", "suppressed"]
    s = out["suppressions"]
    assert set(s["reason"]) == {"primary", "complementary"}
    assert len(s[s["table"] == "distributions"]) == 4 and len(s[s["table"] == "means"]) == 2
    # no value of a hidden count is written anywhere in suppressions.csv
    assert not s.astype(str).apply(lambda col: col.str.fullmatch(r"\d+")).any().any()
    assert D.audit_tables(out, [whole(table), table], 5) == []


def test_trends_hide_a_group_in_both_waves_when_either_wave_hides_it():
    trends = pd.DataFrame([
        {"question": "q1", "source": "q1", "wave": w, "measure": "mean", "breakdown": "gender", "group": g, "n": 30,
         "count": np.nan, "estimate": 3.0, "sd": 1.0, "ci_low": 2.5, "ci_high": 3.5, "ci_method": "t",
         "suppressed": False, "topbox": "", "note": ""} for w in ("w1", "w2") for g in ("Woman", "Man")])
    tests = pd.DataFrame([
        {"question": "q1", "measure": "mean", "breakdown": "gender", "group": g, "n_a": 30, "n_b": 30, "n_linked": 0,
         "estimate_a": 3.0, "estimate_b": 3.1, "difference": 0.1, "ci_low": -0.2, "ci_high": 0.4, "statistic": 1.0,
         "df": np.nan, "p_value": 0.5, "q_value": 0.5, "effect_size": 0.1, "suppressed": False, "note": ""}
        for g in ("Woman", "Man")])
    means = lambda hidden: pd.DataFrame({"question": "q1", "breakdown": "gender", "group": ["Woman", "Man"],
                                         "n": [30, 30], "mean": [3.0, np.nan if hidden else 3.0]})
    published = {"w1": {"topbox": means(False).iloc[:0].assign(pct=[]), "means": means(False)},
                 "w2": {"topbox": means(False).iloc[:0].assign(pct=[]), "means": means(True)}}
    out = D.protect_trends({"trends": trends, "trend_tests": tests}, published)
    t = out["trends"]
    assert t.loc[t["group"] == "Man", "estimate"].isna().all() and t.loc[t["group"] == "Man", "suppressed"].all()
    assert t.loc[t["group"] == "Woman", "estimate"].notna().all()
    assert out["trend_tests"].set_index("group").loc["Man", ["estimate_a", "difference"]].isna().all()


def test_params_one_threshold_with_the_old_name_as_an_alias(tmp_path):
    (tmp_path / "params.yaml").write_text("analyze:\n  min_group_size: 3\n", encoding="utf-8")
    params = load_params(tmp_path)
    assert params["disclosure"] == {"min_group": 3, "min_cell": 3} and params["analyze"]["min_group_size"] == 3
    (tmp_path / "params.yaml").write_text("disclosure:\n  min_group: 12\n", encoding="utf-8")
    assert load_params(tmp_path)["analyze"]["min_group_size"] == 12
    (tmp_path / "params.yaml").write_text("analyze:\n  min_group_size: 3\ndisclosure:\n  min_group: 12\n",
                                          encoding="utf-8")
    with pytest.raises(PulseError, match="disagree"):
        load_params(tmp_path)


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory):
    """ingest + analyze of one bundled wave per survey in a temporary copy of the project."""
    from pipeline.cli import main

    root = tmp_path_factory.mktemp("disclosure")
    waves = [("risk-pulse", "2024-05"), ("opportunity-scan", "2024-08")]
    for survey, _ in waves:
        shutil.copytree(REPO / "surveys" / survey, root / "surveys" / survey)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    for survey, wave in waves:
        for stage in ("ingest", "analyze"):
            assert main(["--root", str(root), stage, str(root / "surveys" / survey / wave)]) == 0
    return root, waves


def _read_back(root: Path, survey: str, wave: str):
    from pipeline.instrument import load
    from pipeline.text import code_all, load_codebooks, read_coding

    out = root / "outputs" / survey / wave
    read = lambda name: pd.read_csv(out / "tables" / f"{name}.csv", keep_default_na=False, na_values=[""])
    tables = {name: read(name) for name in ("distributions", "topbox", "means", "keywords", "suppressions")}
    instrument = load(root / "surveys" / survey / "instrument.yaml").for_wave(wave)
    clean = pd.read_parquet(out / "clean.parquet")
    coding = root / "surveys" / survey / wave / "coding.csv"
    coded = code_all(clean, load_codebooks(root / "surveys" / survey / "codebooks", instrument), read_coding(coding),
                     coding)
    return tables, D.units(clean, instrument, coded), D.nesting(clean, instrument)


def test_the_bundled_waves_pass_the_attack_read_back_from_their_csvs(analyzed):
    root, waves = analyzed
    params = load_params(root)["disclosure"]
    for survey, wave in waves:
        tables, found, nested = _read_back(root, survey, wave)
        d = tables["distributions"]
        assert len(tables["suppressions"]) > 0
        small = (d["count"] > 0) & (d["count"] < params["min_cell"])
        assert not small.any(), d[small].head()
        assert not ((d["n"] > 0) & (d["n"] < params["min_group"])).any()
        assert not ((tables["keywords"]["mentions"] > 0) & (tables["keywords"]["mentions"] < params["min_cell"])).any()
        assert D.audit_tables(tables, found, params["min_cell"], nested) == []
    # the cross-breakdown equations were part of the attack: the regional groups lie inside WEOG/non-WEOG
    assert ("un_group", "weog") in _read_back(root, *waves[0])[2]


def test_the_attack_recovers_cells_of_the_bundled_wave_when_complements_are_dropped(analyzed):
    root, waves = analyzed
    tables, found, _ = _read_back(root, *waves[0])
    d = tables["distributions"].copy()
    primary = tables["suppressions"]
    primary = primary[(primary["table"] == "distributions") & (primary["reason"] == "complementary")]
    keys = set(zip(primary["question"], primary["breakdown"], primary["group"], primary["level"]))
    truth = {}
    for u in found:
        labels = [(0, D.ALL_GROUP)] if u.breakdown == D.ALL else list(enumerate(u.groups, start=1))
        truth.update({(u.question, u.breakdown, g, level): u.counts[r, j] for r, g in labels
                      for j, level in enumerate(u.levels)})
    unhide = [(q, b, g, level) in keys for q, b, g, level in zip(d["question"], d["breakdown"], d["group"], d["level"])]
    d.loc[unhide, "count"] = [float(truth[k]) for k, hit in zip(zip(d["question"], d["breakdown"], d["group"], d["level"]),
                                                                unhide) if hit]
    assert len(D.audit_tables({**tables, "distributions": d}, found, 5)) > 0


# ---------------------------------------------------------------- nested breakdowns

FINE = {"North": [6, 9, 14, 12, 9], "South": [7, 6, 10, 15, 11], "East": [1, 0, 2, 1, 0],
        "Central": [5, 6, 8, 7, 6], "Islands": [9, 8, 7, 6, 5]}
# 25 respondents of the West bloc have no region: the whole pool (East + them) is 29 >= 10
NO_REGION = [5, 5, 5, 5, 5]
INSIDE = {"North": "West", "South": "West", "East": "Rest", "Central": "Rest", "Islands": "Rest"}


def nested_units() -> list[D.Unit]:
    """The `all`, fine (region) and coarse (bloc) units of one question; every region lies inside one bloc."""
    fine = unit(FINE, residual=NO_REGION)
    blocs = {b: np.sum([FINE[g] for g in FINE if INSIDE[g] == b], axis=0).tolist() for b in ("West", "Rest")}
    blocs["West"] = (np.array(blocs["West"]) + NO_REGION).tolist()
    return [whole(fine), fine, unit(blocs, breakdown="bloc")]


def test_nesting_is_read_from_the_respondents_codes():
    from pipeline.breakdowns import Split

    region = Split("region", ("North", "East", "Central"), np.array([0, 0, 1, 2, -1, 1]), (0, 1, 2), "region")
    bloc = Split("bloc", ("West", "Rest"), np.array([0, 0, 1, 1, 0, 1]), (0, 1), "bloc")
    mixed = Split("mixed", ("A", "B"), np.array([0, 1, 1, 1, 0, 0]), (0, 1), "mixed")
    found = D.nested_splits([region, bloc, mixed])
    assert found[("region", "bloc")] == {"North": "West", "East": "Rest", "Central": "Rest"}
    # bloc's West holds North and the respondent without a region: it is not inside one region
    assert ("bloc", "region") not in found and ("region", "mixed") not in found and ("mixed", "bloc") not in found


def test_a_left_out_fine_group_is_recovered_from_the_coarse_row_unless_its_coarse_pool_is_safe():
    found = nested_units()
    nested = {("region", "bloc"): INSIDE}
    before = D.plan_all(found, min_group=10, min_cell=5)
    # East (n=4) goes; the whole pool (East and the 25 without a region) reaches 10, so nothing else goes
    assert before[1].left_out == ("East",)
    assert D.attack(D.view_of(before[1])) == []
    # but Rest minus Central minus Islands is East: every non-empty cell of East is recovered
    leaks = D.attack_link(D.view_of(before[1]), D.view_of(before[2]), INSIDE, 5)
    assert {("pool", 2, c) for c in range(5) if FINE["East"][c] > 0} <= set(leaks)
    after = D.plan_all(found, min_group=10, min_cell=5, nested=nested)
    # within Rest the remainder (East, 4) is below 10: the next smallest region of Rest (Central, 32) goes too
    assert after[1].left_out == ("East", "Central")
    assert D.attack_link(D.view_of(after[1]), D.view_of(after[2]), INSIDE, 5) == []


def test_a_hidden_fine_cell_is_not_recovered_from_its_coarse_row():
    # Central's 2 is hidden with row and column partners in North; Rest = Central + Islands would give it back
    fine = unit({"North": [6, 9, 14, 12, 9], "Central": [2, 6, 8, 7, 6], "Islands": [9, 8, 7, 6, 5]})
    blocs = unit({"West": [6, 9, 14, 12, 9], "Rest": [11, 14, 15, 13, 11]}, breakdown="bloc")
    inside = {"North": "West", "Central": "Rest", "Islands": "Rest"}
    found = [whole(fine), fine, blocs]
    alone = D.plan_all(found, min_group=10, min_cell=5)
    assert D.attack_link(D.view_of(alone[1]), D.view_of(alone[2]), inside, 5)
    plans = D.plan_all(found, min_group=10, min_cell=5, nested={("region", "bloc"): inside})
    assert plans[1].mask[2, 0]
    assert D.attack_link(D.view_of(plans[1]), D.view_of(plans[2]), inside, 5) == []
    assert all(D.attack(D.view_of(p)) == [] for p in plans)


def test_the_figure_note_says_what_was_hidden_and_why():
    from pipeline.figures import notes

    left_out = pd.DataFrame({"suppressed": [True, False], "n": [np.nan, 30]})
    assert "fewer than 10 valid answers" in notes.suppression(left_out, 10)
    # a mean hidden for its group's hidden answers: the group is shown (n published), so no "fewer than" claim
    mean_hidden = pd.DataFrame({"suppressed": [True, False], "n": [40, 30], "mean": [np.nan, 3.1]})
    note = notes.suppression(mean_hidden, 10)
    assert "fewer than" not in note and "would reveal answers hidden" in note
    cells = pd.DataFrame({"level": ["a", "b"], "suppressed": [False, False], "pct": [np.nan, 60.0], "n": [20, 20]})
    assert notes.suppression(cells, 10).startswith("Answers given by very few respondents are hidden")
    assert notes.suppression(cells.assign(pct=[40.0, 60.0]), 10) == ""
