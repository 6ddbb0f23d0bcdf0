"""Optional survey weights for the analyze stage (issue #3): raking targets from params, weighted row builders
and design-based tests, with the same columns as the unweighted tables of `pipeline.analyze`.

The analyze stage is unweighted unless `analyze.weights` in params.yaml names raking targets:

    weights:
      targets:
        un_group: equal                     # or {African: 0.2, …}, or [African, Asia-Pacific, …]
        gender: {Woman: 0.5, Man: 0.5}
      trim: [0.2, 5]                        # weights kept within 0.2–5 × the mean weight; null: no trimming
      max_iter: 100
      tol: 1.0e-8
      calibrated_se: true

**Weights.** `weights_for` rakes unit starting weights to the targets by iterative proportional fitting
(`pipeline.stats.weights.rake`; R `survey::rake()`), normalised to mean 1.

**Respondents without a target on a raking variable** (a missing value, or a category the targets leave out,
such as "Another gender identity" or the UN group "Unknown") form *pass-through* categories: each keeps its own
unweighted share of the sample as its target, and the targeted categories share the rest in the proportions
given. So the targets hold exactly among the respondents who have a targeted category (the weighted gender
split among women and men is 50/50, the weighted UN groups are 20% each among those with a known group),
pass-through respondents are neither inflated nor deflated as a whole, and they are still raked on the other
variables. Each pass-through category is a row of the weights table (`role = pass-through`, with its n).
`equal` means equal shares over the variable's categories except "Unknown" (the label derive rules give an
unclassifiable country), which passes through.

**Estimates** (Lumley 2010; R `survey`, `svydesign(ids = ~1, weights = ~w)`): a group's share is the ratio
Σw·y / Σw over its valid answers, its standard error the Taylor linearisation of that domain ratio with every
respondent kept in the design (n / (n − 1) with n all kept respondents). With `calibrated_se: true` the
influence values are first projected on the raking margins as R does for a `rake()` design (Deville & Särndal
1992; `pipeline.stats.design`), which gives the raking-adjusted standard errors; `false` treats the weights as
fixed sampling weights (slightly conservative).

**Intervals.** Shares: logit-transformed Wald interval on the linearised SE with a t(n − 1) quantile, n the
group's valid answers (R `svyciprop(method = "logit")`, `ci_method` design-logit); at a weighted share of exactly
0 or 100% (SE 0, logit undefined; R's iterative fit returns nonsense there) the Wilson score interval on the
group's Kish effective sample size (Σw)²/Σw² (`wilson-effective-n`). Means: mean ± z · SE (R `confint(svymean)`,
normal quantile; `design-wald`).

**Tests** (tests.csv, same families as unweighted): `design-wilcoxon` / `design-kruskal-wallis`, Lumley & Scott's
rank tests (R `svyranktest`) with weighted mid-ranks; `rao-scott-f`, the Rao–Scott second-order F test of the
whole distribution (R `svychisq(statistic = "F")`); `design-z`, the difference of two weighted top-box shares
with the linearised SE of a difference of domain ratios.

**Cost.** Everything comes from per group × level sums of 1, w and w² (one `np.bincount` each per variable and
split; with calibration the bins are also split by raking category), so each variable × split costs three
passes over the respondents whatever the design.

References: Deming & Stephan (1940); Kish (1965); Rao & Scott (1984); Deville & Särndal (1992); Lumley (2010),
*Complex Surveys*; Lumley & Scott (2013), "Two-sample rank tests under complex sampling", Biometrika 100(4).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import linalg, special, stats

from pipeline.breakdowns import Split
from pipeline.errors import PulseError
from pipeline.ingest.recode import STATUSES
from pipeline.stats.weights import RakingError, rake

if TYPE_CHECKING:
    from pipeline.analyze import Variable

__all__ = [
    "WEIGHTS_COLUMNS",
    "weights_for",
    "distribution_rows",
    "topbox_rows",
    "mean_rows",
    "test_rows",
    "summary",
]

KEY = "params.yaml: analyze.weights"
UNKNOWN = "Unknown"
MISSING = "(missing)"
SETTINGS = ("targets", "trim", "max_iter", "tol", "calibrated_se")
WEIGHTS_COLUMNS = ["variable", "group", "role", "target_share", "target_pct", "sample_pct", "weighted_pct", "n",
                   "n_respondents", "n_pass_through", "iterations", "max_iter", "converged", "max_margin_error",
                   "tol", "trim_low", "trim_high", "trimmed", "weight_min", "weight_max", "design_effect",
                   "effective_n", "calibrated_se"]
PROPORTION_CI = "design-logit"
ZERO_ONE_CI = "wilson-effective-n"
MEAN_CI = "design-wald"
_R_RAKING_SWEEPS = 10  # as survey:::svyrecvar and pipeline.stats.design

Calibration = Sequence[np.ndarray] | None


# ---------------------------------------------------------------------------------------------------------------
# Raking weights from params


@dataclass(frozen=True)
class _Margin:
    variable: str
    labels: tuple[str, ...]        # targeted categories (in the order given), then pass-through categories
    targeted: int                  # how many of `labels` are targeted
    given: np.ndarray              # target shares among the targeted categories as given (sum 1)
    codes: np.ndarray              # per respondent, index into labels
    counts: np.ndarray             # respondents per label


def _fail(where: str, message: str) -> PulseError:
    return PulseError(f"{KEY}.{where}: {message}" if where else f"{KEY}: {message}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _settings(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise _fail("", f"expected a mapping with targets (and optionally trim, max_iter, tol, calibrated_se), "
                        f"got {spec!r}")
    for key in spec:
        if key not in SETTINGS:
            raise _fail(str(key), f"unknown setting; expected {', '.join(SETTINGS)}")
    targets = spec.get("targets")
    if not isinstance(targets, Mapping) or not targets:
        raise _fail("targets", "give at least one raking variable with its targets, e.g. {gender: {Woman: 0.5, "
                               "Man: 0.5}}")
    trim = spec.get("trim")
    if trim is not None:
        bounds = [_number(b) for b in trim] if isinstance(trim, (list, tuple)) else []
        if len(bounds) != 2 or None in bounds or not (0 <= bounds[0] < 1 < bounds[1]):
            raise _fail("trim", f"expected [low, high] multiples of the mean weight with 0 <= low < 1 < high "
                                f"(e.g. [0.2, 5]) or null, got {trim!r}")
        trim = (bounds[0], bounds[1])
    max_iter = spec.get("max_iter", 100)
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise _fail("max_iter", f"expected a whole number of sweeps of at least 1, got {max_iter!r}")
    tol = _number(spec.get("tol", 1e-8))
    if tol is None or not (0 < tol < 1):
        raise _fail("tol", f"expected a positive number below 1 (largest margin error allowed, e.g. 1.0e-8), "
                           f"got {spec.get('tol')!r}")
    calibrated = spec.get("calibrated_se", True)
    if not isinstance(calibrated, bool):
        raise _fail("calibrated_se", f"expected true or false, got {calibrated!r}")
    return {"targets": targets, "trim": trim, "max_iter": int(max_iter), "tol": tol, "calibrated_se": calibrated}


def _categorical(values: pd.Series) -> tuple[list[str], np.ndarray]:
    """The variable's category labels (declared categories if categorical, else the observed values) and each
    respondent's category index (-1 when missing)."""
    categorical = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    return [str(c) for c in categorical.cat.categories], categorical.cat.codes.to_numpy().astype(np.int64)


def _target_shares(variable: str, target: Any, categories: list[str]) -> dict[str, float]:
    """{category: share among the targeted categories} from `equal`, a list of categories or a mapping of shares."""
    where = f"targets.{variable}"
    if isinstance(target, str) and target.strip().lower() == "equal":
        chosen = [c for c in categories if c != UNKNOWN]
        if not chosen:
            raise _fail(where, f"'{variable}' has no category to weight equally")
        return {c: 1.0 / len(chosen) for c in chosen}
    if isinstance(target, (list, tuple)):
        names = [str(c) for c in target]
        if not names or len(set(names)) != len(names):
            raise _fail(where, "expected a list of distinct categories to weight equally")
        return {c: 1.0 / len(names) for c in names}
    if not isinstance(target, Mapping) or not target:
        raise _fail(where, f"expected shares by category (e.g. {{Woman: 0.5, Man: 0.5}}), a list of categories "
                           f"to weight equally, or the word equal; got {target!r}")
    shares = {}
    for category, value in target.items():
        share = _number(value)
        if share is None or not math.isfinite(share) or share <= 0:
            raise _fail(f"{where}.{category}", f"expected a positive share, got {value!r} (leave a category out to "
                                               f"keep its sample share)")
        shares[str(category)] = share
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6 and abs(total - 100.0) > 1e-4:
        raise _fail(where, f"shares sum to {total:.10g}; give shares summing to 1 (or percentages summing to 100), "
                           f"or the word equal")
    return {c: s / total for c, s in shares.items()}


def _margin(clean: pd.DataFrame, variable: str, target: Any) -> _Margin:
    if variable not in clean.columns or variable.endswith("__status"):
        usable = [c for c in clean.columns if isinstance(clean[c].dtype, pd.CategoricalDtype)
                  and not c.endswith("__status")]
        raise _fail(f"targets.{variable}", f"no variable '{variable}' in the clean data; raking variables are "
                                           f"categorical columns of clean.parquet: {', '.join(usable)}")
    categories, codes = _categorical(clean[variable])
    shares = _target_shares(variable, target, categories)
    counts = np.bincount(codes[codes >= 0], minlength=len(categories))
    for category in shares:
        if category not in categories:
            raise _fail(f"targets.{variable}.{category}", f"'{variable}' has no category '{category}'; its "
                                                         f"categories are {', '.join(categories)}")
        if counts[categories.index(category)] == 0:
            raise _fail(f"targets.{variable}.{category}", f"no respondent in this wave has {variable} = "
                                                         f"'{category}'; drop it from the targets")
    targeted = list(shares)
    passing = [c for c in categories if c not in shares and counts[categories.index(c)] > 0]
    labels = targeted + passing
    lookup = np.full(len(categories) + 1, len(labels), dtype=np.int64)   # last slot: missing
    for i, label in enumerate(labels):
        lookup[categories.index(label)] = i
    mapped = lookup[np.where(codes >= 0, codes, len(categories))]
    if (codes < 0).any():
        labels.append(MISSING if MISSING not in categories else f"{MISSING} ")
    return _Margin(variable, tuple(labels), len(targeted), np.array([shares[c] for c in targeted]), mapped,
                   np.bincount(mapped, minlength=len(labels)))


def weights_for(clean: pd.DataFrame, spec: dict) -> tuple[np.ndarray, pd.DataFrame, list[np.ndarray]]:
    """Raking weights for the respondents of `clean` from the `analyze.weights` params group.

    Returns `(weights, table, calibration)`: one weight per row of `clean` (mean 1, so they sum to the number of
    respondents); the weights table (`WEIGHTS_COLUMNS`, one row per raking variable × category, see the module
    docstring and docs/tables.md); and the raking margins (per variable, each respondent's category code) to pass
    as `calibration` to the row builders for raking-adjusted standard errors — an empty list when
    `calibrated_se` is false.

    A target naming an unknown variable or category, a targeted category nobody in the wave has, or a malformed
    setting raises a one-line `PulseError` naming params.yaml and the key.
    """
    settings = _settings(spec)
    n = len(clean)
    if n < 2:
        raise _fail("", f"cannot weight {n} respondent(s); at least two are needed")
    margins = [_margin(clean, str(variable), target) for variable, target in settings["targets"].items()]
    totals = [m.counts / n for m in margins]
    targets = {}
    for m, sample in zip(margins, totals):
        passing = float(sample[m.targeted:].sum())
        effective = np.concatenate([m.given * (1.0 - passing), sample[m.targeted:]])
        targets[m.variable] = dict(enumerate(effective / effective.sum()))
    frame = pd.DataFrame({m.variable: m.codes for m in margins})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = rake(frame, targets, max_iter=settings["max_iter"], tol=settings["tol"], trim=settings["trim"])
    except RakingError as exc:
        raise _fail("targets", str(exc)) from None
    weights = result.weights
    total = weights.sum()
    pass_through = np.zeros(n, dtype=bool)
    for m in margins:
        pass_through |= m.codes >= m.targeted
    trim = settings["trim"] or (np.nan, np.nan)
    run = {"n_respondents": n, "n_pass_through": int(pass_through.sum()), "iterations": result.iterations,
           "max_iter": settings["max_iter"], "converged": result.converged,
           "max_margin_error": result.max_margin_error, "tol": settings["tol"], "trim_low": trim[0],
           "trim_high": trim[1], "trimmed": result.trimmed, "weight_min": float(weights.min()),
           "weight_max": float(weights.max()), "design_effect": result.design_effect,
           "effective_n": result.effective_n, "calibrated_se": settings["calibrated_se"]}
    rows = []
    for m, sample in zip(margins, totals):
        weighted = np.bincount(m.codes, weights=weights, minlength=len(m.labels)) / total
        for i, label in enumerate(m.labels):
            targeted = i < m.targeted
            rows.append({"variable": m.variable, "group": label, "role": "target" if targeted else "pass-through",
                         "target_share": 100.0 * m.given[i] if targeted else np.nan,
                         "target_pct": 100.0 * targets[m.variable][i], "sample_pct": 100.0 * sample[i],
                         "weighted_pct": 100.0 * weighted[i], "n": int(m.counts[i]), **run})
    table = pd.DataFrame(rows, columns=WEIGHTS_COLUMNS)
    calibration = [np.asarray(c, dtype=np.int64) for c in result.margin_codes] if settings["calibrated_se"] else []
    return weights, table, calibration


def summary(table: pd.DataFrame) -> str:
    """One line describing the weights of a weights table, for the run log."""
    first = table.iloc[0]
    variables = ", ".join(dict.fromkeys(table["variable"]))
    state = (f"converged in {first['iterations']} sweep(s)" if first["converged"] else
             f"NOT converged after {first['iterations']} sweeps (largest margin error {first['max_margin_error']:.3g})")
    trimmed = f", {first['trimmed']} trimmed" if first["trimmed"] else ""
    return (f"weights: raked to {variables}, {state}{trimmed}; weights {first['weight_min']:.3g}–"
            f"{first['weight_max']:.3g}, design effect {first['design_effect']:.3g}, effective n "
            f"{first['effective_n']:.0f} of {first['n_respondents']}; {first['n_pass_through']} respondent(s) in "
            f"pass-through categories")


# ---------------------------------------------------------------------------------------------------------------
# Group × level sums and the linearised (co)variances of functionals of them


@dataclass(frozen=True)
class _Cells:
    """Sums over the respondents of each group × level cell (valid answers only), and what the linearised
    variance of any linear functional of the cell indicators needs.

    A functional with coefficients c (one per cell) has influence z_i = w_i c[cell_i] (0 outside every cell);
    its variance is n/(n−1) Σ_i (z_i − z̄)² = n/(n−1) [c'Mc − (m'c)²/n] with M = diag(Σw²) and m = Σw per
    cell for fixed weights, or, with calibration, the same sums of the influence values after their projection on
    the raking margins (`gram`, `mvec`; see `_calibrate`).
    """

    n_total: int
    counts: np.ndarray      # groups × levels, respondents
    w1: np.ndarray          # groups × levels, Σw
    w2: np.ndarray          # groups × levels, Σw²
    status: np.ndarray      # groups × statuses, respondents (unweighted; status 0 = valid)
    gram: np.ndarray | None = None   # cells × cells (calibrated)
    mvec: np.ndarray | None = None   # cells (calibrated)

    @property
    def shape(self) -> tuple[int, int]:
        return self.w1.shape

    def variances(self, coef: np.ndarray) -> np.ndarray:
        """Variances of functionals that each involve one group: coef is groups × functionals × levels."""
        n = self.n_total
        if self.gram is None:
            quad = np.einsum("gfk,gk->gf", coef * coef, self.w2)
            lin = np.einsum("gfk,gk->gf", coef, self.w1)
        else:
            groups, levels = self.shape
            blocks = self.gram.reshape(groups, levels, groups, levels)
            diag = blocks[np.arange(groups), :, np.arange(groups), :]          # groups × levels × levels
            quad = np.einsum("gfi,gij,gfj->gf", coef, diag, coef)
            lin = np.einsum("gfk,gk->gf", coef, self.mvec.reshape(groups, levels))
        return np.clip(n / (n - 1) * (quad - lin * lin / n), 0.0, None)

    def covariance(self, coef: np.ndarray) -> np.ndarray:
        """Covariance matrix of functionals with coefficients over all cells: coef is functionals × cells."""
        n = self.n_total
        if self.gram is None:
            quad = (coef * self.w2.ravel()) @ coef.T
            lin = coef @ self.w1.ravel()
        else:
            quad = coef @ self.gram @ coef.T
            lin = coef @ self.mvec
        return n / (n - 1) * (quad - np.outer(lin, lin) / n)


class _Design:
    """The weights, their squares and, for calibrated variances, the raking margins combined into one code per
    respondent with the margin × margin sums the projection needs (computed once per weights and calibration)."""

    def __init__(self, weights: np.ndarray, calibration: Calibration):
        if not (np.all(np.isfinite(weights)) and weights.min() > 0):
            raise ValueError("weights must be finite and positive")
        self.weights = weights
        self.squared = weights * weights
        self.calibration = calibration
        self.sizes: list[int] = [int(c.max()) + 1 for c in calibration] if calibration else []
        self.n_keys = int(np.prod(self.sizes)) if calibration else 1
        if not calibration:
            return
        key = np.zeros(weights.size, dtype=np.int64)
        for codes, size in zip(calibration, self.sizes):
            key *= size
            key += codes
        self.key = key
        shape = tuple(self.sizes)
        joint = [np.bincount(key, weights=v, minlength=self.n_keys).reshape(shape)
                 for v in (None, weights, self.squared)]
        self.size = [_margin_sum(joint[0], m) for m in range(len(shape))]
        self.total_w = [_margin_sum(joint[1], m) for m in range(len(shape))]
        self.count_pairs = [[_pair_sum(joint[0], a, b) for b in range(len(shape))] for a in range(len(shape))]
        self.w2_pairs = [[_pair_sum(joint[2], a, b) for b in range(len(shape))] for a in range(len(shape))]


def _margin_sum(joint: np.ndarray, axis: int) -> np.ndarray:
    """Sum of a margins-shaped array over every margin but `axis`."""
    axes = tuple(a for a in range(joint.ndim) if a != axis)
    return joint.sum(axis=axes)


def _pair_sum(joint: np.ndarray, a: int, b: int) -> np.ndarray:
    """Categories of margin a × categories of margin b (diagonal when a == b)."""
    if a == b:
        return np.diag(_margin_sum(joint, a))
    table = joint.sum(axis=tuple(x for x in range(joint.ndim) if x not in (a, b)))
    return table if a < b else table.T


_design_cache: list = [None]
_cells_cache: list = [None, None]


def _design(weights: np.ndarray, calibration: Calibration) -> _Design:
    cached = _design_cache[0]
    if cached is None or cached.weights is not weights or cached.calibration is not calibration:
        cached = _design_cache[0] = _Design(weights, calibration)
    return cached


def _calibrate(design: _Design, counts: np.ndarray, sq: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raking-adjusted `gram` and `mvec` from per cell × margin-category sums.

    survey:::svyrecvar projects the influence values of a rake() design by ten sweeps over the margins of
    e ← e − (unweighted mean of e within the margin category), e = z / w (`pipeline.stats.design`). Starting
    from the cell indicators, every sweep subtracts a function of one margin, so after the sweeps
    e = u − Σ_m a_m[category of margin m] with one vector a_m[l] (per cell) for each margin category; the sweeps
    are run on the a_m, whose updates need only the counts by cell × margin category (T_m) and margin ×
    margin (N), and the sums of w² · e e' and of w · e follow from the w² sums by cell × margin category (S_m)
    and margin × margin (Q). `counts`, `sq`: cells × margins-shaped respondent counts and Σw².
    """
    margins = range(len(design.sizes))
    def by_category(x: np.ndarray, m: int) -> np.ndarray:      # category of margin m × cell
        return x.sum(axis=tuple(a for a in range(1, x.ndim) if a != m + 1)).T

    t = [by_category(counts, m) for m in margins]
    s = [by_category(sq, m) for m in margins]
    a = [np.zeros_like(tm, dtype=float) for tm in t]
    for _ in range(_R_RAKING_SWEEPS):
        for m in margins:
            inside = t[m] - sum(design.count_pairs[m][k] @ a[k] for k in margins)
            a[m] = a[m] + inside / np.where(design.size[m] > 0, design.size[m], 1)[:, None]
    w2_cells = sq.reshape(sq.shape[0], -1).sum(axis=1)
    cross = sum(s[m].T @ a[m] for m in margins)
    gram = np.diag(w2_cells) - cross - cross.T + sum(a[m].T @ design.w2_pairs[m][k] @ a[k]
                                                     for m in margins for k in margins)
    lin = sum(a[m].T @ design.total_w[m] for m in margins)
    return gram, lin, w2_cells


def _cells(group_codes: np.ndarray, n_groups: int, extended: np.ndarray, n_levels: int, design: _Design) -> _Cells:
    """Cells of a split × variable whose `extended` codes are the level (0 … levels − 1) for valid answers and
    levels + status for the others (see `_extended`). One grid of (groups + 1) × (levels + statuses) bins
    (row 0: in no group) holds valid cells and status counts, so no respondent mask is needed."""
    n = design.weights.size
    width = n_levels + len(STATUSES)
    grid = (n_groups + 1) * width
    index = group_codes + 1
    index *= width
    index += extended
    if design.calibration:
        index *= design.n_keys
        index += design.key
    size = grid * design.n_keys
    sums = [np.bincount(index, weights=v, minlength=size).reshape(n_groups + 1, width, *design.sizes)
            for v in (None, design.weights, design.squared)]
    flat = [x.reshape(n_groups + 1, width, -1).sum(axis=2) for x in sums]
    counts, w1, w2 = (x[1:, :n_levels] for x in flat)
    status = flat[0][1:, n_levels:].astype(np.int64)
    status[:, 0] += counts.sum(axis=1).astype(np.int64)
    counts = counts.round().astype(np.int64)
    if not design.calibration:
        return _Cells(n, counts, w1, w2, status)
    cell_counts = sums[0][1:, :n_levels].reshape(n_groups * n_levels, *design.sizes)
    cell_sq = sums[2][1:, :n_levels].reshape(n_groups * n_levels, *design.sizes)
    gram, mvec, _ = _calibrate(design, cell_counts, cell_sq)
    return _Cells(n, counts, w1, w2, status, gram=gram, mvec=mvec)


def _extended(codes: np.ndarray, status: np.ndarray, n_levels: int) -> np.ndarray:
    """The level for valid answers (code ≥ 0), levels + status code for the others (an unknown status, −1,
    counts as status 0: no valid level, no excluded reason)."""
    return np.where(codes >= 0, codes, n_levels + np.maximum(status, 0)).astype(np.int64)


_extended_cache: list = [None, None]


def _variable_extended(variable: Variable) -> np.ndarray:
    key = (variable.codes, variable.status)
    if _extended_cache[0] is None or any(a is not b for a, b in zip(_extended_cache[0], key)):
        _extended_cache[0], _extended_cache[1] = key, _extended(variable.codes, variable.status, len(variable.labels))
    return _extended_cache[1]


def _check_weights(weights: np.ndarray, split: Split) -> np.ndarray:
    w = weights if isinstance(weights, np.ndarray) and weights.dtype == np.float64 else np.asarray(weights, float)
    if w.ndim != 1 or w.size != split.codes.size:
        raise ValueError(f"weights have shape {w.shape}, expected ({split.codes.size},)")
    return w


def _variable_cells(variable: Variable, split: Split, weights: np.ndarray, calibration: Calibration) -> _Cells:
    """Cells of a single-choice variable. The last call's result is reused when called again with the same
    arrays (by identity: the row builders of one variable and split share it; arrays are never modified in
    place by the analyze stage)."""
    key = (variable.codes, variable.status, split.codes, weights, calibration)
    previous = _cells_cache[0]
    if previous is not None and all(a is b for a, b in zip(previous, key)):
        return _cells_cache[1]
    design = _design(_check_weights(weights, split), calibration)
    cells = _cells(split.codes, len(split.labels), _variable_extended(variable), len(variable.labels), design)
    _cells_cache[0], _cells_cache[1] = key, cells
    return cells


# ---------------------------------------------------------------------------------------------------------------
# Intervals


def _proportion_intervals(p: np.ndarray, se: np.ndarray, n: np.ndarray, n_eff: np.ndarray,
                          alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logit-transformed Wald interval on the linearised SE with t(n − 1) quantiles, as R
    `svyciprop(method = "logit")` in a domain of n respondents; at a share of exactly 0 or 1 (SE 0, logit
    undefined) the Wilson score interval on the Kish effective sample size of the group instead."""
    p, se = np.broadcast_arrays(p, se)
    df = np.broadcast_to(n, p.shape) - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(df >= 1, special.stdtrit(np.maximum(df, 1.0), 1.0 - alpha / 2.0), np.nan)
        logit = special.logit(p)
        half = q * se / (p * (1.0 - p))
        low, high = special.expit(logit - half), special.expit(logit + half)
        z2 = special.ndtri(1.0 - alpha / 2.0) ** 2
        m = np.broadcast_to(n_eff, p.shape)
        edge_low = np.where(p >= 1.0, m / (m + z2), 0.0)
        edge_high = np.where(p <= 0.0, z2 / (m + z2), 1.0)
    edge = (p <= 0.0) | (p >= 1.0)
    method = np.where(edge, ZERO_ONE_CI, PROPORTION_CI).astype(object)
    return np.where(edge, edge_low, low), np.where(edge, edge_high, high), method


def _shares_columns(p: np.ndarray, se: np.ndarray, n: np.ndarray, n_eff: np.ndarray,
                    params: dict) -> dict[str, np.ndarray]:
    """count (n · weighted share), pct, ci_low, ci_high, ci_method and suppressed, as analyze._shares."""
    low, high, method = _proportion_intervals(p, se, n, n_eff, 1.0 - params["confidence"])
    suppressed = n < params["min_group_size"]
    hide = suppressed | (n == 0)
    return {
        "count": np.where(suppressed, np.nan, n * p),
        "pct": np.where(hide, np.nan, 100.0 * p),
        "ci_low": np.where(hide, np.nan, 100.0 * low),
        "ci_high": np.where(hide, np.nan, 100.0 * high),
        "ci_method": method,
        "suppressed": suppressed,
    }


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _level_shares(cells: _Cells) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(shares, SEs) groups × levels, unweighted n and Kish effective n per group."""
    total = cells.w1.sum(axis=1)
    p = _ratio(cells.w1, total[:, None])
    levels = cells.shape[1]
    coef = (np.eye(levels)[None, :, :] - np.nan_to_num(p)[:, :, None]) / np.where(total > 0, total, 1.0)[:, None, None]
    se = np.sqrt(cells.variances(coef))
    n_eff = _ratio(total * total, cells.w2.sum(axis=1))
    return p, se, cells.counts.sum(axis=1), n_eff


_choices_cache: list = [None, None]


def _choice_codes(variable: Variable) -> list[np.ndarray]:
    """Extended codes of each choice of a multi-select question: 1 selected, 0 not, 2 + status if not valid."""
    key = (variable.selected, variable.status)
    if _choices_cache[0] is None or any(a is not b for a, b in zip(_choices_cache[0], key)):
        invalid = 2 + np.maximum(variable.status, 0)
        _choices_cache[0], _choices_cache[1] = key, [
            np.where(variable.status == 0, variable.selected[:, j], invalid).astype(np.int64)
            for j in range(variable.selected.shape[1])]
    return _choices_cache[1]


# ---------------------------------------------------------------------------------------------------------------
# Row builders with the columns of pipeline.analyze


def distribution_rows(variable: Variable, split: Split, params: dict, weights: np.ndarray,
                      calibration: Calibration = None) -> dict[str, np.ndarray]:
    """Columns of distributions.csv for one variable and split, weighted.

    `pct` is the weighted share of the level among the group's valid answers (multi-select: of the choice among
    the group's valid answers), `ci_low`/`ci_high` its design-based logit interval (`ci_method` design-logit;
    wilson-effective-n at 0% or 100%), `n` the unweighted valid answers, `count` = n × weighted share (the
    weighted count scaled to n), `suppressed` by the unweighted n; the excluded-answer counts stay unweighted.
    """
    w = _check_weights(weights, split)
    if variable.selected is None:
        cells = _variable_cells(variable, split, w, calibration)
        p, se, n, n_eff = _level_shares(cells)
    else:
        design = _design(w, calibration)
        p = np.empty((len(split.labels), variable.selected.shape[1]))
        se = np.empty_like(p)
        for j, codes in enumerate(_choice_codes(variable)):
            cells = _cells(split.codes, len(split.labels), codes, 2, design)
            shares, errors, n, n_eff = _level_shares(cells)
            p[:, j], se[:, j] = shares[:, 1], errors[:, 1]
    status = cells.status
    shown = np.array(split.described)
    p, se, n, n_eff, status = p[shown], se[shown], n[shown], n_eff[shown], status[shown]
    groups, levels = p.shape
    n_rep = np.repeat(n, levels)
    shares = _shares_columns(p.ravel(), se.ravel(), n_rep, np.repeat(n_eff, levels), params)
    columns = {
        "question": np.full(groups * levels, variable.id, dtype=object),
        "breakdown": np.full(groups * levels, split.breakdown, dtype=object),
        "group": np.repeat(np.asarray(split.labels, dtype=object)[shown], levels),
        "level": np.tile(np.asarray(variable.labels, dtype=object), groups),
        "n": n_rep,
        **shares,
    }
    for j, name in enumerate(STATUSES[1:], start=1):
        columns[name] = np.repeat(status[:, j], levels)
    return columns


def _topbox(cells: _Cells, topbox: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (groups × levels) of each group's top-box share functional and the shares."""
    total = cells.w1.sum(axis=1)
    indicator = np.zeros(cells.shape[1])
    indicator[list(topbox)] = 1.0
    p = _ratio(cells.w1 @ indicator, total)
    coef = (indicator[None, :] - np.nan_to_num(p)[:, None]) / np.where(total > 0, total, 1.0)[:, None]
    return coef, p


def topbox_rows(variable: Variable, split: Split, params: dict, weights: np.ndarray,
                calibration: Calibration = None) -> dict[str, np.ndarray]:
    """Columns of topbox.csv: the weighted top-box share per group with its design-based logit interval."""
    cells = _variable_cells(variable, split, _check_weights(weights, split), calibration)
    coef, p = _topbox(cells, variable.topbox)
    se = np.sqrt(cells.variances(coef[:, None, :]))[:, 0]
    n = cells.counts.sum(axis=1)
    n_eff = _ratio(cells.w1.sum(axis=1) ** 2, cells.w2.sum(axis=1))
    shown = np.array(split.described)
    return {
        "question": np.full(len(shown), variable.id, dtype=object),
        "breakdown": np.full(len(shown), split.breakdown, dtype=object),
        "group": np.asarray(split.labels, dtype=object)[shown],
        "n": n[shown],
        **_shares_columns(p[shown], se[shown], n[shown], n_eff[shown], params),
        "topbox": np.full(len(shown), variable.topbox_label, dtype=object),
    }


def mean_rows(variable: Variable, split: Split, params: dict, weights: np.ndarray,
              calibration: Calibration = None) -> list[dict]:
    """Rows of means.csv, weighted: the weighted mean score (1 = first level … L = last) per group, `sd` the
    weighted standard deviation as R `svyvar` (divisor Σw·(n−1)/n), and mean ± z · SE with the linearised SE
    (`ci_method` design-wald; R `confint(svymean(...))`, which uses the normal quantile)."""
    cells = _variable_cells(variable, split, _check_weights(weights, split), calibration)
    scores = np.arange(1, cells.shape[1] + 1, dtype=float)
    total = cells.w1.sum(axis=1)
    n = cells.counts.sum(axis=1)
    mean = _ratio(cells.w1 @ scores, total)
    deviation = scores[None, :] - np.nan_to_num(mean)[:, None]
    coef = deviation / np.where(total > 0, total, 1.0)[:, None]
    se = np.sqrt(cells.variances(coef[:, None, :]))[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(n / (n - 1.0) * _ratio((cells.w1 * deviation ** 2).sum(axis=1), total))
    sd = np.where(n >= 2, sd, np.nan)
    z = stats.norm.ppf(1.0 - (1.0 - params["confidence"]) / 2.0)
    rows = []
    for g in split.described:
        suppressed = bool(n[g] < params["min_group_size"])
        values = {"mean": mean[g], "sd": sd[g], "ci_low": mean[g] - z * se[g], "ci_high": mean[g] + z * se[g]}
        rows.append({"question": variable.id, "breakdown": split.breakdown, "group": split.labels[g],
                     "n": int(n[g]), **{k: np.nan if suppressed else float(v) for k, v in values.items()},
                     "ci_method": MEAN_CI, "suppressed": suppressed})
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Design-based tests


def _group_note(split: Split, n: np.ndarray, keep: np.ndarray, minimum: int) -> str:
    small = [f"{split.labels[g]} (n={int(n[g])})" for g in np.flatnonzero(~keep) if n[g] > 0]
    return f"left out, fewer than {minimum} answers: {', '.join(small)}" if small else ""


def _embed(cells: _Cells, group: int, coef: np.ndarray) -> np.ndarray:
    """A one-group functional's coefficients (levels) as coefficients over all cells."""
    full = np.zeros(cells.shape)
    full[group] = coef
    return full.ravel()


@dataclass(frozen=True)
class _Test:
    test: str
    statistic: float
    df: float
    p_value: float
    effect_size: float
    effect_measure: str
    note: str
    ci_low: float = np.nan
    ci_high: float = np.nan


def _rank_test(cells: _Cells, kept: np.ndarray) -> _Test:
    """Lumley & Scott's (2013) design-based rank test, as R `svyranktest` but with weighted mid-ranks: each
    level's rank score is (weight of the lower levels + half its own weight) / total weight, over the tested
    groups; the group means of the rank scores are compared with their linearised covariance. Two groups: t =
    (mean a − mean b) / SE on n − 2 df; more groups: the Wald statistic of the differences from the first group
    / (groups − 1), F on (groups − 1, n − groups) df."""
    w1 = cells.w1[kept]
    level_total = w1.sum(axis=0)
    total = level_total.sum()
    score = (np.cumsum(level_total) - level_total / 2.0) / total
    group_total = w1.sum(axis=1)
    mean = w1 @ score / group_total
    n = int(cells.counts[kept].sum())
    coef = [_embed(cells, g, (score - mean[i]) / group_total[i]) for i, g in enumerate(kept)]
    overall = float(level_total @ score / total)
    spread = float(level_total @ (score - overall) ** 2)
    source = ("design-based rank test (Lumley & Scott 2013; R survey::svyranktest with weighted mid-ranks) on "
              "rank scores = weighted mid-rank / total weight")
    if len(kept) == 2:
        difference = float(mean[0] - mean[1])
        se = math.sqrt(max(float(cells.covariance(np.array([coef[0] - coef[1]]))[0, 0]), 0.0))
        effect = 2.0 * difference
        if not se > 0 or n <= 2:
            return _Test("design-wilcoxon", np.nan, np.nan, np.nan, effect, "rank-biserial",
                         f"{source}; no variation in rank scores: no test")
        t = difference / se
        return _Test("design-wilcoxon", t, float(n - 2), float(2.0 * stats.t.sf(abs(t), n - 2)), effect,
                     "rank-biserial", f"{source}; t = (mean rank score a - b) / linearised SE on n - 2 = {n - 2} df; "
                                      f"effect 2 × difference in mean rank score")
    contrasts = np.array([coef[i] - coef[0] for i in range(1, len(kept))])
    beta = mean[1:] - mean[0]
    between = float(group_total @ (mean - overall) ** 2)
    effect = between / spread if spread > 0 else np.nan
    ndf, ddf = len(kept) - 1, n - len(kept)
    try:
        chisq = float(beta @ np.linalg.solve(cells.covariance(contrasts), beta))
    except np.linalg.LinAlgError:
        chisq = np.nan
    if not np.isfinite(chisq) or ddf < 1:
        return _Test("design-kruskal-wallis", np.nan, float(ndf), np.nan, effect, "epsilon-squared",
                     f"{source}; singular covariance of the group mean rank scores: no test")
    f = chisq / ndf
    return _Test("design-kruskal-wallis", f, float(ndf), float(stats.f.sf(f, ndf, ddf)), effect, "epsilon-squared",
                 f"{source}; F = Wald chi-square {chisq:.6g} / {ndf} on ({ndf}, {ddf}) df; effect: weighted "
                 f"between-group share of the rank-score variance")


def _rao_scott(cells: _Cells, kept: np.ndarray) -> _Test:
    """Rao–Scott second-order corrected test of independence (R `svychisq(statistic = "F")`, as
    pipeline.stats.design.rao_scott_chisq) of the tested groups × answered levels table. When empty cells form
    a rectangle, some interaction contrasts have no data and the generalised design effects cannot all be
    estimated (R stops there): the first-order correction F = X² / (δ̄ (r−1)(c−1)) on ((r−1)(c−1),
    (r−1)(c−1)(n−1)) df, with δ̄ the mean design effect of the contrasts that have data (with unit weights this
    is still the scaled Pearson test)."""
    counts = cells.counts[kept]
    levels = np.flatnonzero(counts.sum(axis=0) > 0)
    rows, cols = len(kept), len(levels)
    if cols < 2:
        return _Test("rao-scott-f", np.nan, np.nan, np.nan, np.nan, "cramers-v",
                     "only one level answered in the tested groups: no test")
    n = cells.n_total
    w1 = cells.w1[np.ix_(kept, levels)]
    total = w1.sum()
    p_hat = (w1 / total).ravel()
    index = (kept[:, None] * cells.shape[1] + levels[None, :]).ravel()
    coef = np.zeros((rows * cols, cells.shape[0] * cells.shape[1]))
    coef[:, index] = (np.eye(rows * cols) - p_hat[:, None]) / total
    v = cells.covariance(coef)
    table = p_hat.reshape(rows, cols)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        phi2 = float(np.sum((table - expected) ** 2 / expected))
    x2 = n * phi2
    row_ind = np.repeat(np.eye(rows), cols, axis=0)
    col_ind = np.tile(np.eye(cols), (rows, 1))
    contrasts = linalg.null_space(np.hstack([row_ind, col_ind]).T)
    inv_p = np.divide(1.0, p_hat, out=np.zeros_like(p_hat), where=p_hat != 0)
    scaled = contrasts * inv_p[:, None]
    effect = math.sqrt(phi2 / (min(rows, cols) - 1))
    df = (rows - 1) * (cols - 1)
    denom = contrasts.T @ scaled / n
    numer = scaled.T @ v @ scaled
    eigen, vectors = np.linalg.eigh(denom)
    identified = eigen > 1e-9 * eigen.max()
    notes = []
    if identified.all():
        delta = np.linalg.solve(denom, numer)
        trace, trace_sq = float(np.trace(delta)), float(np.trace(delta @ delta))
        if not trace > 0:
            return _Test("rao-scott-f", np.nan, np.nan, np.nan, effect, "cramers-v",
                         "no variation in the weighted table: no test")
        d0 = trace * trace / trace_sq
        notes.append("Rao-Scott second-order correction (R survey::svychisq(statistic = 'F'))")
    else:
        # Empty cells forming a rectangle leave interaction contrasts without data, where R's solve() fails:
        # first-order correction with the mean design effect of the contrasts that have data.
        root = vectors[:, identified] / np.sqrt(eigen[identified])
        kept_delta = root.T @ numer @ root
        mean_deff = float(np.trace(kept_delta)) / int(identified.sum())
        if not mean_deff > 0:
            return _Test("rao-scott-f", np.nan, np.nan, np.nan, effect, "cramers-v",
                         "no variation in the weighted table: no test")
        trace, d0 = mean_deff * df, float(df)
        notes.append(f"{int((~identified).sum())} interaction contrast(s) lie in empty cells: first-order "
                     f"Rao-Scott correction with the mean design effect of the other {int(identified.sum())}")
    f = x2 / trace
    ddf = d0 * (n - 1)
    notes[0] += (f": F on ({d0:.6g}, {ddf:.6g}) df; ddf = {ddf:.10g}; Pearson X2 of the weighted table scaled "
                 f"to n = {n}: {x2:.6g}; mean design effect {trace / df:.4g}")
    empty = int(np.count_nonzero(counts[:, levels] == 0))
    if empty:
        notes.append(f"{empty} empty cell(s)")
    if cols < cells.shape[1]:
        notes.append(f"{cells.shape[1] - cols} level(s) nobody in the tested groups chose left out")
    return _Test("rao-scott-f", f, d0, float(stats.f.sf(f, d0, ddf)), effect, "cramers-v", "; ".join(notes))


def _topbox_difference(cells: _Cells, kept: np.ndarray, topbox: Sequence[int], alpha: float) -> _Test:
    """Difference of two weighted top-box shares (a − b, percentage points) with the linearised SE of the
    difference of two domain ratios (R `svycontrast(svytotal(~aA + vA + aB + vB, design),
    quote(aA/vA - aB/vB))`), a z test and the Wald interval."""
    coef, p = _topbox(cells, topbox)
    a, b = kept
    difference = float(p[a] - p[b])
    c = _embed(cells, a, coef[a]) - _embed(cells, b, coef[b])
    se = math.sqrt(max(float(cells.covariance(c[None, :])[0, 0]), 0.0))
    source = "design-based z test: weighted difference, linearised SE of the difference of two domain ratios"
    if not se > 0:
        return _Test("design-z", np.nan, 1.0, np.nan, 100.0 * difference,
                     "difference in top-box share (percentage points)", f"{source}; no variation: no test")
    z = difference / se
    half = stats.norm.ppf(1.0 - alpha / 2.0) * se
    return _Test("design-z", z * z, 1.0, float(2.0 * stats.norm.sf(abs(z))), 100.0 * difference,
                 "difference in top-box share (percentage points)",
                 f"{source}; statistic z^2 with z = {z:.6g}; Wald interval", 100.0 * (difference - half),
                 100.0 * (difference + half))


def test_rows(variable: Variable, split: Split, params: dict, weights: np.ndarray,
              calibration: Calibration = None) -> list[dict]:
    """Rows of tests.csv for one variable and split, design-based: for ordinal variables the Lumley–Scott rank
    test (`design-wilcoxon` / `design-kruskal-wallis`), for nominal variables (ordinal too with
    `ordinal_distribution_tests`) the Rao–Scott F test of the whole distribution (`rao-scott-f`), and for two
    groups with a top box the weighted difference in top-box share (`design-z`). Groups with fewer than
    `min_group_size` unweighted valid answers are left out, as in `pipeline.analyze.test_rows`; the row shape
    and families are the same."""
    if variable.selected is not None:
        return []
    cells = _variable_cells(variable, split, _check_weights(weights, split), calibration)
    n = cells.counts.sum(axis=1)
    keep = n >= params["min_group_size"]
    if keep.sum() < 2:
        return []
    kept = np.flatnonzero(keep)
    labels = [split.labels[g] for g in kept]
    note = _group_note(split, n, keep, params["min_group_size"])
    base = {"question": variable.id, "breakdown": split.breakdown, "n": int(n[kept].sum()),
            "groups": " | ".join(labels), "group_a": labels[0] if len(labels) == 2 else "",
            "group_b": labels[1] if len(labels) == 2 else ""}
    family = f"{variable.group}/{split.parent}"
    results = []
    if variable.ordinal:
        results.append((_rank_test(cells, kept), "rank"))
    if not variable.ordinal or params.get("ordinal_distribution_tests", False):
        results.append((_rao_scott(cells, kept), "distribution"))
    if variable.topbox and len(labels) == 2:
        results.append((_topbox_difference(cells, kept, variable.topbox, 1.0 - params["confidence"]), "topbox"))
    return [{**base, "test": r.test, "statistic": r.statistic, "df": r.df, "p_value": r.p_value,
             "family": f"{family}/{kind}", "effect_size": r.effect_size, "effect_measure": r.effect_measure,
             "ci_low": r.ci_low, "ci_high": r.ci_high, "note": "; ".join(filter(None, [note, r.note]))}
            for r, kind in results]
