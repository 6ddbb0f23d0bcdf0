"""Smoke test of the benchmark runner (issue #9): it runs end to end on a tiny wave and writes its report.

Fast, and never a timed assertion: the numbers below are either made up (rendering) or only checked to exist.
"""

from pathlib import Path

from benchmarks import report, runner
from benchmarks.measure import summarise

REPO = Path(__file__).parent.parent


def test_slopes_and_fits():
    assert abs(report.loglog_slope([1e3, 1e4, 1e5], [1.0, 10.0, 100.0]) - 1.0) < 1e-9
    assert abs(report.loglog_slope([1e3, 1e4], [2.0, 2.0])) < 1e-9
    intercept, per = report.linear_fit([0, 100_000, 200_000], [1.0, 3.0, 5.0])
    assert abs(intercept - 1.0) < 1e-9 and abs(per * 100_000 - 2.0) < 1e-9


def test_median_of_runs():
    summary = summarise([{"wall": w, "cpu": 1.0, "maxrss_mb": 10.0} for w in (3.0, 1.0, 2.0)])
    assert summary["wall"] == 2.0 and summary["wall_min"] == 1.0 and summary["wall_max"] == 3.0


def _stage(wall, mb=100.0):
    return {"runs": 1, "wall": wall, "cpu": wall, "maxrss_mb": mb}


def test_targets_are_judged_pass_and_miss():
    data = {"run": {"stages": ["ingest", "analyze"]}, "sizes": {
        "348": {"export": {"bundled": True, "bytes": 1}, "stages": {"ingest": _stage(1), "analyze": _stage(1)},
                "e2e": {**_stage(5.0), "stages": ["ingest", "analyze"], "outputs": ["report.html", "report.pdf"]}},
        "1000000": {"export": {"bytes": 1}, "stages": {"ingest": _stage(30), "analyze": _stage(90, 5000)},
                    "e2e": {**_stage(200.0), "stages": [], "outputs": []},
                    "baseline": {**_stage(10.0), "read_csv_inner": 5.0}}},
        "dvc": {**_stage(1.0), "no_stage_ran": True, "lock_unchanged": True}}
    verdicts = [row[3] for row in report.targets(data)]
    assert verdicts == ["**PASS**", "**MISS**", "**MISS**", "**PASS**", "**PASS**"]
    assert "## Targets" in report.render(data)


def test_runner_smoke_on_a_tiny_wave(tmp_path):
    out = tmp_path / "results.md"
    code = runner.main(["--sizes", "40", "--runs", "1", "--stages", "ingest", "--scratch", str(tmp_path / "scratch"),
                        "--skip", "e2e,inprocess,baseline,profile,big,dvc,startup", "--out", str(out)])
    assert code == 0
    text = out.read_text()
    assert "| `pulse ingest` |" in text and "## Targets" in text and "## Machine" in text
    exports = list((tmp_path / "scratch" / "exports").glob("*.csv"))
    assert len(exports) == 1 and exports[0].stat().st_size > 0


def test_readme_quotes_the_measured_targets():
    """The README's performance table is the targets table of benchmarks/results.md, as the runner last wrote it."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    results = (REPO / "benchmarks" / "results.md").read_text(encoding="utf-8")
    assert report.update_readme(readme, results) == readme


def test_readme_block_is_replaced_not_appended():
    results = "# B\n\n## Targets\n\n| a | b |\n|---|---|\n| x | 1 s |\n\n## Next\n"
    readme = f"intro\n{report.README_BEGIN}\nold\n{report.README_END}\nrest\n"
    assert report.update_readme(readme, results) == (
        f"intro\n{report.README_BEGIN}\n| a | b |\n|---|---|\n| x | 1 s |\n{report.README_END}\nrest\n")


def test_dvc_floor_is_read_as_a_cost_per_stage():
    data = {"run": {}, "sizes": {},
            "dvc": {**_stage(4.0), "no_stage_ran": True, "lock_unchanged": True, "stages_checked": 26,
                    "floor": _stage(1.5)}}
    text = report.render(data)
    # (4.0 - 1.5) / 25 = 0.1 s per further stage; 1 + (3 - 1.5) / 0.1 = 16 stages within 3 s
    assert "0.100 s per further stage" in text and "up to about 16 stages" in text
