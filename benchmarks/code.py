"""Which code the benchmarks measure: the work tree as it is (default), or a snapshot of a commit.

Other people may be editing the work tree while a long benchmark runs; `--code HEAD` (or any revision)
extracts that commit with `git archive` into the scratch folder (the repository is only read) and every
child process imports `pipeline` from there, so all sizes measure the same code. Children run in the
scratch folder with PYTHONPATH = code root, then the repository (for `benchmarks` itself).
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def snapshot(repo: Path, revision: str, scratch: Path) -> tuple[Path, str]:
    """(root of the extracted commit, its short hash)."""
    sha = _git(repo, "rev-parse", "--short=10", f"{revision}^{{commit}}")
    root = scratch / "code" / sha
    if not (root / "pipeline").is_dir():
        archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", sha], capture_output=True,
                                 check=True).stdout
        partial = root.with_name(f"{sha}.partial")
        partial.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(partial, filter="data")
        os.replace(partial, root)
    return root, sha


def describe(repo: Path, revision: str | None) -> str:
    head = _git(repo, "rev-parse", "--short=10", "HEAD")
    if revision:
        return f"commit {_git(repo, 'rev-parse', '--short=10', f'{revision}^{{commit}}')} (snapshot extracted with git archive)"
    dirty = _git(repo, "status", "--porcelain")
    return f"work tree at {head}" + (" with uncommitted changes" if dirty else "")


def child_env(code_root: Path, repo: Path) -> dict[str, str]:
    paths = [str(code_root)] + ([str(repo)] if code_root != repo else [])
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
