"""Where things are in a panel's project folder: `surveys/<survey>/<wave>/` in, `outputs/<survey>/<wave>/` out."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pipeline.errors import PulseError
from pipeline.instrument import read_yaml


@dataclass(frozen=True)
class Wave:
    """One wave of one survey inside a project folder `root`."""

    root: Path
    survey: str
    wave: str

    @property
    def key(self) -> str:
        return f"{self.survey}/{self.wave}"

    @property
    def survey_dir(self) -> Path:
        return self.root / "surveys" / self.survey

    @property
    def wave_dir(self) -> Path:
        return self.survey_dir / self.wave

    @property
    def instrument_path(self) -> Path:
        return self.survey_dir / "instrument.yaml"

    @property
    def out_dir(self) -> Path:
        return self.root / "outputs" / self.survey / self.wave

    @cached_property
    def meta(self) -> dict[str, Any]:
        """The wave's `wave.yaml` (fielding dates, export file name, whether the data are synthetic)."""
        meta = read_yaml(self.wave_dir / "wave.yaml") or {}
        if not isinstance(meta, dict):
            raise PulseError(f"{self.wave_dir / 'wave.yaml'}: expected a mapping with keys such as export, fielded")
        return meta

    @property
    def export_path(self) -> Path:
        return self.wave_dir / self.meta.get("export", "responses.csv")

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic", False))


def survey_waves(wave: Wave) -> list[Wave]:
    """The waves of `wave`'s survey in fielding order (wave.yaml `fielded.start`, then folder name)."""
    waves = [Wave(wave.root, wave.survey, meta.parent.name) for meta in wave.survey_dir.glob("*/wave.yaml")]
    return sorted(waves, key=lambda w: (str((w.meta.get("fielded") or {}).get("start", "")), w.wave))


def previous_wave(wave: Wave) -> Wave:
    """The wave fielded before `wave` in its survey, or `wave` itself for the first."""
    waves = survey_waves(wave)
    position = [w.wave for w in waves].index(wave.wave)
    return waves[position - 1] if position else wave


def find_waves(root: Path) -> list[Wave]:
    """Every wave under `root/surveys` (a folder with a wave.yaml under a folder with an instrument.yaml)."""
    surveys = root / "surveys"
    if not surveys.is_dir():
        raise PulseError(f"{surveys}: no surveys folder here; run pulse in a project folder or pass --root DIR")
    waves = [
        Wave(root, meta.parent.parent.name, meta.parent.name)
        for meta in sorted(surveys.glob("*/*/wave.yaml"))
        if (meta.parent.parent / "instrument.yaml").exists()
    ]
    if not waves:
        raise PulseError(f"{surveys}: no wave found; add surveys/<survey>/<wave>/wave.yaml beside an instrument.yaml")
    return waves


def wave_from_dir(path: str | Path, root: Path) -> Wave:
    """The wave whose folder is `path` (absolute, or relative to the current directory)."""
    folder = Path(path).resolve()
    if not (folder / "wave.yaml").exists():
        raise PulseError(f"{path}: not a wave folder (no wave.yaml); expected surveys/<survey>/<wave>/")
    if not (folder.parent / "instrument.yaml").exists():
        raise PulseError(f"{folder.parent}: no instrument.yaml beside the wave folder {path}")
    try:
        folder.relative_to((root / "surveys").resolve())
    except ValueError:
        raise PulseError(f"{path}: not under {root / 'surveys'}; pass --root with the project folder") from None
    return Wave(root, folder.parent.name, folder.name)
