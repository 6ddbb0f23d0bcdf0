"""The stage registry: what `pulse run` runs, and what `dvc.yaml` must declare (a test checks they agree).

Each stage is a thin wrapper: it reads the files its `deps` name, calls pure functions, and writes
exactly the files its `outs` name (paths relative to the project root, with {survey} and {wave}).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pipeline.project import Wave


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[Wave, dict[str, Any]], list[str]]
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    params: tuple[str, ...] = ()
    settles: bool = False  # reads files that earlier stages may still be writing behind (pipeline.parallel.later)

    def paths(self, wave: Wave, templates: tuple[str, ...]) -> list[str]:
        from pipeline.project import previous_wave

        return [t.format(survey=wave.survey, wave=wave.wave, previous=previous_wave(wave).wave) for t in templates]


SYNTHETIC_SALT = "pulse-synthetic-example"


def data_status(wave: Wave) -> str:
    """The text of DATA-STATUS.txt: whether the outputs of this wave come from synthetic example data."""
    if wave.synthetic:
        return (f"SYNTHETIC EXAMPLE DATA\n\nEvery output in this folder was made from {wave.export_path.name}, a synthetic "
                f"export written by a seeded generator calibrated to published figures. It is not the survey's real "
                f"responses.\n")
    return f"Outputs of {wave.key} made from the survey export {wave.export_path.name}.\n"


def run_ingest(wave: Wave, params: dict[str, Any]) -> list[str]:
    """Ingest one wave: writes clean.parquet (on a thread, while the CSVs are written), ledger.csv and
    recodes.csv; returns lines to print."""
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.ingest.clean import ingest
    from pipeline.ingest.read import read_export
    from pipeline.instrument import load
    from pipeline.outputs import write_csv, write_parquet, write_text

    from pipeline.text import load_codebooks, load_redaction_list

    instrument = load(wave.instrument_path).for_wave(wave.wave)
    redaction = load_redaction_list(wave.survey_dir / "redaction.yaml")
    codebooks = load_codebooks(wave.survey_dir / "codebooks", instrument)
    salt = os.environ.get("PULSE_PANEL_SALT") or (SYNTHETIC_SALT if wave.synthetic else None)
    result = ingest(read_export(wave.export_path), instrument, redaction, codebooks, salt)
    out = wave.out_dir
    metadata = {"pulse.survey": wave.survey, "pulse.wave": wave.wave,
                "pulse.synthetic": "SYNTHETIC EXAMPLE DATA" if wave.synthetic else "no"}
    write_text(data_status(wave), out / "DATA-STATUS.txt")
    with ThreadPoolExecutor(1) as pool:
        clean_written = pool.submit(write_parquet, result.clean, out / "clean.parquet", metadata)
        write_csv(result.ledger, out / "ledger.csv")
        write_csv(result.recodes, out / "recodes.csv")
        clean_written.result()
    lines = [result.summary, *(f"warning: {w}" for w in result.warnings)]
    if not salt and instrument.export.get("duplicate_key"):
        lines.append("warning: PULSE_PANEL_SALT is not set: respondents are not linked across waves "
                     "(no paired trend tests)")
    return lines


def run_analyze(wave: Wave, params: dict[str, Any]) -> list[str]:
    """Analyze one wave: reads clean.parquet, writes the tidy tables under tables/; returns lines to print."""
    import pandas as pd

    from pipeline.analyze import analyze
    from pipeline.disclosure import protect
    from pipeline.instrument import load
    from pipeline.outputs import write_csv

    from pipeline.text import agreement_table, code_all, decisions_table, keywords_table, load_codebooks, read_coding

    instrument = load(wave.instrument_path).for_wave(wave.wave)
    clean = pd.read_parquet(wave.out_dir / "clean.parquet")
    coding_path = wave.wave_dir / "coding.csv"
    coded = code_all(clean, load_codebooks(wave.survey_dir / "codebooks", instrument), read_coding(coding_path),
                     coding_path)
    tables = analyze(clean, instrument, params["analyze"], coded)
    tables.update(keywords=keywords_table(coded), coding_decisions=decisions_table(coded),
                  coding_agreement=agreement_table(coded))
    tables = protect(tables, clean, instrument, params["disclosure"], coded)
    for name, table in tables.items():
        write_csv(table, wave.out_dir / "tables" / f"{name}.csv")
    tests = tables["tests"]
    significant = int((tests["q_value"] < 0.05).sum()) if len(tests) else 0
    lines = [f"{len(tables)} tables; {len(tests)} tests, {significant} with q < 0.05"]
    if params["analyze"].get("weights"):
        from pipeline.weighted import summary

        lines.append(summary(tables["weights"]))
    return lines


def run_trends(wave: Wave, params: dict[str, Any]) -> list[str]:
    """Compare the wave with the one fielded before it: tables/trends.csv and tables/trend_tests.csv."""
    import pandas as pd

    from pipeline.errors import PulseError
    from pipeline.instrument import load
    from pipeline.outputs import write_csv
    from pipeline.project import previous_wave
    from pipeline.disclosure import protect_trends
    from pipeline.trends import trends

    waves = list(dict.fromkeys([previous_wave(wave), wave]))
    frames = {}
    for w in waves:
        path = w.out_dir / "clean.parquet"
        if not path.exists():
            raise PulseError(f"{path}: missing; ingest the previous wave first (pulse ingest {w.wave_dir})")
        frames[w.wave] = pd.read_parquet(path)
    tables = trends(frames, load(wave.instrument_path), {**params["analyze"], **params["trends"]})
    tables = protect_trends(tables, {w.wave: published_tables(w, ("topbox", "means")) for w in waves})
    for name, table in tables.items():
        write_csv(table, wave.out_dir / "tables" / f"{name}.csv")
    tests = tables["trend_tests"]
    changed = int((tests["q_value"] < params["report"]["alpha"]).sum()) if len(tests) else 0
    since = f"since {waves[0].wave}" if len(waves) == 2 else "(first wave: nothing to compare)"
    return [f"{len(tests)} wave-over-wave tests {since}, {changed} with q < {params['report']['alpha']}"]


def published_tables(wave: Wave, names: tuple[str, ...]) -> dict:
    """The wave's published analyze tables `names` (after disclosure control), read from its tables/ folder."""
    import pandas as pd

    from pipeline.errors import PulseError

    found = {}
    for name in names:
        path = wave.out_dir / "tables" / f"{name}.csv"
        if not path.exists():
            raise PulseError(f"{path}: missing; analyze that wave first (pulse analyze {wave.wave_dir})")
        found[name] = pd.read_csv(path)
    return found


def run_figures(wave: Wave, params: dict[str, Any]) -> list[str]:
    """Draw the wave's figures from its tables (SVG, PNG, the CSV of what is drawn, index.json)."""
    from pipeline.figures import run_figures as figures

    return figures(wave, params)


def run_report(wave: Wave, params: dict[str, Any]) -> list[str]:
    """Write report.html and report.pdf from the figures, tables, ledger and recodes."""
    from pipeline.report import run_report as report

    return report(wave, params)


def run_manifest(wave: Wave, params: dict[str, Any]) -> list[str]:
    """Hash every input and output of the wave into manifest.json, with parameters and software versions."""
    from pipeline.manifest import write_manifest

    return write_manifest(wave, params)


TABLES = ("distributions", "topbox", "means", "tests", "posthoc", "models", "paired", "weights", "keywords",
          "coding_decisions", "coding_agreement", "suppressions")
FIGURE_TABLES = ("distributions", "topbox", "means", "tests", "models", "paired", "keywords", "coding_agreement")
WAVE = "surveys/{survey}/{wave}"
OUT = "outputs/{survey}/{wave}"

STAGES: tuple[Stage, ...] = (
    Stage(
        name="ingest",
        run=run_ingest,
        deps=("surveys/{survey}/instrument.yaml", "surveys/{survey}/redaction.yaml", "surveys/{survey}/codebooks",
              WAVE, "pipeline/ingest", "pipeline/instrument.py", "pipeline/countries.py", "pipeline/data",
              "pipeline/text"),
        outs=(f"{OUT}/DATA-STATUS.txt", f"{OUT}/clean.parquet", f"{OUT}/ledger.csv", f"{OUT}/recodes.csv"),
    ),
    Stage(
        name="analyze",
        run=run_analyze,
        deps=("surveys/{survey}/instrument.yaml", "surveys/{survey}/codebooks", WAVE, f"{OUT}/clean.parquet",
              "pipeline/analyze.py", "pipeline/disclosure.py", "pipeline/text",
              "pipeline/breakdowns.py", "pipeline/weighted.py", "pipeline/stats"),
        outs=tuple(f"{OUT}/tables/{name}.csv" for name in TABLES),
        params=("analyze", "disclosure"),
    ),
    Stage(
        name="trends",
        run=run_trends,
        deps=("surveys/{survey}/instrument.yaml", "outputs/{survey}/{previous}/clean.parquet",
              f"{OUT}/clean.parquet", "outputs/{survey}/{previous}/tables/topbox.csv",
              "outputs/{survey}/{previous}/tables/means.csv", f"{OUT}/tables/topbox.csv", f"{OUT}/tables/means.csv",
              "pipeline/trends.py", "pipeline/breakdowns.py", "pipeline/stats", "pipeline/disclosure.py"),
        outs=(f"{OUT}/tables/trends.csv", f"{OUT}/tables/trend_tests.csv", f"{OUT}/tables/trend_questions.csv"),
        params=("analyze", "disclosure", "trends", "report"),
    ),
    Stage(
        name="figures",
        run=run_figures,
        deps=("surveys/{survey}/instrument.yaml", "surveys/{survey}/report.yaml", f"{WAVE}/wave.yaml",
              *(f"{OUT}/tables/{name}.csv" for name in FIGURE_TABLES), "pipeline/figures", "pipeline/format.py"),
        outs=(f"{OUT}/figures",),
        params=("analyze", "disclosure", "report"),
    ),
    Stage(
        name="report",
        run=run_report,
        deps=("surveys/{survey}/instrument.yaml", "surveys/{survey}/report.yaml", WAVE, f"{OUT}/figures", *(f"{OUT}/tables/{name}.csv" for name in FIGURE_TABLES),
              f"{OUT}/ledger.csv", f"{OUT}/recodes.csv", f"{OUT}/tables/trend_tests.csv",
              f"{OUT}/tables/trend_questions.csv", f"{OUT}/tables/suppressions.csv", "templates", "pipeline/report.py",
              "pipeline/pdf.py", "pipeline/disclosure.py", "pipeline/format.py",
              "pipeline/figures", "pipeline/data/countries_meta.json"),
        outs=(f"{OUT}/report.html", f"{OUT}/report.pdf"),
        params=("analyze", "disclosure", "report"),
    ),
    Stage(
        name="manifest",
        run=run_manifest,
        deps=("surveys/{survey}/instrument.yaml", WAVE, f"{OUT}/report.html", f"{OUT}/report.pdf",
              f"{OUT}/figures", f"{OUT}/clean.parquet", *(f"{OUT}/tables/{name}.csv" for name in TABLES),
              f"{OUT}/tables/trends.csv", f"{OUT}/tables/trend_tests.csv", f"{OUT}/tables/trend_questions.csv",
              "pipeline/manifest.py"),
        outs=(f"{OUT}/manifest.json",),
        params=("analyze", "disclosure", "report"),
        settles=True,
    ),
)


def run_trend_report(wave: Wave, params: dict[str, Any]) -> list[str]:
    """Write the cross-wave report of `wave`'s survey (outputs/<survey>/trends/): trend figures, the tests of each
    pair of consecutive waves, methods."""
    from pipeline.figures.trendreport import run_trend_report as report

    return report(wave, params)


TRENDS_OUT = "outputs/{survey}/trends"

# Stages run once per survey, after every wave's stages: `{wave}` in a dep stands for each wave of the survey.
SURVEY_STAGES: tuple[Stage, ...] = (
    Stage(
        name="trend-report",
        run=run_trend_report,
        deps=("surveys/{survey}/instrument.yaml", "surveys/{survey}/report.yaml", f"{WAVE}/wave.yaml",
              f"{OUT}/tables/trends.csv", f"{OUT}/tables/trend_tests.csv", f"{OUT}/tables/trend_questions.csv",
              "templates", "pipeline/figures", "pipeline/report.py", "pipeline/pdf.py", "pipeline/format.py"),
        outs=(f"{TRENDS_OUT}/report.html", f"{TRENDS_OUT}/report.pdf", f"{TRENDS_OUT}/figures"),
        params=("analyze", "disclosure", "trends", "report"),
    ),
)


def stages_before() -> list[str]:
    """Names of the stages (in run order) whose outputs for the wave fielded before, a wave's own stages read."""
    read = {dep.replace("{previous}", "{wave}") for s in STAGES for dep in s.deps if "{previous}" in dep}
    return [s.name for s in STAGES if read & set(s.outs)]


def stage(name: str) -> Stage:
    return next(s for s in STAGES + SURVEY_STAGES if s.name == name)


def survey_last_waves(waves: list[Wave]) -> list[Wave]:
    """For each survey among `waves` whose every wave (survey_waves) has its trends tables: its last wave, the
    one a survey stage is run with."""
    from pipeline.project import survey_waves

    found = {}
    for wave in waves:
        every = survey_waves(wave)
        if all((w.out_dir / "tables" / "trend_questions.csv").exists() for w in every):
            found.setdefault(wave.survey, every[-1])
    return list(found.values())


def _listed_waves(root: Path) -> dict[str, list[str]]:
    """{survey: [wave, …]} in the order params.yaml lists them under `waves`."""
    from pipeline.params import load_params

    listed: dict[str, list[str]] = {}
    for entry in load_params(root)["waves"].values():
        listed.setdefault(str(entry["survey"]), []).append(str(entry["wave"]))
    return listed


def _survey_stage_lines(s: Stage, survey: str, waves: list[str]) -> list[str]:
    deps = list(dict.fromkeys(d.format(survey=survey, wave=w) for d in s.deps for w in waves))
    lines = [f"  {s.name}-{survey}:", f"    cmd: pulse {s.name} surveys/{survey}", "    deps:"]
    lines += [f"      - {d}" for d in deps]
    if s.params:
        lines += ["    params:", *(f"      - {p}" for p in s.params)]
    outs = [o.format(survey=survey) for o in s.outs]
    return lines + ["    outs:", *(line for o in outs for line in (f"      - {o}:", "          cache: false"))]


def dvc_yaml(root: Path | None = None) -> str:
    """The text of dvc.yaml for the registry: one `foreach` stage over the `waves` of params.yaml per
    registered stage, then one stage `<name>-<survey>` per survey stage and survey listed in `root`/params.yaml
    (default: the current folder) depending on each of its waves; outputs uncached (they are rebuilt, not
    stored). `python -m pipeline.stages > dvc.yaml`; `pulse new-wave` writes it again when it adds a wave."""
    def dvc(template: str) -> str:
        return (template.replace("{survey}", "${item.survey}").replace("{wave}", "${item.wave}")
                .replace("{previous}", "${item.previous}"))

    lines = ["# Generated by `python -m pipeline.stages > dvc.yaml` from pipeline/stages.py: the stages `pulse run` runs.",
             "stages:"]
    for s in STAGES:
        lines += [f"  {s.name}:", "    foreach: ${waves}", "    do:",
                  f"      cmd: pulse {s.name} surveys/${{item.survey}}/${{item.wave}}", "      deps:"]
        lines += [f"        - {dvc(d)}" for d in s.deps]
        if s.params:
            lines += ["      params:", *(f"        - {p}" for p in s.params)]
        lines += ["      outs:", *(line for o in s.outs for line in (f"        - {dvc(o)}:", "            cache: false"))]
    for survey, waves in _listed_waves(Path.cwd() if root is None else root).items():
        for s in SURVEY_STAGES:
            lines += _survey_stage_lines(s, survey, waves)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(dvc_yaml(), end="")
