"""The synthetic example wave: reproducible byte for byte, and calibrated to Annex E's figures.

The calibration checks recompute everything from the CSV with plain pandas and
`pipeline.countries`, independently of the generator: the ingest's screening rules, the
multiple-nationality rule, shares excluding don't know and blanks, rounded half-up.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline import countries
from pipeline.synth import generate, load_spec, write_export

ROOT = Path(__file__).resolve().parents[1]
SURVEY = ROOT / "surveys" / "risk-pulse"
EXPORT = SURVEY / "2024-05" / "responses.csv"
HARMS = "abcdefghijklmn"
GROUPS = ("African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG")
NON_ANSWERS = {"n/a", "N/A", "none", "None", "no", "No", "-"}
GLOBAL_SOUTH = re.compile(r"global south|developing countr|low- and middle-income countr|\blmics?\b", re.I)
MARGINALISED = re.compile(r"marginali[sz]ed", re.I)
MESSY = ["USA", "United States of America", "UK", "Côte d'Ivoire", "Cote d'Ivoire", "Viet Nam", "Türkiye",
         "Turkey", "Republic of Korea", "South Korea", "Russia", "Iran", "the Netherlands"]


# ---------------------------------------------------------------------------------------------
# An independent recomputation
# ---------------------------------------------------------------------------------------------


@cache
def instrument() -> dict:
    return yaml.safe_load((SURVEY / "instrument.yaml").read_text(encoding="utf-8"))


@cache
def spec() -> dict:
    return load_spec(SURVEY / "synth.yaml")


def pct(count: float, total: float) -> int:
    """A share in whole percents, rounded half-up."""
    return int((Decimal(int(count)) * 100 / Decimal(int(total))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def read(path) -> pd.DataFrame:
    # Only empty cells are missing: "N/A" and "None" are answers.
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")


def question_columns() -> list[str]:
    return [q["column"] for q in instrument()["questions"]]


def screen(raw: pd.DataFrame) -> pd.DataFrame:
    """The ingest's rules: no preview, consent given, not empty, latest submission per token."""
    export = instrument()["export"]
    frame = raw[~raw[export["preview"]["column"]].isin(export["preview"]["values"])]
    frame = frame[frame[export["consent"]["column"]].isin(export["consent"]["accept"])]
    frame = frame[frame[question_columns()].notna().any(axis=1)]
    frame = frame.sort_values(export["submitted_at"], kind="stable")
    frame = frame.drop_duplicates(export["duplicate_key"], keep="last")
    return frame.reset_index(drop=True)


def scale_of(column: str) -> dict:
    question = next(q for q in instrument()["questions"] if q["column"] == column)
    return instrument()["scales"][question["scale"]]


def scores(frame: pd.DataFrame, column: str) -> pd.Series:
    """1..5 for the levels, NaN for don't know and blanks."""
    levels = {level["label"]: i + 1 for i, level in enumerate(scale_of(column)["levels"])}
    values = frame[column]
    known = values.isna() | values.isin(levels) | values.isin([m["label"] for m in scale_of(column)["missing"]])
    assert known.all(), f"{column}: unexpected labels {sorted(set(values[~known]))}"
    return values.map(levels).astype(float)


def topbox(frame, column, codes=(4, 5)) -> tuple[int, int]:
    s = scores(frame, column).dropna()
    return int(s.isin(codes).sum()), int(s.size)


def top_pct(frame, column, codes=(4, 5)) -> int:
    return pct(*topbox(frame, column, codes))


def derive(frame: pd.DataFrame) -> pd.DataFrame:
    """Gender code, technical flag, nationalities, analysis nationality and groups."""
    out = frame.copy()
    gender_scale = instrument()["scales"]["gender"]
    gender = {}
    for level in gender_scale["levels"]:
        for spelling in [level["label"], *level.get("aliases", [])]:
            gender[spelling] = level["code"]
    out["gender"] = frame["D1"].map(gender)
    technical = next(l["label"] for l in instrument()["scales"]["field"]["levels"] if l["code"] == "technical")
    governance = next(l["label"] for l in instrument()["scales"]["field"]["levels"] if l["code"] == "governance")
    fields = frame["D5"].fillna("").str.split("; ")
    out["technical"] = fields.map(lambda f: technical in f)
    out["governance"] = fields.map(lambda f: governance in f)

    nationalities = frame["D3"].map(lambda t: [countries.normalise_country(p) for p in countries.split_countries(t)])
    assert all(None not in codes and codes for codes in nationalities), "every nationality spelling resolves"
    nationalities = nationalities.map(lambda codes: list(dict.fromkeys(codes)))
    residence = frame["D4"].map(countries.normalise_country)
    sample_counts: dict[str, int] = {}
    for codes in nationalities:
        for code in codes:
            sample_counts[code] = sample_counts.get(code, 0) + 1
    chosen = [countries.choose_nationality(codes, res, sample_counts) for codes, res in zip(nationalities, residence)]
    out["nationalities"] = nationalities
    out["residence_iso3"] = residence
    out["nationality_iso3"] = [c for c, _ in chosen]
    out["nationality_rule"] = [r for _, r in chosen]
    out["un_group"] = out["nationality_iso3"].map(countries.un_group)
    out["residence_group"] = residence.map(lambda c: countries.un_group(c) if c else None)
    out["weog"] = np.where(out["un_group"] == "WEOG", "WEOG", "non-WEOG")
    return out


@cache
def committed() -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = read(EXPORT)
    return raw, derive(screen(raw))


def means(frame, column, by) -> pd.Series:
    return scores(frame, column).groupby(frame[by]).mean()


def tops(frame, column, by, codes=(4, 5)) -> pd.Series:
    s = scores(frame, column)
    valid = s.notna()
    return s[valid].isin(codes).groupby(frame.loc[valid, by]).mean()


# ---------------------------------------------------------------------------------------------
# Reproducibility
# ---------------------------------------------------------------------------------------------


def test_regenerating_equals_the_committed_export(tmp_path):
    path = tmp_path / "responses.csv"
    write_export(generate(instrument(), spec()), path)
    assert path.read_bytes() == EXPORT.read_bytes()


def test_generation_is_deterministic_and_seed_dependent(tmp_path):
    a, b, c = (tmp_path / name for name in ("a.csv", "b.csv", "c.csv"))
    write_export(generate(instrument(), spec(), seed=7), a)
    write_export(generate(instrument(), spec(), seed=7), b)
    write_export(generate(instrument(), spec(), seed=8), c)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert a.read_bytes() != EXPORT.read_bytes()


def test_write_export_matches_pandas_csv(tmp_path):
    frame = generate(instrument(), spec(), n=500, seed=5)
    ours, theirs = tmp_path / "ours.csv", tmp_path / "theirs.csv"
    write_export(frame, ours)
    frame.to_csv(theirs, index=False, lineterminator="\n", na_rep="", encoding="utf-8")
    assert ours.read_bytes() == theirs.read_bytes()


def test_the_spec_agrees_with_the_country_reference():
    for iso3, entry in spec()["countries"]["table"].items():
        assert countries.un_group(iso3) == entry["group"], iso3
        for name in entry["names"]:
            assert countries.normalise_country(name) == iso3, name
    for name in spec()["countries"]["unknown_names"]:
        assert countries.normalise_country(name) is None


# ---------------------------------------------------------------------------------------------
# The export's shape and its messiness
# ---------------------------------------------------------------------------------------------


def test_export_layout():
    raw, _ = committed()
    text = EXPORT.read_bytes()
    assert b"\r" not in text and text.endswith(b"\n")
    assert list(raw.columns) == ["ResponseId", "StartDate", "EndDate", "Status", "ExternalReference", "Consent",
                                 *question_columns()]
    assert raw["ResponseId"].str.fullmatch(r"R_[0-9A-Za-z]{15}").all()
    assert raw["ResponseId"].is_unique
    for column in ("StartDate", "EndDate"):
        assert raw[column].str.fullmatch(r"2024-05-\d\d \d\d:\d\d:\d\d").all()
        pd.to_datetime(raw[column], format="%Y-%m-%d %H:%M:%S")
    assert (raw["StartDate"] < raw["EndDate"]).all()
    assert set(raw["Status"]) == {"IP Address", "Survey Preview"}
    assert (raw["Status"] == "Survey Preview").sum() == 1


def test_rows_the_ingest_drops():
    raw, kept = committed()
    declined = raw[raw["Consent"] == "I do not agree"]
    assert len(declined) == 2
    assert declined[question_columns()].isna().all().all()
    assert set(raw["Consent"]) == {"I agree", "I do not agree"}
    empty = raw[(raw["Consent"] == "I agree") & raw[question_columns()].isna().all(axis=1)]
    assert len(empty) == 1
    tokens = raw.loc[raw["Status"] != "Survey Preview", "ExternalReference"]
    repeated = raw[tokens.duplicated(keep=False).reindex(raw.index, fill_value=False)]
    assert len(repeated) == 6
    for _, pair in repeated.groupby("ExternalReference"):
        latest = pair.sort_values("EndDate").iloc[-1]
        assert latest["ResponseId"] in set(kept["ResponseId"])
        assert not set(pair["ResponseId"]) - {latest["ResponseId"]} & set(kept["ResponseId"])
    assert len(raw) == 348 + 1 + 2 + 3 + 1


def test_messy_but_resolvable_answers():
    raw, kept = committed()
    mentions = set(raw["D4"].dropna())
    for text in raw["D3"].dropna():
        mentions.update(countries.split_countries(text))
    for spelling in MESSY:
        assert spelling in mentions, spelling
    assert raw["D3"].str.contains("; ", regex=False).sum() >= 40
    unresolved = kept.loc[kept["residence_iso3"].isna(), "D4"]
    assert list(unresolved) == ["Atlantis"]
    assert {"Female", "male"} <= set(raw["D1"].dropna())
    assert kept["gender"].notna().sum() == (kept["D1"] != "Prefer not to say").sum()
    assert (kept["D1"] == "Prefer not to say").sum() >= 3
    assert (kept["D2"] == "Prefer not to say").sum() >= 3
    for column in ["Q1", "Q2", "Q3", "Q4", *[f"Q5_{x}" for x in HARMS]]:
        assert (kept[column] == "Don't know / No opinion").sum() >= 1, column
    assert sum(kept[f"Q5_{x}"].isna().sum() for x in HARMS) >= 20
    assert kept["D5"].str.contains("Governance, politics, law or ethics", regex=False).any()
    assert kept["D5"].str.contains("; ", regex=False).any()


# ---------------------------------------------------------------------------------------------
# Calibration on the committed wave
# ---------------------------------------------------------------------------------------------


def test_sample_and_nationalities():
    _, kept = committed()
    assert len(kept) == 348
    assert kept["nationality_iso3"].nunique() == 68
    assert kept["un_group"].notna().all()
    sizes = kept["un_group"].value_counts()
    assert set(sizes.index) == set(GROUPS)
    assert sizes["WEOG"] > sizes["Asia-Pacific"] > sizes["African"] > sizes["GRULAC"] > sizes["Eastern European"] >= 15
    several = kept["nationalities"].map(len) > 1
    assert several.sum() == 43
    assert (kept["nationality_rule"] == "residence").sum() == 34
    assert (kept["nationality_rule"] == "least_represented").sum() == 9
    same_group = (kept["residence_group"] == kept["un_group"]).sum()
    assert pct(same_group, len(kept)) == 84
    assert pct(same_group, kept["residence_iso3"].notna().sum()) == 84


@pytest.mark.parametrize("column, codes, target", [
    ("Q1", (4, 5), 74), ("Q1", (5,), 30),
    ("Q2", (4, 5), 89), ("Q2", (5,), 34),
    ("Q3", (4, 5), 71),
    ("Q4", (4, 5), 50), ("Q4", (3,), 48),
    ("Q5_j", (4, 5), 78), ("Q5_h", (4, 5), 74), ("Q5_b", (4, 5), 75), ("Q5_a", (4, 5), 72),
    ("Q5_l", (4, 5), 67), ("Q5_c", (4, 5), 65),
])
def test_published_shares(column, codes, target):
    _, kept = committed()
    assert top_pct(kept, column, codes) == target


def test_other_harm_areas():
    _, kept = committed()
    for letter in "ef":
        assert top_pct(kept, f"Q5_{letter}") < 50
    for letter in "dgikmn":
        assert 52 <= top_pct(kept, f"Q5_{letter}") <= 63


def test_women_more_concerned_in_every_area():
    _, kept = committed()
    for letter in HARMS:
        column = f"Q5_{letter}"
        m, t = means(kept, column, "gender"), tops(kept, column, "gender")
        assert m["woman"] > m["man"], column
        assert t["woman"] > t["man"], column


def test_regional_and_field_differences():
    _, kept = committed()
    non_weog_higher = sum(means(kept, f"Q5_{x}", "weog")["non-WEOG"] > means(kept, f"Q5_{x}", "weog")["WEOG"]
                          for x in HARMS)
    assert non_weog_higher >= 10
    technical_lower = sum(means(kept, f"Q5_{x}", "technical")[True] < means(kept, f"Q5_{x}", "technical")[False]
                          for x in HARMS)
    assert technical_lower >= 10
    assert means(kept, "Q3", "technical")[True] < means(kept, "Q3", "technical")[False]
    assert tops(kept, "Q3", "technical")[True] < tops(kept, "Q3", "technical")[False]
    overall = tops(kept, "Q3", "un_group")
    for group in ("African", "GRULAC"):
        for other in ("WEOG", "Asia-Pacific", "Eastern European"):
            assert overall[group] > overall[other], (group, other)
    assert overall["Asia-Pacific"] < overall["WEOG"]
    assert means(kept, "Q3", "un_group")["Asia-Pacific"] < means(kept, "Q3", "un_group")["WEOG"]


def test_demographics():
    _, kept = committed()
    n = len(kept)
    gender = kept["gender"].value_counts()
    assert abs(pct(gender["woman"], n) - 40) <= 1
    assert abs(pct(gender["man"], n) - 57) <= 1
    assert 1 <= n - gender["woman"] - gender["man"] <= 0.05 * n
    by_gender = kept.groupby("gender")[["technical", "governance"]].mean()
    assert by_gender.loc["man", "technical"] > by_gender.loc["woman", "technical"]
    assert by_gender.loc["woman", "governance"] > by_gender.loc["man", "governance"]
    ages = kept["D2"].value_counts()
    for level in instrument()["scales"]["age"]["levels"]:
        assert ages[level["label"]] >= 0.05 * n
    sectors = kept["D6"].value_counts()
    assert sectors.index[0] == "Academia"
    assert len(sectors) == 6 and sectors.min() >= 0.03 * n
    assert set(kept["Q9"].dropna()) == {"Yes", "No"}


def test_groups_of_concern():
    _, kept = committed()
    answers = kept["Q7"]
    meaningful = answers[answers.notna() & ~answers.str.strip().isin(NON_ANSWERS)]
    assert len(meaningful) == 188
    assert answers.isin(NON_ANSWERS).sum() >= 10
    assert meaningful.str.contains(GLOBAL_SOUTH).sum() == 46
    assert meaningful.str.contains(MARGINALISED).sum() == 43
    assert not (meaningful.str.contains(GLOBAL_SOUTH) & meaningful.str.contains(MARGINALISED)).any()
    assert meaningful.nunique() > 100
    for column in ("Q6", "Q8"):
        assert 0.05 * len(kept) < kept[column].notna().sum() < 0.5 * len(kept)


# ---------------------------------------------------------------------------------------------
# Other sizes keep the calibration
# ---------------------------------------------------------------------------------------------


def test_a_larger_wave_keeps_the_shares(tmp_path):
    path = tmp_path / "responses.csv"
    write_export(generate(instrument(), spec(), n=2000, seed=11), path)
    kept = screen(read(path))
    assert len(kept) == 2000
    targets = [("Q1", (4, 5), 74), ("Q1", (5,), 30), ("Q2", (4, 5), 89), ("Q2", (5,), 34), ("Q3", (4, 5), 71),
               ("Q4", (4, 5), 50), ("Q4", (3,), 48), ("Q5_j", (4, 5), 78), ("Q5_h", (4, 5), 74),
               ("Q5_b", (4, 5), 75), ("Q5_a", (4, 5), 72), ("Q5_l", (4, 5), 67), ("Q5_c", (4, 5), 65)]
    for column, codes, target in targets:
        assert abs(100 * np.divide(*topbox(kept, column, codes)) - target) <= 3, column
    derived = derive(kept)
    assert abs(100 * (derived["residence_group"] == derived["un_group"]).mean() - 84) <= 3
    assert abs(100 * (derived["nationalities"].map(len) > 1).mean() - 100 * 43 / 348) <= 3
    answers = kept["Q7"]
    meaningful = answers[answers.notna() & ~answers.isin(NON_ANSWERS)]
    assert abs(100 * len(meaningful) / 2000 - 100 * 188 / 348) <= 3
    assert abs(100 * meaningful.str.contains(GLOBAL_SOUTH).sum() / 2000 - 100 * 46 / 348) <= 3


def test_a_larger_wave_has_the_rows_asked_for():
    """Planted anomalies (7 rows) come on top of the n respondents at any size (speed: benchmarks/)."""
    frame = generate(instrument(), spec(), n=20_000, seed=3)
    assert len(frame) == 20_000 + 7


# ---------------------------------------------------------------------------------------------
# Generic spec features beyond the Risk Pulse's, on the tiny test instrument: skip logic from the
# instrument's `eligible`, quotas by a country attribute, several latents per item, multi-select
# quotas. Checked through the real ingest.
# ---------------------------------------------------------------------------------------------

TINY = ROOT / "tests" / "data" / "tiny" / "surveys" / "tiny" / "instrument.yaml"


def tiny_spec(**changes) -> dict:
    spec = {
        "seed": 4, "n": 400,
        "export": {"consent_decline": "no", "extra_rows": {"preview": 1, "declined": 1, "duplicates": 1}},
        "attributes": {
            "gender": {"question": "gender", "quota_by": "nationality_group",
                       "quota": {"WEOG": {"woman": 50, "man": 150}, "*": {"woman": 0.5, "man": 0.5}}},
            "lmic": {"question": "lmic", "quota": {"yes": 0.6, "no": 0.4}},
        },
        "countries": {
            "nationality": "nationality", "residence": "residence",
            "patterns": [{"several": False, "residence": "home", "weight": 1}],
            "table": {"USA": {"group": "WEOG", "weight": 120, "names": {"USA": 1}},
                      "FRA": {"group": "WEOG", "weight": 80, "names": {"France": 1}},
                      "KEN": {"group": "African", "weight": 120, "names": {"Kenya": 1}},
                      "SEN": {"group": "African", "weight": 80, "names": {"Senegal": 1}}},
        },
        "latents": {"general": {}, "pair": {}},
        "items": {
            "q1": {"latent": {"general": 0.5, "pair": 1.0}, "noise": 0.3, "dont_know": 0.05, "blank": 0.02,
                   "shares": {1: 0.2, 2: 0.3, 3: 0.5}},
            "q3": {"latent": {"general": 0.5, "pair": 1.0}, "noise": 0.3, "dont_know": 0.05, "blank": 0.02,
                   "shares": {1: 0.5, 2: 0.3, 3: 0.2}},
            "field": {"blank": 0.05, "selected": {"tech": 0.7, "law": 0.6},
                      "effects": {"law": [{"when": {"gender": "woman"}, "add": 2.0}]}},
        },
        "texts": {"comment": {"quota": {"answer": 0.3, "blank": 0.7},
                              "categories": {"answer": {"templates": ["Fine."]}}}},
    }
    spec.update(changes)
    return spec


def tiny_ingest(tmp_path, spec):
    from pipeline.ingest.clean import ingest
    from pipeline.ingest.read import read_export
    from pipeline.instrument import load, read_yaml

    path = tmp_path / "responses.csv"
    write_export(generate(read_yaml(TINY), spec), path)
    return ingest(read_export(path), load(TINY))


def test_skip_logic_leaves_the_not_eligible_blank_and_quotas_exact_among_the_eligible(tmp_path):
    result = tiny_ingest(tmp_path, tiny_spec())
    clean = result.clean
    assert len(clean) == 400 and (result.ledger.outcome == "excluded").sum() == 3
    eligible = clean["lmic"] == "Yes"
    assert eligible.sum() == 240
    status = clean["q3__status"].astype(str)
    assert (status[~eligible] == "not_asked").all()
    counts = status[eligible].value_counts()
    assert counts["dont_know"] == 12 and counts["blank"] == 5 and counts["valid"] == 223    # 5% and 2% of 240
    assert (clean.loc[eligible, "q3"] == "Agree").sum() == 45                                 # 20% of 223
    assert not (result.recodes.rule == "answered_when_not_asked").any()
    assert (clean["q1__status"] == "valid").sum() == 400 - 20 - 8


def test_a_quota_by_a_country_attribute_is_exact_per_group(tmp_path):
    clean = tiny_ingest(tmp_path, tiny_spec()).clean
    women = (clean["gender"] == "Woman").groupby(clean["un_group"].astype(str)).sum()
    assert women.to_dict() == {"African": 100, "WEOG": 50}


def test_items_sharing_a_latent_are_correlated(tmp_path):
    clean = tiny_ingest(tmp_path, tiny_spec()).clean
    both = clean[(clean["q1__status"] == "valid") & (clean["q3__status"] == "valid")]
    r = np.corrcoef(both["q1"].cat.codes, both["q3"].cat.codes)[0, 1]
    assert r > 0.6
    alone = tiny_spec()
    alone["items"]["q3"] = {**alone["items"]["q3"], "latent": "general", "loading": 0.1}
    clean = tiny_ingest(tmp_path, alone).clean
    both = clean[(clean["q1__status"] == "valid") & (clean["q3__status"] == "valid")]
    assert abs(np.corrcoef(both["q1"].cat.codes, both["q3"].cat.codes)[0, 1]) < 0.3


def test_multi_select_quotas_are_exact_and_everybody_who_answers_ticks_one(tmp_path):
    clean = tiny_ingest(tmp_path, tiny_spec()).clean
    answered = clean["field__status"] == "valid"
    assert answered.sum() == 380 and (clean["field__status"] == "blank").sum() == 20
    ticks = clean.loc[answered, ["field__tech", "field__law"]].astype(bool)
    assert ticks.sum().to_dict() == {"field__tech": 266, "field__law": 228}                # 70% and 60% of 380
    assert (ticks.sum(axis=1) >= 1).all()
    law = clean.loc[answered, "field__law"].astype(bool).groupby(clean.loc[answered, "gender"].astype(str)).mean()
    assert law["Woman"] > law["Man"]


def test_spec_errors_for_the_new_features():
    from pipeline.errors import PulseError
    from pipeline.instrument import read_yaml

    bad = tiny_spec()
    bad["items"]["field"] = {"selected": {"tech": 0.3, "law": 0.3}}
    with pytest.raises(PulseError, match="sum to at least 1"):
        generate(read_yaml(TINY), bad)
    bad = tiny_spec()
    del bad["attributes"]["lmic"]             # q3's eligibility reads lmic, which nothing draws first
    with pytest.raises(PulseError, match="eligibility depends on question 'lmic'"):
        generate(read_yaml(TINY), bad)
    bad = tiny_spec()
    bad["items"]["q1"] = {**bad["items"]["q1"], "latent": {"general": 1, "nope": 1}}
    with pytest.raises(PulseError, match="unknown latent 'nope'"):
        generate(read_yaml(TINY), bad)
