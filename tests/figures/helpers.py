"""Shared by the figure and report tests: building projects and checking headlines against the tables."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd

from pipeline import format as fmt
from pipeline.figures.tables import load_tables
from pipeline.params import load_params
from pipeline.project import Wave
from pipeline.stages import run_analyze, run_ingest

HERE = Path(__file__).parent
DATA = HERE.parent / "data"
REPO = HERE.parent.parent
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?%?")
FORMATS = {"percent": fmt.percent, "count": fmt.count, "mean": fmt.mean, "signed": fmt.signed}


def tiny_project(folder: Path, report: Path | None = HERE / "tiny_report.yaml", min_group_size: int = 1) -> Wave:
    """The tiny survey with a report.yaml and a params.yaml (small groups shown), ingested and analysed."""
    shutil.copytree(DATA / "tiny" / "surveys", folder / "surveys")
    if report is not None:
        shutil.copy(report, folder / "surveys" / "tiny" / "report.yaml")
    (folder / "params.yaml").write_text(f"analyze:\n  min_group_size: {min_group_size}\n", encoding="utf-8")
    wave = Wave(folder, "tiny", "w1")
    analysed(wave)
    return wave


def analysed(wave: Wave) -> dict:
    params = load_params(wave.root)
    run_ingest(wave, params)
    run_analyze(wave, params)
    return params


def risk_pulse_project(folder: Path) -> Wave:
    """A copy of the bundled Risk Pulse example wave, ingested and analysed."""
    return bundled_project(folder, "risk-pulse", "2024-05")


def bundled_project(folder: Path, survey: str, wave_id: str) -> Wave:
    """A copy of one bundled survey with one of its waves, ingested and analysed."""
    source = REPO / "surveys" / survey
    shutil.copytree(source, folder / "surveys" / survey,
                    ignore=lambda d, names: [n for n in names if Path(d) == source and (source / n / "wave.yaml").exists()
                                             and n != wave_id])
    shutil.copy(REPO / "params.yaml", folder / "params.yaml")
    wave = Wave(folder, survey, wave_id)
    analysed(wave)
    return wave


def fact_problems(entry: dict, tables_dir: Path) -> list[str]:
    """Every way the headline of an index entry disagrees with the tables (empty when it agrees):
    each fact re-read from its table, and each number in the headline backed by a fact."""
    tables = load_tables(tables_dir)
    problems = []
    for fact in entry["facts"]:
        if fact["kind"] == "wording":
            continue
        table = tables.get(fact["table"])
        if fact["kind"] == "name":
            if fact["label"] not in set(table[fact["column"]]):
                problems.append(f"{entry['id']}: {fact['label']!r} is not a {fact['column']} of {fact['table']}")
            continue
        picked = table
        for key, value in fact["where"].items():
            picked = picked[picked[key] == value]
        for key, values in fact.get("in", {}).items():
            picked = picked[picked[key].isin(values)]
        if fact["kind"] == "count":
            if fact.get("query"):
                picked = picked.query(fact["query"])
            if fmt.count(len(picked)) != fact["text"]:
                problems.append(f"{entry['id']}: count {fact['text']} but the table gives {len(picked)}")
            continue
        if len(picked) != 1:
            problems.append(f"{entry['id']}: {fact['where']} matches {len(picked)} rows of {fact['table']}")
            continue
        text = FORMATS[fact["format"]](picked.iloc[0][fact["column"]])
        if text != fact["text"]:
            problems.append(f"{entry['id']}: headline says {fact['text']}, {fact['table']} says {text}")
    rest = entry["headline"]
    for fact in sorted(entry["facts"], key=lambda f: -len(f["text"])):
        if fact["kind"] in ("name", "wording"):
            rest = rest.replace(fact["text"], " ")
    backed = {number for f in entry["facts"] if f["kind"] in ("value", "count") for number in NUMBER.findall(f["text"])}
    for number in NUMBER.findall(rest):
        if number not in backed:
            problems.append(f"{entry['id']}: {number} in the headline has no fact behind it")
    return problems


def rows_equal(frame: pd.DataFrame, table: pd.DataFrame, keys: list[str], columns: list[str]) -> list[str]:
    """Differences between a figure's CSV and the table rows with the same keys, over `columns`."""
    merged = frame[keys + columns].merge(table[keys + columns], on=keys, how="left", suffixes=("", "_table"),
                                         indicator=True)
    problems = [f"row {tuple(r)} not in the table" for r in merged.loc[merged["_merge"] != "both", keys].itertuples(index=False)]
    for column in columns:
        a, b = merged[column], merged[f"{column}_table"]
        same = (a == b) | (a.isna() & b.isna())
        if a.dtype.kind == "f" or b.dtype.kind == "f":
            same = same | ((a - b).abs() < 1e-9)
        problems += [f"{column} differs for {tuple(r)}" for r in merged.loc[~same, keys].itertuples(index=False)]
    return problems
