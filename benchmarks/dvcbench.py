"""`dvc repro` with nothing changed, measured in a scratch copy of the repository (never in the repository
itself, so its dvc.lock and outputs are left alone).

The copy holds the repository's files as they are in the work tree (tracked and untracked, not ignored), or
the snapshot of the commit being measured (`--code`), committed to a fresh git repository; its own `pipeline/` is put first on PYTHONPATH so the stages it runs
are the copy's. A first `dvc repro` brings it up to date (every stage of every wave in params.yaml runs);
then `dvc repro` is timed `runs` times, each one checked to have run no stage and to leave dvc.lock alone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks.measure import ChildFailed, run_child, summarise

UP_TO_DATE = ("didn't change, skipping", "Data and pipelines are up to date")


def _dvc() -> str:
    """The `dvc` script installed beside this Python (not a version manager's shim, whose own start-up
    would be measured too), else `dvc` from PATH."""
    import sys

    script = Path(sys.executable).parent / "dvc"
    return str(script) if script.exists() else "dvc"


def _files(repo: Path) -> list[str]:
    listed = subprocess.run(["git", "-C", str(repo), "ls-files", "-co", "--exclude-standard", "-z"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    return [f for f in listed if f and not f.startswith("benchmarks/")]


def scratch_copy(repo: Path, code_root: Path, target: Path) -> Path:
    """The work tree's files (or, for a snapshot, the snapshot's) in a fresh git repository at `target`."""
    if target.exists():
        shutil.rmtree(target)
    if code_root != repo:
        shutil.copytree(code_root, target, ignore=shutil.ignore_patterns("benchmarks"))
    for name in _files(repo) if code_root == repo else []:
        source = repo / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "benchmark snapshot"]):
        subprocess.run(cmd, cwd=target, env=env, check=True, capture_output=True)
    return target


def _drop_wave(copy: Path, key: str, env: dict) -> None:
    """Remove one wave from `waves` in the copy's params.yaml (and commit), so `dvc repro` leaves it out."""
    import yaml

    params = yaml.safe_load((copy / "params.yaml").read_text(encoding="utf-8"))
    params.get("waves", {}).pop(key, None)
    (copy / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    subprocess.run(["git", "commit", "-q", "-am", f"benchmark: leave out {key}"], cwd=copy, env=env, check=True,
                   capture_output=True)


FAILED = re.compile(r"failed to reproduce '([^'@]+)@([^']+)'")


MARKER = ".pulse-bench-code"


def measure(repo: Path, code_root: Path, scratch: Path, runs: int, log, code_label: str = "") -> dict:
    copy = scratch / "dvc-repo"
    marker = copy / MARKER
    reused = bool(code_label) and code_root != repo and marker.exists() and marker.read_text() == code_label
    if reused:  # the copy of this same commit from an earlier run: its first `dvc repro` is (nearly) a no-op
        log(f"dvc: reusing the scratch copy of {code_label}")
    else:
        scratch_copy(repo, code_root, copy)
        marker.write_text(code_label)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(copy), os.environ.get("PYTHONPATH")])),
           "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
    log("dvc: first `dvc repro` in the scratch copy (runs every stage of every wave)")
    started = time.perf_counter()
    left_out = []
    for _ in range(10):
        try:
            first = run_child([_dvc(), "repro"], cwd=copy, env=env)
            break
        except ChildFailed as error:
            found = FAILED.search(str(error))
            if not found:
                raise
            stage, wave = found.groups()
            left_out.append(f"{wave} (stage {stage} failed: {str(error).strip().splitlines()[-1].strip()})")
            log(f"dvc: {stage}@{wave} failed; leaving wave {wave} out and trying again")
            _drop_wave(copy, wave, env)
    else:
        raise ChildFailed("dvc repro kept failing")
    result = {"copy": str(copy), "first_repro_wall": time.perf_counter() - started, "left_out": left_out,
              "reused_copy": reused}
    lock_before = (copy / "dvc.lock").read_bytes() if (copy / "dvc.lock").exists() else b""
    samples, clean = [], True
    for _ in range(runs):
        sample = run_child([_dvc(), "repro"], cwd=copy, env=env)
        text = sample["stdout"] + sample["stderr"]
        ran = "Running stage" in text
        clean = clean and not ran and any(marker in text for marker in UP_TO_DATE)
        samples.append(sample)
    lock_after = (copy / "dvc.lock").read_bytes() if (copy / "dvc.lock").exists() else b""
    status = run_child([_dvc(), "status"], cwd=copy, env=env)
    result.update(summarise(samples))
    result["no_stage_ran"] = clean
    result["lock_unchanged"] = lock_before == lock_after
    result["status_wall"] = status["wall"]
    result["stages_checked"] = len(re.findall(r"didn't change, skipping", samples[-1]["stdout"] + samples[-1]["stderr"]))
    result["last_output"] = "\n".join((samples[-1]["stdout"] + samples[-1]["stderr"]).strip().splitlines()[-3:])
    result["first_output_tail"] = "\n".join(first["stdout"].strip().splitlines()[-2:])
    result["floor"] = one_stage_floor(scratch, runs, env)
    return result


def one_stage_floor(scratch: Path, runs: int, env: dict) -> dict:
    """`dvc repro` with nothing changed in a project of one stage (copy a file): what DVC costs before any of
    our stages, so the rest of the no-op can be read as a cost per stage."""
    project = scratch / "dvc-one-stage"
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    (project / "a.txt").write_text("a\n", encoding="utf-8")
    for cmd in (["git", "init", "-q"], [_dvc(), "init", "-q"],
                [_dvc(), "stage", "add", "-q", "-n", "copy", "-d", "a.txt", "-o", "b.txt", "cp a.txt b.txt"],
                [_dvc(), "repro", "-q"]):
        subprocess.run(cmd, cwd=project, env=env, check=True, capture_output=True)
    return summarise([run_child([_dvc(), "repro"], cwd=project, env=env) for _ in range(runs)])
