"""Run parameters: the package defaults, overridden by the project's `params.yaml` (the file DVC tracks)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pipeline.errors import PulseError
from pipeline.instrument import read_yaml

MIN_GROUP = 10
MIN_CELL = 5

DEFAULTS: dict[str, Any] = {
    "waves": {},
    "disclosure": {
        "min_group": MIN_GROUP,
        "min_cell": MIN_CELL,
    },
    "analyze": {
        "min_group_size": MIN_GROUP,
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
        return with_disclosure(copy.deepcopy(DEFAULTS), {}, path)
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise PulseError(f"{path}: expected a mapping of parameter groups (waves, analyze, …)")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise PulseError(f"{path}: unknown parameter group(s) {', '.join(unknown)}; expected {', '.join(DEFAULTS)}")
    return with_disclosure(merge(DEFAULTS, raw), raw, path)


def with_disclosure(params: dict[str, Any], raw: dict, path: Path) -> dict[str, Any]:
    """`params` with one source of truth for the group threshold: `disclosure.min_group`, copied to
    `analyze.min_group_size` (which older params files may still set instead: it is read as an alias), and
    `disclosure.min_cell` capped at min_group (a cell cannot need more respondents than its group)."""
    given = (raw.get("disclosure") or {}).get("min_group")
    alias = (raw.get("analyze") or {}).get("min_group_size")
    if given is not None and alias is not None and given != alias:
        raise PulseError(f"{path}: analyze.min_group_size ({alias}) and disclosure.min_group ({given}) disagree; "
                         f"keep only disclosure.min_group")
    minimum = given if given is not None else alias if alias is not None else params["disclosure"]["min_group"]
    for key, value in (("disclosure.min_group", minimum), ("disclosure.min_cell", params["disclosure"]["min_cell"])):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise PulseError(f"{path}: {key} must be a whole number of respondents, at least 1 (got {value!r})")
    params["disclosure"]["min_group"] = minimum
    params["disclosure"]["min_cell"] = min(params["disclosure"]["min_cell"], minimum)
    params["analyze"]["min_group_size"] = minimum
    return params
