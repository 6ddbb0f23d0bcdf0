"""Adding a wave end to end, on a copy of the tiny project: `pulse new-wave` (a renamed column is one clear line;
a clean export adds the wave), then `pulse run` builds the wave and the survey's trend report; and under DVC,
`dvc repro` after adding a wave runs only that wave's stages plus the survey's trend report, and `dvc repro -f`
leaves dvc.lock unchanged (byte-identical outputs). The trend figures are the same drawn by one process or two."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.cli import main
from pipeline.figures.spec import default_raw
from pipeline.instrument import load
from pipeline.stages import STAGES, SURVEY_STAGES, dvc_yaml

REPO = Path(__file__).resolve().parent.parent
TINY = REPO / "tests" / "data" / "tiny" / "surveys"
RUNNING = re.compile(r"Running stage '([^']+)'")


def project(root: Path, code: bool = False) -> Path:
    """The tiny survey (wave w1) as a project folder: a report.yaml (the default one; with `code`, methods only, so
    that DVC's many processes stay quick), params.yaml listing w1 (the repository's other parameter groups), and
    with `code` everything dvc.yaml depends on: an empty redaction list and codebooks folder, and a copy of
    pipeline/ and templates/."""
    shutil.copytree(TINY, root / "surveys")
    survey = root / "surveys" / "tiny"
    report = {"sections": [{"id": "methods", "title": "Methods", "methods": True}]} if code else \
        default_raw(load(survey / "instrument.yaml"))
    (survey / "report.yaml").write_text(yaml.safe_dump(report, sort_keys=False), encoding="utf-8")
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["waves"] = {"tiny-w1": {"survey": "tiny", "wave": "w1", "previous": "w1"}}
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    if code:
        (survey / "redaction.yaml").write_text("phone_region: residence_iso3\nnames: []\n", encoding="utf-8")
        (survey / "codebooks").mkdir()
        (survey / "codebooks" / "README.md").write_text("No codebooks.\n", encoding="utf-8")
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(REPO / "pipeline", root / "pipeline", ignore=ignore)
        shutil.copytree(REPO / "templates", root / "templates", ignore=ignore)
    return root


def next_export(root: Path, folder: Path, rename: dict[str, str] | None = None) -> Path:
    """A second wave's export: w1's rows a month later, respondents t1 and t2 taking part again, new ids."""
    frame = pd.read_csv(root / "surveys" / "tiny" / "w1" / "responses.csv", dtype=str, keep_default_na=False)
    frame["id"] = [f"S{i}" for i in range(1, len(frame) + 1)]
    frame["at"] = frame["at"].str.replace("2025-01-", "2025-02-", regex=False)
    frame["token"] = [t if t in ("t1", "t2") else f"n{t}" for t in frame["token"]]
    path = folder / "export.csv"
    frame.rename(columns=rename or {}).to_csv(path, index=False)
    return path


def test_new_wave_then_run_builds_the_wave_and_the_trend_report(tmp_path, capsys, monkeypatch):
    root = project(tmp_path / "project")
    assert main(["--root", str(root), "run"]) == 0
    capsys.readouterr()
    renamed = next_export(root, tmp_path, {"Q1": "Q 1"})
    assert main(["--root", str(root), "new-wave", "tiny", "w2", "--from", str(renamed)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "column 'Q1' (question q1) is missing; the export has 'Q 1'" in err[0]
    clean = next_export(root, tmp_path)
    assert main(["--root", str(root), "new-wave", "tiny", "w2", "--from", str(clean), "--replace"]) == 0
    assert "matches the instrument" in capsys.readouterr().out
    waves = yaml.safe_load((root / "params.yaml").read_text())["waves"]
    assert waves["tiny-w2"] == {"survey": "tiny", "wave": "w2", "previous": "w1"}
    monkeypatch.setenv("PULSE_WORKERS", "2")
    assert main(["--root", str(root), "run"]) == 0
    out = capsys.readouterr().out
    assert "trend-report tiny/w2: trend report with" in out and "over 2 waves" in out
    trends = root / "outputs" / "tiny" / "trends"
    html = (trends / "report.html").read_text(encoding="utf-8")
    assert "Changes from w1 to w2" in html and "SYNTHETIC EXAMPLE DATA" in html
    assert (trends / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "What changed since last quarter" in (root / "outputs" / "tiny" / "w2" / "report.html").read_text()
    assert "What changed since last quarter" not in (root / "outputs" / "tiny" / "w1" / "report.html").read_text()
    drawn = {path.name: path.read_bytes() for path in sorted((trends / "figures").iterdir())}
    assert len([name for name in drawn if name.endswith(".png")]) >= 2
    monkeypatch.setenv("PULSE_WORKERS", "1")
    assert main(["--root", str(root), "trend-report", "tiny"]) == 0
    assert {path.name: path.read_bytes() for path in sorted((trends / "figures").iterdir())} == drawn


def run(command: list[str], cwd: Path) -> str:
    """Run a command in the project `cwd` with its own copy of the package first on the path; its output."""
    path = os.pathsep.join(filter(None, [str(cwd), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": path, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                                 "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.mark.skipif(not (shutil.which("dvc") and shutil.which("git") and shutil.which("pulse")),
                    reason="needs dvc, git and the pulse command")
def test_dvc_repro_after_adding_a_wave_runs_only_that_wave_and_the_trend_report(tmp_path):
    root = project(tmp_path / "project", code=True)
    (root / "dvc.yaml").write_text(dvc_yaml(root), encoding="utf-8")
    (root / ".gitignore").write_text("outputs/\n__pycache__/\n", encoding="utf-8")
    run(["git", "init", "-q"], root)
    run(["dvc", "init", "-q"], root)
    run(["pulse", "run"], root)
    run(["dvc", "commit", "-f", "-q"], root)
    assert RUNNING.findall(run(["dvc", "repro"], root)) == []
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "w1"], root)

    run(["pulse", "new-wave", "tiny", "w2", "--from", str(next_export(root, tmp_path))], root)
    ran = RUNNING.findall(run(["dvc", "repro"], root))
    assert sorted(ran) == sorted([f"{s.name}@tiny-w2" for s in STAGES] + [f"{s.name}-tiny" for s in SURVEY_STAGES])
    assert "outputs/tiny/w2/tables/trend_tests.csv" in (root / "dvc.yaml").read_text()
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "w2"], root)

    forced = RUNNING.findall(run(["dvc", "repro", "-f"], root))
    assert len(forced) == 2 * len(STAGES) + len(SURVEY_STAGES)
    diff = subprocess.run(["git", "diff", "--exit-code", "dvc.lock"], cwd=root, capture_output=True, text=True)
    assert diff.returncode == 0, diff.stdout
