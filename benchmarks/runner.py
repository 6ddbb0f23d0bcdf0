"""`python -m benchmarks`: generate the synthetic waves, measure, and write benchmarks/results.md."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import code, data, machine
from benchmarks.measure import CHILD, ChildFailed, loadavg, run_child, summarise

REPO = Path(__file__).resolve().parent.parent
SIZES = (348, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (348, 10_000)
LARGE = 1_000_000
EXTRAS = ("e2e", "inprocess", "baseline", "profile", "big", "dvc", "startup")
BIG_EXPORT_BYTES = 200_000_000


def _sizes(text: str) -> list[int]:
    return [int(s.replace("_", "").replace(",", "")) for s in text.split()] if text else []


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--sizes", default=None,
                        help="respondents per synthetic wave, space-separated (default: 348 10000 100000 1000000; "
                             "\"\" for none, e.g. to measure only dvc with --merge)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported (default 3)")
    parser.add_argument("--runs-large", type=int, default=1,
                        help=f"runs per measurement at {LARGE:,} respondents or more (default 1)")
    parser.add_argument("--stages", default=None,
                        help="comma-separated stages to time one by one (default: every stage of pipeline.stages.STAGES)")
    parser.add_argument("--quick", action="store_true",
                        help="348 and 10000 respondents, 1 run, no profiles, no 200 MB export, no dvc")
    parser.add_argument("--skip", default="", help=f"comma-separated measurements to leave out: {', '.join(EXTRAS)}")
    parser.add_argument("--seed", type=int, default=None, help="generator seed (default: the spec's)")
    parser.add_argument("--scratch", type=Path, default=None,
                        help="scratch folder for generated exports, projects, profiles and raw results "
                             "(default: $PULSE_BENCH_DIR or <tmp>/pulse-bench)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results.md", help="the report to write")
    parser.add_argument("--merge", action="store_true",
                        help="update the raw results kept in the scratch folder instead of starting afresh "
                             "(re-measure some sizes and keep the others)")
    parser.add_argument("--code", default=None, metavar="REVISION",
                        help="measure this commit (e.g. HEAD), extracted into the scratch folder, instead of the work "
                             "tree as it is (use it while others edit the work tree)")
    parser.add_argument("--render-only", action="store_true", help="rewrite the report from the kept raw results")
    return parser


class Store:
    """The raw results (JSON in the scratch folder), saved after every measurement."""

    def __init__(self, path: Path, fresh: bool):
        self.path = path
        self.data = {} if fresh or not path.exists() else json.loads(path.read_text())
        self.data.setdefault("sizes", {})

    def size(self, n: int) -> dict:
        return self.data["sizes"].setdefault(str(n), {})

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(self.data, indent=1, default=str))
        os.replace(partial, self.path)


def _log(text: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {text}", file=sys.stderr, flush=True)


def _python() -> str:
    return sys.executable


def _pulse() -> list[str]:
    """The `pulse` console script next to this Python (what `pip install` made), else `python -m pipeline.cli`."""
    script = Path(sys.executable).parent / "pulse"
    return [str(script)] if script.exists() else [_python(), "-m", "pipeline.cli"]


def stage_command(root: Path, wave_dir: Path, name: str, cli: bool = True) -> list[str]:
    """The command that runs one stage as the CLI does (`cli`); else, for a stage the CLI has no sub-command
    for yet, through `pipeline.cli.run_stages` in a fresh process (same start-up and imports)."""
    if cli:
        return [_python(), "-m", "pipeline.cli", "--root", str(root), name, str(wave_dir)]
    code = ("import sys; from pathlib import Path; from pipeline.cli import run_stages; "
            "from pipeline.params import load_params; from pipeline.project import wave_from_dir; "
            "root = Path(sys.argv[1]); run_stages([sys.argv[3]], [wave_from_dir(sys.argv[2], root)], load_params(root))")
    return [_python(), "-c", code, str(root), str(wave_dir), name]


def run_stage(root: Path, wave_dir: Path, name: str) -> dict:
    try:
        return run_child(stage_command(root, wave_dir, name))
    except ChildFailed as error:
        if "invalid choice" not in str(error):
            raise
        return run_child(stage_command(root, wave_dir, name, cli=False))


def current_stages() -> list[str]:
    """The stage registry as it is now (read in a fresh process: others may be adding stages while a long
    benchmark runs)."""
    code = "from pipeline.stages import STAGES; print(' '.join(s.name for s in STAGES))"
    return run_child([_python(), "-c", code])["stdout"].split()


def _ran_stages(stdout: str) -> list[str]:
    """Stage names from `pulse run` progress lines such as "[2/4] analyze  risk-pulse/2024-05: …"."""
    names = []
    for line in stdout.splitlines():
        if line.startswith("[") and "] " in line:
            names.append(line.split("] ", 1)[1].split()[0])
    return names


def _strip(sample: dict) -> dict:
    return {k: v for k, v in sample.items() if k not in ("stdout", "stderr")}


def _json_from(stdout: str, marker: str = "") -> dict:
    text = stdout.split(marker)[-1] if marker else stdout
    return json.loads(text.strip().splitlines()[-1])


def measure_size(n: int, args, wanted: list[str] | None, skip: set[str], store: Store) -> None:
    all_stages = current_stages()
    stages = [s for s in all_stages if wanted is None or s in wanted]
    entry = store.size(n)
    # --merge: what this run leaves out (e.g. profiles) is kept from the earlier measurement of this size
    kept = {key: entry[key] for key, part in (("profiles", "profile"), ("inprocess", "inprocess"),
                                               ("baseline", "baseline"), ("e2e", "e2e"))
            if part in skip and key in entry}
    kept_from = {"measured_at": entry.get("measured_at"), "code": entry.get("code")}
    entry.clear()
    if kept:
        entry["kept_from_earlier"] = {**kept_from, "parts": sorted(kept)}
        entry.update(kept)
    entry.update(measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), loadavg_start=loadavg(),
                 registry=all_stages, code=args.code_label)
    export, generated = data.export(args.code_root, args.scratch, n, args.seed)
    entry["export"] = {"path": str(export), "bytes": export.stat().st_size, "generated_seconds": generated}
    root, wave_dir = data.project(args.code_root, args.scratch, f"n{n}", export)
    entry["export"]["wave"] = wave_dir.name
    entry["export"]["bundled"] = wave_dir.name == data.BUNDLED_WAVE
    runs = args.runs if n < LARGE else min(args.runs, args.runs_large)
    entry["runs"] = runs
    _log(f"n={n:,}: {export.stat().st_size / 1e6:.1f} MB export"
         + (f" (generated in {generated:.1f} s)" if generated else " (cached)") + f"; {runs} run(s)")
    last = max(all_stages.index(s) for s in stages) if stages else -1
    samples: dict[str, list] = {s: [] for s in stages}
    entry["stages"] = {}
    failures = entry.setdefault("failures", [])

    def attempt(label: str, function) -> bool:
        """Run one measurement; a failing child is recorded (and the size goes on) instead of ending the run."""
        try:
            function()
            return True
        except ChildFailed as error:
            _log(f"n={n:,}: {label} FAILED: {error}")
            failures.append(f"{label}: {error}")
            store.save()
            return False

    def one_stage(name: str) -> None:
        sample = run_stage(root, wave_dir, name)
        if name in samples:
            samples[name].append(_strip(sample))
            entry["stages"][name] = summarise(samples[name])
            store.save()

    for run in range(runs):
        data.clear_outputs(root)
        for name in all_stages[: last + 1]:
            _log(f"n={n:,} run {run + 1}/{runs}: {name}")
            if not attempt(f"stage {name} (run {run + 1})", lambda: one_stage(name)):
                break  # the later stages read its outputs
    if "e2e" not in skip:
        e2e = []

        def one_e2e() -> None:
            sample = run_child([*_pulse(), "--root", str(root), "run", str(wave_dir)])
            e2e.append(_strip(sample))
            out = root / "outputs" / data.SURVEY / wave_dir.name
            entry["e2e"] = {**summarise(e2e), "stages": _ran_stages(sample["stdout"]),
                            "outputs": sorted(p.name for p in out.iterdir()) if out.exists() else []}
            store.save()

        for run in range(runs):
            data.clear_outputs(root)
            _log(f"n={n:,} run {run + 1}/{runs}: end to end (pulse run)")
            if not attempt(f"end to end (run {run + 1})", one_e2e):
                break
    if "baseline" not in skip:
        def baseline() -> None:
            base = []
            for run in range(runs):
                _log(f"n={n:,} run {run + 1}/{runs}: pandas.read_csv(engine='pyarrow') baseline")
                sample = run_child([_python(), "-m", "benchmarks.baseline", str(export)])
                base.append({**_strip(sample), "inner": _json_from(sample["stdout"])})
            text = run_child([_python(), "-m", "benchmarks.baseline", str(export), "--text"])
            entry["baseline"] = {**summarise(base),
                                 "read_csv_inner": sorted(b["inner"]["read_csv pyarrow"] for b in base)[len(base) // 2],
                                 "read_csv_text_inner": _json_from(text["stdout"]).get("read_csv pyarrow, all text")}
            store.save()

        attempt("pandas.read_csv baseline", baseline)
    if "inprocess" not in skip and {"ingest", "analyze"} & set(stages):
        def inprocess() -> None:
            timings = []
            for run in range(runs):
                _log(f"n={n:,} run {run + 1}/{runs}: analysis functions in-process")
                sample = run_child([_python(), "-m", "benchmarks.inprocess", str(root), str(wave_dir)])
                timings.append({**_json_from(sample["stdout"]), "wall": sample["wall"], "maxrss_mb": sample["maxrss_mb"]})
            keys = list(timings[0]["timings"])
            entry["inprocess"] = {
                "timings": {k: sorted(t["timings"].get(k, float("nan")) for t in timings)[len(timings) // 2] for k in keys},
                "maxrss_mb": sorted(t["maxrss_mb"] for t in timings)[len(timings) // 2],
                "workers": timings[0].get("workers"),
                "slowest_model": timings[0].get("slowest_model"),
            }
            store.save()

        attempt("in-process analysis functions", inprocess)
    if "profile" not in skip:
        entry["profiles"] = {}
        data.clear_outputs(root)

        def profile(name: str) -> None:
            stem = args.scratch / "profiles" / f"n{n}-{name}"
            sample = run_child([_python(), "-m", "benchmarks.profiling", str(root), str(wave_dir), name, str(stem)])
            if name in samples:
                entry["profiles"][name] = {**_json_from(sample["stdout"], "@@PROFILE@@"),
                                           "html": str(stem.with_suffix(".html")), "text": str(stem.with_suffix(".txt")),
                                           "wall": sample["wall"]}
                store.save()

        for name in all_stages[: last + 1]:
            _log(f"n={n:,}: profiling {name}")
            if not attempt(f"profile {name}", lambda: profile(name)):
                break
    entry["loadavg_end"] = loadavg()


def measure_big(args, store: Store) -> None:
    """A ~200 MB export through ingest: how many respondents make 200 MB, then time and peak memory."""
    sized = sorted(int(n) for n, e in store.data["sizes"].items() if "export" in e and int(n) >= 10_000)
    if sized:
        e = store.data["sizes"][str(sized[-1])]["export"]
        per_row, basis = e["bytes"] / sized[-1], sized[-1]
    else:
        path, _ = data.export(args.code_root, args.scratch, 10_000, args.seed)
        per_row, basis = path.stat().st_size / 10_000, 10_000
    n = int(round(BIG_EXPORT_BYTES / per_row, -3))
    _log(f"~200 MB export: {per_row:.0f} bytes per respondent (from n={basis:,}) → {n:,} respondents")
    export, generated = data.export(args.code_root, args.scratch, n, args.seed)
    root, wave_dir = data.project(args.code_root, args.scratch, f"n{n}", export)
    samples = []
    for run in range(min(args.runs, args.runs_large if n >= LARGE // 4 else args.runs)):
        data.clear_outputs(root)
        _log(f"~200 MB export: ingest run {run + 1}")
        samples.append(_strip(run_stage(root, wave_dir, "ingest")))
    base = run_child([_python(), "-m", "benchmarks.baseline", str(export)])
    store.data["big"] = {"respondents": n, "bytes": export.stat().st_size, "bytes_per_respondent": per_row,
                         "basis": basis, "generated_seconds": generated, "ingest": summarise(samples),
                         "baseline": {**_strip(base), "inner": _json_from(base["stdout"])}}
    store.save()


def measure_startup(args, store: Store) -> None:
    samples = {"python -c pass": [], "pulse --help": [], "import every stage's modules": []}
    imports = ("import pipeline.cli, pipeline.stages, pipeline.ingest.clean, pipeline.ingest.read, pipeline.analyze, "
               "pipeline.figures.build, pipeline.report")
    for _ in range(max(args.runs, 3)):
        samples["python -c pass"].append(_strip(run_child([_python(), "-c", "pass"])))
        samples["pulse --help"].append(_strip(run_child([*_pulse(), "--help"])))
        samples["import every stage's modules"].append(_strip(run_child([_python(), "-c", imports])))
    store.data["startup"] = {k: summarise(v) for k, v in samples.items()}
    store.save()


def _write(out: Path, markdown: str) -> None:
    """Write the results; when they are the repository's own results.md, copy the targets table into README.md."""
    from benchmarks.report import update_readme

    out.write_text(markdown, encoding="utf-8")
    if out.resolve() == (REPO / "benchmarks" / "results.md").resolve():
        readme = REPO / "README.md"
        readme.write_text(update_readme(readme.read_text(encoding="utf-8"), markdown), encoding="utf-8")
        _log(f"updated the performance table in {readme}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from benchmarks.report import render

    args.scratch = (args.scratch or data.default_scratch()).resolve()
    store = Store(args.scratch / "results.json", fresh=not (args.merge or args.render_only))
    if args.render_only:
        _write(args.out, render(store.data))
        _log(f"wrote {args.out}")
        return 0
    if args.quick:
        args.sizes = " ".join(map(str, QUICK_SIZES)) if args.sizes is None else args.sizes
        args.runs = 1
        args.skip = ",".join(filter(None, [args.skip, "profile", "big", "dvc"]))
    sizes = _sizes(args.sizes) if args.sizes is not None else list(SIZES)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(EXTRAS)
    args.scratch.mkdir(parents=True, exist_ok=True)
    if args.code:
        args.code_root, _ = code.snapshot(REPO, args.code, args.scratch)
    else:
        args.code_root = REPO
    args.code_label = code.describe(REPO, args.code)
    CHILD.update(env=code.child_env(args.code_root, REPO), cwd=args.scratch)
    all_stages = current_stages()
    wanted = [s.strip() for s in args.stages.split(",")] if args.stages else None
    unknown_stages = [s for s in wanted or [] if s not in all_stages]
    if unknown or unknown_stages:
        build_parser().error(f"unknown {'--skip' if unknown else '--stages'} value(s): "
                             f"{', '.join(sorted(unknown) or unknown_stages)}")
    run = store.data.setdefault("run", {})
    command = "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if run.get("started"):  # --merge into earlier results: keep their start, list this run
        run.setdefault("merges", []).append({"command": command, "started": now, "loadavg_start": loadavg()})
    else:
        run.update(started=now, loadavg_start=loadavg(), command=command, runs=args.runs, runs_large=args.runs_large)
    run.update(stages=all_stages, scratch=str(args.scratch))
    store.data["machine"] = {**machine.describe(REPO), "code": args.code_label}
    store.save()
    failures = store.data.setdefault("failures", [])
    started = time.perf_counter()
    steps = []
    if "startup" not in skip:
        steps.append(("start-up", lambda: measure_startup(args, store)))
    steps += [(f"n={n:,}", lambda n=n: measure_size(n, args, wanted, skip, store)) for n in sizes]
    if "big" not in skip:
        steps.append(("~200 MB export", lambda: measure_big(args, store)))
    if "dvc" not in skip:
        from benchmarks import dvcbench

        steps.append(("dvc", lambda: store.data.__setitem__("dvc", dvcbench.measure(REPO, args.code_root, args.scratch, max(args.runs, 3), _log,
                                                                      args.code_label))))
    for label, step in steps:
        failures[:] = [f for f in failures if not f.startswith(f"{label}:")]  # re-measured now
        try:
            step()
        except ChildFailed as error:
            _log(f"{label}: FAILED: {error}")
            failures.append(f"{label}: {error}")
        store.save()
    run.update(finished=datetime.now(timezone.utc).isoformat(timespec="seconds"), loadavg_end=loadavg(),
               seconds=time.perf_counter() - started)
    store.save()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    _write(args.out, render(store.data))
    _log(f"wrote {args.out} (raw results: {store.path})")
    return 1 if failures else 0
