"""Run parameters: the package defaults, overridden by the project's `params.yaml` (the file DVC tracks)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pipeline.errors import PulseError
from pipeline.instrument import read_yaml

DEFAULTS: dict[str, Any] = {
    "waves": {},
    "analyze": {
        "min_group_size": 10,
        "confidence": 0.95,
        "ci_method": "wilson",
        "mean_ci": "t",
        "bootstrap_replicates": 2000,
        "multiplicity": "fdr_bh",
        "monte_carlo_tables": 10000,
        "ordinal_distribution_tests": False,
        "seed": 20240501,
        "model_terms": ["gender", "weog", "technical", "age"],
        "model_reference": {},
        "weights": None,
        "workers": 0,
    },
    "trends": {
        "breakdowns": ["weog", "gender"],
        "overlap": "all",
        "mcnemar_correct": True,
        "questions": None,
    },
    "report": {
        "alpha": 0.05,
        "dpi": 200,
    },
}


def merge(base: dict, override: dict) -> dict:
    """`base` with `override` laid over it, recursively for nested mappings."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        merged[key] = merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def load_params(root: Path) -> dict[str, Any]:
    """The parameters for a project folder: DEFAULTS, then `root/params.yaml` if it exists."""
    path = root / "params.yaml"
    if not path.exists():
        return copy.deepcopy(DEFAULTS)
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise PulseError(f"{path}: expected a mapping of parameter groups (waves, analyze, …)")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise PulseError(f"{path}: unknown parameter group(s) {', '.join(unknown)}; expected {', '.join(DEFAULTS)}")
    return merge(DEFAULTS, raw)
