"""Agreement between two coders who coded the same answers: Cohen's kappa and Krippendorff's alpha.

Each tag is a nominal presence/absence variable per answer. For a pair of coders, the units are the
answers both coded; per tag, each unit gives one value per coder. The pooled ("all") row treats every
(answer, tag) pair as one unit, so that frequent and rare tags are weighed by their number of units.

- Cohen's kappa: κ = (p_o − p_e) / (1 − p_e), with p_o the share of units on which the coders agree and
  p_e = Σ_k p_a(k) · p_b(k) the agreement expected from each coder's own marginal shares.
- Krippendorff's alpha (nominal): α = 1 − D_o / D_e from the coincidence matrix o_ck (each unit with
  m_u ≥ 2 values adds 1/(m_u − 1) for every ordered pair of its values from different coders),
  n_c = Σ_k o_ck, n = Σ_c n_c, D_o = Σ_{c≠k} o_ck / n and D_e = Σ_{c≠k} n_c n_k / (n (n − 1)).

Both are undefined (NaN) when the expected disagreement is zero, e.g. when neither coder ever used the
tag on the shared answers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

AGREEMENT_COLUMNS = ["question", "coder_a", "coder_b", "tag", "units", "both", "a_only", "b_only", "neither",
                     "agreement_pct", "kappa", "alpha"]
POOLED = "all"


def cohens_kappa(a: np.ndarray | list, b: np.ndarray | list) -> float:
    """Cohen's kappa of two coders' nominal values on the same units (any hashable values, no missing);
    NaN when p_e = 1 or there are no units."""
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if a.shape != b.shape:
        raise ValueError("both coders must have a value for every unit")
    n = len(a)
    if n == 0:
        return float("nan")
    categories = list(dict.fromkeys([*a.tolist(), *b.tolist()]))
    p_o = float(np.mean(a == b))
    p_e = sum(float(np.mean(a == c)) * float(np.mean(b == c)) for c in categories)
    return float("nan") if np.isclose(p_e, 1.0) else (p_o - p_e) / (1.0 - p_e)


def krippendorff_alpha_nominal(data: np.ndarray | list) -> float:
    """Krippendorff's alpha for nominal data: `data` is coders × units, with NaN (or None) for a missing
    value; units with fewer than two values are left out. NaN when D_e = 0 or no unit is pairable."""
    values = np.asarray(data, dtype=object)
    if values.ndim != 2:
        raise ValueError("reliability data must be coders × units")
    present = ~pd.isna(values)
    categories = list(dict.fromkeys(values[present].tolist()))
    counts = np.column_stack([(present & (values == c)).sum(axis=0) for c in categories]).astype(float) \
        if categories else np.zeros((values.shape[1], 0))
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2]
    if len(m) == 0:
        return float("nan")
    coincidence = (counts[:, :, None] * counts[:, None, :]) / (m - 1)[:, None, None]
    coincidence = coincidence.sum(axis=0) - np.diag((counts / (m - 1)[:, None]).sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    observed = (coincidence.sum() - np.trace(coincidence)) / n
    expected = (n * n - (n_c ** 2).sum()) / (n * (n - 1))
    return float("nan") if np.isclose(expected, 0.0) else 1.0 - observed / expected


def _row(question: str, a: str, b: str, tag: str, x: np.ndarray, y: np.ndarray) -> dict:
    return dict(question=question, coder_a=a, coder_b=b, tag=tag, units=len(x),
                both=int((x & y).sum()), a_only=int((x & ~y).sum()), b_only=int((~x & y).sum()),
                neither=int((~x & ~y).sum()), agreement_pct=100.0 * float(np.mean(x == y)) if len(x) else np.nan,
                kappa=cohens_kappa(x, y), alpha=krippendorff_alpha_nominal(np.vstack([x, y])))


def agreement(judged: pd.DataFrame, question: str, tags: list[str] | None = None,
              exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """Agreement per pair of coders (in name order) who coded at least one answer in common, per tag and
    pooled over tags (`tag` = "all"), with columns `AGREEMENT_COLUMNS`. `judged` has the columns
    `respondent`, `coder`, `tag`, `present` (see `pipeline.text.coders.judgements`); `tags` fixes the
    order (default: as they appear); coders in `exclude` (e.g. the adjudicator) are left out."""
    judged = judged[~judged["coder"].isin(exclude)]
    tags = list(tags) if tags is not None else list(dict.fromkeys(judged["tag"]))
    wide = judged.set_index(["respondent", "tag", "coder"])["present"].astype(object).unstack("coder")
    rows = []
    for a, b in itertools.combinations(sorted(wide.columns), 2):
        pair = wide[[a, b]].dropna()
        if pair.empty:
            continue
        pair = pair.astype(bool)
        for tag in tags:
            part = pair.xs(tag, level="tag") if tag in pair.index.get_level_values("tag") else pair.iloc[:0]
            if len(part):
                rows.append(_row(question, a, b, tag, part[a].to_numpy(), part[b].to_numpy()))
        pooled = pair[pair.index.get_level_values("tag").isin(tags)]
        rows.append(_row(question, a, b, POOLED, pooled[a].to_numpy(), pooled[b].to_numpy()))
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
