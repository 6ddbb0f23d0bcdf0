"""The bundled (synthetic) Risk Pulse wave through ingest and analyze reproduces the published Annex E figures."""

from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).parent.parent.parent


def half_up(x: float) -> int:
    return int(np.floor(x + 0.5))


def share(run, table, question, breakdown="all", group="All respondents", level=None):
    frame = run.table(table)
    rows = frame[(frame.question == question) & (frame.breakdown == breakdown) & (frame.group == group)]
    if level is not None:
        rows = rows[rows.level == level]
    assert len(rows) == 1, (question, breakdown, group, level)
    return float(rows["pct"].iloc[0])


def test_ledger_accounts_for_every_row(bundled):
    ledger = bundled.ledger()
    kept = (ledger.outcome == "kept").sum()
    assert kept == 348 and len(ledger) == kept + (ledger.outcome == "excluded").sum()
    assert set(ledger.loc[ledger.outcome == "excluded", "reason"]) == {
        "test_or_preview", "no_consent", "empty", "duplicate_submission"}
    assert ledger["flags"].str.contains("unknown_country").sum() == 1


def test_nationalities_regions_and_the_nationality_rule(bundled):
    clean = bundled.clean()
    assert clean["nationality_iso3"].nunique() == 68
    assert set(clean["un_group"].dropna().astype(str)) == {"African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG"}
    several = clean["nationality"].str.contains(";")
    assert several.sum() == 43
    lives_in_one = [res in nat.split(";") for nat, res in zip(clean.loc[several, "nationality"], clean.loc[several, "residence_iso3"])]
    assert sum(lives_in_one) == 34
    same = (clean["un_group"].astype(str) == clean["residence_un_group"].astype(str)).mean()
    assert half_up(100 * same) == 84


def test_every_country_counts_in_the_group_the_calibration_spec_gives_it(bundled):
    spec = yaml.safe_load((REPO / "surveys" / "risk-pulse" / "synth.yaml").read_text())
    expected = {iso3: entry["group"] for iso3, entry in spec["countries"]["table"].items()}
    clean = bundled.clean()
    for iso3, group in clean.groupby("nationality_iso3")["un_group"].first().astype(str).items():
        assert group == expected[iso3], iso3
    counts = clean["un_group"].astype(str).value_counts()
    by_spec = clean["nationality_iso3"].map(expected).value_counts()
    assert counts.to_dict() == by_spec.to_dict()


@pytest.mark.parametrize("question,level,published", [
    ("pace_tech", "Significantly speed up", 30), ("pace_adoption", "Significantly speed up", 34),
    ("concern_change", "Stayed the same", 48),
])
def test_published_level_shares(bundled, question, level, published):
    assert half_up(share(bundled, "distributions", question, level=level)) == published


@pytest.mark.parametrize("question,published", [
    ("pace_tech", 74), ("pace_adoption", 89), ("concern_overall", 71), ("concern_change", 50),
    ("harm_j", 78), ("harm_h", 74), ("harm_b", 75), ("harm_a", 72), ("harm_l", 67), ("harm_c", 65),
])
def test_published_topbox_shares(bundled, question, published):
    assert half_up(share(bundled, "topbox", question)) == published


def test_unintended_harms_below_half_and_a_majority_elsewhere(bundled):
    topbox = bundled.table("topbox")
    overall = topbox[(topbox.breakdown == "all") & topbox.question.str.startswith("harm_")].set_index("question")["pct"]
    assert overall["harm_e"] < 50 and overall["harm_f"] < 50
    assert (overall.drop(["harm_e", "harm_f"]) > 50).all()


def test_group_differences_reported_in_annex_e(bundled):
    """Women more concerned than men in all 14 areas (rank tests: means and most top-box shares by gender are
    hidden by disclosure control, tests are published), non-WEOG more than WEOG and technical experts less than
    the others in most areas (top-box shares)."""
    tests = bundled.table("tests")
    gender = tests[tests.question.str.startswith("harm_") & (tests.breakdown == "gender")
                   & (tests.test == "mann-whitney")]
    assert len(gender) == 14 and (gender.group_a == "Woman").all() and (gender.effect_size > 0).all()
    topbox = bundled.table("topbox")
    harm = topbox[topbox.question.str.startswith("harm_")]
    by = lambda b: harm[harm.breakdown == b].pivot(index="question", columns="group", values="pct")
    weog, technical = by("weog"), by("technical")
    assert (weog["non-WEOG"] > weog["WEOG"]).sum() >= 10
    assert (technical["Technical"] < technical["Non-technical"]).sum() >= 12
    topbox = bundled.table("topbox")
    region = topbox[(topbox.question == "concern_overall") & (topbox.breakdown == "un_group")].set_index("group")["pct"]
    assert region.dropna().idxmax() == "African"  # of the regions whose top box is published
    if region[["Asia-Pacific", "WEOG"]].notna().all():
        assert region["Asia-Pacific"] < region["WEOG"]


def test_tests_are_corrected_within_families_and_women_differ_significantly(bundled):
    tests = bundled.table("tests")
    assert (tests.q_value >= tests.p_value - 1e-15).all()
    assert set(tests.test) >= {"mann-whitney", "kruskal-wallis", "two-proportion-z", "monte-carlo", "chi-square"}
    assert not tests[tests.question.str.startswith("harm_")].test.isin(["chi-square", "monte-carlo"]).any()
    gender = tests[(tests.question == "concern_overall") & (tests.breakdown == "gender") & (tests.test == "mann-whitney")]
    assert len(gender) == 1 and gender.q_value.iloc[0] < 0.05 and gender.group_a.iloc[0] == "Woman"
    assert gender.effect_size.iloc[0] > 0
    assert "Another gender identity" in gender.note.iloc[0]


def test_models_adjust_the_gender_gap_for_field(bundled):
    models = bundled.table("models")
    row = models[(models.question == "concern_overall") & (models.term == "gender") & (models.level == "Woman")]
    assert len(row) == 1 and row.reference.iloc[0] == "Man"
    assert row.converged.iloc[0] and row.odds_ratio.iloc[0] > 1
    assert models["question"].nunique() == 18


def test_outputs_of_the_synthetic_wave_say_so(bundled):
    import pyarrow.parquet as pq

    assert (bundled.out / "DATA-STATUS.txt").read_text().startswith("SYNTHETIC EXAMPLE DATA")
    metadata = pq.read_schema(bundled.out / "clean.parquet").metadata
    assert metadata[b"pulse.synthetic"] == b"SYNTHETIC EXAMPLE DATA"


def test_groups_of_concern_keywords_reproduce_the_annex(bundled):
    keywords = bundled.table("keywords").set_index(["question", "tag"])
    assert keywords.loc[("groups_of_concern", "global_south"), "mentions"] == 46
    assert keywords.loc[("groups_of_concern", "marginalised"), "mentions"] == 43
    assert (keywords.xs("groups_of_concern")["meaningful_answers"] == 188).all()
    tests = bundled.table("tests")
    by_gender = tests[(tests.question == "groups_of_concern_tags:global_south") & (tests.breakdown == "gender")]
    assert len(by_gender) == 1 and by_gender.n.iloc[0] <= 188
