"""The manifest of a wave's outputs, and verification by re-running the pipeline elsewhere.

`manifest.json` lists the sha256 of every input and every output of the wave (paths relative to the
project folder), the instrument version, the parameters and the versions of Python and of every
dependency: enough for a reviewer to tell whether two runs used the same inputs and code.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from pipeline.project import Wave

MANIFEST = "manifest.json"
INPUT_FILES = ("instrument.yaml", "report.yaml", "redaction.yaml")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_files(wave: Wave) -> list[Path]:
    """The files a wave's outputs are made from: the survey's instrument, report spec, redaction list and
    codebooks, and the wave folder (export, wave.yaml, manual coding). Not params.yaml: it also lists the other
    waves, so adding one would change every wave's manifest; the manifest records the parameter groups used."""
    files = [wave.survey_dir / name for name in INPUT_FILES]
    files += sorted((wave.survey_dir / "codebooks").glob("*.yaml"))
    files += sorted(p for p in wave.wave_dir.rglob("*") if p.is_file())
    return [f for f in files if f.exists()]


def output_files(wave: Wave) -> list[Path]:
    """Every file under the wave's output folder except the manifest itself, in a stable order."""
    return sorted(p for p in wave.out_dir.rglob("*") if p.is_file() and p.name != MANIFEST
                  and not p.name.startswith("."))


def dependency_versions() -> dict[str, str]:
    """The installed version of pulse-pipeline and of every package it requires (extras left out)."""
    versions = {"pulse-pipeline": metadata.version("pulse-pipeline")}
    for requirement in metadata.requires("pulse-pipeline") or []:
        if "extra ==" in requirement:
            continue
        name = requirement.split(";")[0].split("[")[0]
        for stop in "<>=!~ ":
            name = name.split(stop)[0]
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return dict(sorted(versions.items()))


def build_manifest(wave: Wave, instrument_version: str, params: dict[str, Any]) -> dict[str, Any]:
    """The manifest of a wave as a JSON-ready mapping (no time stamps: the same inputs and code give the
    same manifest)."""
    relative = lambda p: p.relative_to(wave.root).as_posix()  # noqa: E731
    return {
        "survey": wave.survey,
        "wave": wave.wave,
        "synthetic": wave.synthetic,
        "instrument_version": instrument_version,
        "inputs": {relative(p): sha256(p) for p in input_files(wave)},
        "outputs": {relative(p): sha256(p) for p in output_files(wave)},
        "params": params,
        "python": platform.python_version(),
        "dependencies": dependency_versions(),
    }


def write_manifest(wave: Wave, params: dict[str, Any]) -> list[str]:
    """Write outputs/<survey>/<wave>/manifest.json; returns lines to print."""
    from pipeline.instrument import load
    from pipeline.outputs import write_text

    stage_params = {group: params[group] for group in ("analyze", "report") if group in params}
    manifest = build_manifest(wave, load(wave.instrument_path).version, stage_params)
    write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", wave.out_dir / MANIFEST)
    return [f"{len(manifest['inputs'])} inputs and {len(manifest['outputs'])} outputs hashed in {MANIFEST}"]


def copy_inputs(wave: Wave, root: Path) -> Wave:
    """A copy of the wave's inputs under `root`: its survey folder without other waves than it and the wave
    fielded before it (whose outputs its trends compare with), params.yaml, templates."""
    from pipeline.project import previous_wave

    survey = root / "surveys" / wave.survey
    survey.mkdir(parents=True)
    keep = {wave.wave, previous_wave(wave).wave}
    for item in wave.survey_dir.iterdir():
        if item.is_file():
            shutil.copy2(item, survey / item.name)
        elif item.name in keep or not (item / "wave.yaml").exists():
            shutil.copytree(item, survey / item.name)
    for name in ("params.yaml",):
        if (wave.root / name).exists():
            shutil.copy2(wave.root / name, root / name)
    if (wave.root / "templates").is_dir():
        shutil.copytree(wave.root / "templates", root / "templates")
    return Wave(root, wave.survey, wave.wave)


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """One line per input or output whose hash differs, or that only one of the two manifests lists."""
    lines = []
    for kind in ("inputs", "outputs"):
        for path in sorted(set(expected[kind]) | set(actual[kind])):
            if path not in actual[kind]:
                lines.append(f"{path}: missing from the re-run")
            elif path not in expected[kind]:
                lines.append(f"{path}: made by the re-run but not in the manifest")
            elif expected[kind][path] != actual[kind][path]:
                lines.append(f"{path}: differs ({kind[:-1]})")
    return lines


def verify(wave: Wave, run) -> list[str]:
    """Re-run `wave` in a temporary folder holding a copy of its inputs and those of the wave before it, with
    `run(wave)` (which runs that wave's stages too, as far as `wave` reads them), and compare its manifest with
    the one in the wave's output folder; returns one line per difference (none: a byte-identical re-run)."""
    from pipeline.errors import PulseError

    path = wave.out_dir / MANIFEST
    if not path.exists():
        raise PulseError(f"{path}: no manifest; run `pulse run` for this wave first")
    expected = json.loads(path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="pulse-verify-") as folder:
        copy = copy_inputs(wave, Path(folder))
        run(copy)
        actual = json.loads((copy.out_dir / MANIFEST).read_text(encoding="utf-8"))
    return differences(expected, actual)
