"""benchmarks/results.md from the raw results: machine, targets with PASS/MISS, scaling fits, a table per
size, in-process timings, start-up, the ~200 MB export, `dvc repro`, and where the time goes (profiles)."""

from __future__ import annotations

import math

TARGETS = {"e2e_bundled": 10.0, "analyze_1m_seconds": 60.0, "analyze_1m_mb": 4096.0, "ingest_ratio": 2.0,
           "dvc_noop": 3.0, "linear_slope": 1.1}
LARGE = 1_000_000


def loglog_slope(ns: list[float], times: list[float]) -> float:
    """Least-squares slope of log(time) on log(n): 1 is linear growth, 0 constant, 2 quadratic."""
    xs, ys = [math.log(n) for n in ns], [math.log(t) for t in times]
    return _slope(xs, ys)


def linear_fit(ns: list[float], times: list[float]) -> tuple[float, float]:
    """Least-squares (intercept seconds, seconds per respondent) of time on n."""
    slope = _slope(ns, times)
    return sum(times) / len(times) - slope * sum(ns) / len(ns), slope


def _slope(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 2:
        return float("nan")
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else float("nan")


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**PASS**" if ok else "**MISS**")


def _s(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    return f"{seconds:.3f} s" if seconds < 1 else f"{seconds:.1f} s" if seconds < 100 else f"{seconds:.0f} s"


def _mb(mb: float | None) -> str:
    return "–" if mb is None else f"{mb:,.0f} MB"


def _n(n: int | str) -> str:
    return f"{int(n):,}"


def _spread(entry: dict, key: str = "wall") -> str:
    if entry.get("runs", 1) < 2:
        return _s(entry[key])
    return f"{_s(entry[key])} ({_s(entry[f'{key}_min'])}–{_s(entry[f'{key}_max'])})"


def _sizes(data: dict) -> list[tuple[int, dict]]:
    return sorted(((int(n), e) for n, e in data.get("sizes", {}).items()), key=lambda item: item[0])


def series(data: dict, pick) -> tuple[list[int], list[float]]:
    ns, ts = [], []
    for n, entry in _sizes(data):
        value = pick(entry)
        if value:
            ns.append(n)
            ts.append(value)
    return ns, ts


def _series_by_name(data: dict, metric: str = "wall") -> dict[str, tuple[list[int], list[float]]]:
    names = list(dict.fromkeys([*(data.get("run", {}).get("stages") or []),
                                *(name for _, e in _sizes(data) for name in e.get("stages", {}))]))
    out = {name: series(data, lambda e, name=name: e.get("stages", {}).get(name, {}).get(metric)) for name in names}
    out["end to end (pulse run)"] = series(data, lambda e: e.get("e2e", {}).get(metric))
    out["pandas.read_csv baseline (process)"] = series(data, lambda e: e.get("baseline", {}).get(metric))
    return {k: v for k, v in out.items() if v[0]}


def targets(data: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    sizes = dict(_sizes(data))
    bundled = next((e for n, e in sizes.items() if e.get("export", {}).get("bundled")), None)
    e2e = (bundled or {}).get("e2e")
    if e2e:
        outputs = set(e2e.get("outputs", []))
        complete = {"report.html", "report.pdf"} <= outputs
        measured = f"{_s(e2e['wall'])} wall median of {e2e['runs']} (CPU {_s(e2e['cpu'])}; stages: {', '.join(e2e['stages'])})"
        if not complete:
            measured += "; report.html/report.pdf NOT produced: incomplete pipeline"
        rows.append(("Whole pipeline, bundled wave (348), ingest to HTML and PDF, start-up included",
                     f"≤ {TARGETS['e2e_bundled']:.0f} s", measured, verdict(complete and e2e["wall"] <= TARGETS["e2e_bundled"])))
    else:
        rows.append(("Whole pipeline, bundled wave", "≤ 10 s", "–", verdict(None)))
    big = sizes.get(LARGE, {})
    analyze = big.get("stages", {}).get("analyze")
    if analyze:
        rows.append(("analyze stage, 1,000,000 respondents (CLI process)",
                     f"≤ {TARGETS['analyze_1m_seconds']:.0f} s and < 4 GB peak",
                     f"{_s(analyze['wall'])} wall (CPU {_s(analyze['cpu'])}), peak {_mb(analyze['maxrss_mb'])}",
                     verdict(analyze["wall"] <= TARGETS["analyze_1m_seconds"] and analyze["maxrss_mb"] < TARGETS["analyze_1m_mb"])))
    else:
        rows.append(("analyze stage, 1,000,000 respondents", "≤ 60 s, < 4 GB", "–", verdict(None)))
    ingest, base = big.get("stages", {}).get("ingest"), big.get("baseline")
    if ingest and base:
        ratio = ingest["wall"] / base["wall"]
        text = (f"ingest {_s(ingest['wall'])} vs read_csv {_s(base['wall'])} (both whole processes, start-up included): "
                f"**{ratio:.1f}×** (CPU {_s(ingest['cpu'])} vs {_s(base['cpu'])}: {ingest['cpu'] / base['cpu']:.1f}×); "
                f"peak memory {_mb(ingest['maxrss_mb'])} vs {_mb(base['maxrss_mb'])}")
        inner = big.get("inprocess", {}).get("timings", {})
        if inner.get("ingest: read_export") and base.get("read_csv_inner"):
            ingest_inner = inner["ingest: read_export"] + inner["ingest: ingest() whole"]
            text += (f"; in-process read_export + ingest() {_s(ingest_inner)} vs read_csv {_s(base['read_csv_inner'])}: "
                     f"{ingest_inner / base['read_csv_inner']:.1f}×")
        rows.append(("ingest of the 1,000,000-respondent CSV vs `pandas.read_csv(engine='pyarrow')` on the same file",
                     "≤ 2×", text, verdict(ratio <= TARGETS["ingest_ratio"])))
    else:
        rows.append(("ingest of a 1,000,000-row CSV vs pandas.read_csv", "≤ 2×", "–", verdict(None)))
    dvc = data.get("dvc")
    if dvc:
        note = "" if dvc.get("no_stage_ran") else "; a stage ran: not a no-op!"
        note += "" if dvc.get("lock_unchanged") else "; dvc.lock changed"
        rows.append(("`dvc repro` with nothing changed (scratch copy of the repository)", "≤ 3 s",
                     f"{_spread(dvc)} median of {dvc['runs']}{note}",
                     verdict(dvc["wall"] <= TARGETS["dvc_noop"] and dvc.get("no_stage_ran", False))))
    else:
        rows.append(("`dvc repro` with nothing changed", "≤ 3 s", "–", verdict(None)))
    fits = _series_by_name(data)
    local = {}
    for name, (ns, ts) in fits.items():
        if name.startswith("pandas") or len(ns) < 2:
            continue
        local[name] = loglog_slope(ns[-2:], ts[-2:])
    e2e_series = fits.get("end to end (pulse run)")
    if e2e_series and len(e2e_series[0]) >= 2:
        ns, ts = e2e_series
        _, per = linear_fit(ns, ts)
        worst = max(local, key=local.get)
        cpu = {name: loglog_slope(ns[-2:], ts[-2:]) for name, (ns, ts) in _series_by_name(data, "cpu").items()
               if not name.startswith("pandas") and len(ns) >= 2}
        worst_cpu = max(cpu, key=cpu.get) if cpu else None
        rows.append(("Time linear in respondents (log–log slope ≤ 1.1 between the two largest sizes, every stage)",
                     "slope ≤ 1.1",
                     f"end to end: slope {loglog_slope(ns, ts):.2f} over {len(ns)} sizes, {local['end to end (pulse run)']:.2f} "
                     f"between {_n(ns[-2])} and {_n(ns[-1])}; linear fit {per * 100_000:.1f} s per 100k respondents; "
                     f"steepest: {worst} {local[worst]:.2f}"
                     + (f"; by CPU time the steepest is {worst_cpu} {cpu[worst_cpu]:.2f}" if worst_cpu else ""),
                     verdict(all(v <= TARGETS["linear_slope"] for v in local.values()))))
    else:
        rows.append(("Time linear in respondents", "slope ≤ 1.1", "–", verdict(None)))
    return rows


README_BEGIN = "<!-- benchmarks:targets (written by python -m benchmarks from benchmarks/results.md; do not edit) -->"
README_END = "<!-- /benchmarks:targets -->"


def targets_table(markdown: str) -> str:
    """The table under "## Targets" in a rendered results.md (header to the first blank line)."""
    lines = markdown.split("## Targets\n", 1)[1].lstrip("\n").splitlines()
    return "\n".join(lines[: lines.index("")] if "" in lines else lines) + "\n"


def update_readme(readme: str, results_markdown: str) -> str:
    """The README text with its block between the benchmark markers replaced by the targets table of results.md.

    Raises ValueError when the README has no such block."""
    if README_BEGIN not in readme or README_END not in readme:
        raise ValueError("README.md has no benchmark block: add the two benchmarks:targets marker lines")
    head, rest = readme.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    return f"{head}{README_BEGIN}\n{targets_table(results_markdown)}{README_END}{tail}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return lines + [""]


def _load(value) -> str:
    return " / ".join(f"{v:.2f}" for v in value) if value else "–"


def _label(key: str) -> str:
    """Older raw results named the slowest model in the key."""
    return "analyze: slowest model" if key.startswith("analyze: slowest model") else key


def render(data: dict) -> str:
    run, mach = data.get("run", {}), data.get("machine", {})
    cores = mach.get("cores") or 1
    out = ["# Benchmarks (issue #9)", "",
           "Generated by `python -m benchmarks` (benchmarks/runner.py); do not edit by hand. Re-run: "
           "`python -m benchmarks` (about an hour at these sizes on 2 cores), `--quick` for the two small sizes, "
           "`--help` for the options.", ""]
    out += [f"Command: `{run.get('command', '')}`; started {run.get('started', '–')}, finished {run.get('finished', '–')}"
            f" ({_s(run.get('seconds'))})."]
    for merge in run.get("merges", []):
        out += [f"Then `{merge['command']}` (started {merge['started']}, load average {_load(merge['loadavg_start'])}) "
                "re-measured what it names and kept the rest."]
    out += [""]
    out += ["## Machine", ""]
    libs = ", ".join(f"{k} {v}" for k, v in mach.get("libraries", {}).items())
    out += _table(["what", "value"], [
        ["CPU", f"{mach.get('cpu_model', '–')}; {mach.get('cores', '–')} cores ({mach.get('usable_cores', '–')} usable)"],
        ["memory", f"{mach.get('memory_gib', 0):.1f} GiB"],
        ["system", mach.get("platform", "–")],
        ["Python", mach.get("python", "–")],
        ["libraries", libs],
        ["code measured", mach.get("code") or f"commit {mach.get('commit', '–')}"],
        ["PYTHONDONTWRITEBYTECODE", "set: pipeline/ is compiled afresh by every process" if mach.get("pythondontwritebytecode") else "not set"],
        ["load average (1/5/15 min) at start", _load(run.get("loadavg_start"))],
        ["load average at end", _load(run.get("loadavg_end"))],
    ])
    start = run.get("loadavg_start")
    if start and start[0] > 0.25 * cores:
        out += [f"> **Noisy measurements.** The load average at the start ({start[0]:.2f} on {cores} cores) shows other "
                "work on the machine while these ran: wall times are inflated (compare them with CPU times, which the "
                "load affects less), and small differences mean nothing. Each size's load is in its table.", ""]
    out += ["## Targets", ""]
    out += _table(["target", "threshold", "measured", "verdict"], [list(r) for r in targets(data)])
    out += ["## Scaling with respondents", "",
            "Median time per size; the log–log slope (1 = linear) over all sizes and between the two largest, and "
            "the slope of a straight-line fit in seconds per 100,000 respondents. A slope well under 1 over all sizes "
            "means fixed costs (start-up, imports, fixed-size work) dominate the small sizes.", ""]
    sizes = _sizes(data)
    for metric, title in (("wall", "Wall time"), ("cpu", "CPU time (user + system; less disturbed by other load)")):
        fits = _series_by_name(data, metric)
        out += [f"{title}:", ""]
        header = ["stage", *(_n(n) for n, _ in sizes), "slope (all)", "slope (two largest)", "s per 100k (linear fit)"]
        rows = []
        for name, (ns, ts) in fits.items():
            by = dict(zip(ns, ts))
            slope_all = loglog_slope(ns, ts) if len(ns) >= 2 else float("nan")
            slope_top = loglog_slope(ns[-2:], ts[-2:]) if len(ns) >= 2 else float("nan")
            per = linear_fit(ns, ts)[1] * 100_000 if len(ns) >= 2 else float("nan")
            rows.append([name, *(_s(by.get(n)) for n, _ in sizes), f"{slope_all:.2f}", f"{slope_top:.2f}", f"{per:.2f}"])
        out += _table(header, rows)
    for n, entry in sizes:
        export = entry.get("export", {})
        out += [f"## {_n(n)} respondents", ""]
        out += [f"Export {export.get('bytes', 0) / 1e6:.1f} MB ({export.get('bytes', 0) / n:.0f} bytes per respondent)"
                + (", byte-identical to the bundled wave surveys/risk-pulse/2024-05" if export.get("bundled") else "")
                + f"; {entry.get('runs', '–')} run(s), median (min–max); {entry.get('code', '')} measured {entry.get('measured_at', '–')}, "
                f"load average {_load(entry.get('loadavg_start'))} at start, {_load(entry.get('loadavg_end'))} at end."
                + (f" ({', '.join(entry['kept_from_earlier']['parts'])} from the earlier measurement of "
                   f"{entry['kept_from_earlier']['measured_at']}, {entry['kept_from_earlier'].get('code', '')}.)"
                   if entry.get("kept_from_earlier") else ""), ""]
        rows = []
        for name, stage in entry.get("stages", {}).items():
            rows.append([f"`pulse {name}`", _spread(stage), _spread(stage, "cpu"), _mb(stage["maxrss_mb"])])
        if entry.get("e2e"):
            e = entry["e2e"]
            rows.append(["`pulse run` (end to end)", _spread(e), _spread(e, "cpu"), _mb(e["maxrss_mb"])])
        if entry.get("baseline"):
            b = entry["baseline"]
            rows.append(["`pandas.read_csv(engine='pyarrow')` alone (process: start-up + import + read)", _spread(b),
                         _spread(b, "cpu"), _mb(b["maxrss_mb"])])
            rows.append(["… the read_csv call itself (in-process)", _s(b.get("read_csv_inner")), "", ""])
            if b.get("read_csv_text_inner"):
                rows.append(["… with every column as text (dtype=str, keep_default_na=False), in-process",
                             _s(b["read_csv_text_inner"]), "", ""])
        out += _table(["what (each a fresh process)", "wall", "CPU (user+sys)", "peak RSS"], rows)
        for failure in entry.get("failures", []):
            out += [f"- FAILED: {failure.splitlines()[0]} … {failure.splitlines()[-1].strip()}"]
        if entry.get("failures"):
            out += [""]
    inproc = [(n, e["inprocess"]) for n, e in sizes if e.get("inprocess")]
    if inproc:
        out += ["## Analysis functions in-process", "",
                "Seconds per call in one process (`python -m benchmarks.inprocess`), median of the runs; "
                "`ingest()` and `analyze()` whole repeat the steps above them. Analysis workers (params.yaml "
                f"`analyze.workers`): {inproc[0][1].get('workers')}.", ""]
        keys = list(dict.fromkeys(_label(k) for _, i in inproc for k in i["timings"]))
        rows = []
        for key in keys:
            cells = []
            for _, i in inproc:
                value = next((v for k, v in i["timings"].items() if _label(k) == key), None)
                if key in ("respondents kept", "models fitted"):
                    cells.append("–" if value is None else f"{int(value):,}")
                else:
                    cells.append(_s(value) + (f" ({i['slowest_model']})" if key == "analyze: slowest model"
                                              and i.get("slowest_model") else ""))
            rows.append([key, *cells])
        rows.append(["peak RSS of the process", *(_mb(i["maxrss_mb"]) for _, i in inproc)])
        out += _table(["step", *(_n(n) for n, _ in inproc)], rows)
    if data.get("startup"):
        out += ["## Start-up", ""]
        out += _table(["process", "wall", "CPU", "peak RSS"],
                      [[f"`{k}`", _spread(v), _spread(v, "cpu"), _mb(v["maxrss_mb"])] for k, v in data["startup"].items()])
    big = data.get("big")
    if big:
        out += ["## A ~200 MB export through ingest", "",
                f"The generator writes {big['bytes_per_respondent']:.0f} bytes per respondent (measured on the "
                f"{_n(big['basis'])} export), so 200 MB is about {_n(big['respondents'])} respondents; that export is "
                f"{big['bytes'] / 1e6:.0f} MB.", ""]
        i, b = big["ingest"], big["baseline"]
        out += _table(["what", "wall", "CPU", "peak RSS"], [
            ["`pulse ingest`", _spread(i), _spread(i, "cpu"), _mb(i["maxrss_mb"])],
            ["`pandas.read_csv(engine='pyarrow')` alone (process)", _s(b["wall"]), _s(b["cpu"]), _mb(b["maxrss_mb"])],
        ])
        out += [f"Peak memory of ingest is {i['maxrss_mb'] / (big['bytes'] / 2**20):.1f}× the file size.", ""]
    dvc = data.get("dvc")
    if dvc:
        out += ["## `dvc repro` with nothing changed", "",
                f"In a scratch copy of the code measured ({mach.get('code', 'the work tree')}), committed to a fresh git "
                f"repository, its own pipeline/ first on PYTHONPATH: a first `dvc repro` brought it up to date in "
                f"{_s(dvc.get('first_repro_wall'))}"
                f"{' (the copy was made and brought up to date by an earlier run of the same commit)' if dvc.get('reused_copy') else ''}; then `dvc repro` ran {dvc['runs']} times: {_spread(dvc)} wall, "
                f"{_spread(dvc, 'cpu')} CPU, peak {_mb(dvc['maxrss_mb'])}; no stage ran: {dvc.get('no_stage_ran')}; "
                f"dvc.lock unchanged: {dvc.get('lock_unchanged')}. `dvc status`: {_s(dvc.get('status_wall'))}.", "",
                "Last output: `" + dvc.get("last_output", "").replace("\n", " ⏎ ") + "`", ""]
        if dvc.get("stages_checked"):
            out += [f"The no-op `dvc repro` checked {dvc['stages_checked']} stages.", ""]
        floor = dvc.get("floor")
        if floor:
            line = (f"DVC's own floor: the same no-op in a project of one stage (copy a file) takes {_spread(floor)} "
                    f"wall ({_spread(floor, 'cpu')} CPU)")
            if dvc.get("stages_checked", 0) > 1:
                per = (dvc["wall"] - floor["wall"]) / (dvc["stages_checked"] - 1)
                target = TARGETS["dvc_noop"]
                line += (f"; the rest of the no-op above is {_s(per)} per further stage, so at this cost the "
                         f"{target:g} s target holds up to about "
                         f"{1 + max(0, int((target - floor['wall']) / per)) if per > 0 else '–'} stages")
            out += [line + ".", ""]
        for wave in dvc.get("left_out", []):
            out += [f"- **Left out of the measurement:** wave {wave}. `dvc repro` of the measured commit fails there, "
                    "so the copy's params.yaml drops that wave and the no-op is measured on the remaining waves.", ""]
    profiled = [(n, e["profiles"]) for n, e in sizes if e.get("profiles")]
    if profiled:
        out += ["## Where the time goes (pyinstrument)", "",
                "One profiled run per stage and size (`python -m benchmarks.profiling`: the profiler starts before "
                "`pipeline` is imported). *Hot path*: the pipeline functions on the heaviest call path; *self*: the "
                "functions with the most time of their own (any library); *pipeline*: the time attributed to the innermost "
                "pipeline function on the stack (its own time plus the library calls it makes, less the pipeline "
                "functions it calls): the functions to change. The interactive HTML profiles stay in the scratch folder.", ""]
        for n, profiles in profiled:
            entry = dict(sizes)[n]
            earlier = entry.get("kept_from_earlier", {})
            origin = (f" (profiled {earlier.get('measured_at')}, {earlier.get('code', 'an earlier run')})"
                      if "profiles" in earlier.get("parts", []) else f" ({entry.get('code', '')})")
            out += [f"### {_n(n)} respondents{origin}", ""]
            for name, p in profiles.items():
                out += [f"**{name}**: {_s(p['total'])} profiled, of which imports {_s(p['imports'])} "
                        f"({100 * p['imports'] / p['total']:.0f}%).", ""]
                path = " → ".join(f"`{f['frame'].split(' (')[0]}` {_s(f['seconds'])}" for f in p["hot_path"][1:8])
                if path:
                    out += [f"- hot path: {path}"]
                out += ["- self: " + "; ".join(f"`{f['frame']}` {_s(f['seconds'])}" for f in p["self"][:5])]
                out += ["- pipeline: " + "; ".join(f"`{f['frame']}` {_s(f['seconds'])}" for f in p["pipeline"][:6]), ""]
    if data.get("failures"):
        out += ["## Failures", ""] + [f"- {f.splitlines()[0]} … {f.strip().splitlines()[-1].strip()}"
                                      for f in data["failures"]] + [""]
    out += ["## Method", "",
            "- Waves: `pipeline.synth.generate(instrument, spec, n=N, seed=S)` + `write_export` (the Risk Pulse spec's "
            "seed), cached under the scratch folder keyed by size, seed and a hash of instrument.yaml, synth.yaml and "
            "pipeline/synth.py. Each size runs in its own project folder there (the survey's files and params.yaml "
            "copied from the repository, the export linked).",
            "- Stages: every stage of `pipeline.stages.STAGES`, each in a fresh `python -m pipeline.cli --root DIR "
            "<stage> WAVE_DIR` process, in registry order, outputs cleared before each run; end to end: "
            "`pulse --root DIR run WAVE_DIR` (the console script) from empty outputs.",
            "- Wall: `time.perf_counter` around the process; CPU and peak memory: `os.wait4` rusage of that process "
            "(user + system CPU including any worker processes it waited for; peak RSS is the largest single "
            "process).",
            "- Fits: least squares of log(median wall) on log(n), and of wall on n.",
            ""]
    return "\n".join(out)
