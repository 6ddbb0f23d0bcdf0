"""The figures stage: tidy tables + instrument + report.yaml → one SVG, PNG and CSV per figure, and
`figures/index.json` describing them (section, title, headline, caption, alt text, files, facts).

Describe, then render: each kind module (`stacked`, `dots`, `bars`, `crosstab`, `keywords`, `ranking`
for keyword-bars, `choices`, `models`, `pairs`) turns a figure spec into the exact frame it draws
(`describe`), draws that frame (`draw`) and describes it for screen readers (`alt`); `write` saves the
files. Figures never compute statistics: every number drawn or written is a cell of the tables
(distributions, topbox, means, tests, and models, paired, keywords for the kinds that draw them).
Colours of groups are the same in every figure (`palette`). Figures are drawn in forked worker
processes, one per CPU (`PULSE_WORKERS` sets how many); each figure's files depend only on its spec and
the tables, so they are the same byte for byte whatever the number of workers. The stage returns once every
SVG and CSV is written; the workers then write the PNGs, which no later stage but the manifest reads, so under
`pulse run` they are drawn while the report is written (pipeline.parallel).
"""

from __future__ import annotations

from typing import Any

REPORT_DEFAULTS = {"alpha": 0.05, "dpi": 200}


def report_params(params: dict[str, Any]) -> dict[str, Any]:
    """The `report` parameter group with its defaults filled in."""
    return {**REPORT_DEFAULTS, **(params.get("report") or {})}


def run_figures(wave, params: dict[str, Any]) -> list[str]:
    """Draw every figure of the wave's report.yaml; returns lines to print (a one-line summary first)."""
    from pipeline.figures.build import build_all

    entries, warnings = build_all(wave, params)
    claims = sum(1 for e in entries if e["claim"])
    return [f"{len(entries)} figures, {claims} with a headline claim from the tables "
            f"({wave.out_dir.relative_to(wave.root) / 'figures'})", *warnings]
